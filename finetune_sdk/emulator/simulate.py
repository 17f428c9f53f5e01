"""A job's life as a pure function of simulated time.

At creation a job gets a :class:`Plan`: when validation ends, when it starts running, how many steps,
the loss of every step (a falling curve, deterministic by seed) and the events it will emit. Reading a
job then asks "what does the plan look like ``t`` simulated seconds after creation (and after a cancel
at ``c``)?" -- so there is no background task to race, and a read never changes state.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from .settings import Settings

FINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
MAX_STEP_EVENTS = 1000
"""Longer jobs emit an event every few steps so a job never holds more than about this many."""


@dataclass(frozen=True)
class EventSpec:
    """An event a plan will emit ``at`` simulated seconds after the job was created."""

    at: float
    level: str
    message: str
    data: dict[str, Any] | None = None


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
    error: dict[str, str] | None
    events: tuple[EventSpec, ...]
    losses: tuple[tuple[float, float | None], ...]
    """(train_loss, valid_loss or None) of steps 1..total_steps; valid at each epoch's end."""
    trained_tokens: int


@dataclass(frozen=True)
class Snapshot:
    """What a plan looks like at one moment."""

    status: str
    started_at: float | None
    finished_at: float | None
    step: int
    epoch: int
    metrics: dict[str, Any] | None


def loss_curve(total_steps: int, steps_per_epoch: int, seed: int) -> list[tuple[float, float | None]]:
    """A falling train loss with a little noise, and a valid loss at every epoch's end."""
    rng = random.Random(seed)
    start = 2.2 + rng.uniform(-0.2, 0.2)
    floor = 0.35 + rng.uniform(-0.05, 0.05)
    losses: list[tuple[float, float | None]] = []
    for step in range(1, total_steps + 1):
        smooth = floor + (start - floor) * math.exp(-3.5 * step / total_steps)
        train = round(max(0.01, smooth * (1 + rng.uniform(-0.04, 0.04))), 4)
        at_eval = step % steps_per_epoch == 0 or step == total_steps
        valid = round(smooth * 1.08 + 0.03, 4) if at_eval else None
        losses.append((train, valid))
    return losses


def make_plan(
    settings: Settings,
    *,
    train_examples: int,
    train_tokens: int,
    hyperparameters: dict[str, Any],
    seed: int,
    error: dict[str, str] | None,
    warnings: tuple[str, ...] = (),
) -> Plan:
    """The plan of a job whose files held ``train_examples`` training examples (or failed: ``error``)."""
    validated = settings.validate_seconds
    opening = [EventSpec(0.0, "info", "Validating training file")]
    if error is not None:
        failed = EventSpec(validated, "error", f"Job failed: {error['message']}")
        return Plan(validated, None, validated, 0, 1, 0.0, error, (*opening, failed), (), 0)
    n_epochs = int(hyperparameters["n_epochs"])
    per_epoch = max(1, math.ceil(train_examples / int(hyperparameters["batch_size"])))
    total = per_epoch * n_epochs
    started = validated + settings.queue_seconds
    step_seconds = settings.step_seconds
    finished = started + total * step_seconds
    losses = loss_curve(total, per_epoch, seed)
    stride = max(1, math.ceil(total / MAX_STEP_EVENTS))
    events = [
        *opening,
        EventSpec(validated, "info", "Files validated"),
        *(EventSpec(validated, "warning", f"Training file warning: {text}") for text in warnings),
        EventSpec(validated, "info", "Job queued"),
        EventSpec(started, "info", "Job started"),
    ]
    for step in range(stride, total + 1, stride):
        events.append(_step_event(started + step * step_seconds, step, per_epoch, total, losses))
    if total % stride:
        events.append(_step_event(finished, total, per_epoch, total, losses))
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
        losses=tuple(losses),
        trained_tokens=train_tokens * n_epochs,
    )


def _metrics(
    step: int, per_epoch: int, losses: tuple[tuple[float, float | None], ...] | list[Any]
) -> dict[str, Any]:
    train, _ = losses[step - 1]
    valid = next((v for _, v in reversed(losses[:step]) if v is not None), None)
    return {
        "step": step,
        "epoch": math.ceil(step / per_epoch),
        "train_loss": train,
        "valid_loss": valid,
    }


def _step_event(
    at: float, step: int, per_epoch: int, total: int, losses: list[tuple[float, float | None]]
) -> EventSpec:
    data = _metrics(step, per_epoch, losses)
    message = f"Step {step}/{total}: train_loss={data['train_loss']:.4f}"
    if losses[step - 1][1] is not None:
        message += f", valid_loss={data['valid_loss']:.4f}"
    return EventSpec(at, "info", message, data)


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
    metrics = _metrics(step, plan.steps_per_epoch, plan.losses) if step else None
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
