"""Waiting for a job and following its events, written once: the decisions (:class:`Waiter`) and the
flows (:func:`wait_flow`, :func:`follow_flow`).

``Waiter`` is fed each poll's outcome (a job, or the error the poll raised) and answers what to do next:
return, raise, or sleep for how long. Per-request retries happen inside each poll (the client's policy);
the waiter only decides what a poll that still failed means for the wait. With ``timeout=`` each poll is
sent with its own bounds (a timeout and a total deadline no longer than the time left, no retries), so a
wait never outlasts its timeout by more than a moment, whatever the server does.

While a caller watches progress (``on_update``), the waiter looks at least every ``progress_interval``
seconds while the job runs (a server's hint cannot stretch that), and reads the job's events so that
every step the server reports reaches ``on_update``, not only the steps that happen to be current when
a poll lands.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Final, Union

import httpx

from .._models import request_id_of_model, retyped
from ..errors import (
    APIError,
    APIResponseValidationError,
    APIStatusError,
    JobCancelledError,
    JobFailedError,
    WaitTimeoutError,
)
from ..types import FineTuneJob, JobEvent, JobMetrics, JobStatus, SucceededJob
from .durations import check_seconds
from .events import EventCursor, events_spec, read_events
from .flow import Call, Emit, Flow, Sleep, send
from .options import RequestOptions, apply_options
from .retry import RetryPolicy, is_retryable, parse_retry_after
from .schedule import DEFAULT_SCHEDULE, MIN_HINTED_PAUSE, PollSchedule
from .wire import Answer, RequestSpec, parse_model

__all__ = [
    "DEFAULT_PROGRESS_INTERVAL",
    "MIN_POLL_TIMEOUT",
    "UpdateCallback",
    "Waiter",
    "finished",
    "follow_flow",
    "is_over",
    "read_poll",
    "wait_flow",
]

logger: Final = logging.getLogger("finetune_sdk")

#: The shortest timeout a poll gets when the wait's deadline is near or past (a job of ``wait_all`` whose
#: wait starts when the set's time is up still gets one look): one round trip to a distant server or on a
#: loaded machine (50 ms was too short for either: such a job read as "not seen yet"). A wait may outlast
#: its timeout by this much.
MIN_POLL_TIMEOUT: Final = 0.25
#: While a job runs and a caller watches its progress, the longest pause between two looks.
DEFAULT_PROGRESS_INTERVAL: Final = 1.0

#: Called with the job whenever its status or progress changes during ``wait`` (may be a coroutine
#: function on the async client).
UpdateCallback = Callable[[FineTuneJob], Union[Awaitable[None], None]]  # noqa: UP007

_KNOWN: Final = frozenset(member.value for member in JobStatus)


def is_over(job: FineTuneJob) -> bool:
    """Whether the job will not change again: a final status, or ``finished_at`` set whatever the
    status says (a status this SDK does not know yet, such as ``expired``, still ends a wait)."""
    return job.is_final or job.finished_at is not None


def finished(job: FineTuneJob) -> SucceededJob | None:
    """The job, typed as succeeded, if it succeeded; None if it is still going; raise if it failed, was
    cancelled, or ended (``finished_at`` set) with a status other than ``succeeded``."""
    if job.status is JobStatus.SUCCEEDED:
        if not job.fine_tuned_model:
            raise APIResponseValidationError(
                f"job {job.id} succeeded but the platform named no fine_tuned_model to chat with",
                body=job.model_dump(mode="json"),
                request_id=request_id_of_model(job),
            )
        return retyped(SucceededJob, job)
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


def read_poll(answer: Answer) -> tuple[FineTuneJob, float | None]:
    """A polled job (carrying its request id), and the pause its server hinted (``Retry-After`` /
    ``retry-after-ms`` on the answer for a job that has not ended), if any."""
    job = parse_model(FineTuneJob, answer.payload, response=answer.response)
    return job, None if is_over(job) else parse_retry_after(answer.response.headers)


def _progress_key(job: FineTuneJob) -> tuple[object, ...]:
    return (job.status, job.step, job.total_steps, job.epoch, job.metrics, job.fine_tuned_model)


@dataclasses.dataclass
class Waiter:
    """The state of one ``wait()``: when it must give up, how long the next pause is, what changed.

    Pauses follow ``schedule`` (or a steady ``poll_interval`` when one is given). A pause the server
    hinted with the last poll replaces the scheduled one, held within ``[MIN_HINTED_PAUSE, cap]``; while
    ``progress_interval`` is set and the job runs, no pause is longer than it.
    """

    job_id: str
    timeout: float | None
    poll_interval: float | None
    policy: RetryPolicy
    clock: Callable[[], float] = time.monotonic
    last: FineTuneJob | None = None
    schedule: PollSchedule = DEFAULT_SCHEDULE
    progress_interval: float | None = None
    _deadline: float | None = dataclasses.field(init=False, default=None)
    _pause: float = dataclasses.field(init=False, default=DEFAULT_SCHEDULE.first)
    _failures: int = dataclasses.field(init=False, default=0)
    _retry_after: float | None = dataclasses.field(init=False, default=None)
    _hint: float | None = dataclasses.field(init=False, default=None)
    _unknown: set[str] = dataclasses.field(init=False, default_factory=set[str])

    def __post_init__(self) -> None:
        if self.timeout is not None:
            self.timeout = check_seconds("timeout", self.timeout, zero=True)
            self._deadline = self.clock() + self.timeout
        if self.poll_interval is not None:
            self.schedule = PollSchedule.fixed(check_seconds("poll_interval", self.poll_interval))
        if self.progress_interval is not None:
            self.progress_interval = check_seconds("progress_interval", self.progress_interval)
        self._pause = self.schedule.first

    def seen(self, job: FineTuneJob, hint: float | None = None) -> bool:
        """Take a polled job (and the pause its server hinted); return whether its status or progress
        changed since the last job seen."""
        changed = self.moved(job)
        self.note_status(job)
        self.recovered()
        self._hint = hint
        return changed

    def moved(self, job: FineTuneJob) -> bool:
        """Whether ``job`` differs in status or progress from the last job seen; it becomes the last."""
        changed = self.last is None or _progress_key(self.last) != _progress_key(job)
        self.last = job
        return changed

    def note_status(self, job: FineTuneJob) -> None:
        """Log the job's status if this SDK does not know it (once per status for this wait)."""
        status = job.status.value
        if status not in _KNOWN and status not in self._unknown:
            self._unknown.add(status)
            logger.warning(
                "job %s has the status %r, which this version of finetune-sdk does not know; it counts as %s",
                job.id,
                status,
                "final (finished_at is set)" if job.finished_at is not None else "still going",
            )

    def recovered(self) -> None:
        """A poll went through: back to the normal pace."""
        self._failures = 0
        self._retry_after = None
        self._hint = None

    def failed(self, exc: APIError) -> None:
        """Take a poll that raised even after the client's own retries.

        A passing problem (connection, timeout, 429, 5xx) never ends the wait; anything else does, and
        so does a server asking for a longer pause than the policy waits or than the wait has left (the
        error, carrying ``retry_after``, is raised at once: the caller decides).
        """
        if not is_retryable(exc) or self.policy.asks_too_long(exc):
            raise exc
        retry_after = exc.retry_after if isinstance(exc, APIStatusError) else None
        if (
            retry_after is not None
            and self._deadline is not None
            and retry_after > self._deadline - self.clock()
        ):
            raise exc
        self._failures += 1
        self._retry_after = retry_after

    def poll_spec(self, spec: RequestSpec, timeout: httpx.Timeout) -> RequestSpec:
        """``spec`` as one poll of this wait: with a deadline, its timeouts and its total deadline are
        capped to the time left and it is not retried (the waiter backs off and polls again)."""
        if self._deadline is None:
            return spec
        # A floor, so that the last poll before the deadline still has a chance to answer.
        left = max(self._deadline - self.clock(), MIN_POLL_TIMEOUT)

        def cap(value: float | None) -> float:
            return left if value is None else min(value, left)

        capped = httpx.Timeout(
            connect=cap(timeout.connect),
            read=cap(timeout.read),
            write=cap(timeout.write),
            pool=cap(timeout.pool),
        )
        return dataclasses.replace(spec, timeout=capped, deadline=left, max_retries=0)

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
            if self.progress_interval is not None and self.last is not None and not is_over(self.last):
                pause = min(pause, self.progress_interval)
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


