"""Waiting for many jobs at once: every outcome (the job, or the error its wait raised), in the order
given or as each wait ends.

The single-job wait is given as a callable ``wait(job, timeout)``, so this module knows nothing of
HTTP: the sync side runs each wait in a worker thread, the async side in an anyio task group (asyncio
or trio). One ``timeout`` covers the whole set: a wait that starts late gets only the time left.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Union

import anyio
import anyio.abc

from ._core.checks import is_whole
from ._core.durations import Deadline, check_seconds
from .types import FineTuneJob

__all__ = ["AsyncOutcomes", "JobOutcome", "Outcomes"]

JobRef = Union[FineTuneJob, str]  # noqa: UP007 - a runtime alias, valid on 3.10
WaitOne = Callable[[JobRef, Union[float, None]], FineTuneJob]  # noqa: UP007
AsyncWaitOne = Callable[[JobRef, Union[float, None]], Awaitable[FineTuneJob]]  # noqa: UP007


@dataclasses.dataclass(frozen=True)
class JobOutcome:
    """How the wait for one job of a set ended: ``job`` (the last state seen) and, unless it
    succeeded, the ``error`` its wait raised (``JobFailedError``, ``JobCancelledError``,
    ``WaitTimeoutError``, ``NotFoundError`` ...). ``index`` is its place in the list given."""

    index: int
    job_id: str
    job: FineTuneJob | None
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        """Whether the job succeeded."""
        return self.error is None

    def result(self) -> FineTuneJob:
        """The succeeded job, or raise the error its wait raised."""
        if self.error is not None:
            raise self.error
        assert self.job is not None  # an outcome without an error always holds its job
        return self.job


def _ref_id(job: JobRef) -> str:
    return job.id if isinstance(job, FineTuneJob) else str(job)


def _failure(index: int, job: JobRef, exc: Exception) -> JobOutcome:
    last = getattr(exc, "job", None)  # the job errors of a wait carry the last state seen
    return JobOutcome(index, _ref_id(job), last if isinstance(last, FineTuneJob) else None, exc)


def _check(jobs: Iterable[JobRef], timeout: float | None, max_concurrency: int) -> list[JobRef]:
    if isinstance(jobs, (str, FineTuneJob)):
        raise TypeError("jobs must be a list of jobs or job ids, not a single one")
    if timeout is not None:
        check_seconds("timeout", timeout, zero=True)
    if not is_whole(max_concurrency) or max_concurrency < 1:
        raise ValueError(f"max_concurrency must be a whole number >= 1, got {max_concurrency!r}")
    return list(jobs)


def _left(deadline: Deadline) -> float | None:
    """Seconds the set has left (never negative), None without a timeout."""
    left = deadline.left()
    return None if left is None else max(0.0, left)


class Outcomes(Iterator[JobOutcome]):
    """The outcomes of waits on many jobs, each as it comes (sync: worker threads).

    Iterate it, or use it as a context manager to stop taking new jobs when the block is left early;
    a wait already under way in a worker runs to its own end (a thread cannot be interrupted).
    """

    def __init__(
        self, wait: WaitOne, jobs: Iterable[JobRef], *, timeout: float | None, max_concurrency: int
    ) -> None:
        self._todo: Sequence[JobRef] = _check(jobs, timeout, max_concurrency)
        self._wait = wait
        self._deadline = Deadline.after(timeout, "timeout")
        self._done: queue.SimpleQueue[JobOutcome] = queue.SimpleQueue()
        self._next = 0
        self._left = len(self._todo)
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(min(max_concurrency, len(self._todo))):
            # Daemon threads: an interrupted program is not held open by waits no one reads any more.
            threading.Thread(target=self._work, name="finetune-wait", daemon=True).start()

    def _take(self) -> int | None:
        with self._lock:
            if self._closed or self._next >= len(self._todo):
                return None
            self._next += 1
            return self._next - 1

    def _work(self) -> None:
        while (index := self._take()) is not None:
            job = self._todo[index]
            try:
                done = self._wait(job, _left(self._deadline))
            except Exception as exc:  # every outcome is handed back, failures included
                self._done.put(_failure(index, job, exc))
            else:
                self._done.put(JobOutcome(index, done.id, done))

    def __next__(self) -> JobOutcome:
        if self._left == 0:
            raise StopIteration
        outcome = self._done.get()
        self._left -= 1
        return outcome

    def all(self) -> list[JobOutcome]:
        """Every outcome, in the order the jobs were given."""
        return sorted(self, key=lambda outcome: outcome.index)

    def close(self) -> None:
        """Start no more waits; the outcomes of those under way are dropped."""
        with self._lock:
            self._closed = True
            self._left = 0

    def __enter__(self) -> Outcomes:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncOutcomes:
    """The outcomes of waits on many jobs, each as it comes (async: a task group), as in::

        async with client.jobs.as_completed(jobs) as outcomes:
            async for outcome in outcomes:
                ...

    Leaving the block cancels the waits still under way (the jobs keep running on the platform).
    """

    def __init__(
        self, wait: AsyncWaitOne, jobs: Iterable[JobRef], *, timeout: float | None, max_concurrency: int
    ) -> None:
        self._todo = _check(jobs, timeout, max_concurrency)
        self._wait = wait
        self._timeout = timeout
        self._limit = max_concurrency
        self._left = len(self._todo)
        self._group: anyio.abc.TaskGroup | None = None
        self._send, self._receive = anyio.create_memory_object_stream[JobOutcome](len(self._todo))

    async def all(self) -> list[JobOutcome]:
        """Every outcome, in the order the jobs were given (enters and leaves the task group itself)."""
        async with self as outcomes:
            found = [outcome async for outcome in outcomes]
        return sorted(found, key=lambda outcome: outcome.index)

    async def __aenter__(self) -> AsyncOutcomes:
        if self._group is not None:
            raise RuntimeError("as_completed() outcomes can be entered once")
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        deadline = Deadline.after(self._timeout, "timeout")
        limiter = anyio.CapacityLimiter(self._limit)
        for index, job in enumerate(self._todo):
            self._group.start_soon(self._one, index, job, deadline, limiter)
        return self

    async def _one(self, index: int, job: JobRef, deadline: Deadline, limiter: anyio.CapacityLimiter) -> None:
        async with limiter:
            try:
                done = await self._wait(job, _left(deadline))
            except Exception as exc:  # every outcome is handed back, failures included
                outcome = _failure(index, job, exc)
            else:
                outcome = JobOutcome(index, done.id, done)
        self._send.send_nowait(outcome)  # the stream holds one slot per job: this never blocks

    def __aiter__(self) -> AsyncOutcomes:
        return self

    async def __anext__(self) -> JobOutcome:
        if self._group is None:
            raise RuntimeError("use as_completed() as `async with ... as outcomes`, then `async for`")
        if self._left == 0:
            raise StopAsyncIteration
        outcome = await self._receive.receive()
        self._left -= 1
        return outcome

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        assert self._group is not None
        self._group.cancel_scope.cancel()
        try:
            return await self._group.__aexit__(exc_type, exc, tb)
        finally:
            self._send.close()
            self._receive.close()
