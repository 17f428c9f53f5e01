"""``client.jobs``: create fine-tuning jobs, find them, look at them, cancel them, read and follow their
events, and wait for them.

Every method that takes a job takes a :class:`~finetune_sdk.FineTuneJob` or its id. The steps of
``create``, ``wait`` and ``follow`` are flows written once in ``_core`` (``create``, ``waiting``); the
methods here check their arguments, build the flow and hand it to the client.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Mapping
from typing import TypedDict

from typing_extensions import NotRequired, Required, Unpack

from .._calls import pages, runs
from .._core.checks import is_finite_number, is_str, is_str_mapping
from .._core.config import DEFAULT_WAIT_CONCURRENCY
from .._core.create import (
    DEFAULT_LOCAL_SPLIT,
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
from .._core.events import EventCursor, events_spec, job_path, read_events
from .._core.flow import Flow, request, send
from .._core.ids import path_segment
from .._core.job_settings import IntegrationsInput, MethodInput
from .._core.options import PostOptions, RequestOptions, apply_options
from .._core.pages import PageQuery
from .._core.waiting import DEFAULT_PROGRESS_INTERVAL, Waiter, follow_flow, wait_flow
from .._core.wire import RequestSpec
from .._many import AsyncOutcomes, JobOutcome, Outcomes
from .._resource import (
    AsyncAPIResource,
    AsyncMethods,
    Following,
    Listing,
    Settings,
    SyncAPIResource,
    SyncMethods,
)
from .._response import AsyncRawResponseView, SyncRawResponseView
from ..errors import NotFoundError
from ..types import BaseModelName, FineTuneJob, JobEvent, JobStatus, MetricsHistory, SucceededJob

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
    method: NotRequired[MethodInput]
    integrations: NotRequired[IntegrationsInput]
    suffix: NotRequired[str | None]
    seed: NotRequired[int | None]
    metadata: NotRequired[Mapping[str, str] | None]
    max_cost: NotRequired[float | None]
    local_split: NotRequired[float | None]


class _ListFilters(TypedDict, total=False):
    status: JobStatus | str | None
    model: str | None
    suffix: str | None
    metadata: Mapping[str, str] | None
    created_after: Timestamp | None
    created_before: Timestamp | None


def _seconds(value: object, name: str) -> int | None:
    """A creation-time filter as whole Unix seconds (creation times are whole seconds): a number, or an
    aware datetime. A fraction rounds up, which keeps both ``created_at >= after`` and ``created_at <
    before`` exact."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise ValueError(f"{name} must be an aware datetime (with tzinfo), got a naive one: {value!r}")
        return math.ceil(value.timestamp())
    if not is_finite_number(value):
        raise TypeError(f"{name} must be Unix seconds or a datetime, got {value!r}")
    return math.ceil(value)


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
            and (before is None or job.created_at < before)
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
    client: Settings, job: JobRef, timeout: float | None, poll_interval: float | None, progress: float | None
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