def _at_step(job: FineTuneJob, event: JobEvent) -> FineTuneJob | None:
    """``job`` as it stood at a step event (running, at its step, epoch and metrics), or None for
    another event."""
    data = event.data
    step = data.step if data is not None else None
    if data is None or step is None:
        return None
    metrics = JobMetrics(
        step=int(step),
        epoch=data.epoch,
        train_loss=data.train_loss,
        valid_loss=data.valid_loss,
        train_mean_token_accuracy=data.train_mean_token_accuracy,
        valid_mean_token_accuracy=data.valid_mean_token_accuracy,
        learning_rate=data.learning_rate,
    )
    update = {"status": JobStatus.RUNNING, "step": int(step), "epoch": data.epoch, "metrics": metrics}
    return job.model_copy(update=update)


@dataclasses.dataclass
class _Progress:
    """The steps a wait has read from the job's events and not reported yet (events read after a poll
    may run ahead of it; those wait for a poll that has caught up, so progress never goes back)."""

    cursor: EventCursor = dataclasses.field(default_factory=EventCursor)
    ahead: list[FineTuneJob] = dataclasses.field(default_factory=list[FineTuneJob])

    def due(self, job: FineTuneJob, read: list[FineTuneJob]) -> list[FineTuneJob]:
        """The steps to report before ``job`` (all of them once it has ended); the rest wait."""
        steps, self.ahead = self.ahead + read, []
        if is_over(job):
            return steps
        last = job.step if job.step is not None else -1
        due = [s for s in steps if s.step is not None and s.step <= last]
        self.ahead = [s for s in steps if s.step is None or s.step > last]
        return due


