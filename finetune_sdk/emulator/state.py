"""The emulator's memory: uploaded files (on disk, in a folder it owns) and jobs, behind one lock.

A job is stored once, at creation, with its :class:`~.simulate.Plan`; everything a reader sees
(status, progress, events) is computed from the plan and the simulated time elapsed since then, so
the only writes are "add a file", "delete a file", "add a job" and "cancel a job".
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .settings import Settings
from .simulate import FINAL_STATUSES, Plan, events_at, next_change, snapshot
from .text import Example


def new_id(prefix: str) -> str:
    """A fresh object id, e.g. ``file-1a2b…``."""
    return prefix + secrets.token_hex(12)


@dataclass(frozen=True)
class FileRecord:
    id: str
    filename: str
    purpose: str
    bytes: int
    created_at: int
    path: Path

    def render(self) -> dict[str, Any]:
        """The File object of the wire contract."""
        return {
            "id": self.id,
            "object": "file",
            "bytes": self.bytes,
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
        }


@dataclass
class JobRecord:
    id: str
    created_wall: float
    created_clock: float
    fields: dict[str, Any]
    """The job's fixed fields: model, files, hyperparameters, suffix, seed, metadata."""
    fine_tuned_model: str
    plan: Plan
    examples: tuple[Example, ...]
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

    # -- files -------------------------------------------------------------------------------------

    def file_folder(self, file_id: str) -> Path:
        """The folder an upload with this id is written to (``<root>/<file_id>/<filename>``)."""
        return self.root / file_id

    def add_file(self, record: FileRecord) -> None:
        with self._lock:
            self._files[record.id] = record

    def get_file(self, file_id: str) -> FileRecord | None:
        with self._lock:
            return self._files.get(file_id)

    def list_files(self, purpose: str | None = None) -> list[FileRecord]:
        with self._lock:
            return [f for f in self._files.values() if purpose is None or f.purpose == purpose]

    def delete_file(self, file_id: str) -> bool:
        with self._lock:
            record = self._files.pop(file_id, None)
        if record is not None:
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
        """The FineTuneJob object as it is now."""
        with self._lock:
            cancelled_at = job.cancelled_at
        now = snapshot(job.plan, self.elapsed(job), cancelled_at)
        succeeded = now.status == "succeeded"
        return {
            "id": job.id,
            "object": "fine_tuning.job",
            "created_at": int(job.created_wall),
            **job.fields,
            "status": now.status,
            "started_at": self.wall(job, now.started_at),
            "finished_at": self.wall(job, now.finished_at),
            "fine_tuned_model": job.fine_tuned_model if succeeded else None,
            "trained_tokens": job.plan.trained_tokens if succeeded else None,
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
                "data": event.data,
            }
            for index, event in enumerate(events_at(job.plan, self.elapsed(job), cancelled_at))
        ]

    def tuned_model(self, name: str) -> JobRecord | None:
        """The job behind a tuned model's name, if that job has succeeded."""
        with self._lock:
            job = self._jobs.get(self._models.get(name, ""))
            cancelled_at = None if job is None else job.cancelled_at
        if job is None:
            return None
        status = snapshot(job.plan, self.elapsed(job), cancelled_at).status
        return job if status == "succeeded" else None

    # -- helpers for tests -------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """How many files and jobs the emulator holds."""
        with self._lock:
            return {"files": len(self._files), "jobs": len(self._jobs)}

    def close(self) -> None:
        """Forget everything and delete the upload folder."""
        with self._lock:
            self._files.clear()
            self._jobs.clear()
            self._models.clear()
        shutil.rmtree(self.root, ignore_errors=True)
