"""Typed models of what the platform sends back: files, fine-tuning jobs, their events, pages."""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator
from typing_extensions import Self

from .._models import APIModel
from ..hyperparameters import Hyperparameters
from .checkpoint import Checkpoint, CheckpointMetrics

__all__ = [
    "BaseModelName",
    "Checkpoint",
    "CheckpointMetrics",
    "EventLevel",
    "FileDeleted",
    "FileObject",
    "FineTuneJob",
    "JobErrorDetail",
    "JobEvent",
    "JobEventData",
    "JobHyperparameters",
    "JobMetrics",
    "JobStatus",
    "Page",
    "SucceededJob",
]

#: The base models the platform tunes today; any other string is accepted too, as the list grows.
BaseModelName = Literal[
    "Qwen/Qwen2.5-7B-Instruct",
    "Qwen/Qwen2.5-14B-Instruct",
    "Qwen/Qwen2.5-32B-Instruct",
    "Qwen/Qwen2.5-72B-Instruct",
]

T = TypeVar("T")


def _whole_seconds(value: object) -> object:
    # Some servers send fractional timestamps; the contract's are whole Unix seconds.
    return int(value) if isinstance(value, float) and math.isfinite(value) else value


#: Unix seconds; a fractional value is truncated.
Timestamp = Annotated[int, BeforeValidator(_whole_seconds)]


class _OpenEnum(str, enum.Enum):
    """A string enum that also accepts values this SDK version does not know yet (a platform adds
    statuses and levels over time): such a value is kept rather than failing to read the object."""

    @classmethod
    def _missing_(cls, value: object) -> Self | None:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value.upper()
        member._value_ = value
        return member

    def __str__(self) -> str:
        return str(self.value)


class JobStatus(_OpenEnum):
    """Where a job is in its life: ``validating_files -> queued -> running -> succeeded | failed |
    cancelled``. A status the platform adds later is still accepted (it is simply not final)."""

    VALIDATING_FILES = "validating_files"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        """True for ``succeeded``, ``failed`` and ``cancelled``: the job will not change again."""
        return self in _FINAL


class EventLevel(_OpenEnum):
    """How much an event matters: ``info``, ``warning`` or ``error``; a level the platform adds later is
    still accepted."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


_FINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


class FileObject(APIModel):
    """An uploaded file."""

    id: str
    object: str = "file"
    bytes: int = 0
    created_at: Timestamp = 0
    filename: str = ""
    purpose: str = "fine-tune"


class FileDeleted(APIModel):
    """The answer to a file deletion."""

    id: str
    object: str = "file"
    deleted: bool


class JobErrorDetail(APIModel):
    """Why a job failed: a stable ``code`` (``invalid_training_file`` ...) and a readable message."""

    code: str | None = None
    message: str | None = None
    param: str | None = None


class JobMetrics(APIModel):
    """The latest training metrics of a job."""

    step: int | None = None
    epoch: float | None = None
    train_loss: float | None = None
    valid_loss: float | None = None


class JobHyperparameters(Hyperparameters):
    """The hyperparameters a job reports: a :class:`~finetune_sdk.Hyperparameters` read leniently (the
    platform's values are kept as sent, keys it adds later are kept in ``model_extra``). Subscripting
    and ``get`` work as on the dict earlier versions returned."""

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True, extra="allow", protected_namespaces=())
    _request_id: str | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _check_ranges(cls, data: Any) -> Any:
        return data  # what the platform says it used, even outside today's ranges

    def __getitem__(self, key: str) -> Any:
        values = self.model_dump()
        if key not in values:
            raise KeyError(key)
        return values[key]

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key`` (a field or a key the platform added), or ``default``."""
        return self.model_dump().get(key, default)

    def __eq__(self, other: object) -> bool:
        # Equal to the dict of the same values, as the dict earlier versions returned was.
        if isinstance(other, Mapping):
            return self.model_dump() == dict(other)  # pyright: ignore[reportUnknownArgumentType]
        return super().__eq__(other)

    __hash__ = Hyperparameters.__hash__

    def __bool__(self) -> bool:
        # Falsy when the platform reported none (the defaults then stand in), like the empty dict was.
        return bool(self.model_fields_set or self.model_extra)

    def __str__(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.model_dump().items())


class FineTuneJob(APIModel):
    """A fine-tuning job as the platform reports it.

    ``fine_tuned_model`` is the identifier to chat with once ``status`` is ``succeeded``.
    """

    id: str
    object: str = "fine_tuning.job"
    model: str
    status: JobStatus
    created_at: Timestamp
    started_at: Timestamp | None = None
    finished_at: Timestamp | None = None
    training_file: str | None = None
    validation_file: str | None = None
    validation_split: float | None = None
    hyperparameters: JobHyperparameters = Field(default_factory=JobHyperparameters)
    suffix: str | None = None
    seed: int | None = None
    metadata: dict[str, Any] | None = None
    fine_tuned_model: str | None = None
    trained_tokens: int | None = None
    error: JobErrorDetail | None = None
    step: int | None = None
    total_steps: int | None = None
    epoch: float | None = None
    metrics: JobMetrics | None = None

    @property
    def is_final(self) -> bool:
        """True once the job has succeeded, failed or been cancelled."""
        return self.status.is_final

    @property
    def progress(self) -> float | None:
        """Training progress from 0.0 to 1.0 (1.0 once succeeded), or None before steps are known."""
        if self.status is JobStatus.SUCCEEDED:
            return 1.0
        if not self.total_steps or self.step is None:
            return None
        return max(0.0, min(1.0, self.step / self.total_steps))

    def elapsed(self, *, now: float | None = None) -> float | None:
        """Seconds the job has been running (until it finished, if it has), or None if not started."""
        if self.started_at is None:
            return None
        end = self.finished_at if self.finished_at is not None else (time.time() if now is None else now)
        return max(0.0, end - self.started_at)

    @property
    def train_loss(self) -> float | None:
        """The latest training loss, if any metric has been reported."""
        return self.metrics.train_loss if self.metrics else None

    @property
    def valid_loss(self) -> float | None:
        """The latest validation loss, if any metric has been reported."""
        return self.metrics.valid_loss if self.metrics else None


class SucceededJob(FineTuneJob):
    """A job that succeeded, as :meth:`~finetune_sdk.resources.jobs.Jobs.wait` returns it: its
    ``fine_tuned_model`` is the model name to chat with (a ``str``, never None)."""

    status: Literal[JobStatus.SUCCEEDED] = JobStatus.SUCCEEDED  # pyright: ignore[reportIncompatibleVariableOverride]
    fine_tuned_model: str  # pyright: ignore[reportIncompatibleVariableOverride, reportGeneralTypeIssues]


class JobEventData(APIModel):
    """The metrics attached to a training-step event."""

    step: int | None = None
    epoch: float | None = None
    train_loss: float | None = None
    valid_loss: float | None = None


class JobEvent(APIModel):
    """One line of a job's log: a status change or a training step with its losses."""

    id: str
    object: str = "fine_tuning.job.event"
    created_at: Timestamp
    level: EventLevel = EventLevel.INFO
    message: str
    data: JobEventData | None = None


class Page(BaseModel, Generic[T]):
    """One page of a list answer: ``data`` and whether more follows (``has_more``)."""

    model_config: ClassVar[ConfigDict] = APIModel.model_config

    data: list[T]
    has_more: bool = False
    object: str = "list"
