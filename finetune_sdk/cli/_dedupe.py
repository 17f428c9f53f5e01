"""``finetune dedupe`` and ``finetune leakage``: duplicates in one file, examples shared by two."""

from __future__ import annotations

from pathlib import Path

import click

from ..data._dedupe import leakage as find_leakage
from ..data._duplicates import Key
from ..data._files import dedupe_file
from ._options import choice_option
from ._output import DATASET_FILE, echo, note
from ._refusals import refuse_conflicts

__all__ = ["dedupe", "leakage"]


@click.command()
@click.argument("file", type=DATASET_FILE)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the kept examples (default: STEM.dedup.jsonl next to FILE).",
)
@choice_option(
    "--key",
    choices=["normalized", "exact", "prompt"],
    default="normalized",
    help="Same example after normalising Unicode and white space, exactly the same, or same first prompt.",
)
@click.option(
    "--dropped",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the dropped examples with their reason (default: STEM.duplicates.jsonl).",
)
def dedupe(file: Path, output: Path | None, key: Key, dropped: Path | None) -> None:
    """Drop repeated examples of a dataset, keeping the first copy.

    Writes the kept examples, and every dropped one (its line, the line of the copy kept, the example)
    to a second file, both atomically; prints one FILE:LINE line per dropped example. FILE itself is
    not changed, and an output that is FILE (a link included) or the other output is refused.
    """
    output = output if output is not None else file.with_name(f"{file.stem}.dedup.jsonl")
    dropped = dropped if dropped is not None else file.with_name(f"{file.stem}.duplicates.jsonl")
    with refuse_conflicts():
        result = dedupe_file(file, output, dropped, key=key)
    for item in result.dropped:
        echo(f"{file}:{item.line}: duplicate of line {item.duplicate_of}")
    echo(f"{output}  {result.kept} kept")
    total = result.kept + len(result.dropped)
    echo(f"{dropped}  {len(result.dropped)} dropped ({key}); kept + dropped = {total}, as read")


@click.command()
@click.argument("train", type=DATASET_FILE)
@click.argument("validation", type=DATASET_FILE)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def leakage(ctx: click.Context, train: Path, validation: Path, as_json: bool) -> None:
    """List the examples and first prompts of VALIDATION that are also in TRAIN; exit 1 if any.

    Examples are compared after normalising Unicode (NFC) and white space.
    """
    report = find_leakage(train, validation)
    if as_json:
        echo(report.model_dump_json(indent=2))
    else:
        for line in report.summary().splitlines()[1:]:
            echo(line)
        echo(report.summary().splitlines()[0])
        if not report.ok:
            note("a validation example seen in training makes the validation loss look better than it is")
    ctx.exit(0 if report.ok else 1)
