"""``client.jobs``: create fine-tuning jobs, look at them, cancel them, read their events, wait for them.

Every method that takes a job takes a :class:`~finetune_sdk.FineTuneJob` or its id. The decisions of
``wait`` and ``events(follow=True)`` (how long to pause, when to stop, what a failed poll means) live in
``_polling`` (set up for a client by ``_job_waits``); the loops here only do the I/O.
"""

# pyright: reportPrivateUsage=false
# pyright: reportUnnecessaryIsInstance=false, reportUnnecessaryComparison=false
from __future__ import annotations

import contextlib
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Literal, overload

import anyio
import anyio.to_thread
from typing_extensions import Unpack

from .._many import DEFAULT_CONCURRENCY, AsyncOutcomes, JobOutcome, Outcomes, async_wait_all, wait_all
from .._options import PostOptions, RequestOptions, apply_options
from .._polling import EventCursor, EventFollower, finished
from .._resource import AsyncAPIResource, SyncAPIResource
from .._response import async_raw_method, raw_method
from .._wire import RequestSpec
from ..errors import APIError
from ..pagination import AsyncPaginator, PageQuery, SyncCursorPage
from ..types import FineTuneJob, JobEvent, SucceededJob
from ._job_params import (
    AsyncUpdateCallback,
    EventRef,
    HyperparametersInput,
    JobCreateParams,
    JobRef,
    TrainingInput,
    UpdateCallback,
    _job_path,
    _plan_from,
)
from ._job_waits import _follower, _polled, _poller, _succeeded, _waiter
from .files import AsyncFiles, Files, check_upload

__all__ = [
    "AsyncJobs",
    "AsyncUpdateCallback",
    "EventRef",
    "HyperparametersInput",
    "JobCreateParams",
    "JobOutcomes",
    "JobRef",
    "Jobs",
    "TrainingInput",
    "UpdateCallback",
]


#: One outcome per job, in the order given.
JobOutcomes = list[JobOutcome]


def _retrieve_spec(job: JobRef) -> RequestSpec:
    return RequestSpec("GET", _job_path(job))


def _cancel_spec(job: JobRef) -> RequestSpec:
    return RequestSpec("POST", f"{_job_path(job)}/cancel")


def _list_query(limit: int | None, options: RequestOptions) -> PageQuery[FineTuneJob]:
    return PageQuery("fine_tuning/jobs", FineTuneJob, limit, options=options)


def _events_query(job: JobRef, limit: int | None, options: RequestOptions) -> PageQuery[JobEvent]:
    # A server may repeat an event across pages (one that ignores ``after``): each is handed out once.
    return PageQuery(f"{_job_path(job)}/events", JobEvent, limit, options=options, dedupe=True)


