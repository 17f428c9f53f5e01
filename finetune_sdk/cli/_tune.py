"""``finetune tune``: from a raw export to a tuned model and its report in one command, resumable.

A thin face of :mod:`finetune_sdk.tuning`: each stage's line goes to stderr, the wait draws the live loss
chart of ``jobs watch``, and stdout gets the tuned model and the report's path (or, with ``--dry-run``,
the cost line).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .._client import Client
from ..types import FineTuneJob
from ._chat import CHECK_OPTION
from ._fields import field_map, source_options
from ._jobs import hyperparameters_of, settings_options
from ._options import BASE_MODEL, validation_share_option
from ._output import TEXT_FILE, InputFile, echo, key_values, note, read_text
from ._polling import WATCH_POLL
from ._progress import chart_display, wait_for
from ._refusals import refuse_conflicts
from ._state import State, pass_state

__all__ = ["tune"]

_PATH = click.Path(path_type=Path)


@click.command()
@click.argument("data", type=InputFile("a data file"))
@BASE_MODEL
@click.option(
    "--eval",
    "prompts_file",
    type=TEXT_FILE,
    metavar="PROMPTS",
    help="A file of prompts, one per line: compare the tuned model with the base model on them.",
)
@CHECK_OPTION
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE.html",
    help="The page to write (default: STEM.report.html in the output folder).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Where the prepared files and the state go (default: STEM.tune next to DATA).",
)
@click.option("--dry-run", is_flag=True, help="Stop after the cost line: nothing uploaded or created.")
@click.option(
    "--price-per-million",
    "--price",
    "price",
    type=click.FloatRange(min=0),
    metavar="AMOUNT",
    help="The price of a million billed tokens, for the cost in money (else FINETUNE_PRICE_PER_MTOKENS "
    "or the price table; the SDK ships no price).",
)
@click.option(
    "--price-table",
    type=InputFile("a price table"),
    envvar="FINETUNE_PRICE_TABLE",
    show_envvar=True,
    help="A TOML or JSON file of model names and prices per million tokens.",
)
@settings_options
@validation_share_option(
    "--validation-ratio", help="Share of the examples held out for validation, without leakage."
)
@source_options("DATA")
@WATCH_POLL
@pass_state
def tune(state: State, /, *, data: Path, **given: Any) -> None:
    """Tune a model on DATA (any format convert reads) and write a report, in one command.

    Converts DATA (every change listed, rejected records kept with their reason), validates it, drops
    duplicates (kept too), holds out a validation share without leakage, prints the cost (money with a
    price), uploads, creates the job, waits with the live loss chart and, with --eval, compares the
    tuned model with the base model. Prints the tuned model and the report's path.

    Run it again after a crash or Ctrl-C: it finds its job (STEM.tune.json in the output folder, and
    idempotency keys derived from the prepared data and the settings) and uploads nothing twice.
    """
    from ..tuning._prepare import cost_line
    from ..tuning._run import REPORT_SUFFIXES, TuneOptions, read_prompts, run

    if given["checks"] and given["prompts_file"] is None:
        raise click.UsageError("--check scores the comparison with the base model: give --eval PROMPTS too")
    report: Path | None = given["report"]
    if report is not None and report.suffix.lower() not in REPORT_SUFFIXES:
        raise click.BadParameter(f"{report}: the report is an HTML page, FILE.html", param_hint="'--report'")
    if given["prompts_file"] is not None:
        read_text(given["prompts_file"])  # one that is not UTF-8: named, as in compare
    try:
        prompts, inputs = read_prompts(given["prompts_file"])
    except ValueError as exc:  # a prompts file without a prompt: as compare, a usage mistake
        raise click.UsageError(str(exc)) from None
    options = TuneOptions(
        data=data,
        model=given["model"],
        prompts=prompts,
        checks=given["checks"],
        report=given["report"],
        out=given["out"],
        dry_run=given["dry_run"],
        hyperparameters=hyperparameters_of(given["preset"], given["settings"]),
        suffix=given["suffix"],
        seed=given["seed"],
        validation_ratio=given["validation_ratio"],
        source=given["source"],
        fields=field_map(given["columns"], given["field_names"], given["roles"]),
        price_per_mtokens=given["price"],
        price_table=given["price_table"],
        inputs=inputs,
    )

    def wait(client: Client, job: FineTuneJob) -> FineTuneJob:
        resume = f"the same finetune tune command: it finds job {job.id} in {options.state_path}"
        display = chart_display(client, job.id)
        return wait_for(
            client, job.id, timeout=None, poll_interval=given["poll_interval"], display=display, resume=resume
        )

    with refuse_conflicts():
        result = run(options, client=state.client, wait=wait, say=note)
    if result.dry_run:
        echo(f"cost: {cost_line(result.cost)}")
        return
    key_values([("model", result.model), ("report", result.report)])
