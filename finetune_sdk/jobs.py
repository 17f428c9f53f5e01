"""``client.jobs``: create fine-tuning jobs, look at them, cancel them, read their events, wait for them.

Every method that takes a job takes a :class:`~finetune_sdk.FineTuneJob` or its id. The decisions of
``wait`` and ``events(follow=True)`` (how long to pause, when to stop, what a failed poll means) live in
``_polling``; the loops here only do the I/O.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Union

import anyio

from ._polling import FOLLOW_POLL, EventFollower, JobPager, Waiter, finished
from ._wire import RequestSpec
from .dataset import Dataset
from .errors import APIError
from .files import FileInput
from .hyperparameters import Hyperparameters, PresetName
from .types import BaseModelName, FineTuneJob, JobEvent

if TYPE_CHECKING:
    from ._client import AsyncClient, Client

__all__ = ["AsyncJobs", "HyperparametersInput", "JobRef", "Jobs", "TrainingInput"]

#: A job, or its id.
JobRef = Union[FineTuneJob, str]  # noqa: UP007 - runtime aliases, valid on 3.10
#: A file id (``"file-..."``), a path to a ``.jsonl`` file, or a :class:`~finetune_sdk.Dataset`.
TrainingInput = Union[str, "os.PathLike[str]", Dataset]
#: A :class:`~finetune_sdk.Hyperparameters`, a preset name, a mapping of values, or None (``standard``).
HyperparametersInput = Union[Hyperparameters, PresetName, Mapping[str, Any], None]  # noqa: UP007
#: Called with the job whenever its status or progress changes during ``wait``.
UpdateCallback = Callable[[FineTuneJob], None]


def _job_id(job: JobRef) -> str:
    job_id = job.id if isinstance(job, FineTuneJob) else job
    if not isinstance(job_id, str) or not job_id or "/" in job_id:
        raise ValueError(f"not a job id: {job_id!r}")
    return job_id


def _to_upload(value: TrainingInput) -> FileInput | None:
    """The thing to upload first, or None when ``value`` is already a file id.

    A ``Dataset`` or a path object is uploaded; a string is a path when it ends in ``.jsonl``, holds a
    path separator or names an existing file, and a file id otherwise.
    """
    if isinstance(value, (Dataset, os.PathLike)):
        return value
    if value.lower().endswith(".jsonl") or "/" in value or os.sep in value or os.path.exists(value):
        return value
    return None


def _hyperparameters(value: HyperparametersInput) -> dict[str, Any]:
    if value is None:
        value = "standard"
    if isinstance(value, str):
        value = Hyperparameters.preset(value)
    elif not isinstance(value, Hyperparameters):
        value = Hyperparameters(**value)
    return value.model_dump(mode="json")


@dataclasses.dataclass(frozen=True)
class _CreatePlan:
    """A job creation, checked: the files to upload first ``(field, source, key)``, then the request."""

    body: dict[str, Any]
    uploads: list[tuple[str, FileInput, str | None]]
    idempotency_key: str | None

    def spec(self, uploaded: Mapping[str, str]) -> RequestSpec:
        body = {**self.body, **uploaded}
        return RequestSpec("POST", "fine_tuning/jobs", json=body, idempotency_key=self.idempotency_key)


def _plan_create(
    *,
    model: str,
    training_file: TrainingInput,
    validation_file: TrainingInput | None,
    validation_split: float | None,
    hyperparameters: HyperparametersInput,
    suffix: str | None,
    seed: int | None,
    metadata: Mapping[str, Any] | None,
    idempotency_key: str | None,
) -> _CreatePlan:
    """Check every argument before anything is uploaded, and say what must be uploaded."""
    if not isinstance(model, str) or not model:
        raise ValueError(f"model must be a base model name such as 'Qwen/Qwen2.5-7B-Instruct', got {model!r}")
    if validation_file is not None and validation_split is not None:
        raise ValueError(
            "give validation_file or validation_split, not both: the platform holds out a split of the "
            "training data only when no validation file is given"
        )
    if validation_split is not None and not 0 < validation_split <= 0.5:
        raise ValueError(f"validation_split must be in (0, 0.5], got {validation_split!r}")
    body: dict[str, Any] = {"model": model, "hyperparameters": _hyperparameters(hyperparameters)}
    optional = {"validation_split": validation_split, "suffix": suffix, "seed": seed}
    body.update({k: v for k, v in optional.items() if v is not None})
    if metadata is not None:
        body["metadata"] = dict(metadata)
    uploads: list[tuple[str, FileInput, str | None]] = []
    for field, value in (("training_file", training_file), ("validation_file", validation_file)):
        if value is None:
            continue
        source = _to_upload(value)
        if source is None:
            body[field] = str(value)
        else:
            # Uploads made for a create share its key (suffixed): replaying the create uploads nothing new.
            uploads.append((field, source, f"{idempotency_key}:{field}" if idempotency_key else None))
    return _CreatePlan(body, uploads, idempotency_key)


def _retrieve_spec(job: JobRef) -> RequestSpec:
    return RequestSpec("GET", f"fine_tuning/jobs/{_job_id(job)}")


def _cancel_spec(job: JobRef) -> RequestSpec:
    return RequestSpec("POST", f"fine_tuning/jobs/{_job_id(job)}/cancel")


def _follower(
    job: JobRef, follow: bool, poll_interval: float | None, client: Client | AsyncClient
) -> EventFollower:
    pacer = Waiter(_job_id(job), None, poll_interval or FOLLOW_POLL, client._policy)
    return EventFollower(pacer.job_id, follow, pacer)


class Jobs:
    """Fine-tuning jobs: ``client.jobs``."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def create(
        self,
        *,
        model: BaseModelName | str,
        training_file: TrainingInput,
        validation_file: TrainingInput | None = None,
        validation_split: float | None = None,
        hyperparameters: HyperparametersInput = None,
        suffix: str | None = None,
        seed: int | None = None,
        metadata: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> FineTuneJob:
        """Create (and start) a fine-tuning job.

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
        plan = _plan_create(
            model=model,
            training_file=training_file,
            validation_file=validation_file,
            validation_split=validation_split,
            hyperparameters=hyperparameters,
            suffix=suffix,
            seed=seed,
            metadata=metadata,
            idempotency_key=idempotency_key,
        )
        files = self._client.files
        uploaded = {field: files.upload(src, idempotency_key=key).id for field, src, key in plan.uploads}
        return self._client._request_model(plan.spec(uploaded), FineTuneJob)

    def retrieve(self, job: JobRef) -> FineTuneJob:
        """The job's current state."""
        return self._client._request_model(_retrieve_spec(job), FineTuneJob)

    def cancel(self, job: JobRef) -> FineTuneJob:
        """Cancel a job that has not finished; a finished one answers :class:`~finetune_sdk.ConflictError`."""
        return self._client._request_model(_cancel_spec(job), FineTuneJob)

    def list(self, *, limit: int | None = None) -> Iterator[FineTuneJob]:
        """The account's jobs, newest first, fetched page by page as the iteration goes.

        ``limit`` caps how many are yielded (all of them when None).
        """
        pager = JobPager(limit)
        while (spec := pager.next_spec()) is not None:
            yield from pager.received(self._client._request(spec))

    def events(
        self, job: JobRef, *, follow: bool = False, poll_interval: float | None = None
    ) -> Iterator[JobEvent]:
        """The job's events, oldest first.

        With ``follow=True`` it keeps polling (every ``poll_interval`` seconds, default 1) and yields
        each new event once, in order, until the job has ended and its last events are out. Passing
        errors (connection, 429, 5xx) do not stop a follow: polling goes on from the last event seen.
        """
        follower = _follower(job, follow, poll_interval, self._client)
        while (step := follower.next_step()) is not None:
            if step.pause:
                time.sleep(step.pause)
            try:
                payload = self._client._request(step.spec)
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
    ) -> FineTuneJob:
        """Poll until the job ends; return it when it succeeded.

        Raises :class:`~finetune_sdk.JobFailedError` (with the platform's code and message) when it
        failed, :class:`~finetune_sdk.JobCancelledError` when it was cancelled and
        :class:`~finetune_sdk.WaitTimeoutError` when ``timeout`` seconds pass (the job keeps running).
        Polls start 1 s apart and grow to 15 s (or are every ``poll_interval`` seconds); a passing error
        never ends the wait. ``on_update(job)`` is called whenever status or progress changes.
        """
        waiter = Waiter(_job_id(job), timeout, poll_interval, self._client._policy)
        while True:
            try:
                current = self.retrieve(waiter.job_id)
            except APIError as exc:
                waiter.failed(exc)
            else:
                if waiter.seen(current) and on_update is not None:
                    on_update(current)
                if finished(current) is not None:
                    return current
            time.sleep(waiter.next_pause())


