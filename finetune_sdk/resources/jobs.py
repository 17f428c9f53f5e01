"""``client.jobs``: create fine-tuning jobs, find them, look at them, cancel them, read and follow their
events, and wait for them.

Every method that takes a job takes a :class:`~finetune_sdk.FineTuneJob` or its id. The steps of
``create``, ``wait`` and ``follow`` are flows written once in ``_core`` (``create``, ``waiting``); the
methods here check their arguments, build the flow and hand it to the client.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypedDict

from typing_extensions import NotRequired, Required, Unpack

from .._base_client import AsyncAPIClient, SyncAPIClient
from .._core.checks import is_finite_number, is_str, is_str_mapping
from .._core.config import DEFAULT_WAIT_CONCURRENCY
from .._core.create import (
    AsyncUpdateCallback,
    EventRef,
    HyperparametersInput,
    JobRef,
    TrainingInput,
    UpdateCallback,
    create_flow,
    job_id_of,
    plan_create,
)
from .._core.events import EventCursor, job_path
from .._core.options import PostOptions, RequestOptions, apply_options
from .._core.pages import PageQuery
from .._core.waiting import DEFAULT_PROGRESS_INTERVAL, Waiter, follow_flow, wait_flow
from .._core.wire import RequestSpec
from .._many import AsyncOutcomes, JobOutcome, Outcomes
from .._resource import AsyncAPIResource, SyncAPIResource
from .._response import RawResponseView, async_raw_method, raw_method
from ..pagination import AsyncPaginator, SyncCursorPage
from ..types import BaseModelName, FineTuneJob, JobEvent, JobStatus, SucceededJob

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
Timestamp = int | float | datetime.datetime


class JobCreateParams(PostOptions, total=False):
    """The keyword arguments of ``jobs.create`` as a dict, for callers who build one:
    ``client.jobs.create(**params)``."""

    model: Required[BaseModelName | str]
    training_file: Required[TrainingInput]
    validation_file: NotRequired[TrainingInput | None]
    validation_split: NotRequired[float | None]
    hyperparameters: NotRequired[HyperparametersInput]
    method: NotRequired[Mapping[str, Any] | None]
    integrations: NotRequired[Sequence[Mapping[str, Any]] | None]
    suffix: NotRequired[str | None]
    seed: NotRequired[int | None]
    metadata: NotRequired[Mapping[str, str] | None]


class _ListFilters(TypedDict, total=False):
    status: JobStatus | str | None
    model: str | None
    suffix: str | None
    metadata: Mapping[str, str] | None
    created_after: Timestamp | None
    created_before: Timestamp | None


def _seconds(value: object, name: str) -> int | None:
    """A creation-time filter as Unix seconds: a number, or an aware datetime."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise ValueError(f"{name} must be an aware datetime (with tzinfo), got a naive one: {value!r}")
        return int(value.timestamp())
    if not is_finite_number(value):
        raise TypeError(f"{name} must be Unix seconds or a datetime, got {value!r}")
    return int(value)


def _list_query(limit: int | None, filters: _ListFilters, options: RequestOptions) -> PageQuery[FineTuneJob]:
    """The listing's query: each filter sent as a query parameter, and applied to what comes back as
    well (a server may not implement them)."""
    status = filters.get("status")
    model, suffix, metadata = filters.get("model"), filters.get("suffix"), filters.get("metadata") or {}
    after = _seconds(filters.get("created_after"), "created_after")
    before = _seconds(filters.get("created_before"), "created_before")
    params: dict[str, object] = {
        "status": str(status) if status is not None else None,
        "model": model,
        "suffix": suffix,
        "created_after": after,
        "created_before": before,
    }
    if not is_str_mapping(metadata) or not all(is_str(value) for value in metadata.values()):
        raise TypeError(f"metadata filters map strings to strings, got {metadata!r}")
    for key, value in metadata.items():
        params[f"metadata[{key}]"] = value

    def keep(job: FineTuneJob) -> bool:
        return (
            (status is None or job.status.value == str(status))
            and (model is None or job.model == model)
            and (suffix is None or job.suffix == suffix)
            and (after is None or job.created_at >= after)
            and (before is None or job.created_at <= before)
            and all((job.metadata or {}).get(k) == v for k, v in metadata.items())
        )

    filtering = any(v is not None for v in params.values())
    return PageQuery(
        "fine_tuning/jobs", FineTuneJob, limit, params, options, keep=keep if filtering else None
    )


