"""The simulated metrics of a LoRA run: what a job's steps, events, checkpoints and metrics file report.

Shaped like a real supervised LoRA run, deterministic by seed: the train loss falls fast in the first
epoch and then in steps at each epoch boundary (the model has seen the examples before), with noise that
grows as batches shrink; the token accuracy rises as the loss falls; the learning rate warms up, then
decays linearly to the end; the validation loss, evaluated at the end of each epoch, falls with the train
loss at first and turns up once more epochs overfit (with the suggested learning rate it is lowest near
epoch 3, and clearly higher again by epoch 5). A larger learning rate learns and overfits sooner.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from .._core import guide

SUGGESTED_LEARNING_RATE = guide.LEARNING_RATE


@dataclass(frozen=True)
class StepMetrics:
    """The metrics of one training step (``valid_*`` only on the steps that end an epoch)."""

    step: int
    epoch: int
    """1-based: the epoch this step belongs to."""
    train_loss: float
    train_accuracy: float
    learning_rate: float
    valid_loss: float | None = None
    valid_accuracy: float | None = None


def _accuracy(loss: float, wobble: float) -> float:
    """Mean token accuracy for a loss: about 0.35 at a loss of 2.1, 0.8 at 0.4."""
    return round(min(0.999, max(0.0, 0.99 * math.exp(-0.5 * loss) + wobble)), 4)


def _learning_rate(step: int, total: int, peak: float) -> float:
    warmup = max(1, min(30, total // 10))
    rising = step <= warmup
    rate = peak * step / warmup if rising else peak * (total - step + 1) / (total - warmup + 1)
    return float(f"{rate:.6g}")


def simulate_run(
    total_steps: int,
    steps_per_epoch: int,
    *,
    seed: int,
    learning_rate: float = SUGGESTED_LEARNING_RATE,
    batch_size: int = 8,
    validation: bool = True,
) -> tuple[StepMetrics, ...]:
    """The metrics of every step ``1..total_steps``."""
    rng = random.Random(seed)
    start = 2.1 + rng.uniform(-0.25, 0.25)
    floor = 0.55 + rng.uniform(-0.1, 0.1)
    """The loss the data allows: a run that generalises gets near it, not below."""
    speed = 1.6 * min(4.0, max(0.3, (learning_rate / SUGGESTED_LEARNING_RATE) ** 0.4))
    """How many e-folds the loss falls per epoch."""
    memorise = 0.6 * floor
    """How far below the floor the train loss goes once the model has seen the examples many times."""
    best_epoch = 2.5 * 1.6 / speed
    noise = min(0.15, max(0.02, 0.05 * math.sqrt(8 / max(1, batch_size))))
    steps: list[StepMetrics] = []
    for step in range(1, total_steps + 1):
        seen = step / steps_per_epoch
        epochs_done = (step - 1) // steps_per_epoch
        smooth = floor + (start - floor) * math.exp(-speed * seen) - memorise * (1 - 0.65**epochs_done)
        train = max(0.01, smooth * math.exp(rng.gauss(0.0, noise)))
        wobble = rng.gauss(0.0, 0.01)
        valid = valid_accuracy = None
        if validation and (step % steps_per_epoch == 0 or step == total_steps):
            overfit = 0.06 * (speed / 1.6) * max(0.0, seen - best_epoch) ** 1.4
            valid = floor * 1.04 + (start - floor) * math.exp(-speed * seen) + overfit
            valid = round(valid * math.exp(rng.gauss(0.0, 0.01)), 4)
            valid_accuracy = _accuracy(valid, rng.gauss(0.0, 0.005))
        steps.append(
            StepMetrics(
                step=step,
                epoch=epochs_done + 1,
                train_loss=round(train, 4),
                train_accuracy=_accuracy(train, wobble),
                learning_rate=_learning_rate(step, total_steps, learning_rate),
                valid_loss=valid,
                valid_accuracy=valid_accuracy,
            )
        )
    return tuple(steps)
