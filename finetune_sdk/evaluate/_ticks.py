"""Axis ticks at round numbers (1, 2 or 5 times a power of ten) and their labels, for every chart."""

from __future__ import annotations

import math

__all__ = ["Axis", "axis", "label"]


class Axis:
    """A range rounded out to ticks: ``low`` and ``high`` are the first and last tick."""

    __slots__ = ("high", "low", "step", "ticks")

    def __init__(self, low: float, high: float, step: float, ticks: tuple[float, ...]) -> None:
        self.low, self.high, self.step, self.ticks = low, high, step, ticks

    def position(self, value: float) -> float:
        """Where ``value`` lies between ``low`` (0.0) and ``high`` (1.0)."""
        return (value - self.low) / (self.high - self.low)

    def labels(self) -> list[str]:
        return [label(tick, self.step) for tick in self.ticks]


def _nice_step(span: float, count: int) -> float:
    raw = span / max(1, count)
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= factor * power * (1 + 1e-9):
            return factor * power
    return 10.0 * power  # pragma: no cover - the loop always returns


def axis(low: float, high: float, *, count: int = 5, zero: bool = False, tight: bool = False) -> Axis:
    """About ``count`` intervals of a round step covering ``low``-``high``; with ``zero``, from 0 when
    the data start near it (a loss falling towards 0 reads better on an axis that shows 0). With
    ``tight`` the axis ends at ``high`` itself, its ticks the round values up to it (a run of 64 steps
    ends at 64, not at 80)."""
    if zero and low >= 0 and low < 0.25 * high:
        low = 0.0
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"an axis needs finite bounds, got {low!r} and {high!r}")
    if high <= low:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
        if zero and low < 0 <= high - pad:
            low = 0.0
    step = _nice_step(high - low, count)
    first = math.floor(low / step + 1e-9) * step
    last = math.ceil(high / step - 1e-9) * step
    n = round((last - first) / step)
    ticks = tuple(_clean(first + i * step) for i in range(n + 1))
    if tight and ticks[-1] > high:
        ticks = tuple(tick for tick in ticks if tick <= high + 1e-9 * step)
        return Axis(ticks[0], high, step, ticks)
    return Axis(ticks[0], ticks[-1], step, ticks)


def _clean(value: float) -> float:
    """``0.30000000000000004`` as ``0.3``: ticks are printed, and compared in tests."""
    return float(f"{value:.12g}") + 0.0  # + 0.0 turns -0.0 into 0.0


def label(value: float, step: float) -> str:
    """A tick's text with as many decimals as the step needs: ``0.5``, ``1.25``, ``2e-5``, ``1,000``."""
    if value == 0:
        return "0"
    if abs(step) < 1e-3:
        mantissa, exponent = f"{value:.6e}".split("e")
        digits = mantissa.rstrip("0").rstrip(".")
        return f"{digits}e{int(exponent)}"
    decimals = len(f"{step:.10f}".rstrip("0").partition(".")[2])
    return f"{value:,.{decimals}f}"