def _events_query(job: JobRef, limit: int | None, options: RequestOptions) -> PageQuery[JobEvent]:
    # A server may repeat an event across pages (one that ignores ``after``): each is handed out once.
    return PageQuery(f"{job_path(job_id_of(job))}/events", JobEvent, limit, options=options, dedupe=True)


def _event_cursor(after: EventRef | None) -> EventCursor:
    return EventCursor(after.id if isinstance(after, JobEvent) else after)


def _waiter(
    job: JobRef,
    timeout: float | None,
    poll_interval: float | None,
    progress: float | None,
    client: SyncAPIClient | AsyncAPIClient,
) -> Waiter:
    return Waiter(
        job_id_of(job),
        timeout,
        poll_interval,
        client.policy,
        schedule=client.config.poll,
        progress_interval=progress,
    )


def _job_spec(job: JobRef, options: RequestOptions | None = None) -> RequestSpec:
    return apply_options(RequestSpec("GET", job_path(job_id_of(job))), options or {})


def _cancel_spec(job: JobRef, options: PostOptions) -> RequestSpec:
    return apply_options(RequestSpec("POST", f"{job_path(job_id_of(job))}/cancel"), options, post=True)


class Jobs(SyncAPIResource):
    """Fine-tuning jobs: ``client.jobs``."""

    def create(
        self,
        *,
        model: BaseModelName | str,
        training_file: TrainingInput,
        validation_file: TrainingInput | None = None,
        validation_split: float | None = None,
        hyperparameters: HyperparametersInput = None,
        method: Mapping[str, Any] | None = None,
        integrations: Sequence[Mapping[str, Any]] | None = None,
        suffix: str | None = None,
        seed: int | None = None,
        metadata: Mapping[str, str] | None = None,
        **options: Unpack[PostOptions],
    ) -> FineTuneJob:
        """Create (and start) a fine-tuning job.

        ``training_file`` and ``validation_file`` take a file id, a path to a ``.jsonl`` file or a
        :class:`~finetune_sdk.Dataset`; paths and datasets are validated and uploaded first (a string is
        a path when it ends in ``.jsonl``, holds a path separator or names an existing file).
        ``validation_split`` (``0 < x <= 0.5``) holds out a share of the training data on the server
        instead of a validation file. ``hyperparameters`` is a :class:`~finetune_sdk.Hyperparameters`, a
        preset name (``"standard"``, ``"quality"``, ``"fast"``), a mapping, or None for the guide's
        ``standard`` values; ``method`` and ``integrations`` are OpenAI's, passed on as given (see
        ``docs/jobs.md`` for which rules apply when). Bad arguments raise ``ValueError`` before anything
        is uploaded. With the same ``idempotency_key``, a repeated call returns the job made the first
        time and uploads nothing again.
        """
        plan = plan_create(
            model=model,
            training_file=training_file,
            validation_file=validation_file,
            validation_split=validation_split,
            hyperparameters=hyperparameters,
            method=method,
            integrations=integrations,
            suffix=suffix,
            seed=seed,
            metadata=metadata,
            idempotency_key=options.get("idempotency_key"),
        )
        return self._client.run(create_flow(plan, options))

    def retrieve(self, job: JobRef, **options: Unpack[RequestOptions]) -> FineTuneJob:
        """The job's current state."""
        return self._client.request(_job_spec(job, options), FineTuneJob)

    def cancel(self, job: JobRef, **options: Unpack[PostOptions]) -> FineTuneJob:
        """Cancel a job that has not finished; a finished one answers :class:`~finetune_sdk.ConflictError`."""
        return self._client.request(_cancel_spec(job, options), FineTuneJob)

    def list(
        self,
        *,
        limit: int | None = None,
        after: str | None = None,
        status: JobStatus | str | None = None,
        model: str | None = None,
        suffix: str | None = None,
        metadata: Mapping[str, str] | None = None,
        created_after: Timestamp | None = None,
        created_before: Timestamp | None = None,
        **options: Unpack[RequestOptions],
    ) -> SyncCursorPage[FineTuneJob]:
        """The account's jobs, newest first: a page of ``limit`` (at most 100) after the job id
        ``after``. Iterating it walks every job from there, fetching pages as the loop goes.

        Only jobs with the given ``status``, ``model``, ``suffix``, ``metadata`` (every pair) and creation
        time (Unix seconds or an aware datetime, inclusive) are listed: the filters go to the server as
        query parameters and are applied to what it answers as well, for servers that ignore them.
        """
        filters = _ListFilters(
            status=status,
            model=model,
            suffix=suffix,
            metadata=metadata,
            created_after=created_after,
            created_before=created_before,
        )
        return self._client.get_page(_list_query(limit, filters, options), after=after)

    def events(
        self,
        job: JobRef,
        *,
        limit: int | None = None,
        after: EventRef | None = None,
        **options: Unpack[RequestOptions],
    ) -> SyncCursorPage[JobEvent]:
        """The job's events, oldest first: a page (``limit`` per page; with ``after``, an event or its
        id, only the events after it) whose iteration walks every event there is now. To keep reading as
        the job goes on, use :meth:`follow`."""
        return self._client.get_page(_events_query(job, limit, options), after=_event_cursor(after).after)

    def follow(
        self,
        job: JobRef,
        *,
        after: EventRef | None = None,
        poll_interval: float | None = None,
        **options: Unpack[RequestOptions],
    ) -> Iterator[JobEvent]:
        """Every event of the job from ``after`` on (an event, its id, or None for all), each once and in
        order, as they come, until the job has ended and its last events are out.

        It polls on the client's schedule, no slower than every second while the job runs (or every
        ``poll_interval`` seconds), honouring the server's hints. Passing errors (connection, 429, 5xx) do
        not stop it: it goes on from the last event seen. A relay resumes where its reader left off by
        passing the ``Last-Event-ID`` it got as ``after``; an id the job does not have is refused (the
        emulator answers 400: :class:`~finetune_sdk.BadRequestError`).
        """
        flow = follow_flow(
            job_id_of(job),
            _event_cursor(after),
            _waiter(job, None, poll_interval, poll_interval or DEFAULT_PROGRESS_INTERVAL, self._client),
            _job_spec(job, options),
            options,
        )
        return self._client.iterate(flow)

    def wait(
        self,
        job: JobRef,
        *,
        timeout: float | None = None,
        poll_interval: float | None = None,
        on_update: UpdateCallback | None = None,
        progress_interval: float | None = DEFAULT_PROGRESS_INTERVAL,
    ) -> SucceededJob:
        """Poll until the job ends; return it when it succeeded (its ``fine_tuned_model`` is a ``str``).

        Raises :class:`~finetune_sdk.JobFailedError` (with the platform's code and message) when it
        failed, :class:`~finetune_sdk.JobCancelledError` when it was cancelled and
        :class:`~finetune_sdk.WaitTimeoutError` when ``timeout`` seconds pass (the job keeps running).
        It looks at once, then on the client's schedule (by default 0.1 s, doubling up to 15 s; see
        ``Client(poll_interval=...)``), or every ``poll_interval`` seconds; a pause the platform hints
        (``Retry-After`` on a job still going) is honoured up to the schedule's cap. A passing error
        never ends the wait; a server asking to wait longer than the client waits (``max_retry_wait``), or
        than the wait has left, ends it with that error, carrying ``retry_after``.

        ``on_update(job)`` is called whenever the status or the progress changes, and for every training
        step the server reports (read from the job's events): while the job runs it looks at least every
        ``progress_interval`` seconds (None: only as the schedule says).
        """
        waiter = _waiter(job, timeout, poll_interval, progress_interval, self._client)
        flow = wait_flow(waiter, _job_spec(job), self._client.timeout, on_update)
        return self._client.run(flow)

    def wait_all(
        self,
        jobs: Iterable[JobRef],
        *,
        timeout: float | None = None,
        poll_interval: float | None = None,
        max_concurrency: int = DEFAULT_WAIT_CONCURRENCY,
    ) -> JobOutcomes:
        """Wait for every job of ``jobs``; return one :class:`~finetune_sdk.JobOutcome` per job, in the
        same order: the job, or the error its wait raised (a failure never hides the others).

        ``timeout`` covers the whole set; up to ``max_concurrency`` jobs are waited on at once, each
        in a worker thread sharing this client.
        """
        return self.as_completed(
            jobs, timeout=timeout, poll_interval=poll_interval, max_concurrency=max_concurrency
        ).all()

    def as_completed(
        self,
        jobs: Iterable[JobRef],
        *,
        timeout: float | None = None,
        poll_interval: float | None = None,
        max_concurrency: int = DEFAULT_WAIT_CONCURRENCY,
    ) -> Outcomes:
        """The outcomes of :meth:`wait_all`, each as soon as its job ends: ``for outcome in
        client.jobs.as_completed(jobs)``. Leaving a ``with`` block around it early starts no more waits.
        """

        def wait(job: JobRef, left: float | None) -> FineTuneJob:
            return self.wait(job, timeout=left, poll_interval=poll_interval)

        return Outcomes(wait, jobs, timeout=timeout, max_concurrency=max_concurrency)

    @property
    def with_raw_response(self) -> JobsWithRawResponse:
        """The same methods, returning an :class:`~finetune_sdk.APIResponse` (status, headers ...)."""
        return JobsWithRawResponse(self)


