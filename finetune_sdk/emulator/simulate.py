"""A job's life as a pure function of simulated time.

At creation a job gets a :class:`Plan`: when validation ends, when it starts running, how many steps,
the metrics of every step (:mod:`.curves`, deterministic by seed) and the events it will emit. Reading a
job then asks "what does the plan look like ``t`` simulated seconds after creation (and after a cancel
at ``c``)?" -- so there is no background task to race, and a read never changes state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .curves import SUGGESTED_LEARNING_RATE, StepMetrics, simulate_run
from .settings import Settings

FINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
MAX_STEP_EVENTS = 1000
"""Longer jobs emit an event every few steps so a job never holds more than about this many."""


@dataclass(frozen=True)
class EventSpec:
    """An event a plan will emit ``at`` simulated seconds after the job was created."""

    at: float
    level: str
    """OpenAI's levels: ``info``, ``warn`` or ``error``."""
    message: str
    data: dict[str, Any] | None = None
    """The step metrics of a ``metrics`` event; None for a ``message`` event (sent as ``{}``)."""


@dataclass(frozen=True)
class Plan:
    """Everything about a job's future, fixed at creation."""

    validated_at: float
    started_at: float | None
    """None when validation fails: the job never runs."""
    finished_at: float
    total_steps: int
    steps_per_epoch: int
    step_seconds: float
    error: dict[str, Any] | None
    events: tuple[EventSpec, ...]
    steps: tuple[StepMetrics, ...]
    """The metrics of steps 1..total_steps."""
    trained_tokens: int

    @property
    def losses(self) -> tuple[tuple[float, float | None], ...]:
        """(train_loss, valid_loss or None) of steps 1..total_steps."""
        return tuple((s.train_loss, s.valid_loss) for s in self.steps)

    def step_time(self, step: int) -> float:
        """The simulated time step ``step`` ends."""
        return (self.started_at or 0.0) + step * self.step_seconds

    def epoch_ends(self, upto: int) -> list[int]:
        """The steps that end an epoch (where a checkpoint is saved), up to step ``upto``."""
        return list(range(self.steps_per_epoch, min(upto, self.total_steps) + 1, self.steps_per_epoch))


@dataclass(frozen=True)
class Snapshot:
    """What a plan looks like at one moment."""

    status: str
    started_at: float | None
    finished_at: float | None
    step: int
    epoch: int
    metrics: dict[str, Any] | None


def make_plan(
    settings: Settings,
    *,
    train_examples: int,
    train_tokens: int,
    hyperparameters: dict[str, Any],
    seed: int,
    error: dict[str, Any] | None,
    warnings: tuple[str, ...] = (),
    validation: bool = True,
) -> Plan:
    """The plan of a job whose files held ``train_examples`` training examples (or failed: ``error``).

    ``train_tokens`` are the billed tokens of one epoch; ``validation`` says whether there is validation
    data to evaluate at the end of each epoch."""
    validated = settings.validate_seconds
    opening = [EventSpec(0.0, "info", "Validating training file")]
    if error is not None:
        failed = EventSpec(validated, "error", f"Job failed: {error['message']}")
        return Plan(validated, None, validated, 0, 1, 0.0, error, (*opening, failed), (), 0)
    n_epochs = int(hyperparameters["n_epochs"])
    batch_size = int(hyperparameters["batch_size"])
    per_epoch = max(1, math.ceil(train_examples / batch_size))
    total = per_epoch * n_epochs
    started = validated + settings.queue_seconds
    step_seconds = settings.step_seconds
    finished = started + total * step_seconds
    learning_rate = float(hyperparameters.get("learning_rate", SUGGESTED_LEARNING_RATE))
    steps = simulate_run(
        total, per_epoch, seed=seed, learning_rate=learning_rate, batch_size=batch_size, validation=validation
    )
    stride = max(1, math.ceil(total / MAX_STEP_EVENTS))
    events = [
        *opening,
        EventSpec(validated, "info", "Files validated"),
        *(EventSpec(validated, "warn", f"Training file warning: {text}") for text in warnings),
        EventSpec(validated, "info", "Job queued"),
        EventSpec(started, "info", "Job started"),
    ]
    reported = [*range(stride, total + 1, stride), *([total] if total % stride else [])]
    events += [_step_event(started + s * step_seconds, steps[s - 1], total) for s in reported]
    events.append(EventSpec(finished, "info", "Job succeeded"))
    return Plan(
        validated_at=validated,
        started_at=started,
        finished_at=finished,
        total_steps=total,
        steps_per_epoch=per_epoch,
        step_seconds=step_seconds,
        error=None,
        events=tuple(events),
        steps=steps,
        trained_tokens=train_tokens * n_epochs,
    )