def _create(
    client: Settings,
    *,
    model: BaseModelName | str,
    training_file: TrainingInput,
    validation_file: TrainingInput | None = None,
    validation_split: float | None = None,
    hyperparameters: HyperparametersInput = None,
    method: MethodInput = None,
    integrations: IntegrationsInput = None,
    suffix: str | None = None,
    seed: int | None = None,
    metadata: Mapping[str, str] | None = None,
    max_cost: float | None = None,
    local_split: float | None = DEFAULT_LOCAL_SPLIT,
    **options: Unpack[PostOptions],
) -> Flow[FineTuneJob]:
    """Create (and start) a fine-tuning job.

    ``training_file`` and ``validation_file`` take a file id, a path to a ``.jsonl`` file or a
    :class:`~finetune_sdk.Dataset`; paths and datasets are validated and uploaded first (a string is a
    path when it ends in ``.jsonl``, holds a path separator or names an existing file), and a file
    already on the server with the same name and bytes is used instead of a second upload. Without
    validation data, ``local_split`` (10%) of local training data is held out here, without leakage
    (examples grouped by their first prompt), and both files are uploaded; ``local_split=None`` leaves
    it to the platform, and ``validation_split`` (``0 < x <= 0.5``) asks the platform for its own split.

    ``hyperparameters`` is a :class:`~finetune_sdk.Hyperparameters`, a preset name (``"standard"``,
    ``"quality"``, ``"fast"``), a mapping, or None: for the platform's base models, the guide's ranges
    apply and ``standard`` is the default; for another model (another OpenAI-shaped server) OpenAI's
    schema applies and only what is given is sent. ``method`` and ``integrations`` are OpenAI's, sent as
    given. ``max_cost`` refuses (:class:`~finetune_sdk.CostLimitError`), before anything is uploaded, a
    job whose estimated cost is higher (the price from ``FINETUNE_PRICE_PER_MTOKENS`` or a price table;
    see :func:`~finetune_sdk.data.estimate_cost`). Bad arguments raise ``ValueError`` before anything is
    uploaded. With the same ``idempotency_key``, a repeated call returns the job made the first time and
    uploads nothing again. ``docs/jobs.md`` says which rules apply when.
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
        max_cost=max_cost,
        local_split=local_split,
    )
    return create_flow(plan, options)


def _retrieve(client: Settings, job: JobRef, **options: Unpack[RequestOptions]) -> Flow[FineTuneJob]:
    """The job's current state."""
    return request(_job_spec(job, options), FineTuneJob)


def _cancel(client: Settings, job: JobRef, **options: Unpack[PostOptions]) -> Flow[FineTuneJob]:
    """Cancel a job that has not finished; a finished one answers :class:`~finetune_sdk.ConflictError`."""
    spec = RequestSpec("POST", f"{job_path(job_id_of(job))}/cancel")
    return request(apply_options(spec, options, post=True), FineTuneJob)


def _list(
    client: Settings,
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
) -> Listing[FineTuneJob]:
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
    return Listing(_list_query(limit, filters, options), after)


def _events(
    client: Settings,
    job: JobRef,
    *,
    limit: int | None = None,
    after: EventRef | None = None,
    **options: Unpack[RequestOptions],
) -> Listing[JobEvent]:
    """The job's events, oldest first: a page (``limit`` per page; with ``after``, an event or its
    id, only the events after it) whose iteration walks every event there is now. To keep reading as
    the job goes on, use ``follow``."""
    return Listing(_events_query(job, limit, options), _event_cursor(after).after)


def _follow(
    client: Settings,
    job: JobRef,
    *,
    after: EventRef | None = None,
    poll_interval: float | None = None,
    **options: Unpack[RequestOptions],
) -> Following[JobEvent]:
    """Every event of the job from ``after`` on (an event, its id, or None for all), each once and in
    order, as they come, until the job has ended and its last events are out (``async for`` on the
    async client).

    It polls on the client's schedule, no slower than every second while the job runs (or every
    ``poll_interval`` seconds), honouring the server's hints. Passing errors (connection, 429, 5xx) do
    not stop it: it goes on from the last event seen. A relay resumes where its reader left off by
    passing the ``Last-Event-ID`` it got as ``after``; an id the job does not have is refused (the
    emulator answers 400: :class:`~finetune_sdk.BadRequestError`).
    """
    waiter = _waiter(client, job, None, poll_interval, poll_interval or DEFAULT_PROGRESS_INTERVAL)
    flow = follow_flow(job_id_of(job), _event_cursor(after), waiter, _job_spec(job, options), options)
    return Following(flow, JobEvent)


def _metrics(client: Settings, job: JobRef, **options: Unpack[RequestOptions]) -> Flow[MetricsHistory]:
    """Every step's metrics of the job so far (``train_loss``, ``valid_loss``, ``epoch``, ``step``, the
    accuracies and the learning rate where known), oldest first: from the job's metrics file once it has
    one (``result_files``), else gathered from its step events (a running job's, or a server's without
    metrics files). ``to_csv()`` / ``to_json()`` export it; charts draw it (:mod:`finetune_sdk.evaluate`)."""
    found = yield from request(_job_spec(job, options), FineTuneJob)
    if found.metrics_file is not None:
        spec = RequestSpec("GET", f"files/{path_segment(found.metrics_file)}/content", binary=True)
        try:
            answer = yield from send(apply_options(spec, options))
        except NotFoundError:
            pass  # named but gone: the events still hold every step
        else:
            return MetricsHistory.from_csv(bytes(answer.payload).decode("utf-8", "replace"))
    cursor, events = EventCursor(), list[JobEvent]()
    while True:
        answer = yield from send(apply_options(events_spec(found.id, cursor.after), options))
        fresh, more = read_events(answer, cursor)
        events.extend(fresh)
        if not more or not fresh:
            return MetricsHistory.from_events(events)


