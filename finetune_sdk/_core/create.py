"""Creating a job, written once: the arguments checked before anything is uploaded (:func:`plan_create`),
then (:func:`create_flow`) the cost checked against ``max_cost``, the training data split locally when no
validation data was given, the uploads (each file sent once: the same bytes under the same name are
found on the server instead), the request, and which uploads to delete again when the create fails."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Union

import orjson

from ..errors import APIError, APIStatusError, CostLimitError
from ..types import FileObject, FineTuneJob, JobEvent
from . import guide
from .checks import is_dataset, is_finite_number, is_number, is_str
from .flow import Call, Flow, call, send
from .ids import check_idempotency_key, path_segment, resource_id
from .job_settings import (
    HyperparametersInput,
    IntegrationsInput,
    MethodInput,
    check_settings,
    epochs_of,
    hyperparameters_body,
    integrations_body,
    method_body,
)
from .options import PostOptions, apply_options
from .retry import is_retryable
from .upload import UploadInput, check_upload, upload_or_reuse_flow
from .wire import RequestSpec, parse_model

if TYPE_CHECKING:
    from ..data import CostEstimate, Dataset, SplitReport

__all__ = [
    "DEFAULT_LOCAL_SPLIT",
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

logger: Final = logging.getLogger("finetune_sdk")
NOTE: Final = {"user_note": True}
"""``extra=`` of a record the user should see without asking for logs (a command line prints it): what
was done to their data."""

#: A job, or its id.
JobRef = Union[FineTuneJob, str]  # noqa: UP007 - runtime aliases, valid on 3.10
#: An event, or its id (what a browser sends back as ``Last-Event-ID``).
EventRef = Union[JobEvent, str]  # noqa: UP007
#: A file id (``"file-..."``), an uploaded ``FileObject``, a path to a ``.jsonl`` file, or a
#: :class:`~finetune_sdk.Dataset`.
TrainingInput = Union[str, FileObject, "os.PathLike[str]", "Dataset"]
#: Called with the job whenever its status or progress changes during ``wait``.
UpdateCallback = Callable[[FineTuneJob], None]
#: On the async client ``on_update`` may also be a coroutine function; it is awaited.
AsyncUpdateCallback = Callable[[FineTuneJob], Union[Awaitable[None], None]]  # noqa: UP007

#: The share of the training data held out locally when no validation data is given.
DEFAULT_LOCAL_SPLIT: Final = 0.1


def job_id_of(job: JobRef) -> str:
    """The id of a job or job reference, checked to be safe in a URL."""
    return resource_id(job.id if isinstance(job, FineTuneJob) else job, "job")


def _to_upload(value: TrainingInput) -> UploadInput | None:
    """The thing to upload first, or None when ``value`` is already a file id.

    A ``Dataset`` or a path object is uploaded; a string is a path when it ends in ``.jsonl``, holds a
    path separator or names an existing file, and a file id otherwise.
    """
    if is_dataset(value) or isinstance(value, os.PathLike):
        return value
    if not isinstance(value, str):
        raise TypeError(
            f"a training or validation file is a file id, a path or a Dataset, got {type(value).__name__}"
        )
    if value.lower().endswith(".jsonl") or "/" in value or os.sep in value or os.path.exists(value):
        return value
    return None


@dataclasses.dataclass(frozen=True)
class CreatePlan:
    """A job creation, checked: the files to upload first ``(field, source, key)``, then the request;
    the cost limit, and the share to hold out locally (None: no local split)."""

    body: dict[str, Any]
    uploads: list[tuple[str, UploadInput, str | None]]
    idempotency_key: str | None
    names: Mapping[str, str] = dataclasses.field(default_factory=dict[str, str])
    """Fields whose string was sent as a file id though it could have been meant as a file name."""
    max_cost: float | None = None
    local_split: float | None = None

    def spec(self, uploaded: Mapping[str, str]) -> RequestSpec:
        body = {**self.body, **uploaded}
        return RequestSpec("POST", "fine_tuning/jobs", json=body, idempotency_key=self.idempotency_key)

    def key(self, field: str) -> str | None:
        """The idempotency key of an upload made for this create (its own, suffixed): replaying the
        create uploads nothing new."""
        return f"{self.idempotency_key}:{field}" if self.idempotency_key else None

    @staticmethod
    def orphans(made: Mapping[str, str], finished: bool, exc: BaseException) -> list[str]:
        """The files this create uploaded (``made``: not those it found on the server) that ``exc`` left
        without a job, to delete again: all of them when the uploads did not finish or the platform
        refused the job for good; none after a lost connection, since the job may exist and need
        them."""
        refused = isinstance(exc, APIStatusError) and not is_retryable(exc)
        return list(made.values()) if not finished or refused else []

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
    method: MethodInput = None,
    integrations: IntegrationsInput = None,
    max_cost: float | None = None,
    local_split: float | None = DEFAULT_LOCAL_SPLIT,
) -> CreatePlan:
    """Check every argument before anything is uploaded, and say what must be uploaded."""
    given: object = model
    if not is_str(given) or not given:
        raise ValueError(f"model must be a base model name such as 'Qwen/Qwen2.5-7B-Instruct', got {model!r}")
    if _missing(training_file):
        raise ValueError("training_file is required: a file id, a path to a .jsonl file or a Dataset")
    _check_validation(validation_file, validation_split, local_split)
    check_settings(model=model, suffix=suffix, seed=seed, metadata=metadata)
    check_idempotency_key(idempotency_key)
    limit: object = max_cost
    if limit is not None and (not is_finite_number(limit) or limit < 0):
        raise ValueError(f"max_cost must be a number >= 0 (in the price's currency), got {max_cost!r}")
    body: dict[str, Any] = {"model": model}
    # A method carries its own hyperparameters: the platform's defaults are not sent beside it.
    defaults = hyperparameters is not None or method is None
    optional: dict[str, Any] = {
        "hyperparameters": hyperparameters_body(model, hyperparameters) if defaults else None,
        "method": method_body(method),
        "integrations": integrations_body(integrations),
        "validation_split": validation_split,
        "suffix": suffix,
        "seed": seed,
        "metadata": dict(metadata) if metadata is not None else None,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    uploads: list[tuple[str, UploadInput, str | None]] = []
    names: dict[str, str] = {}
    for field, value in (("training_file", training_file), ("validation_file", validation_file)):
        if value is None:
            continue
        given_file = value.id if isinstance(value, FileObject) else value
        source = _to_upload(given_file)
        if source is None:
            body[field] = resource_id(given_file, "file")
            if isinstance(value, str) and not value.startswith("file-"):
                names[field] = value
        else:
            uploads.append((field, source, f"{idempotency_key}:{field}" if idempotency_key else None))
    local = (
        uploads and uploads[0][0] == "training_file" and validation_file is None and validation_split is None
    )
    if limit is not None and (not uploads or uploads[0][0] != "training_file"):
        raise ValueError(
            "max_cost needs the training data itself (a path or a Dataset) to count its tokens; "
            "a file already uploaded cannot be priced here"
        )
    _check_json(body, "the job's settings")  # the body as it will be sent, bar the uploaded ids
    return CreatePlan(body, uploads, idempotency_key, names, max_cost, local_split if local else None)


def _missing(value: object) -> bool:
    return value is None


def _check_validation(validation_file: object, validation_split: object, local_split: object) -> None:
    if validation_file is not None and validation_split is not None:
        raise ValueError(
            "give validation_file or validation_split, not both: the platform holds out a split of the "
            "training data only when no validation file is given"
        )
    if validation_split is not None and (not is_number(validation_split) or not 0 < validation_split <= 0.5):
        raise ValueError(f"validation_split must be a number in (0, 0.5], got {validation_split!r}")
    if local_split is not None and (not is_number(local_split) or not 0 < local_split <= 0.5):
        raise ValueError(f"local_split must be a number in (0, 0.5] or None, got {local_split!r}")


def _check_json(body: object, what: str) -> None:
    """Fail now, before the uploads, on what could not be sent as JSON afterwards."""
    try:
        orjson.dumps(body)
    except TypeError as exc:
        raise ValueError(f"{what} cannot be sent as JSON: {exc}") from None


def _priced(source: UploadInput, body: Mapping[str, Any], max_cost: float) -> CostEstimate:
    """The estimate of training on ``source``; a ``CostLimitError`` when it costs more than allowed."""
    if not (isinstance(source, (str, os.PathLike)) or is_dataset(source)):
        raise ValueError("max_cost needs the training data as a path or a Dataset to count its tokens")
    from ..data import estimate_cost  # local data only: ``import finetune_sdk`` stays light

    model: object = body.get("model")
    estimate = estimate_cost(
        source, n_epochs=epochs_of(body) or guide.N_EPOCHS, model=model if is_str(model) else None
    )
    if estimate.cost is None:
        raise ValueError(
            "max_cost needs a price: set FINETUNE_PRICE_PER_MTOKENS (the price of a million billed tokens) "
            "or FINETUNE_PRICE_TABLE (a TOML or JSON table of prices per model)"
        )
    if estimate.cost > max_cost:
        raise CostLimitError(
            f"training would cost about {estimate.money()}, more than max_cost={max_cost:g}: "
            f"{estimate.summary()}; nothing was uploaded",
            cost=estimate.cost,
            max_cost=max_cost,
            billed_tokens=estimate.billed_tokens,
        )
    return estimate


def _split(source: UploadInput, share: float, folder: str) -> SplitReport | None:
    """Hold out ``share`` of the training data (leak-free, grouped by first prompt) in two files in
    ``folder``; None (and said) when it cannot be split without leaking."""
    if is_dataset(source):
        path = Path(folder) / "dataset.jsonl"
        source.to_jsonl(path)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
    else:
        return None  # bytes or a stream: sent as given, the server holds out its own share
    from ..data import split_file  # local data only: ``import finetune_sdk`` stays light

    stem = path.stem or "train"
    try:
        report = split_file(
            path,
            Path(folder) / f"{stem}-train.jsonl",
            Path(folder) / f"{stem}-validation.jsonl",
            validation_ratio=share,
        )
    except ValueError as exc:
        logger.info(
            "not splitting %s locally (%s): the platform holds out its own share", path, exc, extra=NOTE
        )
        return None
    logger.info(
        "split %s locally without leakage (grouped by first prompt): %d training and %d validation "
        "examples; validation_split= leaves the split to the platform",
        path,
        report.train,
        report.validation,
        extra=NOTE,
    )
    return report


def create_flow(plan: CreatePlan, options: PostOptions) -> Flow[FineTuneJob]:
    """Price the data, split it, upload the files (checked first, sent once), create the job; when the
    create fails, delete what it uploaded if no job can hold it (see :meth:`CreatePlan.orphans`), even
    while being cancelled."""
    # The call's options (timeout, extra_body ...) are refused now too, not after the uploads.
    checked = apply_options(plan.spec({}), options, post=True)
    if options.get("extra_body"):
        _check_json(checked.json, "extra_body")
    uploads = list(plan.uploads)
    for _, source, _ in uploads:
        yield Call(check_upload, (source,), blocking=True)  # every file checked before any is sent
    if plan.max_cost is not None:
        yield Call(_priced, (uploads[0][1], plan.body, plan.max_cost), blocking=True)
    with tempfile.TemporaryDirectory(prefix="finetune-split-") as scratch:
        if plan.local_split is not None:
            split = yield from call(_split, uploads[0][1], plan.local_split, scratch, blocking=True)
            if split is not None:
                uploads = [
                    ("training_file", split.train_path, plan.key("training_file")),
                    ("validation_file", split.validation_path, plan.key("validation_file")),
                ]
        uploaded: dict[str, str] = {}
        made: dict[str, str] = {}
        try:
            for field, source, key in uploads:
                file, new = yield from upload_or_reuse_flow(
                    source,
                    filename=None,
                    purpose="fine-tune",
                    validate=False,
                    on_progress=None,
                    options=PostOptions(idempotency_key=key) if key else PostOptions(),
                    reuse=True,
                )
                uploaded[field] = file.id
                if new:
                    made[field] = file.id
            answer = yield from send(apply_options(plan.spec(uploaded), options, post=True))
            return parse_model(FineTuneJob, answer.payload, response=answer.response)
        except GeneratorExit:
            raise
        except BaseException as exc:
            plan.explain(exc)
            for file_id in plan.orphans(made, len(uploaded) == len(uploads), exc):
                with contextlib.suppress(APIError):  # the create's own error is the one to raise
                    yield from send(RequestSpec("DELETE", f"files/{path_segment(file_id)}"), shielded=True)
            raise
