"""A checkpoint a fine-tuning job saved during training."""

from __future__ import annotations

from .._models import APIModel, APIPart
from ._common import Number, Timestamp

__all__ = ["Checkpoint", "CheckpointMetrics"]


class CheckpointMetrics(APIPart):
    """The metrics at the step the checkpoint was saved. The schema calls each a number: ``step`` is
    read as sent (an int, or a float such as ``88.0``)."""

    step: Number | None = None
    train_loss: float | None = None
    train_mean_token_accuracy: float | None = None
    valid_loss: float | None = None
    valid_mean_token_accuracy: float | None = None
    full_valid_loss: float | None = None
    full_valid_mean_token_accuracy: float | None = None


class Checkpoint(APIModel):
    """One saved checkpoint of a job: a model name to chat with, and the step it was taken at."""

    id: str
    object: str = "fine_tuning.job.checkpoint"
    created_at: Timestamp = 0
    fine_tuning_job_id: str | None = None
    fine_tuned_model_checkpoint: str | None = None
    step_number: int | None = None
    metrics: CheckpointMetrics | None = None
