"""The retry policy: which failures are worth another attempt, how long to wait before it, and the
client's retry budget.

Pure decisions, no I/O. The sync and async clients hand the same policy to tenacity (``Retrying`` and
``AsyncRetrying``), and ``wait()`` reuses it for polling, so "retry?" is answered in one place.

Three things keep retries from making an outage worse:

* a server's ``Retry-After`` longer than ``max_wait`` is not slept: the error is raised at once,
  carrying ``retry_after``, so the caller decides;
* each client has a :class:`RetryBudget`, a token bucket that failed attempts drain and successes
  refill (gRPC's retry throttling, botocore's standard mode): once it is low, failing calls are not
  retried, so a full outage costs about one attempt per call instead of ``max_retries + 1``;
* backoff has jitter, so clients that failed together do not come back together.
"""

from __future__ import annotations

import dataclasses
import datetime
import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

import httpx
import tenacity

from ..errors import APIConnectionError, APIError, APIStatusError
from .checks import is_finite_number, is_number

__all__ = [
    "RETRYABLE_STATUS",
    "RetryBudget",
    "RetryHistory",
    "RetryPolicy",
    "is_retryable",
    "parse_retry_after",
]

logger: Final = logging.getLogger("finetune_sdk")

#: HTTP statuses under 500 that say "try again": timeout and rate limit. Every 5xx is retried too,
#: except those in ``FINAL_5XX``.
RETRYABLE_STATUS: Final = frozenset({408, 429})
#: 5xx answers that another attempt cannot change: the server does not implement the method (501) or
#: the HTTP version (505). (The platform's overload code 50505, which also maps to 505, is retried.)
FINAL_5XX: Final = frozenset({501, 505})
#: The live platform's envelope code for "model service overloaded", sent even under HTTP 200.
OVERLOADED_CODES: Final = frozenset({"50505"})


def is_retryable(exc: BaseException) -> bool:
    """Whether a failed attempt may be repeated: a lost connection, a timeout or a passing overload.

    Other 4xx answers are final: sending the same request again would get the same answer. A server's
    ``x-should-retry: true`` or ``false`` overrides the status either way.
    """
    if isinstance(exc, APIConnectionError):
        # A request httpx refused to send (a malformed header, an unsupported scheme) fails the same
        # way every time.
        return not isinstance(exc.__cause__, (httpx.LocalProtocolError, httpx.UnsupportedProtocol))
    if isinstance(exc, APIStatusError):
        told = _should_retry(exc)
        if told is not None:
            return told
        status = exc.status_code
        return (
            status in RETRYABLE_STATUS
            or (500 <= status < 600 and status not in FINAL_5XX)
            or exc.code in OVERLOADED_CODES
        )
    return False


