"""``PollSchedule``: how often ``jobs.wait`` looks at a job, as a plain value (no I/O, no clock).

A wait looks at once, then pauses ``first`` seconds, and each later pause is ``growth`` times the one
before, up to ``cap``: a job that ends within a second is seen done within a fraction of one, and a job
of many minutes costs a few dozen requests. A server may hint the next pause (see ``docs/wire-contract.md``);
the waiter honours a hint within ``[MIN_HINTED_PAUSE, cap]``.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from .checks import is_finite_number
from .durations import check_seconds

__all__ = ["DEFAULT_SCHEDULE", "MIN_HINTED_PAUSE", "PollSchedule"]

#: The shortest pause a server's hint can ask for: a hint of 0 repeated must not become a busy loop.
MIN_HINTED_PAUSE: Final = 0.02


@dataclasses.dataclass(frozen=True)
class PollSchedule:
    """The pauses between the polls of ``wait``: ``first``, then times ``growth`` each time, up to ``cap``.

    ``PollSchedule.fixed(2.0)`` polls every 2 s. Give one to ``Client(poll_interval=...)`` to set a
    client's default, or a number there for a steady pace.
    """

    first: float = 0.1
    growth: float = 2.0
    cap: float = 15.0

    def __post_init__(self) -> None:
        first, cap = check_seconds("first", self.first), check_seconds("cap", self.cap)
        growth = self.growth
        if not is_finite_number(growth) or growth < 1:
            raise ValueError(f"growth must be a number >= 1, got {growth!r}")
        if cap < first:
            raise ValueError(f"cap ({cap:g} s) must not be shorter than first ({first:g} s)")
        object.__setattr__(self, "first", first)
        object.__setattr__(self, "cap", cap)
        object.__setattr__(self, "growth", float(growth))

    @classmethod
    def fixed(cls, seconds: float) -> PollSchedule:
        """Poll every ``seconds``."""
        pace = check_seconds("poll_interval", seconds)
        return cls(first=pace, growth=1.0, cap=pace)

    @classmethod
    def of(cls, value: float | PollSchedule) -> PollSchedule:
        """``value`` as a schedule: a number is a steady pace."""
        return value if isinstance(value, PollSchedule) else cls.fixed(value)

    def after(self, pause: float) -> float:
        """The pause that follows ``pause``."""
        return min(self.cap, pause * self.growth)

    def polls_for(self, seconds: float) -> int:
        """How many polls a wait makes for a job that ends ``seconds`` after the wait starts (the look
        at the start included, and the one that sees it done)."""
        polls, elapsed, pause = 1, 0.0, self.first
        while elapsed < seconds:
            elapsed += pause
            polls += 1
            pause = self.after(pause)
        return polls


DEFAULT_SCHEDULE: Final = PollSchedule()
