"""The retry policy: which failures are worth another attempt, and how long to wait before it.

Pure decisions, no I/O. The sync and async clients hand the same policy to tenacity (``Retrying`` and
``AsyncRetrying``), and ``wait()`` reuses it for polling, so "retry?" is answered in one place.
"""

from __future__ import annotations

import dataclasses
import email.utils
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

import httpx
import tenacity

from .errors import APIConnectionError, APIError, APIStatusError

__all__ = ["RETRYABLE_STATUS", "RetryHistory", "RetryPolicy", "is_retryable", "parse_retry_after"]

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
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def _number(raw: str) -> float | None:
    """A finite, non-negative number, or None (NaN, inf and negatives are no wait)."""
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if 0 <= value < float("inf") else None


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How many times to try again and how long to pause before each new attempt.

    Backoff is exponential from ``initial_wait`` with full jitter, capped at ``max_backoff``; a
    ``Retry-After`` from the server replaces it, capped at ``max_wait``.
    """

    max_retries: int
    max_wait: float = 60.0
    initial_wait: float = 0.5
    max_backoff: float = 8.0

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

    def tenacity_args(self) -> dict[str, Any]:
        """Keyword arguments for ``tenacity.Retrying`` / ``AsyncRetrying`` that apply this policy.

        The retrying object is built once per client and called as ``retrying(attempt, spec, history)``:
        the last argument, a :class:`RetryHistory`, names the call in log lines and collects the pauses.
        """

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
                self.max_retries + 1,
                pause,
                _short(outcome.exception() if outcome is not None else None),
            )

        return {
            "stop": tenacity.stop_after_attempt(self.max_retries + 1),
            "wait": wait,
            "retry": tenacity.retry_if_exception(is_retryable),
            "before_sleep": before_sleep,
            "reraise": True,
        }


@dataclasses.dataclass
class RetryHistory:
    """One logical call's attempts and pauses, written onto the error the caller finally sees."""

    describe: str
    attempts: int = 0
    waits: list[float] = dataclasses.field(default_factory=list)

    def record(self, exc: APIError) -> None:
        exc.attempts = self.attempts
        exc.retry_waits = tuple(self.waits)


def _short(exc: BaseException | None) -> str:
    if isinstance(exc, APIError):
        return f"{type(exc).__name__}: {exc.message}"
    return type(exc).__name__
