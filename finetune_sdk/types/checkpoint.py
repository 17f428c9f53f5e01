"""A checkpoint a fine-tuning job saved during training."""

from __future__ import annotations

from .._models import APIModel

__all__ = ["Checkpoint", "CheckpointMetrics"]


class CheckpointMetrics(APIModel):
    """The losses at the step the checkpoint was saved."""

    step: int | None = None
    train_loss: float | None = None
    valid_loss: float | None = None


class Checkpoint(APIModel):
    """One saved checkpoint of a job: a model name to chat with, and the step it was taken at."""

    id: str
    object: str = "fine_tuning.job.checkpoint"
    created_at: int = 0
    fine_tuning_job_id: str | None = None
    fine_tuned_model_checkpoint: str | None = None
    step_number: int | None = None
    metrics: CheckpointMetrics | None = None
