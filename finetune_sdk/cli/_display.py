"""How a job's progress is shown while the command waits: a rich bar on a terminal (status, steps done of
all, the latest figures, the time so far and the time left), else one line per change."""

from __future__ import annotations

from types import TracebackType

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ..types import FineTuneJob, JobStatus
from ._output import note, safe_markup, stderr

__all__ = ["JobDisplay", "describe"]


def _training(job: FineTuneJob) -> list[str]:
    """``epoch 1/3``, ``loss 1.2345``: the training figures known so far."""
    parts: list[str] = []
    if job.epoch:
        epochs = job.hyperparameters.get("n_epochs")
        parts.append(f"epoch {job.epoch:g}" + (f"/{epochs}" if epochs else ""))
    if job.train_loss is not None:
        parts.append(f"loss {job.train_loss:.4f}")
    return parts


def describe(job: FineTuneJob) -> str:
    """``running, step 12/40, epoch 1/3, loss 1.2345``: where the job is."""
    steps = [f"step {job.step or 0}/{job.total_steps}"] if job.total_steps else []
    return ", ".join([str(job.status), *steps, *_training(job)])


class JobDisplay:
    """Shows each update of a job: a rich bar (status, steps done of all, the latest figures, the time
    so far and the time left) when stderr is a terminal, else a line per change."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self.last: FineTuneJob | None = None
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        console = stderr()
        if console.is_terminal:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[detail]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=console,
            )
            self._task = self._progress.add_task("waiting", total=None, detail="")

    def __enter__(self) -> JobDisplay:
        note(f"waiting for {self.job_id}")
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, job: FineTuneJob) -> None:
        self.last = job
        if self._progress is None or self._task is None:
            note(f"{job.id}: {describe(job)}")
            return
        total = job.total_steps or None
        done = total if job.status is JobStatus.SUCCEEDED else job.step or 0
        detail = ", ".join(_training(job))
        self._progress.update(
            self._task,
            description=safe_markup(str(job.status)),
            total=total,
            completed=done,
            detail=safe_markup(detail),
        )
