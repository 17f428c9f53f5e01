"""Typed models of what the platform sends back, one concept per module: files (:mod:`.file`), jobs
(:mod:`.job`, their hyperparameters and method), events (:mod:`.event`), checkpoints, list pages and the
per-step metrics history (:mod:`.metrics`). Every name is re-exported here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import ModuleDir, ModuleGetattr, module_hooks

if TYPE_CHECKING:
    from ._common import Timestamp
    from .checkpoint import Checkpoint, CheckpointMetrics
    from .event import EventLevel, EventType, JobEvent, JobEventData
    from .file import FileDeleted, FileObject, FileStatus
    from .job import BaseModelName, FineTuneJob, JobErrorDetail, JobMetrics, JobStatus, SucceededJob
    from .job_hyperparameters import JobHyperparameters
    from .method import (
        DpoHyperparameters,
        DpoMethod,
        Integration,
        JobMethod,
        MethodHyperparameters,
        MethodType,
        ReinforcementHyperparameters,
        ReinforcementMethod,
        SupervisedMethod,
        WandbIntegration,
    )
    from .metrics import MetricsHistory, MetricsRow
    from .page import Page

# Each name loads from its module on first use (see finetune_sdk._lazy; the imports above say the same):
# reading a job loads neither the checkpoint, the event nor the metrics models.
_EXPORTS = {
    "._common": "Timestamp",
    ".checkpoint": "Checkpoint CheckpointMetrics",
    ".event": "EventLevel EventType JobEvent JobEventData",
    ".file": "FileDeleted FileObject FileStatus",
    ".job": "BaseModelName FineTuneJob JobErrorDetail JobMetrics JobStatus SucceededJob",
    ".job_hyperparameters": "JobHyperparameters",
    ".method": (
        "DpoHyperparameters DpoMethod Integration JobMethod MethodHyperparameters MethodType "
        "ReinforcementHyperparameters ReinforcementMethod SupervisedMethod WandbIntegration"
    ),
    ".metrics": "MetricsHistory MetricsRow",
    ".page": "Page",
}

__all__ = [
    "BaseModelName",
    "Checkpoint",
    "CheckpointMetrics",
    "DpoHyperparameters",
    "DpoMethod",
    "EventLevel",
    "EventType",
    "FileDeleted",
    "FileObject",
    "FileStatus",
    "FineTuneJob",
    "Integration",
    "JobErrorDetail",
    "JobEvent",
    "JobEventData",
    "JobHyperparameters",
    "JobMethod",
    "JobMetrics",
    "JobStatus",
    "MethodHyperparameters",
    "MethodType",
    "MetricsHistory",
    "MetricsRow",
    "Page",
    "ReinforcementHyperparameters",
    "ReinforcementMethod",
    "SucceededJob",
    "SupervisedMethod",
    "Timestamp",
    "WandbIntegration",
]

__getattr__: ModuleGetattr
__dir__: ModuleDir
__getattr__, __dir__ = module_hooks(__name__, _EXPORTS, globals(), __all__)
