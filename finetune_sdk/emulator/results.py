"""What a job leaves behind: a checkpoint at the end of each epoch, and its metrics file.

Both are derived from the job's :class:`~.simulate.Plan`, so they exist exactly when the simulated run
has reached them: a checkpoint once its epoch has ended (a cancelled job keeps those it had), the
metrics file once the job has succeeded.
"""

from __future__ import annotations

from typing import Any

from ..types.metrics import COLUMNS
from .curves import StepMetrics
from .simulate import Plan

METRICS_FILENAME = "step_metrics.csv"
# OpenAI's columns, then the platform's ``epoch`` and ``learning_rate``: the ones the SDK reads first.
METRICS_COLUMNS = COLUMNS
CHECKPOINT_PREFIX = ":ckpt-step-"


def _cell(value: float | int | None) -> str:
    return "" if value is None else repr(value)


def metrics_csv(plan: Plan) -> str:
    """The metrics file: a header, then one row per step (validation figures on the steps that end an
    epoch, empty elsewhere)."""
    lines = [",".join(METRICS_COLUMNS)]
    for s in plan.steps:
        row = (
            s.step,
            s.train_loss,
            s.train_accuracy,
            s.valid_loss,
            s.valid_accuracy,
            s.epoch,
            s.learning_rate,
        )
        lines.append(",".join(map(_cell, row)))
    return "\n".join(lines) + "\n"


def checkpoint_name(fine_tuned_model: str, step: int) -> str:
    """The model name of the checkpoint at ``step``: the tuned model's name and ``:ckpt-step-<n>``."""
    return f"{fine_tuned_model}{CHECKPOINT_PREFIX}{step}"


def checkpoint_metrics(metrics: StepMetrics) -> dict[str, Any]:
    """OpenAI's checkpoint ``metrics``; the validation set is evaluated whole, so the ``full_valid_*``
    figures are the ``valid_*`` ones."""
    found: dict[str, Any] = {
        "step": metrics.step,
        "train_loss": metrics.train_loss,
        "train_mean_token_accuracy": metrics.train_accuracy,
    }
    if metrics.valid_loss is not None:
        found |= {
            "valid_loss": metrics.valid_loss,
            "valid_mean_token_accuracy": metrics.valid_accuracy,
            "full_valid_loss": metrics.valid_loss,
            "full_valid_mean_token_accuracy": metrics.valid_accuracy,
        }
    return found


def render_checkpoint(
    plan: Plan, step: int, *, job_id: str, fine_tuned_model: str, created_at: int
) -> dict[str, Any]:
    """The ``fine_tuning.job.checkpoint`` object of the checkpoint at ``step``."""
    return {
        "object": "fine_tuning.job.checkpoint",
        "id": f"ftckpt-{job_id.removeprefix('ftjob-')}-{step:06d}",
        "created_at": created_at,
        "fine_tuned_model_checkpoint": checkpoint_name(fine_tuned_model, step),
        "fine_tuning_job_id": job_id,
        "step_number": step,
        "metrics": checkpoint_metrics(plan.steps[step - 1]),
    }
