"""Waiting for a job in the terminal: a live bar on stderr (or one line per change in a log), and a
clean Ctrl-C or ``--timeout`` that leaves the job running and says how to resume."""

from __future__ import annotations

from types import TracebackType

import click
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

from .._client import Client
from ..errors import WaitTimeoutError
from ..types import FineTuneJob, JobStatus
from ._output import error, note, safe_markup, stderr

__all__ = ["INTERRUPTED", "TIMED_OUT", "JobDisplay", "chart_display", "describe", "wait_for"]

INTERRUPTED = 130
"""The exit status of a command stopped by Ctrl-C (128 + SIGINT), as shells report it."""

TIMED_OUT = 124
"""The exit status of a wait that gave up after ``--timeout`` (the job still runs), as ``timeout(1)``."""


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


def chart_display(client: Client, job_id: str) -> JobDisplay:
    """The bar with the live loss chart under it on a terminal; elsewhere the line per change."""
    if not stderr().is_terminal:
        return JobDisplay(job_id)
    from ._live import LiveJobDisplay  # rich.live and the chart only when drawn

    return LiveJobDisplay(client, job_id)


def wait_for(
    client: Client,
    job_id: str,
    *,
    timeout: float | None,
    poll_interval: float | None,
    display: JobDisplay | None = None,
    resume: str | None = None,
) -> FineTuneJob:
    """Wait for the job to succeed, showing its progress on ``display`` (default: the bar).

    Ctrl-C exits 130 and ``timeout`` running out exits 124; both leave the job running and say how to
    resume from the shell (``resume``: the command, by default ``finetune jobs wait JOB``).
    """
    display = display if display is not None else JobDisplay(job_id)
    try:
        with display:
            return client.jobs.wait(
                job_id, timeout=timeout, poll_interval=poll_interval, on_update=display.update
            )
    except KeyboardInterrupt:
        status = INTERRUPTED
        note(f"stopped waiting; job {job_id} keeps running on the platform{_last_seen(display.last)}.")
    except WaitTimeoutError as exc:
        status = TIMED_OUT
        error(
            f"stopped waiting for job {job_id} after {exc.timeout:g}s{_last_seen(exc.job or display.last)};"
            " it keeps running on the platform"
        )
    note(f"resume with: {resume or f'finetune jobs wait {job_id}'}")
    raise click.exceptions.Exit(status)


def _last_seen(job: FineTuneJob | None) -> str:
    return f" (last seen: {describe(job)})" if job is not None else ""
