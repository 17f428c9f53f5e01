"""Creating a job, written once: the arguments checked before anything is uploaded (:func:`plan_create`),
the uploads to make first, the request, and which uploads to delete again when the create fails
(:func:`create_flow`)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final, Union

import orjson

from ..data import Dataset
from ..errors import APIError, APIStatusError
from ..hyperparameters import Hyperparameters, PresetName
from ..types import FileObject, FineTuneJob, JobEvent
from .checks import is_number, is_str, is_str_mapping, is_whole
from .flow import Call, Flow, send
from .ids import check_idempotency_key, path_segment, resource_id
from .options import PostOptions, apply_options
from .retry import is_retryable
from .upload import UploadInput, check_upload, upload_flow
from .wire import RequestSpec, parse_model

__all__ = [
    "AsyncUpdateCallback",
    "CreatePlan",
    "EventRef",
    "HyperparametersInput",
    "JobRef",
    "TrainingInput",
    "UpdateCallback",
    "create_flow",
    "job_id_of",
    "plan_create",
]

#: A job, or its id.
JobRef = Union[FineTuneJob, str]  # noqa: UP007 - runtime aliases, valid on 3.10
#: An event, or its id (what a browser sends back as ``Last-Event-ID``).
EventRef = Union[JobEvent, str]  # noqa: UP007
#: A file id (``"file-..."``), an uploaded ``FileObject``, a path to a ``.jsonl`` file, or a
#: :class:`~finetune_sdk.Dataset`.
TrainingInput = Union[str, FileObject, "os.PathLike[str]", Dataset]
#: A :class:`~finetune_sdk.Hyperparameters`, a preset name, a mapping of values, or None (``standard``).
HyperparametersInput = Union[Hyperparameters, PresetName, Mapping[str, Any], None]  # noqa: UP007
#: Called with the job whenever its status or progress changes during ``wait``.
UpdateCallback = Callable[[FineTuneJob], None]
#: On the async client ``on_update`` may also be a coroutine function; it is awaited.
AsyncUpdateCallback = Callable[[FineTuneJob], Union[Awaitable[None], None]]  # noqa: UP007


_SUFFIX: Final = re.compile(r"[A-Za-z0-9_-]{1,40}")
#: The largest seed: trainers seed their generators with an unsigned 32-bit integer.
SEED_MAX: Final = 2**32 - 1


def job_id_of(job: JobRef) -> str:
    """The id of a job or job reference, checked to be safe in a URL."""
    return resource_id(job.id if isinstance(job, FineTuneJob) else job, "job")


def _to_upload(value: TrainingInput) -> UploadInput | None:
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
class CreatePlan:
    """A job creation, checked: the files to upload first ``(field, source, key)``, then the request."""

    body: dict[str, Any]
    uploads: list[tuple[str, UploadInput, str | None]]
    idempotency_key: str | None
    names: Mapping[str, str] = dataclasses.field(default_factory=dict[str, str])
    """Fields whose string was sent as a file id though it could have been meant as a file name."""

    def spec(self, uploaded: Mapping[str, str]) -> RequestSpec:
        body = {**self.body, **uploaded}
        return RequestSpec("POST", "fine_tuning/jobs", json=body, idempotency_key=self.idempotency_key)

    def orphans(self, uploaded: Mapping[str, str], exc: BaseException) -> list[str]:
        """The files this create uploaded that ``exc`` left without a job, to delete again: all of them
        when the uploads did not finish or the platform refused the job for good; none after a lost
        connection, since the job may exist and need its files."""
        refused = isinstance(exc, APIStatusError) and not is_retryable(exc)
        return list(uploaded.values()) if len(uploaded) < len(self.uploads) or refused else []

    def explain(self, exc: BaseException) -> None:
        """When the platform knows no file by a name that was sent as an id, say that no local file of
        that name was found either (``"support"`` for a forgotten ``support.jsonl``)."""
        if not isinstance(exc, APIStatusError) or exc.status_code not in (400, 404):
            return
        for field, name in self.names.items():
            if exc.code == "file_not_found" and name in exc.message:
                exc.message += (
                    f" ({field}={name!r} was sent as a file id because no local file {name!r} exists; "
                    f"for a file on disk, give its path, e.g. {name + '.jsonl'!r})"
                )
                exc.args = (exc.message,)
                return


def plan_create(
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
    method: Mapping[str, Any] | None = None,
    integrations: Sequence[Mapping[str, Any]] | None = None,
) -> CreatePlan:
    """Check every argument before anything is uploaded, and say what must be uploaded."""
    _check_arguments(
        model=model,
        training_file=training_file,
        validation_file=validation_file,
        validation_split=validation_split,
        suffix=suffix,
        seed=seed,
        metadata=metadata,
    )
    check_idempotency_key(idempotency_key)
    body: dict[str, Any] = {"model": model, "hyperparameters": _hyperparameters(hyperparameters)}
    optional = {"validation_split": validation_split, "suffix": suffix, "seed": seed}
    body.update({k: v for k, v in optional.items() if v is not None})
    if metadata is not None:
        body["metadata"] = dict(metadata)
    if method is not None:
        if not is_str_mapping(method):
            raise TypeError(f"method must be a mapping such as {{'type': 'supervised', ...}}, got {method!r}")
        body["method"] = dict(method)
    if integrations is not None:
        if is_str(integrations) or is_str_mapping(integrations) or not all(map(is_str_mapping, integrations)):
            raise TypeError("integrations must be a list of mappings such as {'type': 'wandb', ...}")
        body["integrations"] = [dict(i) for i in integrations]
    uploads: list[tuple[str, UploadInput, str | None]] = []
    names: dict[str, str] = {}
    for field, value in (("training_file", training_file), ("validation_file", validation_file)):
        if value is None:
            continue
        given = value.id if isinstance(value, FileObject) else value
        source = _to_upload(given)
        if source is None:
            body[field] = resource_id(given, "file")
            if isinstance(value, str) and not value.startswith("file-"):
                names[field] = value
        else:
            # Uploads made for a create share its key (suffixed): replaying the create uploads nothing new.
            uploads.append((field, source, f"{idempotency_key}:{field}" if idempotency_key else None))
    _check_json(body, "the job's settings")  # the body as it will be sent, bar the uploaded ids
    return CreatePlan(body, uploads, idempotency_key, names)


def _check_arguments(
    *,
    model: object,
    training_file: object,
    validation_file: object,
    validation_split: object,
    suffix: object,
    seed: object,
    metadata: object,
) -> None:
    """Refuse what no request could carry, with the argument named (for callers without types too)."""
    if not is_str(model) or not model:
        raise ValueError(f"model must be a base model name such as 'Qwen/Qwen2.5-7B-Instruct', got {model!r}")
    if validation_file is not None and validation_split is not None:
        raise ValueError(
            "give validation_file or validation_split, not both: the platform holds out a split of the "
            "training data only when no validation file is given"
        )
    if training_file is None:
        raise ValueError("training_file is required: a file id, a path to a .jsonl file or a Dataset")
    if validation_split is not None and (not is_number(validation_split) or not 0 < validation_split <= 0.5):
        raise ValueError(f"validation_split must be a number in (0, 0.5], got {validation_split!r}")
    if suffix is not None and (not is_str(suffix) or not _SUFFIX.fullmatch(suffix)):
        raise ValueError(f"suffix must be 1 to 40 of the characters A-Z a-z 0-9 _ -, got {suffix!r}")
    if seed is not None and (not is_whole(seed) or not 0 <= seed <= SEED_MAX):
        raise ValueError(f"seed must be a whole number from 0 to {SEED_MAX}, got {seed!r}")
    if metadata is not None:
        if not is_str_mapping(metadata):
            raise ValueError("metadata must be a mapping with string keys")
        try:
            orjson.dumps(dict(metadata))
        except TypeError as exc:
            raise ValueError(f"metadata cannot be sent as JSON: {exc}") from None


def _check_json(body: object, what: str) -> None:
    """Fail now, before the uploads, on what could not be sent as JSON afterwards."""
    try:
        orjson.dumps(body)
    except TypeError as exc:
        raise ValueError(f"{what} cannot be sent as JSON: {exc}") from None


def create_flow(plan: CreatePlan, options: PostOptions) -> Flow[FineTuneJob]:
    """Check every file to upload, upload them, create the job; when the create fails, delete what it
    uploaded if no job can hold it (see :meth:`CreatePlan.orphans`), even while being cancelled."""
    # The call's options (timeout, extra_body ...) are refused now too, not after the uploads.
    checked = apply_options(plan.spec({}), options, post=True)
    if options.get("extra_body"):
        _check_json(checked.json, "extra_body")
    for _, source, _ in plan.uploads:
        yield Call(check_upload, (source,), blocking=True)  # every file checked before any is sent
    uploaded: dict[str, str] = {}
    try:
        for field, source, key in plan.uploads:
            file = yield from upload_flow(
                source,
                filename=None,
                purpose="fine-tune",
                validate=False,
                on_progress=None,
                options=PostOptions(idempotency_key=key) if key else PostOptions(),
            )
            uploaded[field] = file.id
        answer = yield from send(apply_options(plan.spec(uploaded), options, post=True))
        return parse_model(FineTuneJob, answer.payload, response=answer.response)
    except GeneratorExit:
        raise
    except BaseException as exc:
        plan.explain(exc)
        for file_id in plan.orphans(uploaded, exc):
            with contextlib.suppress(APIError):  # the create's own error is the one to raise
                yield from send(RequestSpec("DELETE", f"files/{path_segment(file_id)}"), shielded=True)
        raise