def _should_retry(exc: APIStatusError) -> bool | None:
    """The server's own word (``x-should-retry: true|false``), when it gave one."""
    headers = exc.response.headers if exc.response is not None else None
    value = headers.get("x-should-retry", "").strip().lower() if headers is not None else ""
    return {"true": True, "false": False}.get(value)


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait, from ``retry-after-ms`` or ``Retry-After``.

    ``Retry-After`` may be a number of seconds or an HTTP date. Unparseable or negative values count as
    absent, so a malformed header never stalls a client.
    """
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        ms = _number(raw_ms)
        if ms is not None:
            return ms / 1000.0
    raw = headers.get("retry-after")
    if raw is None:
        return None
    seconds = _number(raw)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        # "-0000" (and a date with no zone) reads as naive, which .timestamp() takes as local time: HTTP
        # dates are always UTC, so a client far from UTC would wait hours more or less than asked.
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def _number(raw: str) -> float | None:
    """A finite, non-negative number, or None (NaN, inf and negatives are no wait)."""
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if 0 <= value < float("inf") else None


class RetryBudget:
    """How many retries a client may still spend: a token bucket shared by all its calls (the scheme of
    botocore's standard retry mode and gRPC's retry throttling).

    A retry takes ``retry_cost`` tokens and is made only while that many are left; every successful call
    puts back ``refill``. With the defaults a client makes at most 20 retries in a row while a server
    fails everything, so 200 calls during a full outage cost about 220 attempts, not ``200 *
    (max_retries + 1)``; as calls succeed again the bucket refills and retries resume. A steady share of
    failed attempts up to ``refill / (retry_cost + refill)`` (a third, with the defaults) never runs it
    dry. ``RetryBudget(capacity=float("inf"))`` never throttles; ``Client(retry_budget=None)`` has none.
    Thread-safe: one budget serves every thread and task of its client (and the clients
    ``with_options`` makes from it).
    """

    __slots__ = ("_lock", "_tokens", "capacity", "refill", "retry_cost")

    def __init__(self, capacity: float = 20.0, *, retry_cost: float = 1.0, refill: float = 0.5) -> None:
        if not is_number(capacity) or not capacity > 0:
            raise ValueError(f"capacity must be a number of tokens > 0, got {capacity!r}")
        if not is_finite_number(retry_cost) or retry_cost <= 0:
            raise ValueError(f"retry_cost must be a number of tokens > 0, got {retry_cost!r}")
        if not is_finite_number(refill) or refill < 0:
            raise ValueError(f"refill must be a number of tokens >= 0, got {refill!r}")
        self.capacity: float = float(capacity)
        self.retry_cost: float = float(retry_cost)
        self.refill: float = float(refill)
        self._tokens = self.capacity
        self._lock = threading.Lock()

    @property
    def tokens(self) -> float:
        """The tokens left."""
        return self._tokens

    def spend(self) -> bool:
        """Take the tokens of one retry; False (and nothing taken) when too few are left."""
        with self._lock:
            if self._tokens < self.retry_cost:
                return False
            self._tokens -= self.retry_cost
            return True

    def succeeded(self) -> None:
        """A call succeeded: put back ``refill`` tokens."""
        if self._tokens < self.capacity:
            with self._lock:
                self._tokens = min(self.capacity, self._tokens + self.refill)

    def __repr__(self) -> str:
        return (
            f"RetryBudget(capacity={self.capacity:g}, retry_cost={self.retry_cost:g}, "
            f"refill={self.refill:g}, tokens={self._tokens:g})"
        )


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How many times to try again, how long to pause before each new attempt, and the budget.

    Backoff is exponential from ``initial_wait`` with jitter, capped at ``max_backoff``; a
    ``Retry-After`` from the server replaces it, up to ``max_wait`` (a longer one ends the call at once).
    """

    max_retries: int
    max_wait: float = 60.0
    initial_wait: float = 0.5
    max_backoff: float = 8.0
    budget: RetryBudget | None = None

    def backoff(self, attempt: int, *, rng: Callable[[], float] = random.random) -> float:
        """The pause after failed attempt number ``attempt`` (1-based), with no hint from the server."""
        ceiling = min(self.max_backoff, self.initial_wait * 2.0 ** (attempt - 1))
        # Half fixed, half random: spreads clients apart while keeping a floor under the wait.
        return min(self.max_wait, ceiling * (0.5 + rng() / 2))

    def wait_after(self, attempt: int, exc: BaseException | None) -> float:
        """The pause after attempt ``attempt`` failed with ``exc``: Retry-After if given, else backoff."""
        hint = exc.retry_after if isinstance(exc, APIStatusError) else None
        # "Retry-After: 0" gives no pace: back off rather than send again at once.
        if hint:
            return min(hint, self.max_wait)
        return self.backoff(attempt)

    def asks_too_long(self, exc: BaseException) -> bool:
        """Whether the server asked for a longer pause than this policy waits (the call then ends at
        once, its error carrying ``retry_after``, rather than retrying early or sleeping for minutes)."""
        hint = exc.retry_after if isinstance(exc, APIStatusError) else None
        return hint is not None and hint > self.max_wait

    def should_retry(self, exc: BaseException) -> bool:
        """Whether a failed attempt is tried again, budget allowing (the budget is charged here)."""
        if not is_retryable(exc) or self.asks_too_long(exc):
            return False
        return self.budget is None or self.budget.spend()

    def tenacity_args(self) -> dict[str, Any]:
        """Keyword arguments for ``tenacity.Retrying`` / ``AsyncRetrying`` that apply this policy.

        The retrying object is built once per client and called as ``retrying(attempt, spec, history)``:
        the last argument, a :class:`RetryHistory`, names the call in log lines, says how many attempts
        the call may make, and collects the pauses.
        """

        def stop(state: tenacity.RetryCallState) -> bool:
            history: RetryHistory = state.args[-1]
            return state.attempt_number >= history.max_attempts

        def retry(state: tenacity.RetryCallState) -> bool:
            outcome = state.outcome
            exc = outcome.exception() if outcome is not None else None
            history: RetryHistory = state.args[-1]
            # The last allowed attempt is not charged to the budget: it could not be retried anyway.
            return exc is not None and state.attempt_number < history.max_attempts and self.should_retry(exc)

        def wait(state: tenacity.RetryCallState) -> float:
            outcome = state.outcome
            exc = outcome.exception() if outcome is not None else None
            return self.wait_after(state.attempt_number, exc)

        def before_sleep(state: tenacity.RetryCallState) -> None:
            history: RetryHistory = state.args[-1]
            pause = state.upcoming_sleep
            history.waits.append(pause)
            outcome = state.outcome
            # INFO: a retry is an expected, handled event, not a warning for a service's logs.
            logger.info(
                "%s failed (attempt %d of %d), retrying in %.2fs: %s",
                history.describe,
                state.attempt_number,
                history.max_attempts,
                pause,
                _short(outcome.exception() if outcome is not None else None),
            )

        return {"stop": stop, "wait": wait, "retry": retry, "before_sleep": before_sleep, "reraise": True}


@dataclasses.dataclass
class RetryHistory:
    """One logical call's attempts and pauses, written onto the error the caller finally sees."""

    describe: str
    max_attempts: int
    attempts: int = 0
    waits: list[float] = dataclasses.field(default_factory=list[float])

    def record(self, exc: APIError) -> None:
        exc.attempts = self.attempts
        exc.retry_waits = tuple(self.waits)


def _short(exc: BaseException | None) -> str:
    if isinstance(exc, APIError):
        return f"{type(exc).__name__}: {exc.message}"
    return type(exc).__name__