class AsyncJobs:
    """Fine-tuning jobs: ``async_client.jobs``. The same methods as :class:`Jobs`, awaited; ``list`` and
    ``events`` are async iterators (``async for``). ``wait`` is cancellable with anyio cancel scopes."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(
        self,
        *,
        model: BaseModelName | str,
        training_file: TrainingInput,
        validation_file: TrainingInput | None = None,
        validation_split: float | None = None,
        hyperparameters: HyperparametersInput = None,
        suffix: str | None = None,
        seed: int | None = None,
        metadata: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> FineTuneJob:
        """Create (and start) a fine-tuning job; see :meth:`Jobs.create`."""
        plan = _plan_create(
            model=model,
            training_file=training_file,
            validation_file=validation_file,
            validation_split=validation_split,
            hyperparameters=hyperparameters,
            suffix=suffix,
            seed=seed,
            metadata=metadata,
            idempotency_key=idempotency_key,
        )
        files = self._client.files
        uploaded = {
            field: (await files.upload(src, idempotency_key=key)).id for field, src, key in plan.uploads
        }
        return await self._client._request_model(plan.spec(uploaded), FineTuneJob)

    async def retrieve(self, job: JobRef) -> FineTuneJob:
        """The job's current state."""
        return await self._client._request_model(_retrieve_spec(job), FineTuneJob)

    async def cancel(self, job: JobRef) -> FineTuneJob:
        """Cancel a job that has not finished; a finished one answers :class:`~finetune_sdk.ConflictError`."""
        return await self._client._request_model(_cancel_spec(job), FineTuneJob)

    async def list(self, *, limit: int | None = None) -> AsyncIterator[FineTuneJob]:
        """The account's jobs, newest first, page by page; ``limit`` caps how many are yielded."""
        pager = JobPager(limit)
        while (spec := pager.next_spec()) is not None:
            for job in pager.received(await self._client._request(spec)):
                yield job

    async def events(
        self, job: JobRef, *, follow: bool = False, poll_interval: float | None = None
    ) -> AsyncIterator[JobEvent]:
        """The job's events, oldest first; ``follow=True`` follows until the job ends (``Jobs.events``)."""
        follower = _follower(job, follow, poll_interval, self._client)
        while (step := follower.next_step()) is not None:
            if step.pause:
                await anyio.sleep(step.pause)
            try:
                payload = await self._client._request(step.spec)
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
        on_update: UpdateCallback | None = None,
    ) -> FineTuneJob:
        """Poll until the job ends; return it when it succeeded. See :meth:`Jobs.wait`."""
        waiter = Waiter(_job_id(job), timeout, poll_interval, self._client._policy)
        while True:
            try:
                current = await self.retrieve(waiter.job_id)
            except APIError as exc:
                waiter.failed(exc)
            else:
                if waiter.seen(current) and on_update is not None:
                    on_update(current)
                if finished(current) is not None:
                    return current
            await anyio.sleep(waiter.next_pause())