def step_data(metrics: StepMetrics, total: int) -> dict[str, Any]:
    """The ``data`` of a step's event: OpenAI's metric names, and the platform's epoch and rate."""
    data: dict[str, Any] = {
        "step": metrics.step,
        "total_steps": total,
        "epoch": metrics.epoch,
        "train_loss": metrics.train_loss,
        "train_mean_token_accuracy": metrics.train_accuracy,
        "learning_rate": metrics.learning_rate,
    }
    if metrics.valid_loss is not None:
        data["valid_loss"] = metrics.valid_loss
        data["valid_mean_token_accuracy"] = metrics.valid_accuracy
    return data


def _step_event(at: float, metrics: StepMetrics, total: int) -> EventSpec:
    message = f"Step {metrics.step}/{total}: train_loss={metrics.train_loss:.4f}"
    if metrics.valid_loss is not None:
        message += f", valid_loss={metrics.valid_loss:.4f}"
    return EventSpec(at, "info", message, step_data(metrics, total))


def latest_metrics(plan: Plan, step: int) -> dict[str, Any] | None:
    """The job's ``metrics`` after ``step``: that step's, with the latest validation figures so far."""
    if not step:
        return None
    current = plan.steps[step - 1]
    evaluated = next((s for s in reversed(plan.steps[:step]) if s.valid_loss is not None), None)
    return {
        "step": step,
        "epoch": current.epoch,
        "train_loss": current.train_loss,
        "valid_loss": None if evaluated is None else evaluated.valid_loss,
        "train_mean_token_accuracy": current.train_accuracy,
        "valid_mean_token_accuracy": None if evaluated is None else evaluated.valid_accuracy,
        "learning_rate": current.learning_rate,
    }


def snapshot(plan: Plan, t: float, cancelled_at: float | None = None) -> Snapshot:
    """The job ``t`` simulated seconds after creation, cancelled at ``cancelled_at`` if not None."""
    cancelled = cancelled_at is not None and t >= cancelled_at
    if cancelled and cancelled_at is not None:
        t = cancelled_at
    if t < plan.validated_at:
        status = "validating_files"
    elif plan.started_at is None:
        status = "failed"
    elif t < plan.started_at:
        status = "queued"
    elif t < plan.finished_at:
        status = "running"
    else:
        status = "succeeded"
    step = 0
    if plan.started_at is not None and t >= plan.started_at:
        step = min(plan.total_steps, int((t - plan.started_at) / plan.step_seconds + 1e-9))
        if t >= plan.finished_at:
            step = plan.total_steps
    if cancelled and status not in FINAL_STATUSES:
        status = "cancelled"
    finished = t if status in FINAL_STATUSES else None
    if status in ("failed", "succeeded"):
        finished = plan.finished_at
    started = plan.started_at if plan.started_at is not None and t >= plan.started_at else None
    metrics = latest_metrics(plan, step)
    epoch = metrics["epoch"] if metrics else 0
    return Snapshot(status, started, finished, step, epoch, metrics)


def next_change(plan: Plan, t: float, cancelled_at: float | None = None) -> float | None:
    """Simulated seconds from ``t`` until the job's status next changes; None once it has ended."""
    if snapshot(plan, t, cancelled_at).status in FINAL_STATUSES:
        return None
    ahead = [at for at in (plan.validated_at, plan.started_at, plan.finished_at) if at is not None and at > t]
    return min(ahead) - t if ahead else None


def events_at(plan: Plan, t: float, cancelled_at: float | None = None) -> list[EventSpec]:
    """The events a job has emitted by ``t`` (ending with "Job cancelled" if it was)."""
    until = t if cancelled_at is None else min(t, cancelled_at)
    emitted = [event for event in plan.events if event.at <= until]
    if cancelled_at is not None and t >= cancelled_at and cancelled_at < plan.finished_at:
        emitted.append(EventSpec(cancelled_at, "info", "Job cancelled"))
    return emitted
