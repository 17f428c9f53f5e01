"""The wait/follow decisions, with a fake clock: no sockets, no sleeping."""

from __future__ import annotations

from typing import Any

import pytest

from finetune_sdk import (
    APIConnectionError,
    AuthenticationError,
    FineTuneJob,
    JobCancelledError,
    JobFailedError,
    RateLimitError,
    WaitTimeoutError,
)
from finetune_sdk._polling import FIRST_POLL, MAX_POLL, EventCursor, Waiter, finished
from finetune_sdk._retry import RetryPolicy
from finetune_sdk.types import JobEvent, Page


def job(status: str, **kw: Any) -> FineTuneJob:
    return FineTuneJob.model_validate(
        {"id": "ftjob-1", "model": "m", "status": status, "created_at": 0, **kw}
    )


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def waiter(**kw: Any) -> tuple[Waiter, Clock]:
    clock = Clock()
    args: dict[str, Any] = {"timeout": None, "poll_interval": None, "policy": RetryPolicy(3, max_wait=30)}
    args.update(kw)
    return Waiter("ftjob-1", clock=clock, **args), clock


def test_pauses_grow_from_a_short_start_to_a_cap() -> None:
    w, _ = waiter()
    pauses = [w.next_pause() for _ in range(12)]
    assert pauses[0] == FIRST_POLL
    assert pauses == sorted(pauses)
    assert pauses[-1] == MAX_POLL


def test_fixed_poll_interval() -> None:
    w, _ = waiter(poll_interval=0.25)
    assert {w.next_pause() for _ in range(5)} == {0.25}


def test_deadline_shortens_the_last_pause_then_raises() -> None:
    w, clock = waiter(timeout=2.5, poll_interval=1.0)
    w.seen(job("running", step=5, total_steps=10))
    assert w.next_pause() == 1.0
    clock.now += 2.0
    assert w.next_pause() == pytest.approx(0.5)
    clock.now += 0.5
    with pytest.raises(WaitTimeoutError) as info:
        w.next_pause()
    assert "ftjob-1" in str(info.value) and "50%" in str(info.value)
    assert info.value.job is not None and info.value.timeout == 2.5


def test_changes_are_reported_once() -> None:
    w, _ = waiter()
    assert w.seen(job("queued"))
    assert not w.seen(job("queued"))
    assert w.seen(job("running", step=1, total_steps=4))
    assert not w.seen(job("running", step=1, total_steps=4))
    assert w.seen(job("running", step=2, total_steps=4))


def test_passing_errors_keep_the_wait_going_and_back_off() -> None:
    w, _ = waiter(poll_interval=0.1)
    w.failed(APIConnectionError())
    first = w.next_pause()
    w.failed(RateLimitError("slow", status_code=429, retry_after=7.0))
    assert w.next_pause() >= 7.0  # Retry-After honoured
    w.seen(job("running"))
    assert w.next_pause() == 0.1  # back to the normal pace after a good poll
    assert 0 < first <= 0.5


def test_other_errors_end_the_wait() -> None:
    w, _ = waiter()
    with pytest.raises(AuthenticationError):
        w.failed(AuthenticationError("bad key", status_code=401))


def test_finished_outcomes() -> None:
    assert finished(job("running")) is None
    assert finished(job("succeeded")) is not None
    with pytest.raises(JobFailedError) as info:
        finished(job("failed", error={"code": "invalid_training_file", "message": "line 3: bad"}))
    assert info.value.code == "invalid_training_file" and "line 3" in str(info.value)
    with pytest.raises(JobCancelledError):
        finished(job("cancelled"))


@pytest.mark.parametrize("bad", [{"timeout": -1}, {"poll_interval": 0}])
def test_bad_wait_arguments(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        waiter(**bad)


def test_event_cursor_hands_out_each_event_once() -> None:
    def page(*ids: str, more: bool = False) -> Page[JobEvent]:
        events = [JobEvent(id=i, created_at=0, message=i) for i in ids]
        return Page[JobEvent](data=events, has_more=more)

    cursor = EventCursor()
    assert [e.id for e in cursor.take(page("a", "b", more=True))] == ["a", "b"]
    assert cursor.after == "b"
    assert [e.id for e in cursor.take(page("b", "c"))] == ["c"]  # a repeated event is skipped
    assert cursor.take(page()) == [] and cursor.after == "c"


def test_tolerant_reading_of_jobs() -> None:
    parsed = job(
        "failed", created_at=1712345678.75, started_at=1712345679.0, error={"code": "x", "message": None}
    )
    assert parsed.created_at == 1712345678 and parsed.started_at == 1712345679
    with pytest.raises(JobFailedError, match="no reason given"):
        finished(parsed)