def _wait(
    client: Settings,
    job: JobRef,
    *,
    timeout: float | None = None,
    poll_interval: float | None = None,
    on_update: AsyncUpdateCallback | None = None,
    progress_interval: float | None = DEFAULT_PROGRESS_INTERVAL,
) -> Flow[SucceededJob]:
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
    ``progress_interval`` seconds (None: only as the schedule says). On the async client it may be a
    coroutine function, and the wait is cancellable with anyio cancel scopes.
    """
    waiter = _waiter(client, job, timeout, poll_interval, progress_interval)
    return wait_flow(waiter, _job_spec(job), client.config.timeout, on_update)


class _JobCalls:
    """The methods of the jobs resources and of their raw-response views, written once."""

    create = runs(_create)
    retrieve = runs(_retrieve)
    cancel = runs(_cancel)
    list = pages(_list)
    events = pages(_events)
    wait = runs(_wait)
    metrics = runs(_metrics)


class Jobs(_JobCalls, SyncAPIResource):
    """Fine-tuning jobs: ``client.jobs``."""

    follow = SyncMethods.follows(_follow)

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

        ``timeout`` covers the whole set; up to ``max_concurrency`` jobs are waited on at once (each in
        a worker thread sharing this client; on the async client, tasks of one task group).
        """
        outcomes = self.as_completed(
            jobs, timeout=timeout, poll_interval=poll_interval, max_concurrency=max_concurrency
        )
        return outcomes.all()

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
        On the async client: ``async with client.jobs.as_completed(jobs) as outcomes``, then ``async for``;
        leaving the block cancels the waits still under way (the jobs keep running).
        """

        def wait(job: JobRef, left: float | None) -> FineTuneJob:
            return self.wait(job, timeout=left, poll_interval=poll_interval)

        return Outcomes(wait, jobs, timeout=timeout, max_concurrency=max_concurrency)

    @property
    def with_raw_response(self) -> JobsWithRawResponse:
        """The same methods, returning an :class:`~finetune_sdk.APIResponse` (status, headers ...)."""
        return JobsWithRawResponse(self)


class AsyncJobs(_JobCalls, AsyncAPIResource):
    """Fine-tuning jobs: ``async_client.jobs``. The same methods as :class:`Jobs`, awaited; ``list``
    and ``events`` return an :class:`~finetune_sdk.AsyncPaginator` (``await`` it for the first page,
    ``async for`` for every item), ``follow`` an async iterator."""

    follow = AsyncMethods.follows(_follow)

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
        """The outcomes, each as soon as its job ends, from a task group; see :meth:`Jobs.as_completed`."""

        async def wait(job: JobRef, left: float | None) -> FineTuneJob:
            return await self.wait(job, timeout=left, poll_interval=poll_interval)

        return AsyncOutcomes(wait, jobs, timeout=timeout, max_concurrency=max_concurrency)

    @property
    def with_raw_response(self) -> AsyncJobsWithRawResponse:
        """The same methods, returning an :class:`~finetune_sdk.APIResponse` (status, headers ...)."""
        return AsyncJobsWithRawResponse(self)


class JobsWithRawResponse(_JobCalls, SyncRawResponseView):
    """The methods of :class:`Jobs`, each returning an :class:`~finetune_sdk.APIResponse`."""


class AsyncJobsWithRawResponse(_JobCalls, AsyncRawResponseView):
    """The methods of :class:`AsyncJobs`, each returning an :class:`~finetune_sdk.APIResponse`."""
