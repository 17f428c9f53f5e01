"""The wait/follow decisions, with a fake clock: no sockets, no sleeping."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from finetune_sdk import (
    APIConnectionError,
    APIResponseValidationError,
    AuthenticationError,
    FineTuneJob,
    JobCancelledError,
    JobFailedError,
    PollSchedule,
    RateLimitError,
    WaitTimeoutError,
)
from finetune_sdk._core.events import SEEN_WINDOW, EventCursor
from finetune_sdk._core.retry import RetryPolicy
from finetune_sdk._core.schedule import DEFAULT_SCHEDULE, MIN_HINTED_PAUSE
from finetune_sdk._core.waiting import Waiter, finished, read_poll
from finetune_sdk._core.wire import Answer
from finetune_sdk.types import JobEvent, Page

FIRST_POLL = DEFAULT_SCHEDULE.first
MAX_POLL = DEFAULT_SCHEDULE.cap


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
    assert finished(job("succeeded", fine_tuned_model="ft:m")) is not None
    with pytest.raises(APIResponseValidationError, match="no fine_tuned_model"):
        finished(job("succeeded"))
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


def test_an_event_cursor_remembers_a_bounded_window_of_ids() -> None:
    cursor = EventCursor()
    for start in range(0, 60 * 100, 100):  # 60 pages of long ids
        ids = [f"ftevent-{'x' * 200}-{n}" for n in range(start, start + 100)]
        fresh = cursor.take(Page[JobEvent](data=[JobEvent(id=i, created_at=0, message="") for i in ids]))
        assert len(fresh) == 100
        assert cursor.remembered <= SEEN_WINDOW
    # a repeat near the cursor is still recognised
    last = f"ftevent-{'x' * 200}-{5999}"
    assert cursor.take(Page[JobEvent](data=[JobEvent(id=last, created_at=0, message="")])) == []


def test_tolerant_reading_of_jobs() -> None:
    parsed = job(
        "failed", created_at=1712345678.75, started_at=1712345679.0, error={"code": "x", "message": None}
    )
    assert parsed.created_at == 1712345678 and parsed.started_at == 1712345679
    with pytest.raises(JobFailedError, match="no reason given"):
        finished(parsed)


# -- the schedule and the server's hints ----------------------------------------------------------


def test_the_default_schedule_looks_soon_then_doubles_up_to_a_cap() -> None:
    w, _ = waiter()
    pauses = [w.next_pause() for _ in range(12)]
    assert pauses[:4] == [0.1, 0.2, 0.4, 0.8]
    assert pauses[-1] == MAX_POLL == 15.0
    # a job of ten minutes costs a few dozen polls; one that ends in a second, a handful
    assert PollSchedule().polls_for(600) <= 50
    assert PollSchedule().polls_for(1.0) == 5


def test_a_schedule_given_to_the_waiter_sets_the_pace() -> None:
    w, _ = waiter(schedule=PollSchedule(first=0.01, growth=3, cap=0.05))
    assert [w.next_pause() for _ in range(4)] == pytest.approx([0.01, 0.03, 0.05, 0.05])
    fixed, _ = waiter(schedule=PollSchedule(first=0.01, cap=1), poll_interval=0.5)
    assert {fixed.next_pause() for _ in range(3)} == {0.5}  # a call's poll_interval wins


@pytest.mark.parametrize(
    ("hint", "pause"),
    [(0.03, 0.03), (0.0, MIN_HINTED_PAUSE), (0.001, MIN_HINTED_PAUSE), (100.0, 15.0), (None, 0.1)],
)
def test_a_hint_replaces_the_scheduled_pause_within_bounds(hint: float | None, pause: float) -> None:
    w, _ = waiter()
    w.seen(job("running"), hint)
    assert w.next_pause() == pytest.approx(pause)


def test_a_hint_lasts_one_poll_and_the_schedule_goes_on_meanwhile() -> None:
    w, _ = waiter()
    w.seen(job("running"), 0.05)
    assert w.next_pause() == 0.05
    w.seen(job("running"))  # the next answer hinted nothing
    assert w.next_pause() == 0.2  # the schedule's second pause


def test_a_hint_is_capped_by_a_fixed_poll_interval() -> None:
    w, _ = waiter(poll_interval=0.25)
    w.seen(job("running"), 10.0)
    assert w.next_pause() == 0.25
    w.seen(job("running"), 0.04)
    assert w.next_pause() == 0.04


def test_a_failed_poll_backs_off_whatever_the_last_hint() -> None:
    w, _ = waiter()
    w.seen(job("running"), 0.03)
    w.failed(RateLimitError("slow down", status_code=429, retry_after=5.0))
    assert w.next_pause() >= 5.0


def _answer(body: dict[str, Any], **headers: str) -> Answer:
    return Answer(httpx.Response(200, headers=headers, request=httpx.Request("GET", "http://x/")), body)


def test_read_poll_takes_the_hint_of_a_job_still_going_only() -> None:
    running = {"id": "ftjob-1", "model": "m", "status": "running", "created_at": 0}
    assert read_poll(_answer(running, **{"retry-after-ms": "35"}))[1] == pytest.approx(0.035)
    assert read_poll(_answer(running, **{"retry-after": "2"}))[1] == 2.0
    assert read_poll(_answer(running))[1] is None
    done = {**running, "status": "succeeded"}
    found, hint = read_poll(_answer(done, **{"retry-after": "2"}))
    assert (found.status, hint) == ("succeeded", None)


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ({"first": 0}, "first"),
        ({"first": -1}, "first"),
        ({"first": True}, "first"),
        ({"growth": 0.5}, "growth"),
        ({"cap": float("inf")}, "cap"),
        ({"first": 2, "cap": 1}, "must not be shorter"),
    ],
)
def test_a_bad_schedule_is_refused(bad: dict[str, Any], named: str) -> None:
    with pytest.raises((TypeError, ValueError), match=named):
        PollSchedule(**bad)


def test_fixed_and_of() -> None:
    assert PollSchedule.fixed(0.5) == PollSchedule(0.5, 1.0, 0.5)
    assert PollSchedule.of(0.5) == PollSchedule.fixed(0.5)
    schedule = PollSchedule(first=0.2)
    assert PollSchedule.of(schedule) is schedule
