"""``finetune validate``, ``stats`` and ``split``: work on a local ``.jsonl`` file, no key needed."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import click

from .._text import plural
from ..dataset import Dataset
from ._output import DATASET_FILE, WORKERS, echo, report_lines, stats_lines

__all__ = ["split", "stats", "validate"]


@click.command()
@click.argument("file", type=DATASET_FILE)
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON.")
@click.option(
    "--max-errors",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Stop after this many errors.",
)
@click.option(
    "--max-tokens",
    type=click.IntRange(min=1),
    default=4096,
    show_default=True,
    help="Warn about examples estimated longer than this.",
)
@click.option(
    "--workers",
    type=WORKERS,
    metavar="auto|N",
    default="auto",
    show_default=True,
    help="Processes to share the file: auto splits files of 128 MiB and more over the cores (up to 4).",
)
@click.pass_context
def validate(
    ctx: click.Context,
    *,
    file: Path,
    as_json: bool,
    max_errors: int,
    max_tokens: int,
    workers: int | Literal["auto"],
) -> None:
    """Check a dataset; exit 1 if it breaks a rule.

    Each problem of FILE is printed as FILE:LINE: code: message, then a summary and the statistics.
    """
    report = Dataset.validate_file(file, max_errors=max_errors, max_tokens=max_tokens, workers=workers)
    if as_json:
        echo(report.model_dump_json(indent=2))
    else:
        for line in [*report_lines(report), *stats_lines(report.stats)]:
            echo(line)
    ctx.exit(0 if report.ok else 1)


@click.command()
@click.argument("file", type=DATASET_FILE)
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
@click.option(
    "--max-tokens",
    type=click.IntRange(min=1),
    default=4096,
    show_default=True,
    help="Count the examples estimated longer than this.",
)
def stats(file: Path, as_json: bool, max_tokens: int) -> None:
    """Statistics of a valid dataset.

    Examples, messages by role, estimated tokens and the longest example of FILE.
    """
    report = Dataset.validate_file(file, max_tokens=max_tokens)
    report.raise_for_errors()
    if as_json:
        echo(report.stats.model_dump_json(indent=2))
    else:
        for line in stats_lines(report.stats):
            echo(line)


@click.command()
@click.argument("file", type=DATASET_FILE)
@click.option(
    "--ratio",
    type=click.FloatRange(0, 0.5, min_open=True),
    default=0.1,
    show_default=True,
    help="Share of the examples for validation, in (0, 0.5].",
)
@click.option("--seed", type=int, default=0, show_default=True, help="The same seed gives the same split.")
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the two files (default: next to FILE).",
)
def split(file: Path, ratio: float, seed: int, out_dir: Path | None) -> None:
    """Split a dataset into a training and a validation file.

    Writes STEM.train.jsonl and STEM.validation.jsonl (at random, the same for the same seed).
    """
    train, held_out = Dataset.from_jsonl(file).split(ratio, seed=seed)
    folder = out_dir if out_dir is not None else file.parent
    folder.mkdir(parents=True, exist_ok=True)
    for part, dataset in (("train", train), ("validation", held_out)):
        path = folder / f"{file.stem}.{part}.jsonl"
        dataset.to_jsonl(path)
        echo(f"{path}  {plural(len(dataset), 'example')}")
