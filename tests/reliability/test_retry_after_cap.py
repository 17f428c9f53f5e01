"""A ``Retry-After`` longer than the client waits is not slept: the call ends at once with the typed
error, carrying ``retry_after``, after one attempt, so the caller decides. Likewise inside
``jobs.wait(timeout=)`` when the hint is longer than the time the wait has left. A hint within the cap
is still honoured (the call retries after it)."""

from __future__ import annotations

import email.utils
import time

import pytest

from finetune_sdk import APIStatusError, InternalServerError, RateLimitError

from .conftest import call, timed
from .hostile import Conn, HostileServer, Request, job, json_answer

DAY = 86400
#: Far under any pause asked here; time for a loaded machine to answer.
AT_ONCE = 1.0


def refusing(status: int, **headers: str | int) -> HostileServer:
    def handler(request: Request, conn: Conn) -> bool:
        body = {
            "error": {"message": "slow down", "type": "rate_limit_error" if status == 429 else "server_error"}
        }
        return conn.send(json_answer(status, body, **headers))

    return HostileServer(handler)


def a_day_from_now() -> str:
    return email.utils.formatdate(time.time() + DAY, usegmt=True)


@pytest.mark.parametrize(
    ("status", "kind"), [(429, RateLimitError), (503, InternalServerError)], ids=["429", "503"]
)
@pytest.mark.parametrize("form", ["seconds", "ms", "http-date"])
def test_a_pause_past_the_cap_ends_the_call_at_once(
    mode: str, status: int, kind: type[APIStatusError], form: str
) -> None:
    """``timeout=2``, the default ``max_retry_wait`` (60 s) and three retries allowed."""
    forms: dict[str, dict[str, str | int]] = {
        "seconds": {"retry_after": DAY},
        "ms": {"retry_after_ms": DAY * 1000},
        "http-date": {"retry_after": a_day_from_now()},  # made now: the suite may run a while first
    }
    headers = forms[form]
    with refusing(status, **headers) as server:
        took, raised = timed(
            lambda: call(
                mode, server.base_url, lambda c: c.jobs.retrieve("ftjob-1"), timeout=2, max_retries=3
            )
        )
        sent = len(server.requests)
    assert isinstance(raised, kind), raised
    assert raised.retry_after is not None and abs(raised.retry_after - DAY) < 5
    assert raised.attempts == 1 and sent == 1
    assert took < AT_ONCE, f"held {took:.2f}s"
    print(
        f"{mode} {status} {headers}: ended after {took:.3f}s, 1 attempt, retry_after={raised.retry_after:.0f}"
    )


def test_a_pause_within_the_cap_is_honoured(mode: str) -> None:
    answers = iter([json_answer(503, {"error": {"message": "busy"}}, retry_after_ms=300)])

    def handler(request: Request, conn: Conn) -> bool:
        return conn.send(next(answers, None) or json_answer(200, job()))

    with HostileServer(handler) as server:
        took, raised = timed(
            lambda: call(mode, server.base_url, lambda c: c.jobs.retrieve("ftjob-1"), max_retries=3)
        )
        assert raised is None and len(server.requests) == 2
    assert 0.3 <= took < 0.3 + AT_ONCE


@pytest.mark.parametrize(
    ("status", "kind"), [(429, RateLimitError), (503, InternalServerError)], ids=["429", "503"]
)
@pytest.mark.parametrize("hint", [30, DAY], ids=["past-the-wait", "past-the-cap"])
def test_wait_ends_at_once_when_the_server_asks_for_longer_than_it_has_left(
    mode: str, status: int, kind: type[APIStatusError], hint: int
) -> None:
    """``jobs.wait(timeout=2)``: a hint of 30 s is within the client's cap but past the wait's end."""
    with refusing(status, retry_after=hint) as server:
        took, raised = timed(
            lambda: call(
                mode,
                server.base_url,
                lambda c: c.jobs.wait("ftjob-1", timeout=2, poll_interval=0.1),
                max_retries=3,
            )
        )
        sent = len(server.requests)
    assert isinstance(raised, kind), raised
    assert raised.retry_after == hint
    assert sent == 1
    assert took < AT_ONCE, f"wait held {took:.2f}s"
