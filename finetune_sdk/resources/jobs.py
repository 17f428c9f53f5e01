"""``client.jobs``: create fine-tuning jobs, look at them, cancel them, read their events, wait for them.

Every method that takes a job takes a :class:`~finetune_sdk.FineTuneJob` or its id. The decisions of
``wait`` and ``events(follow=True)`` (how long to pause, when to stop, what a failed poll means) live in
``_polling``; the loops here only do the I/O.
"""

# pyright: reportPrivateUsage=false
# pyright: reportUnnecessaryIsInstance=false, reportUnnecessaryComparison=false
from __future__ import annotations

import contextlib
import inspect
import time
from collections.abc import AsyncIterator, Iterator
from typing import Literal, TypeVar, overload

import anyio
import anyio.to_thread
from typing_extensions import Unpack

from .._base_client import AsyncAPIClient, SyncAPIClient
from .._options import PostOptions, RequestOptions, apply_options
from .._polling import FOLLOW_POLL, EventFollower, Waiter, finished
from .._resource import AsyncAPIResource, SyncAPIResource
from .._response import async_raw_method, raw_method
from .._wire import RequestSpec
from ..errors import APIError, APIResponseValidationError
from ..pagination import AsyncPaginator, PageQuery, SyncCursorPage
from ..types import FineTuneJob, JobEvent, SucceededJob
from ._job_params import (
    AsyncUpdateCallback,
    HyperparametersInput,
    JobCreateParams,
    JobRef,
    TrainingInput,
    UpdateCallback,
    _job_id,
    _plan_from,
)
from .files import AsyncFiles, Files, check_upload

__all__ = [
    "AsyncJobs",
    "AsyncUpdateCallback",
    "HyperparametersInput",
    "JobCreateParams",
    "JobRef",
    "Jobs",
    "TrainingInput",
    "UpdateCallback",
]


def _retrieve_spec(job: JobRef) -> RequestSpec:
    return RequestSpec("GET", f"fine_tuning/jobs/{_job_id(job)}")


def _cancel_spec(job: JobRef) -> RequestSpec:
    return RequestSpec("POST", f"fine_tuning/jobs/{_job_id(job)}/cancel")


def _list_query(limit: int | None, options: RequestOptions) -> PageQuery[FineTuneJob]:
    return PageQuery("fine_tuning/jobs", FineTuneJob, limit, options=options)


def _events_query(job: JobRef, limit: int | None, options: RequestOptions) -> PageQuery[JobEvent]:
    # A server may repeat an event across pages (one that ignores ``after``): each is handed out once.
    return PageQuery(f"fine_tuning/jobs/{_job_id(job)}/events", JobEvent, limit, options=options, dedupe=True)


def _succeeded(job: FineTuneJob) -> SucceededJob:
    """The job of a successful wait, typed so that ``fine_tuned_model`` is a ``str``."""
    if not job.fine_tuned_model:
        raise APIResponseValidationError(
            f"job {job.id} succeeded but the platform named no fine_tuned_model to chat with",
            body=job.model_dump(mode="json"),
        )
    succeeded = SucceededJob.model_validate(job.model_dump(by_alias=False))
    succeeded._request_id = job._request_id
    return succeeded


ClientT = TypeVar("ClientT", SyncAPIClient, AsyncAPIClient)


def _poller(client: ClientT, waiter: Waiter) -> ClientT:
    """The client for one poll of ``wait``: with a deadline, its timeout is capped to the time left and
    it does not retry (the waiter backs off and polls again), so a wait never outlasts its timeout by
    more than a moment."""
    timeout = waiter.poll_timeout(client.timeout)
    return client if timeout is None else client.with_options(timeout=timeout, max_retries=0)