class Jobs(SyncAPIResource):
    """Fine-tuning jobs: ``client.jobs``."""

    def create(self, **params: Unpack[JobCreateParams]) -> FineTuneJob:
        """Create (and start) a fine-tuning job.

        Takes ``model`` and ``training_file`` (required), ``validation_file``, ``validation_split``,
        ``hyperparameters``, ``suffix``, ``seed``, ``metadata`` and the request options
        (:class:`JobCreateParams`), all as keywords.
        ``training_file`` and ``validation_file`` take a file id, a path to a ``.jsonl`` file or a
        :class:`~finetune_sdk.Dataset`; paths and datasets are validated and uploaded first (a string is
        a path when it ends in ``.jsonl``, holds a path separator or names an existing file).
        ``validation_split`` (``0 < x <= 0.5``) holds out a share of the training data instead of a
        validation file (the platform's default is 10%). ``hyperparameters`` is a
        :class:`~finetune_sdk.Hyperparameters`, a preset name (``"standard"``, ``"quality"``,
        ``"fast"``), a mapping, or None for the guide's ``standard`` values. Bad arguments raise
        ``ValueError`` before anything is uploaded. With the same ``idempotency_key``, a repeated call
        returns the job made the first time and uploads nothing again.
        """
        plan, options = _plan_from(params)
        files = Files(self._client)
        for _, source, _ in plan.uploads:
            check_upload(source)  # every file checked before any is sent
        uploaded: dict[str, str] = {}
        try:
            for field, source, key in plan.uploads:
                uploaded[field] = files.upload(source, validate=False, idempotency_key=key).id
            return self._client.request(apply_options(plan.spec(uploaded), options, post=True), FineTuneJob)
        except BaseException as exc:
            plan.explain(exc)
            for file_id in plan.orphans(uploaded, exc):
                with contextlib.suppress(APIError):
                    files.delete(file_id)
            raise

    def retrieve(self, job: JobRef, **options: Unpack[RequestOptions]) -> FineTuneJob:
        """The job's current state."""
        return self._client.request(apply_options(_retrieve_spec(job), options), FineTuneJob)

    def cancel(self, job: JobRef, **options: Unpack[PostOptions]) -> FineTuneJob:
        """Cancel a job that has not finished; a finished one answers :class:`~finetune_sdk.ConflictError`."""
        return self._client.request(apply_options(_cancel_spec(job), options, post=True), FineTuneJob)

    def list(
        self, *, limit: int | None = None, after: str | None = None, **options: Unpack[RequestOptions]
    ) -> SyncCursorPage[FineTuneJob]:
        """The account's jobs, newest first: a page of ``limit`` (at most 100) after the job id
        ``after``. Iterating it walks every job from there, fetching pages as the loop goes."""
        return self._client.get_page(_list_query(limit, options), after=after)

    @overload
    def events(
        self,
        job: JobRef,
        *,
        follow: Literal[False] = False,
        limit: int | None = None,
        after: EventRef | None = None,
        **options: Unpack[RequestOptions],
    ) -> SyncCursorPage[JobEvent]: ...
    @overload
    def events(
        self,
        job: JobRef,
        *,
        follow: Literal[True],
        poll_interval: float | None = None,
        after: EventRef | None = None,
        **options: Unpack[RequestOptions],
    ) -> Iterator[JobEvent]: ...
    @overload
    def events(
        self,
        job: JobRef,
        *,
        follow: bool,
        poll_interval: float | None = None,
        limit: int | None = None,
        after: EventRef | None = None,
        **options: Unpack[RequestOptions],
    ) -> SyncCursorPage[JobEvent] | Iterator[JobEvent]: ...
    def events(
        self,
        job: JobRef,
        *,
        follow: bool = False,
        poll_interval: float | None = None,
        limit: int | None = None,
        after: EventRef | None = None,
        **options: Unpack[RequestOptions],
    ) -> SyncCursorPage[JobEvent] | Iterator[JobEvent]:
        """The job's events, oldest first: a page (``limit`` per page; with ``after``, an event or its
        id, only the events after it) whose iteration walks every event.

        With ``follow=True`` it is a live iterator instead: it keeps polling (every ``poll_interval``
        seconds, default 1) and yields each new event once, in order, until the job has ended and its
        last events are out. Passing errors (connection, 429, 5xx) do not stop a follow: polling goes on
        from the last event seen. A relay resumes where its reader left off by passing the
        ``Last-Event-ID`` it got as ``after``; an id the job does not have is refused (the emulator
        answers 400: :class:`~finetune_sdk.BadRequestError`).
        """
        cursor = EventCursor.starting_after(after)  # a bad id is refused here, before any request
        if not follow:
            return self._client.get_page(_events_query(job, limit, options), after=cursor.after)
        return self._follow(_follower(job, cursor, poll_interval, self._client), options)

    def _follow(self, follower: EventFollower, options: RequestOptions) -> Iterator[JobEvent]:
        while (step := follower.next_step()) is not None:
            if step.pause:
                time.sleep(step.pause)
            try:
                answer = self._client._send(apply_options(step.spec, options))
            except APIError as exc:
                follower.failed(exc)
            else:
                yield from follower.received(answer.payload, answer.response)

    def wait(
        self,
        job: JobRef,
        *,
        timeout: float | None = None,
        poll_interval: float | None = None,
        on_update: UpdateCallback | None = None,
    ) -> SucceededJob:
        """Poll until the job ends; return it when it succeeded (its ``fine_tuned_model`` is a ``str``).

        Raises :class:`~finetune_sdk.JobFailedError` (with the platform's code and message) when it
        failed, :class:`~finetune_sdk.JobCancelledError` when it was cancelled and
        :class:`~finetune_sdk.WaitTimeoutError` when ``timeout`` seconds pass (the job keeps running).
        It looks at once, then on the client's schedule (by default 0.1 s, doubling up to 15 s; see
        ``Client(poll_interval=...)``), or every ``poll_interval`` seconds; a pause the platform hints
        (``Retry-After`` on a job still going) is honoured up to the schedule's cap. A passing error
        never ends the wait. ``on_update(job)`` is called whenever status or progress changes.
        """
        waiter = _waiter(job, timeout, poll_interval, self._client)
        while True:
            try:
                current, hint = _polled(_poller(self._client, waiter)._send(_retrieve_spec(waiter.job_id)))
            except APIError as exc:
                waiter.failed(exc)
            else:
                if waiter.seen(current, hint) and on_update is not None:
                    on_update(current)
                if finished(current) is not None:
                    return _succeeded(current)
            time.sleep(waiter.next_pause())

    def wait_all(
        self,
        jobs: Iterable[JobRef],
        *,
        timeout: float | None = None,
        poll_interval: float | None = None,
        max_concurrency: int = DEFAULT_CONCURRENCY,
    ) -> JobOutcomes:
        """Wait for every job of ``jobs``; return one :class:`~finetune_sdk.JobOutcome` per job, in the
        same order: the job, or the error its wait raised (a failure never hides the others).

        ``timeout`` covers the whole set; up to ``max_concurrency`` jobs are waited on at once, each
        in a worker thread sharing this client.
        """
        return wait_all(self._wait_one(poll_interval), jobs, timeout=timeout, max_concurrency=max_concurrency)

    def as_completed(
        self,
        jobs: Iterable[JobRef],
        *,
        timeout: float | None = None,
        poll_interval: float | None = None,
        max_concurrency: int = DEFAULT_CONCURRENCY,
    ) -> Outcomes:
        """The outcomes of :meth:`wait_all`, each as soon as its job ends: ``for outcome in
        client.jobs.as_completed(jobs)``. Leaving a ``with`` block around it early starts no more waits.
        """
        return Outcomes(self._wait_one(poll_interval), jobs, timeout=timeout, max_concurrency=max_concurrency)

    def _wait_one(self, poll_interval: float | None) -> Callable[[JobRef, float | None], FineTuneJob]:
        return lambda job, left: self.wait(job, timeout=left, poll_interval=poll_interval)

    @property
    def with_raw_response(self) -> JobsWithRawResponse:
        """The same methods, returning an :class:`~finetune_sdk.APIResponse` (status, headers ...)."""
        return JobsWithRawResponse(self)


