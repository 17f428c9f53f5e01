"""``client.jobs``: create fine-tuning jobs, look at them, cancel them, read their events, wait for them.

Every method that takes a job takes a :class:`~finetune_sdk.FineTuneJob` or its id. The decisions of
``wait`` and ``events(follow=True)`` (how long to pause, when to stop, what a failed poll means) live in
``_polling``; the loops here only do the I/O.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeVar, Union

import anyio
import anyio.to_thread
import orjson

from ._polling import FOLLOW_POLL, EventFollower, Pager, Waiter, finished
from ._retry import is_retryable
from ._wire import RequestSpec, path_segment, resource_id
from .dataset import Dataset
from .errors import APIError, APIStatusError
from .files import FileInput, check_upload
from .hyperparameters import Hyperparameters, PresetName
from .types import BaseModelName, FileObject, FineTuneJob, JobEvent

if TYPE_CHECKING:
    from ._client import AsyncClient, Client

__all__ = ["AsyncJobs", "HyperparametersInput", "JobRef", "Jobs", "TrainingInput"]

#: A job, or its id.
JobRef = Union[FineTuneJob, str]  # noqa: UP007 - runtime aliases, valid on 3.10
#: A file id (``"file-..."``), an uploaded ``FileObject``, a path to a ``.jsonl`` file, or a
#: :class:`~finetune_sdk.Dataset`.
TrainingInput = Union[str, FileObject, "os.PathLike[str]", Dataset]
#: A :class:`~finetune_sdk.Hyperparameters`, a preset name, a mapping of values, or None (``standard``).
HyperparametersInput = Union[Hyperparameters, PresetName, Mapping[str, Any], None]  # noqa: UP007
#: Called with the job whenever its status or progress changes during ``wait``.
UpdateCallback = Callable[[FineTuneJob], None]


_SUFFIX: Final = re.compile(r"[A-Za-z0-9_-]{1,40}")
#: The largest seed: trainers seed their generators with an unsigned 32-bit integer.
SEED_MAX: Final = 2**32 - 1


def _job_id(job: JobRef) -> str:
    return resource_id(job.id if isinstance(job, FineTuneJob) else job, "job")


def _to_upload(value: TrainingInput) -> FileInput | None:
    """The thing to upload first, or None when ``value`` is already a file id.

    A ``Dataset`` or a path object is uploaded; a string is a path when it ends in ``.jsonl``, holds a
    path separator or names an existing file, and a file id otherwise.
    """
    if isinstance(value, (Dataset, os.PathLike)):
        return value
    if not isinstance(value, str):
        raise TypeError(
            f"a training or validation file is a file id, a path or a Dataset, got {type(value).__name__}"
        )
    if value.lower().endswith(".jsonl") or "/" in value or os.sep in value or os.path.exists(value):
        return value
    return None


def _hyperparameters(value: HyperparametersInput) -> dict[str, Any]:
    if value is None:
        value = "standard"
    if isinstance(value, str):
        value = Hyperparameters.preset(value)
    elif not isinstance(value, Hyperparameters):
        value = Hyperparameters.from_values(value)
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

    def orphans(self, uploaded: Mapping[str, str], exc: BaseException) -> list[str]:
        """The files this create uploaded that ``exc`` left without a job, to delete again: all of them
        when the uploads did not finish or the platform refused the job for good; none after a lost
        connection, since the job may exist and need its files."""
        refused = isinstance(exc, APIStatusError) and not is_retryable(exc)
        return list(uploaded.values()) if len(uploaded) < len(self.uploads) or refused else []


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
    if training_file is None:
        raise ValueError("training_file is required: a file id, a path to a .jsonl file or a Dataset")
    if validation_split is not None and (
        isinstance(validation_split, bool)
        or not isinstance(validation_split, (int, float))
        or not 0 < validation_split <= 0.5
    ):
        raise ValueError(f"validation_split must be a number in (0, 0.5], got {validation_split!r}")
    if suffix is not None and (not isinstance(suffix, str) or not _SUFFIX.fullmatch(suffix)):
        raise ValueError(f"suffix must be 1 to 40 of the characters A-Z a-z 0-9 _ -, got {suffix!r}")
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX
    ):
        raise ValueError(f"seed must be a whole number from 0 to {SEED_MAX}, got {seed!r}")
    if idempotency_key is not None and (
        not isinstance(idempotency_key, str)
        or not 0 < len(idempotency_key) <= 200
        or not (idempotency_key.isascii() and idempotency_key.isprintable())
    ):
        raise ValueError(
            f"idempotency_key must be 1 to 200 printable ASCII characters, got {idempotency_key!r}"
        )
    if metadata is not None:
        if not isinstance(metadata, Mapping) or not all(isinstance(k, str) for k in metadata):
            raise ValueError("metadata must be a mapping with string keys")
        try:
            orjson.dumps(dict(metadata))
        except TypeError as exc:
            raise ValueError(f"metadata cannot be sent as JSON: {exc}") from None
    body: dict[str, Any] = {"model": model, "hyperparameters": _hyperparameters(hyperparameters)}
    optional = {"validation_split": validation_split, "suffix": suffix, "seed": seed}
    body.update({k: v for k, v in optional.items() if v is not None})
    if metadata is not None:
        body["metadata"] = dict(metadata)
    uploads: list[tuple[str, FileInput, str | None]] = []
    for field, value in (("training_file", training_file), ("validation_file", validation_file)):
        if value is None:
            continue
        given = value.id if isinstance(value, FileObject) else value
        source = _to_upload(given)
        if source is None:
            body[field] = resource_id(given, "file")
        else:
            # Uploads made for a create share its key (suffixed): replaying the create uploads nothing new.
            uploads.append((field, source, f"{idempotency_key}:{field}" if idempotency_key else None))
    try:  # the body as it will be sent (bar the uploaded ids): fail now, not after the uploads
        orjson.dumps(body)
    except TypeError as exc:
        raise ValueError(f"the job's settings cannot be sent as JSON: {exc}") from None
    return _CreatePlan(body, uploads, idempotency_key)


def _retrieve_spec(job: JobRef) -> RequestSpec:
    return RequestSpec("GET", f"fine_tuning/jobs/{path_segment(_job_id(job))}")


def _cancel_spec(job: JobRef) -> RequestSpec:
    return RequestSpec("POST", f"fine_tuning/jobs/{path_segment(_job_id(job))}/cancel")


ClientT = TypeVar("ClientT", "Client", "AsyncClient")


def _poller(client: ClientT, waiter: Waiter) -> ClientT:
    """The client for one poll of ``wait``: with a deadline, its timeouts and its total deadline are
    capped to the time left and it does not retry (the waiter backs off and polls again), so a wait
    never outlasts its timeout by more than a moment, whatever the server does."""
    timeout = waiter.poll_timeout(client.timeout)
    if timeout is None:
        return client
    return client.with_options(timeout=timeout, deadline=waiter.time_left(), max_retries=0)


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
        for _, source, _ in plan.uploads:
            check_upload(source)  # every file checked before any is sent
        uploaded: dict[str, str] = {}
        try:
            for field, source, key in plan.uploads:
                uploaded[field] = files.upload(source, validate=False, idempotency_key=key).id
            return self._client._request_model(plan.spec(uploaded), FineTuneJob)
        except BaseException as exc:
            for file_id in plan.orphans(uploaded, exc):
                with contextlib.suppress(APIError):
                    files.delete(file_id)
            raise

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
        pager = Pager("fine_tuning/jobs", FineTuneJob, limit)
        while (spec := pager.next_spec()) is not None:
            answer = self._client._send(spec)
            yield from pager.received(answer.payload, answer.response)

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
                answer = self._client._send(step.spec)
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
                current = _poller(self._client, waiter).jobs.retrieve(waiter.job_id)
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
        for _, source, _ in plan.uploads:
            await anyio.to_thread.run_sync(check_upload, source)
        uploaded: dict[str, str] = {}
        try:
            for field, source, key in plan.uploads:
                uploaded[field] = (await files.upload(source, validate=False, idempotency_key=key)).id
            return await self._client._request_model(plan.spec(uploaded), FineTuneJob)
        except BaseException as exc:
            with anyio.CancelScope(shield=True):
                for file_id in plan.orphans(uploaded, exc):
                    with contextlib.suppress(APIError):
                        await files.delete(file_id)
            raise

    async def retrieve(self, job: JobRef) -> FineTuneJob:
        """The job's current state."""
        return await self._client._request_model(_retrieve_spec(job), FineTuneJob)

    async def cancel(self, job: JobRef) -> FineTuneJob:
        """Cancel a job that has not finished; a finished one answers :class:`~finetune_sdk.ConflictError`."""
        return await self._client._request_model(_cancel_spec(job), FineTuneJob)

    async def list(self, *, limit: int | None = None) -> AsyncIterator[FineTuneJob]:
        """The account's jobs, newest first, page by page; ``limit`` caps how many are yielded."""
        pager = Pager("fine_tuning/jobs", FineTuneJob, limit)
        while (spec := pager.next_spec()) is not None:
            answer = await self._client._send(spec)
            for job in pager.received(answer.payload, answer.response):
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
                answer = await self._client._send(step.spec)
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
        on_update: UpdateCallback | None = None,
    ) -> FineTuneJob:
        """Poll until the job ends; return it when it succeeded. See :meth:`Jobs.wait`."""
        waiter = Waiter(_job_id(job), timeout, poll_interval, self._client._policy)
        while True:
            try:
                current = await _poller(self._client, waiter).jobs.retrieve(waiter.job_id)
            except APIError as exc:
                waiter.failed(exc)
            else:
                if waiter.seen(current) and on_update is not None:
                    on_update(current)
                if finished(current) is not None:
                    return current
            await anyio.sleep(waiter.next_pause())