class AsyncJobs(AsyncAPIResource):
    """Fine-tuning jobs: ``async_client.jobs``. The same methods as :class:`Jobs`, awaited; ``list``
    and ``events`` return an :class:`~finetune_sdk.AsyncPaginator` (``await`` it for the first page,
    ``async for`` for every item), ``follow`` an async iterator. ``wait`` is cancellable with anyio
    cancel scopes."""

    async def create(
        self,
        *,
        model: BaseModelName | str,
        training_file: TrainingInput,
        validation_file: TrainingInput | None = None,
        validation_split: float | None = None,
        hyperparameters: HyperparametersInput = None,
        method: Mapping[str, Any] | None = None,
        integrations: Sequence[Mapping[str, Any]] | None = None,
        suffix: str | None = None,
        seed: int | None = None,
        metadata: Mapping[str, str] | None = None,
        **options: Unpack[PostOptions],
    ) -> FineTuneJob:
        """Create (and start) a fine-tuning job; see :meth:`Jobs.create`."""
        plan = plan_create(
            model=model,
            training_file=training_file,
            validation_file=validation_file,
            validation_split=validation_split,
            hyperparameters=hyperparameters,
            method=method,
            integrations=integrations,
            suffix=suffix,
            seed=seed,
            metadata=metadata,
            idempotency_key=options.get("idempotency_key"),
        )
        return await self._client.run(create_flow(plan, options))

    async def retrieve(self, job: JobRef, **options: Unpack[RequestOptions]) -> FineTuneJob:
        """The job's current state."""
        return await self._client.request(_job_spec(job, options), FineTuneJob)

    async def cancel(self, job: JobRef, **options: Unpack[PostOptions]) -> FineTuneJob:
        """Cancel a job that has not finished; a finished one answers :class:`~finetune_sdk.ConflictError`."""
        return await self._client.request(_cancel_spec(job, options), FineTuneJob)

    def list(
        self,
        *,
        limit: int | None = None,
        after: str | None = None,
        status: JobStatus | str | None = None,
        model: str | None = None,
        suffix: str | None = None,
        metadata: Mapping[str, str] | None = None,
        created_after: Timestamp | None = None,
        created_before: Timestamp | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[FineTuneJob]:
        """The account's jobs, newest first, filtered; see :meth:`Jobs.list`."""
        filters = _ListFilters(
            status=status,
            model=model,
            suffix=suffix,
            metadata=metadata,
            created_after=created_after,
            created_before=created_before,
        )
        query = _list_query(limit, filters, options)
        return AsyncPaginator(lambda: self._client.get_page(query, after=after))

    def events(
        self,
        job: JobRef,
        *,
        limit: int | None = None,
        after: EventRef | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[JobEvent]:
        """The job's events, oldest first (after ``after``, if given); see :meth:`Jobs.events`."""
        query = _events_query(job, limit, options)
        cursor = _event_cursor(after)
        return AsyncPaginator(lambda: self._client.get_page(query, after=cursor.after))

    def follow(
        self,
        job: JobRef,
        *,
        after: EventRef | None = None,
        poll_interval: float | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncIterator[JobEvent]:
        """Every event of the job from ``after`` on, as they come, until the job has ended; see
        :meth:`Jobs.follow`."""
        flow = follow_flow(
            job_id_of(job),
            _event_cursor(after),
            _waiter(job, None, poll_interval, poll_interval or DEFAULT_PROGRESS_INTERVAL, self._client),
            _job_spec(job, options),
            options,
        )
        return self._client.iterate(flow)

    async def wait(
        self,
        job: JobRef,
        *,
        timeout: float | None = None,
        poll_interval: float | None = None,
        on_update: AsyncUpdateCallback | None = None,
        progress_interval: float | None = DEFAULT_PROGRESS_INTERVAL,
    ) -> SucceededJob:
        """Poll until the job ends; return it when it succeeded. See :meth:`Jobs.wait`; ``on_update``
        may be a plain function or a coroutine function."""
        waiter = _waiter(job, timeout, poll_interval, progress_interval, self._client)
        flow = wait_flow(waiter, _job_spec(job), self._client.timeout, on_update)
        return await self._client.run(flow)

    async def wait_all(
        self,
        jobs: Iterable[JobRef],
        *,
        timeout: float | None = None,
        poll_interval: float | None = None,
        max_concurrency: int = DEFAULT_WAIT_CONCURRENCY,
    ) -> JobOutcomes:
        """Wait for every job; one outcome per job, in order (see :meth:`Jobs.wait_all`)."""
        outcomes = self.as_completed(
            jobs, timeout=timeout, poll_interval=poll_interval, max_concurrency=max_concurrency
        )
        return await outcomes.all()

    def as_completed(
        self,
        jobs: Iterable[JobRef],
        *,
        timeout: float | None = None,
        poll_interval: float | None = None,
        max_concurrency: int = DEFAULT_WAIT_CONCURRENCY,
    ) -> AsyncOutcomes:
        """The outcomes, each as soon as its job ends, from a task group: ``async with
        client.jobs.as_completed(jobs) as outcomes``, then ``async for outcome in outcomes``. Leaving the
        block cancels the waits still under way (the jobs keep running)."""

        async def wait(job: JobRef, left: float | None) -> FineTuneJob:
            return await self.wait(job, timeout=left, poll_interval=poll_interval)

        return AsyncOutcomes(wait, jobs, timeout=timeout, max_concurrency=max_concurrency)

    @property
    def with_raw_response(self) -> AsyncJobsWithRawResponse:
        """The same methods, returning an :class:`~finetune_sdk.APIResponse` (status, headers ...)."""
        return AsyncJobsWithRawResponse(self)


class JobsWithRawResponse(RawResponseView):
    """The methods of :class:`Jobs`, each returning an :class:`~finetune_sdk.APIResponse`."""

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

    @raw_method(Jobs.events)
    def events(self) -> None:
        """:meth:`Jobs.events`, with its raw response."""

    @raw_method(Jobs.wait)
    def wait(self) -> None:
        """:meth:`Jobs.wait`, with its raw response."""


class AsyncJobsWithRawResponse(RawResponseView):
    """The methods of :class:`AsyncJobs`, each returning an :class:`~finetune_sdk.APIResponse`."""

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

    @async_raw_method(AsyncJobs.events)
    def events(self) -> None:
        """:meth:`AsyncJobs.events`, with its raw response."""

    @async_raw_method(AsyncJobs.wait)
    def wait(self) -> None:
        """:meth:`AsyncJobs.wait`, with its raw response."""