def _steps_since(
    job: FineTuneJob, cursor: EventCursor, waiter: Waiter, timeout: httpx.Timeout
) -> Flow[list[FineTuneJob]]:
    """The job at each step reported in its events since ``cursor`` (read to the end of the log)."""
    snapshots: list[FineTuneJob] = []
    while True:
        answer = yield from send(waiter.poll_spec(events_spec(job.id, cursor.after), timeout))
        fresh, more = read_events(answer, cursor)
        snapshots.extend(s for s in (_at_step(job, event) for event in fresh) if s is not None)
        if not more or not fresh:
            return snapshots


def _look(
    waiter: Waiter, spec: RequestSpec, timeout: httpx.Timeout, progress: _Progress | None
) -> Flow[tuple[FineTuneJob, float | None, list[FineTuneJob]]]:
    """One look at the job: the job, the pause its server hinted, and (when progress is watched) the job
    at each step its events reported up to the job's own step, oldest first."""
    job, hint = read_poll((yield from send(waiter.poll_spec(spec, timeout))))
    if progress is None:
        return job, hint, []
    read = yield from _steps_since(job, progress.cursor, waiter, timeout)
    return job, hint, progress.due(job, read)


def wait_flow(
    waiter: Waiter, spec: RequestSpec, timeout: httpx.Timeout, on_update: UpdateCallback | None
) -> Flow[SucceededJob]:
    """Poll ``spec`` (the job's ``GET``) until the job ends; return it when it succeeded. ``timeout`` is
    the client's, which a wait with a deadline caps for each poll."""
    progress = _Progress() if on_update is not None and waiter.progress_interval is not None else None
    while True:
        try:
            job, hint, steps = yield from _look(waiter, spec, timeout, progress)
        except APIError as exc:
            waiter.failed(exc)
        else:
            if on_update is not None:
                for snapshot in steps:
                    if waiter.moved(snapshot):
                        yield Call(on_update, (snapshot,))
            if waiter.seen(job, hint) and on_update is not None:
                yield Call(on_update, (job,))
            done = finished(job)
            if done is not None:
                return done
        yield Sleep(waiter.next_pause())


def follow_flow(
    job_id: str, cursor: EventCursor, waiter: Waiter, job_spec: RequestSpec, options: RequestOptions
) -> Flow[None]:
    """Emit each new event of the job, in order, until the job has ended and its last events are out.

    It reads pages of events to the end of what there is, then looks at the job (``job_spec``): while
    it runs, it pauses as the ``waiter`` says (the client's poll schedule and the server's hints, no
    longer than its progress interval) and reads again; once the job is over, one more read drains the
    events written with its final status. Passing errors (connection, 429, 5xx) do not end a follow: it
    waits and reads again from its cursor. ``options`` (the call's) apply to every request.
    """
    draining = False
    while True:
        try:
            answer = yield from send(apply_options(events_spec(job_id, cursor.after), options))
            fresh, more = read_events(answer, cursor)
            if fresh:
                yield Emit(fresh)
            if more and fresh:
                continue
            if draining:
                return
            job, hint = read_poll((yield from send(job_spec)))
        except APIError as exc:
            waiter.failed(exc)
        else:
            waiter.seen(job, hint)
            if is_over(job):
                draining = True
                continue
        yield Sleep(waiter.next_pause())
