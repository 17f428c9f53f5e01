"""``--poll-interval`` of the commands that wait or follow, its help saying how each polls by default
(from the SDK's own numbers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from .._core.schedule import DEFAULT_SCHEDULE
from .._core.waiting import DEFAULT_PROGRESS_INTERVAL

__all__ = ["FOLLOW_POLL", "POLL", "WATCH_POLL"]

FC = TypeVar("FC", bound=Callable[..., object])


def _poll_option(default: str) -> Callable[[FC], FC]:
    return click.option(
        "--poll-interval",
        type=click.FloatRange(min=0.01),
        metavar="SECONDS",
        help=f"Poll this often (default: {default}).",
    )


# Waiting polls at a growing pace; following events and watching a job no slower than the progress
# interval while the job runs (a growing pause would make a live log or chart lag).
POLL = _poll_option(
    f"every {DEFAULT_SCHEDULE.first:g} s, growing to {DEFAULT_SCHEDULE.cap:g} s, or as the platform hints"
)
FOLLOW_POLL = _poll_option(
    f"from {DEFAULT_SCHEDULE.first:g} s, at most every {DEFAULT_PROGRESS_INTERVAL:g} s while the job runs"
)
WATCH_POLL = FOLLOW_POLL
"""``jobs watch`` and ``tune``: every step reaches the chart, looked at no slower than ``FOLLOW_POLL``."""
