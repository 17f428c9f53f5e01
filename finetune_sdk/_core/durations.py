"""Durations: the one check of a number of seconds an argument or setting gives, and the one
:class:`Deadline` (a point on the monotonic clock) that attempts, streams and waits count down to."""

from __future__ import annotations

import math
import time

__all__ = ["Deadline", "check_seconds"]


def check_seconds(name: str, value: object, *, zero: bool = False, infinite: bool = False) -> float:
    """``value`` as a number of seconds, or a clear error naming ``name``.

    A non-number (a bool included) is a ``TypeError``; NaN, a negative number, zero (unless ``zero``)
    and infinity (unless ``infinite``, which callers read as "no limit") are a ``ValueError``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__}: {value!r}")
    number = float(value)
    if (
        math.isnan(number)
        or number < 0
        or (number == 0 and not zero)
        or (math.isinf(number) and not infinite)
    ):
        bound = ">= 0" if zero else "> 0"
        kind = "a number of seconds" if infinite else "a finite number of seconds"
        raise ValueError(f"{name} must be {kind} {bound}, got {value!r}")
    return number


class Deadline:
    """A point on the monotonic clock (``at``; None is never), how long it was set for (``seconds``)
    and what it is called in errors (``what``: ``"deadline"``, ``"idle_timeout"``, ``"timeout"``)."""

    __slots__ = ("at", "seconds", "what")

    def __init__(self, at: float | None, seconds: float | None, what: str = "deadline") -> None:
        self.at = at
        self.seconds = seconds
        self.what = what

    @classmethod
    def after(cls, seconds: float | None, what: str = "deadline") -> Deadline:
        """The deadline ``seconds`` from now (None or infinity: never)."""
        if seconds is None or math.isinf(seconds):
            return cls(None, None, what)
        return cls(time.monotonic() + seconds, seconds, what)

    def restart(self) -> None:
        """The same span again, from now (an idle limit after each event)."""
        if self.seconds is not None:
            self.at = time.monotonic() + self.seconds

    def left(self) -> float | None:
        """Seconds until the deadline (negative once passed); None for never."""
        return None if self.at is None else self.at - time.monotonic()

    def expired(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at

    def sooner(self, other: Deadline | None) -> Deadline:
        """Whichever of the two comes first."""
        if other is None or other.at is None:
            return self
        return other if self.at is None or other.at < self.at else self

    def __repr__(self) -> str:
        return f"Deadline({self.what}, left={self.left()!r})"
