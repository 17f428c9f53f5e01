"""The emulator's memory: uploaded files, jobs, and what jobs leave behind (checkpoints, metrics files).

Files are kept on disk under a temporary folder; jobs are plans (:mod:`.simulate`) read at the current
simulated time. A job's metrics file appears among the files once the job has succeeded.
"""

from __future__ import annotations

import dataclasses
import itertools
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .results import CHECKPOINT_PREFIX, METRICS_FILENAME, metrics_csv, render_checkpoint
from .settings import Settings
from .simulate import FINAL_STATUSES, Plan, Snapshot, events_at, next_change, snapshot, step_data
from .text import Example

RESULTS_PURPOSE = "fine-tune-results"


def new_id(prefix: str) -> str:
    """A fresh object id, e.g. ``file-1a2b…``."""
    return prefix + secrets.token_hex(12)


@dataclass(frozen=True)
class FileRecord:
    """An uploaded file (``path`` on disk) or a result file a job wrote (``content`` in memory)."""

    id: str
    filename: str
    purpose: str
    bytes: int
    created_at: int
    path: Path | None = None
    text: str | None = None
    """The content of a result file."""
    order: int = 0
    """When the record was added, to order files created in the same second."""

    def render(self) -> dict[str, Any]:
        """OpenAI's File object (``status`` is always ``processed``: a file is checked when a job uses it)."""
        return {
            "id": self.id,
            "object": "file",
            "bytes": self.bytes,
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
        }


@dataclass
class JobRecord:
    id: str
    created_wall: float
    created_clock: float
    fields: dict[str, Any]
    """The job's fixed fields: model, files, hyperparameters, method, suffix, seed, metadata ..."""
    fine_tuned_model: str
    plan: Plan
    examples: tuple[Example, ...]
    result_file_id: str
    cancelled_at: float | None = None


