"""Metrics rows of a made-up LoRA run, for the charts' and the job report's tests."""

from __future__ import annotations

import dataclasses
import math
import random


@dataclasses.dataclass(frozen=True)
class Row:
    """What a metrics row looks like to the charts: a step, and the values measured at it."""

    step: int
    epoch: float | None = None
    train_loss: float | None = None
    valid_loss: float | None = None
    learning_rate: float | None = None


def run(steps: int = 120, per_epoch: int = 40, *, seed: int = 1, learning_rate: bool = True) -> list[Row]:
    """A noisy falling train loss, a validation loss at each epoch's end, a warm-up then a linear decay."""
    rng = random.Random(seed)
    rows: list[Row] = []
    for step in range(1, steps + 1):
        smooth = 0.35 + 1.9 * math.exp(-3.5 * step / steps)
        rate = 1e-4 * min(1.0, step / 10) * (1 - 0.9 * step / steps) if learning_rate else None
        rows.append(
            Row(
                step=step,
                epoch=math.ceil(step / per_epoch),
                train_loss=round(smooth * (1 + rng.uniform(-0.05, 0.05)), 4),
                valid_loss=round(smooth * 1.08 + 0.03, 4) if step % per_epoch == 0 else None,
                learning_rate=rate,
            )
        )
    return rows