def _follower(
    job: JobRef, follow: bool, poll_interval: float | None, client: SyncAPIClient | AsyncAPIClient
) -> EventFollower:
    pacer = Waiter(_job_id(job), None, poll_interval or FOLLOW_POLL, client._policy)
    return EventFollower(pacer.job_id, follow, pacer)


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
        after: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> SyncCursorPage[JobEvent]: ...
    @overload
    def events(
        self,
        job: JobRef,
        *,
        follow: Literal[True],
        poll_interval: float | None = None,
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
        after: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> SyncCursorPage[JobEvent] | Iterator[JobEvent]: ...
    def events(
        self,
        job: JobRef,
        *,
        follow: bool = False,
        poll_interval: float | None = None,
        limit: int | None = None,
        after: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> SyncCursorPage[JobEvent] | Iterator[JobEvent]:
        """The job's events, oldest first: a page (``limit`` per page, after the event id ``after``)
        whose iteration walks every event.

        With ``follow=True`` it is a live iterator instead: it keeps polling (every ``poll_interval``
        seconds, default 1) and yields each new event once, in order, until the job has ended and its
        last events are out. Passing errors (connection, 429, 5xx) do not stop a follow: polling goes on
        from the last event seen.
        """
        if not follow:
            return self._client.get_page(_events_query(job, limit, options), after=after)
        return self._follow(_follower(job, True, poll_interval, self._client), options)

    def _follow(self, follower: EventFollower, options: RequestOptions) -> Iterator[JobEvent]:
        while (step := follower.next_step()) is not None:
            if step.pause:
                time.sleep(step.pause)
            try:
                payload = self._client._request(apply_options(step.spec, options))
            except APIError as exc:
                follower.failed(exc)
            else:
                yield from follower.received(payload)

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
        Polls start 1 s apart and grow to 15 s (or are every ``poll_interval`` seconds); a passing error
        never ends the wait. ``on_update(job)`` is called whenever status or progress changes.
        """
        waiter = Waiter(_job_id(job), timeout, poll_interval, self._client._policy)
        while True:
            try:
                poller = _poller(self._client, waiter)
                current = poller.request(_retrieve_spec(waiter.job_id), FineTuneJob)
            except APIError as exc:
                waiter.failed(exc)
            else:
                if waiter.seen(current) and on_update is not None:
                    on_update(current)
                if finished(current) is not None:
                    return _succeeded(current)
            time.sleep(waiter.next_pause())

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
        after: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[JobEvent]: ...
    @overload
    def events(
        self,
        job: JobRef,
        *,
        follow: Literal[True],
        poll_interval: float | None = None,
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
        after: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[JobEvent] | AsyncIterator[JobEvent]: ...
    def events(
        self,
        job: JobRef,
        *,
        follow: bool = False,
        poll_interval: float | None = None,
        limit: int | None = None,
        after: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[JobEvent] | AsyncIterator[JobEvent]:
        """The job's events, oldest first; ``follow=True`` follows until the job ends (``Jobs.events``)."""
        if not follow:
            query = _events_query(job, limit, options)
            return AsyncPaginator(lambda: self._client.get_page(query, after=after))
        return self._follow(_follower(job, True, poll_interval, self._client), options)

    async def _follow(self, follower: EventFollower, options: RequestOptions) -> AsyncIterator[JobEvent]:
        while (step := follower.next_step()) is not None:
            if step.pause:
                await anyio.sleep(step.pause)
            try:
                payload = await self._client._request(apply_options(step.spec, options))
            except APIError as exc:
                follower.failed(exc)
            else:
                for event in follower.received(payload):
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
        waiter = Waiter(_job_id(job), timeout, poll_interval, self._client._policy)
        while True:
            try:
                poller = _poller(self._client, waiter)
                current = await poller.request(_retrieve_spec(waiter.job_id), FineTuneJob)
            except APIError as exc:
                waiter.failed(exc)
            else:
                if waiter.seen(current) and on_update is not None:
                    result = on_update(current)
                    if inspect.isawaitable(result):
                        await result
                if finished(current) is not None:
                    return _succeeded(current)
            await anyio.sleep(waiter.next_pause())

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