class Store:
    """Files and jobs. Thread-safe: every method takes the lock (tests read it from other threads)."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self.root: Path = Path(tempfile.mkdtemp(prefix="finetune-emulator-"))
        self._lock = threading.Lock()
        self._files: dict[str, FileRecord] = {}
        self._jobs: dict[str, JobRecord] = {}
        self._models: dict[str, str] = {}
        self._results_done: set[str] = set()
        """Jobs whose metrics file has been added to the files (or deleted since)."""
        self._order = itertools.count()

    # -- files -------------------------------------------------------------------------------------

    def file_folder(self, file_id: str) -> Path:
        """The folder an upload with this id is written to (``<root>/<file_id>/<filename>``)."""
        return self.root / file_id

    def add_file(self, record: FileRecord) -> FileRecord:
        """Keep ``record`` (stamped with its place in the order of files); return what is kept."""
        with self._lock:
            kept = self._files[record.id] = dataclasses.replace(record, order=next(self._order))
        return kept

    def _add_results(self) -> None:
        """Add the metrics file of every job that has succeeded since the last look (lock held)."""
        for job in self._jobs.values():
            if job.id in self._results_done or self.snapshot(job).status != "succeeded":
                continue
            text = metrics_csv(job.plan)
            created = self.wall(job, job.plan.finished_at) or int(job.created_wall)
            self._files[job.result_file_id] = FileRecord(
                job.result_file_id,
                METRICS_FILENAME,
                RESULTS_PURPOSE,
                len(text.encode()),
                created,
                text=text,
                order=next(self._order),
            )
            self._results_done.add(job.id)

    def get_file(self, file_id: str) -> FileRecord | None:
        with self._lock:
            self._add_results()
            return self._files.get(file_id)

    def list_files(self, purpose: str | None = None) -> list[FileRecord]:
        """Files with ``purpose`` (all if None), oldest first."""
        with self._lock:
            self._add_results()
            found = [f for f in self._files.values() if purpose is None or f.purpose == purpose]
        return sorted(found, key=lambda f: (f.created_at, f.order))

    def delete_file(self, file_id: str) -> bool:
        with self._lock:
            self._add_results()
            record = self._files.pop(file_id, None)
        if record is not None and record.path is not None:
            shutil.rmtree(record.path.parent, ignore_errors=True)
        return record is not None

    # -- jobs --------------------------------------------------------------------------------------

    def add_job(self, record: JobRecord) -> None:
        with self._lock:
            self._jobs[record.id] = record
            self._models[record.fine_tuned_model] = record.id

    def get_job(self, job_id: str) -> JobRecord | None:
        with self._lock:
            return self._jobs.get(job_id)

    def jobs_newest_first(self) -> list[JobRecord]:
        with self._lock:
            return list(reversed(self._jobs.values()))

    def elapsed(self, job: JobRecord) -> float:
        """Simulated seconds since ``job`` was created."""
        return (self.clock() - job.created_clock) * self.settings.time_scale

    def snapshot(self, job: JobRecord) -> Snapshot:
        """``job`` now. Takes no lock: reading ``cancelled_at`` is atomic, and callers may hold it."""
        return snapshot(job.plan, self.elapsed(job), job.cancelled_at)

    def wall(self, job: JobRecord, at: float | None) -> int | None:
        """The Unix time (seconds) of simulated offset ``at`` in ``job``'s life."""
        return None if at is None else int(job.created_wall + at / self.settings.time_scale)

    def cancel(self, job_id: str) -> bool | None:
        """Cancel a job: True if cancelled now, False if it had already ended, None if unknown."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            now = self.elapsed(job)
            if snapshot(job.plan, now, job.cancelled_at).status in FINAL_STATUSES:
                return False
            job.cancelled_at = now
            return True

    def render_job(self, job: JobRecord) -> dict[str, Any]:
        """OpenAI's ``fine_tuning.job`` as it is now, with the platform's progress fields beside it."""
        now = self.snapshot(job)
        succeeded = now.status == "succeeded"
        running = now.status == "running"
        return {
            "id": job.id,
            "object": "fine_tuning.job",
            "created_at": int(job.created_wall),
            "organization_id": self.settings.org,
            **job.fields,
            "status": now.status,
            "started_at": self.wall(job, now.started_at),
            "finished_at": self.wall(job, now.finished_at),
            "estimated_finish": self.wall(job, job.plan.finished_at) if running else None,
            "fine_tuned_model": job.fine_tuned_model if succeeded else None,
            "trained_tokens": job.plan.trained_tokens if succeeded else None,
            "result_files": [job.result_file_id] if succeeded else [],
            "error": job.plan.error if now.status == "failed" else None,
            "step": now.step,
            "total_steps": job.plan.total_steps,
            "epoch": now.epoch,
            "metrics": now.metrics,
        }

    def next_change(self, job: JobRecord) -> float | None:
        """Real seconds until ``job``'s status is next due to change; None once it has ended."""
        with self._lock:
            cancelled_at = job.cancelled_at
        ahead = next_change(job.plan, self.elapsed(job), cancelled_at)
        return None if ahead is None else ahead / self.settings.time_scale

    def render_events(self, job: JobRecord) -> list[dict[str, Any]]:
        """The job's events so far, oldest first (ids sort in the same order)."""
        with self._lock:
            cancelled_at = job.cancelled_at
        tail = job.id.removeprefix("ftjob-")
        return [
            {
                "object": "fine_tuning.job.event",
                "id": f"ftevent-{tail}-{index:06d}",
                "created_at": self.wall(job, event.at),
                "level": event.level,
                "message": event.message,
                "type": "message" if event.data is None else "metrics",
                "data": event.data or {},
            }
            for index, event in enumerate(events_at(job.plan, self.elapsed(job), cancelled_at))
        ]

    def render_checkpoints(self, job: JobRecord) -> list[dict[str, Any]]:
        """The checkpoints the job has saved so far (one per finished epoch), newest first."""
        step = self.snapshot(job).step
        return [
            render_checkpoint(
                job.plan,
                end,
                job_id=job.id,
                fine_tuned_model=job.fine_tuned_model,
                created_at=self.wall(job, job.plan.step_time(end)) or int(job.created_wall),
            )
            for end in reversed(job.plan.epoch_ends(step))
        ]

    def step_metrics(self, job: JobRecord) -> list[dict[str, Any]]:
        """The metrics of every step run so far (the event ``data`` of each), oldest first."""
        step = self.snapshot(job).step
        return [step_data(m, job.plan.total_steps) for m in job.plan.steps[:step]]

    def tuned_model(self, name: str) -> JobRecord | None:
        """The job behind a tuned model's name (or one of its checkpoints' names), if it is ready: the
        job has succeeded, or the checkpoint has been saved."""
        base, _, step = name.rpartition(CHECKPOINT_PREFIX)
        with self._lock:
            job = self._jobs.get(self._models.get(base if base else name, ""))
        if job is None:
            return None
        now = self.snapshot(job)
        if base:
            return job if step.isdigit() and int(step) in job.plan.epoch_ends(now.step) else None
        return job if now.status == "succeeded" else None

    # -- helpers for tests -------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """How many uploaded files and jobs the emulator holds."""
        with self._lock:
            uploads = sum(1 for f in self._files.values() if f.path is not None)
            return {"files": uploads, "jobs": len(self._jobs)}

    def close(self) -> None:
        """Forget everything and delete the upload folder."""
        with self._lock:
            self._files.clear()
            self._jobs.clear()
            self._models.clear()
            self._results_done.clear()
        shutil.rmtree(self.root, ignore_errors=True)
