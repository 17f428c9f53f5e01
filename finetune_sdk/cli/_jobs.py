"""``finetune jobs create|list|get|cancel|events|wait``."""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable
from typing import TypeVar, get_args

import click
import orjson
import pydantic

from .._many import JobOutcome
from ..errors import WaitTimeoutError
from ..hyperparameters import Hyperparameters, PresetName
from ..types import FineTuneJob, JobEvent
from ._options import BASE_MODEL
from ._output import (
    INTERRUPTED,
    TIMED_OUT,
    CliError,
    columns,
    describe_value,
    echo,
    json_option,
    key_values,
    note,
    print_json,
    when,
)
from ._polling import FOLLOW_POLL, POLL
from ._progress import chart_display, wait_for
from ._state import State, pass_state

__all__ = ["hyperparameters_of", "jobs", "parse_settings", "settings_options"]

FC = TypeVar("FC", bound=Callable[..., object])


def _number(raw: str, kind: object) -> object:
    """``raw`` as the field's type (an int field also tries float, so ``2.5`` is refused by its range
    message); a string that is no number is passed on for Hyperparameters to name the field."""
    for convert in (int, float) if kind is int else (float,):
        try:
            return convert(raw)
        except ValueError:
            continue
    return raw


def parse_settings(items: Iterable[str]) -> dict[str, object]:
    """``--set key=value`` options as typed hyperparameter overrides."""
    fields = Hyperparameters.model_fields
    overrides: dict[str, object] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not key=value", param_hint="'--set'")
        if key not in fields:
            raise CliError(f"unknown hyperparameter {key!r}: choose one of {', '.join(fields)}")
        overrides[key] = _number(raw.strip(), fields[key].annotation)
    return overrides


def settings_options(command: FC) -> FC:
    """``--preset``, ``--set KEY=VALUE``, ``--suffix`` and ``--seed``: the job's settings (``jobs create``
    and ``tune``); :func:`hyperparameters_of` makes the hyperparameters of the first two."""
    options = (
        click.option(
            "--preset",
            type=click.Choice(get_args(PresetName)),
            help="Start from the guide's preset (default: standard).",
        ),
        click.option(
            "--set",
            "settings",
            multiple=True,
            metavar="KEY=VALUE",
            help="Override one hyperparameter, e.g. --set n_epochs=2 (repeatable).",
        ),
        click.option("--suffix", help="Part of the tuned model's name."),
        click.option("--seed", type=int, help="Makes the run reproducible."),
    )
    for option in reversed(options):
        command = option(command)
    return command