class AsyncJobs(AsyncAPIResource):
    """Fine-tuning jobs: ``async_client.jobs``. The same methods as :class:`Jobs`, awaited; ``list``
    and ``events`` return an :class:`~finetune_sdk.pagination.AsyncPaginator` (``await`` it for the
    first page, ``async for`` for every item). ``wait`` is cancellable with anyio cancel scopes."""

    async def create(self, **params: Unpack[JobCreateParams]) -> FineTuneJob:
        """Create (and start) a fine-tuning job; see :meth:`Jobs.create`."""
        plan, options = _plan_from(params)
        files = AsyncFiles(self._client)
        for _, source, _ in plan.uploads:
            await anyio.to_thread.run_sync(check_upload, source)
        uploaded: dict[str, str] = {}
        try:
            for field, source, key in plan.uploads:
                uploaded[field] = (await files.upload(source, validate=False, idempotency_key=key)).id
            spec = apply_options(plan.spec(uploaded), options, post=True)
            return await self._client.request(spec, FineTuneJob)
        except BaseException as exc:
            plan.explain(exc)
            with anyio.CancelScope(shield=True):
                for file_id in plan.orphans(uploaded, exc):
                    with contextlib.suppress(APIError):
                        await files.delete(file_id)
            raise

    async def retrieve(self, job: JobRef, **options: Unpack[RequestOptions]) -> FineTuneJob:
        """The job's current state."""
        return await self._client.request(apply_options(_retrieve_spec(job), options), FineTuneJob)

    async def cancel(self, job: JobRef, **options: Unpack[PostOptions]) -> FineTuneJob:
        """Cancel a job that has not finished; a finished one answers :class:`~finetune_sdk.ConflictError`."""
        return await self._client.request(apply_options(_cancel_spec(job), options, post=True), FineTuneJob)

    def list(
        self, *, limit: int | None = None, after: str | None = None, **options: Unpack[RequestOptions]
    ) -> AsyncPaginator[FineTuneJob]:
        """The account's jobs, newest first; see :meth:`Jobs.list`."""
        query = _list_query(limit, options)
        return AsyncPaginator(lambda: self._client.get_page(query, after=after))

    @overload
    def events(
        self,
        job: JobRef,
        *,
        follow: Literal[False] = False,
        limit: int | None = None,
        after: EventRef | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[JobEvent]: ...
    @overload
    def events(
        self,
        job: JobRef,
        *,
        follow: Literal[True],
        poll_interval: float | None = None,
        after: EventRef | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncIterator[JobEvent]: ...
    @overload
    def events(
        self,
        job: JobRef,
        *,
        follow: bool,
        poll_interval: float | None = None,
        limit: int | None = None,
        after: EventRef | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[JobEvent] | AsyncIterator[JobEvent]: ...
    def events(
        self,
        job: JobRef,
        *,
        follow: bool = False,
        poll_interval: float | None = None,
        limit: int | None = None,
        after: EventRef | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[JobEvent] | AsyncIterator[JobEvent]:
        """The job's events, oldest first (after ``after``, if given); ``follow=True`` follows until the
        job ends (see :meth:`Jobs.events`)."""
        cursor = EventCursor.starting_after(after)
        if not follow:
            query = _events_query(job, limit, options)
            return AsyncPaginator(lambda: self._client.get_page(query, after=cursor.after))
        return self._follow(_follower(job, cursor, poll_interval, self._client), options)

    async def _follow(self, follower: EventFollower, options: RequestOptions) -> AsyncIterator[JobEvent]:
        while (step := follower.next_step()) is not None:
            if step.pause:
                await anyio.sleep(step.pause)
            try:
                answer = await self._client._send(apply_options(step.spec, options))
            except APIError as exc:
                follower.failed(exc)
            else:
                for event in follower.received(answer.payload, answer.response):
                    yield event

    async def wait(
        self,
        job: JobRef,
        *,
        timeout: float | None = None,
        poll_interval: float | None = None,
        on_update: AsyncUpdateCallback | None = None,
    ) -> SucceededJob:
        """Poll until the job ends; return it when it succeeded. See :meth:`Jobs.wait`; ``on_update``
        may be a plain function or a coroutine function."""
        waiter = _waiter(job, timeout, poll_interval, self._client)
        while True:
            try:
                poller = _poller(self._client, waiter)
                current, hint = _polled(await poller._send(_retrieve_spec(waiter.job_id)))
            except APIError as exc:
                waiter.failed(exc)
            else:
                if waiter.seen(current, hint) and on_update is not None:
                    result = on_update(current)
                    if inspect.isawaitable(result):
                        await result
                if finished(current) is not None:
                    return _succeeded(current)
            await anyio.sleep(waiter.next_pause())

    async def wait_all(
        self,
        jobs: Iterable[JobRef],
        *,
        timeout: float | None = None,
        poll_interval: float | None = None,
        max_concurrency: int = DEFAULT_CONCURRENCY,
    ) -> JobOutcomes:
        """Wait for every job; one outcome per job, in order (see :meth:`Jobs.wait_all`)."""
        wait = self._wait_one(poll_interval)
        return await async_wait_all(wait, jobs, timeout=timeout, max_concurrency=max_concurrency)

    def as_completed(
        self,
        jobs: Iterable[JobRef],
        *,
        timeout: float | None = None,
        poll_interval: float | None = None,
        max_concurrency: int = DEFAULT_CONCURRENCY,
    ) -> AsyncOutcomes:
        """The outcomes, each as soon as its job ends, from a task group: ``async with
        client.jobs.as_completed(jobs) as outcomes``, then ``async for outcome in outcomes``. Leaving the
        block cancels the waits still under way (the jobs keep running)."""
        wait = self._wait_one(poll_interval)
        return AsyncOutcomes(wait, jobs, timeout=timeout, max_concurrency=max_concurrency)

    def _wait_one(
        self, poll_interval: float | None
    ) -> Callable[[JobRef, float | None], Awaitable[FineTuneJob]]:
        return lambda job, left: self.wait(job, timeout=left, poll_interval=poll_interval)

    @property
    def with_raw_response(self) -> AsyncJobsWithRawResponse:
        """The same methods, returning an :class:`~finetune_sdk.APIResponse` (status, headers ...)."""
        return AsyncJobsWithRawResponse(self)


class JobsWithRawResponse:
    """The methods of :class:`Jobs`, each returning an :class:`~finetune_sdk.APIResponse`."""

    def __init__(self, resource: Jobs) -> None:
        self._resource = resource

    @raw_method(Jobs.create)
    def create(self) -> None:
        """:meth:`Jobs.create`, with its raw response."""

    @raw_method(Jobs.retrieve)
    def retrieve(self) -> None:
        """:meth:`Jobs.retrieve`, with its raw response."""

    @raw_method(Jobs.cancel)
    def cancel(self) -> None:
        """:meth:`Jobs.cancel`, with its raw response."""

    @raw_method(Jobs.list)
    def list(self) -> None:
        """:meth:`Jobs.list`, with its raw response."""

    @raw_method(Jobs.wait)
    def wait(self) -> None:
        """:meth:`Jobs.wait`, with its raw response."""


class AsyncJobsWithRawResponse:
    """The methods of :class:`AsyncJobs`, each returning an :class:`~finetune_sdk.APIResponse`."""

    def __init__(self, resource: AsyncJobs) -> None:
        self._resource = resource

    @async_raw_method(AsyncJobs.create)
    def create(self) -> None:
        """:meth:`AsyncJobs.create`, with its raw response."""

    @async_raw_method(AsyncJobs.retrieve)
    def retrieve(self) -> None:
        """:meth:`AsyncJobs.retrieve`, with its raw response."""

    @async_raw_method(AsyncJobs.cancel)
    def cancel(self) -> None:
        """:meth:`AsyncJobs.cancel`, with its raw response."""

    @async_raw_method(AsyncJobs.list)
    def list(self) -> None:
        """:meth:`AsyncJobs.list`, with its raw response."""

    @async_raw_method(AsyncJobs.wait)
    def wait(self) -> None:
        """:meth:`AsyncJobs.wait`, with its raw response."""
