"""Typed models of what the platform sends back, one concept per module: files (:mod:`.file`), jobs
(:mod:`.job`, their hyperparameters and method), events (:mod:`.event`), checkpoints, list pages and the
per-step metrics history (:mod:`.metrics`). Every name is re-exported here."""

from __future__ import annotations

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
