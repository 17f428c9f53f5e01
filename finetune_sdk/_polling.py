"""Decisions for waiting on a job, following its events and paging through lists, sans I/O.

``Waiter`` is fed each poll's outcome (a job, or the error the poll raised) and answers what to do next:
return, raise, or sleep for how long. The sync and async ``wait()`` are loops of three lines around it,
differing only in ``time.sleep`` versus ``anyio.sleep``. Per-request retries happen inside each poll (the
client's tenacity policy); the waiter only decides what a poll that still failed means for the wait.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Final

import httpx

from ._retry import RetryPolicy, is_retryable, parse_retry_after
from ._schedule import DEFAULT_SCHEDULE, MIN_HINTED_PAUSE, PollSchedule
from ._wire import Answer, RequestSpec, parse_model, resource_id
from .errors import APIError, APIStatusError, JobCancelledError, JobFailedError, WaitTimeoutError
from .types import FineTuneJob, JobEvent, JobStatus, Page

__all__ = [
    "FIRST_POLL",
    "FOLLOW_POLL",
    "MAX_POLL",
    "EventCursor",
    "EventFollower",
    "Step",
    "Waiter",
    "finished",
    "read_poll",
]

#: The most items the platform returns in one page.
PAGE_MAX: Final = 100

#: The default schedule's first pause, growing by ``POLL_GROWTH`` up to ``MAX_POLL``: quick feedback for
#: short jobs, few requests for long ones (``PollSchedule`` holds the numbers).
FIRST_POLL: Final = DEFAULT_SCHEDULE.first
POLL_GROWTH: Final = DEFAULT_SCHEDULE.growth
MAX_POLL: Final = DEFAULT_SCHEDULE.cap
#: The shortest timeout a poll gets when the wait's deadline is near.
MIN_POLL_TIMEOUT: Final = 0.05
#: Following events polls at a steady pace: a growing pause would make a live log lag.
FOLLOW_POLL: Final = 1.0


def finished(job: FineTuneJob) -> FineTuneJob | None:
    """The job if it succeeded, None if it is still going; raise if it failed or was cancelled."""
    if job.status is JobStatus.SUCCEEDED:
        return job
    if job.status is JobStatus.FAILED:
        code = job.error.code if job.error else None
        detail = (job.error.message if job.error else None) or "no reason given"
        raise JobFailedError(
            f"Fine-tuning job {job.id} failed ({code or 'no code'}): {detail}",
            job=job,
            code=code,
            error_message=job.error.message if job.error else None,
        )
    if job.status is JobStatus.CANCELLED:
        raise JobCancelledError(f"Fine-tuning job {job.id} was cancelled.", job=job)
    return None


def read_poll(answer: Answer) -> tuple[FineTuneJob, float | None]:
    """A polled job, and the pause its server hinted (``Retry-After``/``retry-after-ms`` on the answer
    for a job that has not ended), if any."""
    job = parse_model(FineTuneJob, answer.payload, request=answer.response.request)
    return job, None if job.is_final else parse_retry_after(answer.response.headers)


def _progress_key(job: FineTuneJob) -> tuple[object, ...]:
    return (job.status, job.step, job.total_steps, job.epoch, job.metrics, job.fine_tuned_model)


@dataclasses.dataclass
class Waiter:
    """The state of one ``wait()``: when it must give up, how long the next pause is, what changed.

    Pauses follow ``schedule`` (or a steady ``poll_interval`` when one is given). A pause the server
    hinted with the last poll replaces the scheduled one, held within ``[MIN_HINTED_PAUSE, cap]``.
    """

    job_id: str
    timeout: float | None
    poll_interval: float | None
    policy: RetryPolicy
    clock: Callable[[], float] = time.monotonic
    last: FineTuneJob | None = None
    schedule: PollSchedule = DEFAULT_SCHEDULE
    _deadline: float | None = dataclasses.field(init=False, default=None)
    _pause: float = dataclasses.field(init=False, default=FIRST_POLL)
    _failures: int = dataclasses.field(init=False, default=0)
    _retry_after: float | None = dataclasses.field(init=False, default=None)
    _hint: float | None = dataclasses.field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.timeout is not None:
            if self.timeout < 0:
                raise ValueError(f"timeout must be >= 0 seconds, got {self.timeout!r}")
            self._deadline = self.clock() + self.timeout
        if self.poll_interval is not None:
            if self.poll_interval <= 0:
                raise ValueError(f"poll_interval must be > 0 seconds, got {self.poll_interval!r}")
            self.schedule = PollSchedule.fixed(self.poll_interval)
        self._pause = self.schedule.first

    def seen(self, job: FineTuneJob, hint: float | None = None) -> bool:
        """Take a polled job (and the pause its server hinted); return whether its status or progress
        changed since the last poll."""
        changed = self.last is None or _progress_key(self.last) != _progress_key(job)
        self.last = job
        self.recovered()
        self._hint = hint
        return changed

    def recovered(self) -> None:
        """A poll went through: back to the normal pace."""
        self._failures = 0
        self._retry_after = None
        self._hint = None

    def failed(self, exc: APIError) -> None:
        """Take a poll that raised even after the client's own retries.

        A passing problem (connection, timeout, 429, 5xx) never ends the wait; anything else does.
        """
        if not is_retryable(exc):
            raise exc
        self._failures += 1
        self._retry_after = exc.retry_after if isinstance(exc, APIStatusError) else None

    def poll_timeout(self, timeout: httpx.Timeout) -> httpx.Timeout | None:
        """The timeout for the next poll, so that one slow answer cannot carry the wait past its
        deadline; None when there is no deadline (the client's own settings apply)."""
        if self._deadline is None:
            return None
        # A floor, so that the last poll before the deadline still has a chance to answer.
        left = max(self._deadline - self.clock(), MIN_POLL_TIMEOUT)

        def cap(value: float | None) -> float:
            return left if value is None else min(value, left)

        return httpx.Timeout(
            connect=cap(timeout.connect),
            read=cap(timeout.read),
            write=cap(timeout.write),
            pool=cap(timeout.pool),
        )

    def next_pause(self) -> float:
        """Seconds to sleep before the next poll; raises :class:`WaitTimeoutError` past the deadline."""
        if self._failures:
            pause = self.policy.wait_after(self._failures, None)
            if self._retry_after is not None:
                pause = max(pause, min(self._retry_after, self.policy.max_wait))
        else:
            pause = self._pause
            self._pause = self.schedule.after(pause)
            if self._hint is not None:
                pause = min(max(self._hint, MIN_HINTED_PAUSE), self.schedule.cap)
        if self._deadline is not None:
            remaining = self._deadline - self.clock()
            if remaining <= 0:
                raise self._timed_out()
            pause = min(pause, remaining)
        return pause

    def _timed_out(self) -> WaitTimeoutError:
        status = f" (last seen: {self.last.status}" if self.last else " (not seen yet"
        if self.last is not None and self.last.progress is not None:
            status += f", {self.last.progress:.0%}"
        return WaitTimeoutError(
            f"Stopped waiting for job {self.job_id} after {self.timeout:g}s{status}). The job keeps "
            f"running on the platform; resume with client.jobs.wait({self.job_id!r}).",
            job=self.last,
            job_id=self.job_id,
            timeout=float(self.timeout or 0),
        )


@dataclasses.dataclass
class EventCursor:
    """Where a reader of a job's events is: each event is handed out once, in order.

    Events list oldest first and ``after=<id>`` pages forward, so the id of the last event handed out
    is the whole state; ids already seen are skipped too, in case a server repeats one across pages.
    """

    after: str | None = None
    _seen: set[str] = dataclasses.field(default_factory=set[str])

    @classmethod
    def starting_after(cls, event: JobEvent | str | None) -> EventCursor:
        """A cursor that hands out only the events after ``event`` (an event, its id, or None: all)."""
        if event is None:
            return cls()
        return cls(after=resource_id(event.id if isinstance(event, JobEvent) else event, "job event"))

    def take(self, page: Page[JobEvent]) -> list[JobEvent]:
        fresh = [event for event in page.data if event.id not in self._seen]
        self._seen.update(event.id for event in fresh)
        if page.data:
            self.after = page.data[-1].id
        return fresh


@dataclasses.dataclass(frozen=True)
class Step:
    """What a loop does next: sleep ``pause`` seconds, then send ``spec``."""

    spec: RequestSpec
    pause: float = 0.0


def _page_params(after: str | None, limit: int) -> dict[str, str | int]:
    params: dict[str, str | int] = {"limit": limit}
    if after is not None:
        params["after"] = after
    return params


@dataclasses.dataclass
class EventFollower:
    """Reads a job's events page by page; with ``follow`` keeps polling until the job has ended.

    The loop asks :meth:`next_step`, sends it, and feeds the payload to :meth:`received` (which returns
    the new events to hand out) or the error to :meth:`failed`. Between event reads it checks the job:
    once the job is final, one more read drains the events written with its final status.
    """

    job_id: str
    follow: bool
    pacer: Waiter
    cursor: EventCursor = dataclasses.field(default_factory=EventCursor)
    _check_job: bool = dataclasses.field(init=False, default=False)
    _draining: bool = dataclasses.field(init=False, default=False)
    _done: bool = dataclasses.field(init=False, default=False)
    _pause: float = dataclasses.field(init=False, default=0.0)

    def next_step(self) -> Step | None:
        if self._done:
            return None
        pause, self._pause = self._pause, 0.0
        if self._check_job:
            return Step(RequestSpec("GET", f"fine_tuning/jobs/{self.job_id}"), pause)
        path = f"fine_tuning/jobs/{self.job_id}/events"
        return Step(RequestSpec("GET", path, params=_page_params(self.cursor.after, PAGE_MAX)), pause)

    def received(self, payload: object) -> list[JobEvent]:
        self.pacer.recovered()
        if self._check_job:
            self._check_job = False
            self._draining = parse_model(FineTuneJob, payload).is_final
            if not self._draining:
                self._pause = self.pacer.next_pause()
            return []
        page = parse_model(Page[JobEvent], payload)
        fresh = self.cursor.take(page)
        if not page.has_more or not fresh:  # a page with nothing new is the end of what there is
            self._done = not self.follow or self._draining
            self._check_job = not self._done
        return fresh

    def failed(self, exc: APIError) -> None:
        """A read failed after the client's retries: a follower waits and tries the same read again."""
        if not self.follow:
            raise exc
        self.pacer.failed(exc)
        self._pause = self.pacer.next_pause()
