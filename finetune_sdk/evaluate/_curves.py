"""The curves of a training run, read from its metrics rows: what the SVG, terminal and HTML charts draw.

A row is any object with a ``step`` (a number) and, where known, ``epoch``, ``train_loss``,
``valid_loss`` and ``learning_rate`` (missing or None where not measured at that step), such as the
rows of ``client.jobs.metrics(job)``; a mapping with those keys (a row of its JSON) does as well.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterable, Mapping
from typing import Protocol

__all__ = ["Curves", "MetricsRowLike", "MetricsRows", "Point", "curves"]


class MetricsRowLike(Protocol):
    """One row of a training run's metrics: its ``step``; ``epoch``, ``train_loss``, ``valid_loss`` and
    ``learning_rate`` are read too where the row has them (a missing attribute counts as None).

    ``step`` may be typed optional (an event's data, ``JobEventData``, is such a row), but a row whose
    step is None is refused when read, naming the row."""

    @property
    def step(self) -> float | None: ...


MetricsRows = Iterable[MetricsRowLike | Mapping[str, object]]
"""What the charts and reports take: metrics rows, in any order (they are drawn by step)."""

Point = tuple[float, float]
"""``(step, value)``."""

SERIES = ("train_loss", "valid_loss", "learning_rate")


@dataclasses.dataclass(frozen=True)
class Curves:
    """The points of each series, by step, and what could not be drawn."""

    train_loss: tuple[Point, ...] = ()
    valid_loss: tuple[Point, ...] = ()
    learning_rate: tuple[Point, ...] = ()
    epoch_ends: tuple[tuple[float, int], ...] = ()
    """``(step, epoch)`` of the last step of each epoch but the running one (where rows carry epochs)."""
    not_finite: int = 0
    """Values that were NaN or infinite (a diverging run): left out of the lines, counted here."""
    rows: int = 0

    @property
    def empty(self) -> bool:
        return not (self.train_loss or self.valid_loss or self.learning_rate)

    @property
    def last_step(self) -> float | None:
        steps = [points[-1][0] for points in (self.train_loss, self.valid_loss, self.learning_rate) if points]
        return max(steps) if steps else None

    def losses(self) -> list[float]:
        return [value for _, value in (*self.train_loss, *self.valid_loss)]

    def best_valid(self) -> Point | None:
        """The lowest validation loss and its step (the first, on a tie)."""
        if not self.valid_loss:
            return None
        return min(self.valid_loss, key=lambda point: point[1])


def _get(row: MetricsRowLike | Mapping[str, object], name: str) -> object:
    if isinstance(row, Mapping):
        return row.get(name)
    return getattr(row, name, None)


def _number(row: MetricsRowLike | Mapping[str, object], name: str, index: int) -> float | None:
    value = _get(row, name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"metrics row {index}: {name} must be a number or None, got {value!r} ({type(value).__name__})"
        )
    return float(value)


def curves(rows: MetricsRows) -> Curves:
    """The series of ``rows``, each sorted by step; a row without a numeric ``step`` is a TypeError
    naming it."""
    series: dict[str, list[Point]] = {name: [] for name in SERIES}
    epochs: list[tuple[float, float]] = []
    not_finite = count = 0
    for index, row in enumerate(rows):
        count += 1
        step = _number(row, "step", index)
        if step is None or not math.isfinite(step):
            raise TypeError(f"metrics row {index}: a row needs a finite number as its step, got {step!r}")
        for name in SERIES:
            value = _number(row, name, index)
            if value is None:
                continue
            if math.isfinite(value):
                series[name].append((step, value))
            else:
                not_finite += 1
        epoch = _number(row, "epoch", index)
        if epoch is not None and math.isfinite(epoch):
            epochs.append((step, epoch))
    for points in series.values():
        points.sort(key=lambda point: point[0])
    return Curves(
        train_loss=tuple(series["train_loss"]),
        valid_loss=tuple(series["valid_loss"]),
        learning_rate=tuple(series["learning_rate"]),
        epoch_ends=_epoch_ends(epochs),
        not_finite=not_finite,
        rows=count,
    )


def _epoch_ends(epochs: list[tuple[float, float]]) -> tuple[tuple[float, int], ...]:
    """Where a new epoch begins, the step before it ends the last one. An epoch of ``1.0`` (one epoch
    done) and of ``1`` (a counter of the running epoch at its last step) both end epoch 1."""
    epochs.sort(key=lambda pair: pair[0])
    ends: list[tuple[float, int]] = []
    for (step, epoch), (_, following) in itertools.pairwise(epochs):
        if math.ceil(following) > math.ceil(epoch) >= 1:
            ends.append((step, math.ceil(epoch)))
    return tuple(ends)
