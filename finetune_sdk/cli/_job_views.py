"""``finetune jobs watch|plot|report``: a job's training as a live chart, an SVG file and an HTML page.

The charts and the report are imported inside each command, so ``finetune --help`` stays quick.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click
import orjson

from ..types import FineTuneJob, MetricsHistory
from ._display import JobDisplay
from ._output import DATASET_FILE, CliError, InputFile, echo, note
from ._polling import WATCH_POLL
from ._progress import chart_display, wait_for
from ._state import State, pass_state

FC = TypeVar("FC", bound=Callable[..., object])

__all__ = ["plot", "report", "watch"]

_OUTPUT = click.Path(dir_okay=False, writable=True, path_type=Path)


def _ending(what: str, *suffixes: str) -> Callable[[click.Context, click.Parameter, Path], Path]:
    """Refuses an output whose name does not say what it holds (an SVG written to ``loss.txt`` would not
    open as a picture), as ``compare --report`` does."""

    def check(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
        if value.suffix.lower() not in suffixes:
            names = " or ".join(f"FILE{suffix}" for suffix in suffixes)
            raise click.BadParameter(f"{value}: {what} is {names}")
        return value

    return check


def _output(what: str, *suffixes: str, help: str) -> Callable[[FC], FC]:
    """``-o/--output``: the file to write, its name ending in one of ``suffixes`` (see :func:`_ending`)."""
    return click.option(
        "-o",
        "--output",
        type=_OUTPUT,
        required=True,
        callback=_ending(what, *suffixes),
        metavar=f"FILE{suffixes[0]}",
        help=help,
    )


def progress_line(job: FineTuneJob) -> str:
    """One JSON object of where the job is (the same keys on every line)."""
    fields = {
        "id": job.id,
        "status": str(job.status),
        "step": job.step,
        "total_steps": job.total_steps,
        "epoch": job.epoch,
        "train_loss": job.train_loss,
        "valid_loss": job.valid_loss,
        "fine_tuned_model": job.fine_tuned_model,
        "error": job.error.message if job.error is not None else None,
    }
    return orjson.dumps(fields).decode()


class JsonLinesDisplay(JobDisplay):
    """Each update as a line of JSON on stdout (``watch --json``): nothing drawn."""

    def __init__(self, job_id: str) -> None:
        super().__init__(job_id)
        self._progress = None  # never a bar, even on a terminal

    def update(self, job: FineTuneJob) -> None:
        self.last = job
        echo(progress_line(job))


@click.command()
@click.argument("job_id")
@WATCH_POLL
@click.option("--json", "as_json", is_flag=True, help="One JSON object per update on stdout, nothing drawn.")
@pass_state
def watch(state: State, job_id: str, poll_interval: float | None, as_json: bool) -> None:
    """Watch a job train: the progress bar (status, step of all steps, ETA) and the live loss chart.

    The chart shows the train loss at each step and the validation loss where measured, redrawn as the
    steps come; the tuned model's name is printed when the job succeeds, and a failed job is an error
    (exit 1). Not on a terminal, a line per change on stderr instead; with --json, one JSON object per
    update on stdout. Ctrl-C stops watching (exit 130) and leaves the job running.
    """
    client = state.client()
    display = JsonLinesDisplay(job_id) if as_json else chart_display(client, job_id)
    job = wait_for(
        client,
        job_id,
        timeout=None,
        poll_interval=poll_interval,
        display=display,
        resume=f"finetune jobs watch {job_id}",
    )
    if not as_json:
        echo(job.fine_tuned_model or "")


def _history(state: State, job_id: str, metrics_file: Path | None) -> MetricsHistory:
    """The job's metrics: from ``metrics_file`` (a CSV as ``to_csv()`` writes it) or from the server."""
    if metrics_file is None:
        return state.client().jobs.metrics(job_id)
    try:
        history = MetricsHistory.from_csv(metrics_file.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise CliError(f"{metrics_file} is not a metrics CSV: {exc}") from None
    if not len(history):  # an empty chart would look like a job that never trained
        raise CliError(f"{metrics_file} holds no metrics rows: nothing to draw")
    return history


def _written(what: str, path: Path) -> None:
    if not path.absolute().parent.is_dir():
        raise CliError(f"cannot write {what} to {path}: No such file or directory")


@click.command()
@click.argument("job_id")
@_output("the chart", ".svg", help="The SVG file to write.")
@click.option(
    "--metrics-file",
    type=InputFile("a metrics CSV"),
    metavar="FILE",
    help="Draw this metrics CSV (as MetricsHistory.to_csv() writes it) instead of asking the server.",
)
@click.option("--title", help="The chart's title (default: Loss of JOB_ID).")
@click.option("--width", type=click.IntRange(min=200), default=720, show_default=True, help="Pixels.")
@click.option("--height", type=click.IntRange(min=150), default=360, show_default=True, help="Pixels.")
@pass_state
def plot(
    state: State,
    *,
    job_id: str,
    output: Path,
    metrics_file: Path | None,
    title: str | None,
    width: int,
    height: int,
) -> None:
    """Draw the job's loss curves as an SVG file: train loss per step, validation loss where measured,
    the learning rate on its own axis, epoch ends dotted. Written atomically; never over the input."""
    from .._atomic import check_outputs
    from ..evaluate._loss_chart import save_loss_chart

    inputs = [("the metrics file", metrics_file)] if metrics_file is not None else []
    check_outputs([("the chart", output)], inputs)
    _written("the chart", output)
    history = _history(state, job_id, metrics_file)
    save_loss_chart(history, output, title=title or f"Loss of {job_id}", width=width, height=height)
    note(f"{len(history)} steps drawn")
    echo(str(output))


@click.command()
@click.argument("job_id")
@_output("the page", ".html", ".htm", help="The page to write.")
@click.option(
    "--data",
    type=DATASET_FILE,
    metavar="FILE",
    help="The training data (.jsonl): adds its examples, tokens and billed tokens.",
)
@click.option(
    "--price",
    type=click.FloatRange(min=0),
    metavar="PER_1M_TOKENS",
    help="With --data: the price of a million billed tokens, for a cost line.",
)
@click.option("--title", help="The page's title (default: Fine-tuning job JOB_ID).")
@pass_state
def report(
    state: State, *, job_id: str, output: Path, data: Path | None, price: float | None, title: str | None
) -> None:
    """Write the job's page: loss curves, hyperparameters, data figures and timeline (one HTML file, no
    script, nothing fetched). Written atomically; never over the data."""
    from .._atomic import check_outputs
    from ..data import estimate_cost
    from ..evaluate._job_report import JobReport
    from ..tuning._report import data_figures, is_emulated

    check_outputs([("the report", output)], [("the data", data)] if data is not None else [])
    _written("the report", output)
    client = state.client()
    job = client.jobs.retrieve(job_id)
    figures = None
    if data is not None:
        epochs = job.hyperparameters.n_epochs
        cost = estimate_cost(
            data, n_epochs=epochs if isinstance(epochs, int) else 3, model=job.model, price_per_mtokens=price
        )
        figures = data_figures(cost)
    page = JobReport(
        job,
        client.jobs.metrics(job),
        events=list(client.jobs.events(job)),
        data=figures,
        title=title,
        emulated=is_emulated(client, job),
    )
    page.save(output)
    echo(str(output))