def hyperparameters_of(preset: str | None, settings: tuple[str, ...]) -> Hyperparameters | None:
    """The preset (``standard`` by default) with the ``--set`` overrides; None when neither was given."""
    if preset is None and not settings:
        return None
    overrides = parse_settings(settings)
    try:
        return Hyperparameters.preset(typing.cast(PresetName, preset or "standard"), **overrides)
    except pydantic.ValidationError as exc:
        raise CliError("; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())) from None


def _job_lines(job: FineTuneJob) -> list[tuple[str, object]]:
    steps = f"{job.step or 0}/{job.total_steps}" if job.total_steps else None
    return [
        ("id", job.id),
        ("status", job.status),
        ("model", job.model),
        ("fine_tuned_model", job.fine_tuned_model),
        ("created", when(job.created_at)),
        ("started", when(job.started_at)),
        ("finished", when(job.finished_at)),
        ("training_file", job.training_file),
        ("validation_file", job.validation_file),
        ("validation_split", job.validation_split),
        ("hyperparameters", describe_value(job.hyperparameters) if job.hyperparameters else None),
        ("suffix", job.suffix),
        ("seed", job.seed),
        ("step", steps),
        ("epoch", job.epoch),
        ("train_loss", job.train_loss),
        ("valid_loss", job.valid_loss),
        ("trained_tokens", job.trained_tokens),
        ("error", f"{job.error.code}: {job.error.message}" if job.error else None),
    ]


def _show_job(job: FineTuneJob, as_json: bool) -> None:
    if as_json:
        print_json(job)
    else:
        key_values(_job_lines(job))


def _finish(job: FineTuneJob, as_json: bool) -> None:
    """What a successful wait prints: the tuned model's name (or the whole job as JSON)."""
    if as_json:
        print_json(job)
    else:
        echo(job.fine_tuned_model or "")


def _event_row(event: JobEvent) -> tuple[object, ...]:
    return (when(event.created_at), event.level, event.message)


@click.group()
def jobs() -> None:
    """Fine-tuning jobs: create, list, get, cancel, events, wait, watch, plot, report."""


@jobs.command()
@BASE_MODEL
@click.option(
    "--training-file",
    "-t",
    required=True,
    metavar="ID|PATH",
    help="A file id, or a .jsonl file to check and upload.",
)
@click.option("--validation-file", metavar="ID|PATH", help="A file id, or a .jsonl file to upload.")
@click.option(
    "--validation-split",
    type=float,
    metavar="X",
    help="Hold out this share of the training data instead (0 < X <= 0.5).",
)
@settings_options
@click.option(
    "--wait",
    is_flag=True,
    help="Wait for the job and print the tuned model's name (on a terminal: the live loss chart).",
)
@POLL
@json_option
@pass_state
def create(
    state: State,
    *,
    model: str,
    training_file: str,
    validation_file: str | None,
    validation_split: float | None,
    preset: str | None,
    settings: tuple[str, ...],
    suffix: str | None,
    seed: int | None,
    wait: bool,
    poll_interval: float | None,
    as_json: bool,
) -> None:
    """Create a job and print its id (paths are checked and uploaded first)."""
    hyperparameters = hyperparameters_of(preset, settings)
    client = state.client()
    job = client.jobs.create(
        model=model,
        training_file=training_file,
        validation_file=validation_file,
        validation_split=validation_split,
        hyperparameters=hyperparameters,
        suffix=suffix,
        seed=seed,
    )
    if not as_json:
        echo(job.id)  # at once: a script has the id even if the wait is interrupted
    if wait:
        display = chart_display(client, job.id)
        _finish(wait_for(client, job.id, timeout=None, poll_interval=poll_interval, display=display), as_json)
    elif as_json:
        print_json(job)


@jobs.command("get")
@click.argument("job_id")
@json_option
@pass_state
def get_job(state: State, job_id: str, as_json: bool) -> None:
    """Show one job as key: value lines."""
    _show_job(state.client().jobs.retrieve(job_id), as_json)


@jobs.command()
@click.argument("job_id")
@json_option
@pass_state
def cancel(state: State, job_id: str, as_json: bool) -> None:
    """Cancel a job that has not finished."""
    job = state.client().jobs.cancel(job_id)
    if as_json:
        print_json(job)
    else:
        columns([(job.id, job.status)])


@jobs.command()
@click.argument("job_id")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events until the job ends.")
@FOLLOW_POLL
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_state
def events(state: State, job_id: str, follow: bool, poll_interval: float | None, as_json: bool) -> None:
    """The job's events, oldest first: time, level, message."""
    client = state.client()
    found = client.jobs.follow(job_id, poll_interval=poll_interval) if follow else client.jobs.events(job_id)
    for event in found:
        echo(event.model_dump_json() if as_json else "  ".join(str(c) for c in _event_row(event)))


@jobs.command()
@click.argument("job_ids", nargs=-1, required=True, metavar="JOB_ID...")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Give up after this long (exit 124; the jobs keep running).",
)
@POLL
@json_option
@pass_state
def wait(
    state: State, job_ids: tuple[str, ...], timeout: float | None, poll_interval: float | None, as_json: bool
) -> None:
    """Wait for a job with a live progress bar; print the tuned model's name.

    With several ids, wait for all of them at once: a line on stderr as each ends, then one summary
    line per job on stdout (id, status, tuned model or reason); exit 0 when all succeeded, 1 when any
    failed, else 124 when the timeout ran out. Ctrl-C stops waiting (exit 130) and leaves the jobs
    running, as does --timeout (exit 124); both print the command that resumes the wait.
    """
    if len(job_ids) == 1:
        _finish(wait_for(state.client(), job_ids[0], timeout=timeout, poll_interval=poll_interval), as_json)
        return
    raise click.exceptions.Exit(_wait_many(state, job_ids, timeout, poll_interval, as_json))


def _outcome_row(outcome: JobOutcome, timeout: float | None) -> tuple[str, str, str]:
    """``(id, status, tuned model or reason)`` of one job of ``jobs wait``."""
    status = str(outcome.job.status) if outcome.job is not None else "unknown"
    if outcome.error is None:
        return outcome.job_id, status, (outcome.job.fine_tuned_model if outcome.job else None) or ""
    if isinstance(outcome.error, WaitTimeoutError):
        return outcome.job_id, status, f"still going: stopped waiting after {timeout or 0:g}s"
    return outcome.job_id, status, str(outcome.error)


def _wait_many(
    state: State, job_ids: tuple[str, ...], timeout: float | None, poll_interval: float | None, as_json: bool
) -> int:
    found: list[JobOutcome] = []
    try:
        with state.client().jobs.as_completed(job_ids, timeout=timeout, poll_interval=poll_interval) as done:
            note(f"waiting for {len(job_ids)} jobs")
            for outcome in done:
                found.append(outcome)
                note(f"{outcome.job_id}: {'  '.join(_outcome_row(outcome, timeout)[1:])}")
    except KeyboardInterrupt:
        left = [job_id for index, job_id in enumerate(job_ids) if index not in {o.index for o in found}]
        note("stopped waiting; the jobs keep running on the platform.")
        note(f"resume with: finetune jobs wait {' '.join(left)}")
        return INTERRUPTED
    found.sort(key=lambda outcome: outcome.index)
    rows = [_outcome_row(outcome, timeout) for outcome in found]
    if as_json:
        data = [
            {"id": job_id, "status": status, "fine_tuned_model": None, "error": None}
            | ({"fine_tuned_model": detail} if o.ok else {"error": detail})
            for o, (job_id, status, detail) in zip(found, rows, strict=True)
        ]
        echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
    else:
        columns(rows)
    if all(outcome.ok for outcome in found):
        return 0
    timed_out = [o.job_id for o in found if isinstance(o.error, WaitTimeoutError)]
    if timed_out:
        note(f"resume with: finetune jobs wait {' '.join(timed_out)}")
    if all(outcome.ok or isinstance(outcome.error, WaitTimeoutError) for outcome in found):
        return TIMED_OUT
    return 1


def _add_views() -> None:
    # The commands that draw (watch, plot, report) and the filtered list live in modules of their own.
    from ._job_list import list_jobs
    from ._job_views import plot, report, watch

    for command in (list_jobs, watch, plot, report):
        jobs.add_command(command)


_add_views()
