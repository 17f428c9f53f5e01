"""Waiting for a job in the terminal: a live bar on stderr (or one line per change in a log), and a
clean Ctrl-C or ``--timeout`` that leaves the job running and says how to resume."""

from __future__ import annotations

import click

from .._client import Client
from ..errors import WaitTimeoutError
from ..types import FineTuneJob
from ._display import JobDisplay, describe
from ._output import INTERRUPTED, TIMED_OUT, error, note, stderr

__all__ = ["chart_display", "wait_for"]


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
