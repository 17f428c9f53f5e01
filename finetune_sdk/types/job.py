"""Fine-tuning jobs: :class:`FineTuneJob`, its :class:`JobStatus`, error and latest metrics."""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import Field

from .._models import APIModel, APIPart
from ._common import Lenient, OpenEnum, Timestamp
from .job_hyperparameters import JobHyperparameters
from .method import Integration, JobMethod

__all__ = ["BaseModelName", "FineTuneJob", "JobErrorDetail", "JobMetrics", "JobStatus", "SucceededJob"]

#: The base models the platform tunes today; any other string is accepted too, as the list grows.
BaseModelName = Literal[
    "Qwen/Qwen2.5-7B-Instruct",
    "Qwen/Qwen2.5-14B-Instruct",
    "Qwen/Qwen2.5-32B-Instruct",
    "Qwen/Qwen2.5-72B-Instruct",
]


class JobStatus(OpenEnum):
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


_FINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


class JobErrorDetail(APIPart):
    """Why a job failed: a stable ``code`` (``invalid_training_file`` ...), a readable message, and the
    ``param`` at fault (``training_file``, ``validation_file``) or None."""

    code: str | None = None
    message: str | None = None
    param: str | None = None


class JobMetrics(APIPart):
    """The latest training metrics of a job (the platform's addition to OpenAI's job)."""

    step: Lenient[int] = None
    epoch: Lenient[float] = None
    train_loss: Lenient[float] = None
    valid_loss: Lenient[float] = None
    train_mean_token_accuracy: Lenient[float] = None
    valid_mean_token_accuracy: Lenient[float] = None
    learning_rate: Lenient[float] = None


class FineTuneJob(APIModel):
    """A fine-tuning job as the platform reports it: OpenAI's ``fine_tuning.job`` with the platform's
    additions beside it (``started_at``, ``validation_split``, ``suffix``, progress ``step`` /
    ``total_steps`` / ``epoch`` and the latest ``metrics``; a value of another kind under one of those
    names, from another server, reads as None).

    ``fine_tuned_model`` is the identifier to chat with once ``status`` is ``succeeded``;
    ``result_files`` names the job's metrics file (one row per step) once it has succeeded.
    """

    id: str
    object: str = "fine_tuning.job"
    model: str
    status: JobStatus
    created_at: Timestamp
    finished_at: Timestamp | None = None
    training_file: str | None = None
    validation_file: str | None = None
    hyperparameters: JobHyperparameters = Field(default_factory=JobHyperparameters)
    method: JobMethod | None = None
    integrations: list[Integration] | None = None
    seed: int | None = None
    metadata: dict[str, Any] | None = None
    organization_id: str | None = None
    fine_tuned_model: str | None = None
    trained_tokens: int | None = None
    result_files: list[str] = Field(default_factory=list)
    estimated_finish: Timestamp | None = None
    error: JobErrorDetail | None = None
    # The platform's additions:
    started_at: Lenient[Timestamp] = None
    validation_split: Lenient[float] = None
    suffix: Lenient[str] = None
    step: Lenient[int] = None
    total_steps: Lenient[int] = None
    epoch: Lenient[float] = None
    metrics: Lenient[JobMetrics] = None

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

    @property
    def metrics_file(self) -> str | None:
        """The id of the job's metrics file (the first of ``result_files``), once it has one."""
        return self.result_files[0] if self.result_files else None


class SucceededJob(FineTuneJob):
    """A job that succeeded, as :meth:`~finetune_sdk.resources.jobs.Jobs.wait` returns it: its
    ``fine_tuned_model`` is the model name to chat with (a ``str``, never None)."""

    status: Literal[JobStatus.SUCCEEDED] = JobStatus.SUCCEEDED  # pyright: ignore[reportIncompatibleVariableOverride]
    fine_tuned_model: str  # pyright: ignore[reportIncompatibleVariableOverride, reportGeneralTypeIssues]
