"""Decisions for waiting on a job, following its events and paging through lists, sans I/O.

``Waiter`` is fed each poll's outcome (a job, or the error the poll raised) and answers what to do next:
return, raise, or sleep for how long. The sync and async ``wait()`` are loops of three lines around it,
differing only in ``time.sleep`` versus ``anyio.sleep``. Per-request retries happen inside each poll (the
client's tenacity policy); the waiter only decides what a poll that still failed means for the wait.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable
from typing import Final

import httpx

from ._retry import RetryPolicy, is_retryable, parse_retry_after
from ._schedule import DEFAULT_SCHEDULE, MIN_HINTED_PAUSE, PollSchedule
from ._wire import Answer, RequestSpec, parse_model, path_segment, resource_id
from .errors import APIError, APIStatusError, JobCancelledError, JobFailedError, WaitTimeoutError
from .types import FineTuneJob, JobEvent, JobStatus, Page

logger: Final = logging.getLogger("finetune_sdk")

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


def is_over(job: FineTuneJob) -> bool:
    """Whether the job will not change again: a final status, or ``finished_at`` set whatever the
    status says (a status this SDK does not know yet, such as ``expired``, still ends a wait)."""
    return job.is_final or job.finished_at is not None


def finished(job: FineTuneJob) -> FineTuneJob | None:
    """The job if it succeeded, None if it is still going; raise if it failed, was cancelled, or ended
    (``finished_at`` set) with a status other than ``succeeded``."""
    if job.status is JobStatus.SUCCEEDED:
        return job
    if job.status is JobStatus.CANCELLED:
        raise JobCancelledError(f"Fine-tuning job {job.id} was cancelled.", job=job)
    if job.status is not JobStatus.FAILED and job.finished_at is None:
        return None
    code = job.error.code if job.error else None
    detail = (job.error.message if job.error else None) or "no reason given"
    ended = "failed" if job.status is JobStatus.FAILED else f"ended with status {job.status.value!r}"
    raise JobFailedError(
        f"Fine-tuning job {job.id} {ended} ({code or 'no code'}): {detail}",
        job=job,
        code=code,
        error_message=job.error.message if job.error else None,
    )


def _log_unknown(job: FineTuneJob, logged: set[str]) -> None:
    """Log a status this SDK does not know, once per status in ``logged`` (one wait or follow)."""
    status = job.status.value
    if status not in _KNOWN and status not in logged:
        logged.add(status)
        logger.warning(
            "job %s has the status %r, which this version of finetune-sdk does not know; it counts as %s",
            job.id,
            status,
            "final (finished_at is set)" if job.finished_at is not None else "still going",
        )


_KNOWN: Final = frozenset(member.value for member in JobStatus)


def check_seconds(name: str, value: float | None, *, zero: bool) -> None:
    """A duration argument: None, or a finite number > 0 (>= 0 when ``zero``), else a clear error."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise TypeError(f"{name} must be a number of seconds or None, got {type(value).__name__}: {value!r}")
    if math.isnan(value) or math.isinf(value) or value < 0 or (value == 0 and not zero):
        bound = ">= 0" if zero else "> 0"
        raise ValueError(f"{name} must be a finite number of seconds {bound}, got {value!r}")


def read_poll(answer: Answer) -> tuple[FineTuneJob, float | None]:
    """A polled job, and the pause its server hinted (``Retry-After``/``retry-after-ms`` on the answer
    for a job that has not ended), if any."""
    job = parse_model(FineTuneJob, answer.payload, response=answer.response)
    return job, None if is_over(job) else parse_retry_after(answer.response.headers)


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
    _unknown: set[str] = dataclasses.field(init=False, default_factory=set[str])

    def __post_init__(self) -> None:
        check_seconds("timeout", self.timeout, zero=True)
        check_seconds("poll_interval", self.poll_interval, zero=False)
        if self.timeout is not None:
            self._deadline = self.clock() + self.timeout
        if self.poll_interval is not None:
            self.schedule = PollSchedule.fixed(self.poll_interval)
        self._pause = self.schedule.first

    def seen(self, job: FineTuneJob, hint: float | None = None) -> bool:
        """Take a polled job (and the pause its server hinted); return whether its status or progress
        changed since the last poll."""
        changed = self.last is None or _progress_key(self.last) != _progress_key(job)
        self.last = job
        self.note_status(job)
        self.recovered()
        self._hint = hint
        return changed

    def note_status(self, job: FineTuneJob) -> None:
        """Log the job's status if this SDK does not know it (once per status for this wait)."""
        _log_unknown(job, self._unknown)

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

    def time_left(self) -> float | None:
        """Seconds until the wait's deadline (at least ``MIN_POLL_TIMEOUT``); None without one. The
        total deadline of the next poll, so that a server trickling its answer cannot hold it longer."""
        if self._deadline is None:
            return None
        return max(self._deadline - self.clock(), MIN_POLL_TIMEOUT)

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
        job_path = f"fine_tuning/jobs/{path_segment(self.job_id)}"
        if self._check_job:
            return Step(RequestSpec("GET", job_path), pause)
        path = f"{job_path}/events"
        return Step(RequestSpec("GET", path, params=_page_params(self.cursor.after, PAGE_MAX)), pause)

    def received(self, payload: object, response: httpx.Response | None = None) -> list[JobEvent]:
        self.pacer.recovered()
        if self._check_job:
            self._check_job = False
            job = parse_model(FineTuneJob, payload, response=response)
            self._draining = is_over(job)
            self.pacer.note_status(job)
            if not self._draining:
                self._pause = self.pacer.next_pause()
            return []
        page = parse_model(Page[JobEvent], payload, response=response)
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
