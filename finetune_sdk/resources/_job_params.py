"""What ``jobs.create`` sends and what a job reference is, sans I/O: the arguments checked before
anything is uploaded, the uploads to make first, the request, and which uploads to delete again when
the create fails."""

# pyright: reportUnnecessaryIsInstance=false, reportUnnecessaryComparison=false, reportUnusedFunction=false
from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, Union, cast

import orjson
from typing_extensions import Required

from .._options import PostOptions, apply_options, check_idempotency_key
from .._retry import is_retryable
from .._wire import RequestSpec, path_segment, resource_id
from ..dataset import Dataset
from ..errors import APIStatusError
from ..hyperparameters import Hyperparameters, PresetName
from ..types import BaseModelName, FileObject, FineTuneJob, JobEvent
from .files import FileInput

__all__ = [
    "AsyncUpdateCallback",
    "EventRef",
    "HyperparametersInput",
    "JobCreateParams",
    "JobRef",
    "TrainingInput",
    "UpdateCallback",
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
AsyncUpdateCallback = Callable[[FineTuneJob], Awaitable[None] | None]


_SUFFIX: Final = re.compile(r"[A-Za-z0-9_-]{1,40}")
#: The largest seed: trainers seed their generators with an unsigned 32-bit integer.
SEED_MAX: Final = 2**32 - 1


def _job_id(job: JobRef) -> str:
    return resource_id(job.id if isinstance(job, FineTuneJob) else job, "job")


def _job_path(job: JobRef) -> str:
    """The job's URL path (its id checked, then escaped as one path segment)."""
    return f"fine_tuning/jobs/{path_segment(_job_id(job))}"


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
    check_idempotency_key(idempotency_key)
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
    return _CreatePlan(body, uploads, idempotency_key, names)


def _check_json(body: object, what: str) -> None:
    """Fail now, before the uploads, on what could not be sent as JSON afterwards."""
    try:
        orjson.dumps(body)
    except TypeError as exc:
        raise ValueError(f"{what} cannot be sent as JSON: {exc}") from None


class JobCreateParams(PostOptions, total=False):
    """The keyword arguments of ``jobs.create`` (see :meth:`Jobs.create`), with the call's options."""

    model: Required[BaseModelName | str]
    training_file: Required[TrainingInput]
    validation_file: TrainingInput | None
    validation_split: float | None
    hyperparameters: HyperparametersInput
    suffix: str | None
    seed: int | None
    metadata: Mapping[str, Any] | None


_CREATE_FIELDS: Final = frozenset(JobCreateParams.__annotations__) - frozenset(PostOptions.__annotations__)


def _plan_from(params: Mapping[str, Any]) -> tuple[_CreatePlan, PostOptions]:
    """The checked plan of a create, and its request options; a missing or unknown keyword is a
    ``TypeError``, as for any Python call."""
    unknown = set(params) - frozenset(JobCreateParams.__annotations__)
    if unknown:
        known = ", ".join(sorted(JobCreateParams.__annotations__))
        raise TypeError(
            f"create() got unexpected keyword argument(s) {', '.join(sorted(unknown))}; it takes {known}"
        )
    options = cast(PostOptions, {k: v for k, v in params.items() if k not in _CREATE_FIELDS})
    for required in ("model", "training_file"):
        if required not in params:
            raise TypeError(f"create() missing required keyword argument: {required!r}")
    plan = _plan_create(
        model=params["model"],
        training_file=params["training_file"],
        validation_file=params.get("validation_file"),
        validation_split=params.get("validation_split"),
        hyperparameters=params.get("hyperparameters"),
        suffix=params.get("suffix"),
        seed=params.get("seed"),
        metadata=params.get("metadata"),
        idempotency_key=options.get("idempotency_key"),
    )
    # The call's options (timeout, extra_body ...) are refused now too, not after the uploads.
    checked = apply_options(plan.spec({}), options, post=True)
    if options.get("extra_body"):
        _check_json(checked.json, "extra_body")
    return plan, options
