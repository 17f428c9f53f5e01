"""``finetune validate``, ``stats`` and ``split``: work on local ``.jsonl`` files, no key needed."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import click
import orjson

from .._text import plural, table_lines
from ..data._price import PRICE_ENV, PRICE_TABLE_ENV, cost_of
from ..data._schema import ValidationReport
from ..data._tokens import DEFAULT_EPOCHS
from ..data.dataset import Dataset
from ._options import choice_option, count_option, max_tokens_option, validation_share_option
from ._output import DATASET_FILE, WORKERS, CliError, echo, note, report_lines, stats_lines
from ._refusals import refuse_conflicts

if TYPE_CHECKING:
    from ..data._dedupe import GroupBy
    from ..data._stats import DatasetStats

__all__ = ["data_stats_lines", "dataset_files", "split", "stats", "summary_table", "validate"]


@click.command()
# readable=False: an unreadable file is a row of the table (and exit 1), not a usage error for them all
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, readable=False))
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON.")
@count_option("--max-errors", default=100, help="Stop after this many errors.")
@max_tokens_option("Warn about examples estimated longer than this.")
@click.option(
    "--workers",
    type=WORKERS,
    metavar="auto|N",
    default="auto",
    show_default=True,
    help="Processes to share the file: auto splits files of 128 MiB and more over the cores (up to 4).",
)
@click.option("--all-issues", is_flag=True, help="Every rule a bad line breaks, not only the first.")
@click.pass_context
def validate(
    ctx: click.Context,
    *,
    paths: tuple[Path, ...],
    as_json: bool,
    max_errors: int,
    max_tokens: int,
    workers: int | Literal["auto"],
    all_issues: bool,
) -> None:
    """Check datasets: files, or folders (every .jsonl file in them); exit 1 if any breaks a rule.

    Each problem is printed as FILE:LINE: code: message, then a summary; for one file the statistics
    follow, for several a table with a line per file.
    """
    files = dataset_files(paths)
    reports: list[ValidationReport | str] = []
    for file in files:
        try:
            reports.append(
                Dataset.validate_file(
                    file,
                    max_errors=max_errors,
                    max_tokens=max_tokens,
                    workers=workers,
                    all_issues=all_issues,
                )
            )
        except OSError as exc:  # a FIFO, a device, a file that vanished: say so, check the others
            if len(files) == 1:
                raise CliError(str(exc)) from None
            reports.append(f"{file}: {exc.strerror or exc}")
    if as_json and len(files) == 1 and isinstance(reports[0], ValidationReport):
        echo(reports[0].model_dump_json(indent=2))
    elif as_json:
        dumped = [
            r.model_dump(mode="json") if isinstance(r, ValidationReport) else {"path": str(f), "error": r}
            for f, r in zip(files, reports, strict=True)
        ]
        echo(orjson.dumps(dumped, option=orjson.OPT_INDENT_2).decode())
    elif len(files) == 1 and isinstance(reports[0], ValidationReport):
        only = reports[0]
        stats = data_stats_lines(only.stats) if only.stats.examples else []
        for line in [*report_lines(only, every=all_issues), *stats]:
            echo(line)
    else:
        for report in reports:
            shown = (
                report_lines(report, every=all_issues) if isinstance(report, ValidationReport) else [report]
            )
            for line in shown:
                echo(line)
        echo()
        for line in summary_table(files, reports):
            echo(line)
    ctx.exit(0 if all(isinstance(r, ValidationReport) and r.ok for r in reports) else 1)


#: ``--price`` given without an amount: the price comes from the environment or a price table.
_FROM_CONFIG = -1.0


@click.command()
@click.argument("file", type=DATASET_FILE)
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
@max_tokens_option("Count the examples longer than this.")
@click.option(
    "--exact",
    is_flag=True,
    help='Exact Qwen2.5 token counts (needs: pip install "finetune-sdk[tokens]").',
)
@click.option(
    "--n-epochs",
    "--epochs",
    "n_epochs",
    type=click.IntRange(1, 10),
    default=DEFAULT_EPOCHS,
    show_default=True,
    help="Epochs for the billed tokens.",
)
@click.option(
    "--price",
    type=float,
    is_flag=False,
    flag_value=_FROM_CONFIG,
    default=None,
    metavar="[PER_1M_TOKENS]",
    help=f"Add the cost: billed tokens times this price per million tokens (alone: from {PRICE_ENV} or the "
    f"price table). The SDK ships no price.",
)
@click.option(
    "--price-table",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=PRICE_TABLE_ENV,
    show_envvar=True,
    help="A TOML or JSON file of model names and prices per million tokens.",
)
@click.option("--model", metavar="MODEL", help="The model whose price the price table gives.")
def stats(
    *,
    file: Path,
    as_json: bool,
    max_tokens: int,
    exact: bool,
    n_epochs: int,
    price: float | None,
    price_table: Path | None,
    model: str | None,
) -> None:
    """Statistics of a valid dataset, and with --price what training on it costs.

    Examples, messages by role, estimated tokens, the longest example and duplicates (exact and once
    normalised) of FILE; with --exact, exact token counts (p50, p95, longest, trained, billed) and the
    lines over --max-tokens; with --price, the billed tokens for --epochs and their cost.
    """
    try:
        report = Dataset.validate_file(
            file, max_tokens=max_tokens, tokens="exact" if exact else "estimate", n_epochs=n_epochs
        )
    except ImportError as exc:
        raise CliError(str(exc)) from None
    report.raise_for_errors()
    if price is not None and price < 0 and price != _FROM_CONFIG:
        raise click.BadParameter(f"{price} is below 0", param_hint="--price")
    cost = None
    if price is not None or price_table is not None:
        given = None if price is None or price == _FROM_CONFIG else price
        cost = cost_of(
            report.stats,
            str(file),
            n_epochs=n_epochs,
            model=model,
            price_per_mtokens=given,
            price_table=price_table,
        )
    if as_json:
        dumped = report.stats.model_dump(mode="json")
        if cost is not None:
            dumped["cost"] = cost.model_dump(mode="json")
        echo(orjson.dumps(dumped, option=orjson.OPT_INDENT_2).decode())
        return
    for line in data_stats_lines(report.stats):
        echo(line)
    if cost is not None:
        echo(f"billed tokens ({cost.method}, {plural(n_epochs, 'epoch')}): {cost.billed_tokens}")
        if cost.cost is None:
            echo(f"cost: no price given (--price AMOUNT, {PRICE_ENV}, or --price-table FILE with --model)")
        else:
            echo(f"cost: {cost.money()} ({cost.price_per_mtokens:g} per 1M tokens, {cost.price_source})")


@click.command()
@click.argument("file", type=DATASET_FILE)
@validation_share_option("--ratio", help="Share of the examples for validation, in (0, 0.5].")
@click.option("--seed", type=int, default=0, show_default=True, help="The same seed gives the same split.")
@choice_option(
    "--group-by",
    choices=["prompt", "example"],
    default="prompt",
    help="Keep on one side examples sharing a first user prompt (prompt) or only equal examples (example).",
)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the two files (default: next to FILE).",
)
def split(file: Path, ratio: float, seed: int, group_by: GroupBy, out_dir: Path | None) -> None:
    """Split a dataset into a training and a validation file, without leakage.

    Writes STEM.train.jsonl and STEM.validation.jsonl (at random, the same for the same seed), both
    atomically. Examples equal after normalising Unicode and white space, and by default examples
    sharing their first user prompt, stay on one side, so no validation example is trained on.
    """
    folder = out_dir if out_dir is not None else file.parent
    created = not folder.is_dir()
    folder.mkdir(parents=True, exist_ok=True)
    train, held_out = folder / f"{file.stem}.train.jsonl", folder / f"{file.stem}.validation.jsonl"
    try:
        with refuse_conflicts():
            from ..data._files import split_file  # only split needs the file writers

            result = split_file(file, train, held_out, validation_ratio=ratio, seed=seed, group_by=group_by)
    except BaseException:
        if created:  # nothing was written: leave no empty folder behind
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    if created:
        note(f"created the folder {folder}")
    what = "sharing a first prompt (or equal)" if group_by == "prompt" else "equal once normalised"
    note(
        f"grouped by {group_by}: {plural(result.grouped_examples, 'example')} {what}, in "
        f"{plural(result.groups, 'group')}, each kept on one side"
    )
    total = result.train + result.validation
    if result.off_ratio:
        note(
            f"the validation side holds {result.validation} of {total} examples "
            f"({result.validation / total:.0%}, {ratio:.0%} asked): its groups could not be cut"
        )
    echo(result.summary())


def dataset_files(paths: Sequence[Path]) -> list[Path]:
    """The files to check: each file given, and the ``.jsonl`` files in each folder (sorted, recursive)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.jsonl") if not p.is_dir())
            if not found:
                raise CliError(f"{path} is a folder with no .jsonl file in it")
            files += found
        elif not path.exists():
            raise CliError(f"No such file: {path}")
        else:
            files.append(path)
    return list(dict.fromkeys(files))


def summary_table(files: Sequence[Path], reports: Sequence[ValidationReport | str]) -> list[str]:
    """One line per file (status, examples, errors, warnings) and a total line."""
    rows = [["file", "status", "examples", "errors", "warnings"]]
    bad = 0
    for file, report in zip(files, reports, strict=True):
        if isinstance(report, str):
            rows.append([str(file), "unreadable", "-", "-", "-"])
            bad += 1
            continue
        bad += not report.ok
        status = "ok" if report.ok else "not valid" + (" (stopped)" if report.truncated else "")
        counts = (report.stats.examples, len(report.errors), len(report.warnings))
        rows.append([report.path, status, *map(str, counts)])
    total = f"{plural(len(files), 'file')}: {len(files) - bad} ok, {bad} not"
    return [*table_lines(rows, rule=True), total]


def data_stats_lines(data: DatasetStats) -> list[str]:
    """The statistics lines, then duplicates and, when counted, the exact tokens."""
    lines = stats_lines(data)
    if data.duplicate_examples is not None:
        copies = data.exact_duplicates or 0
        others = data.duplicate_examples - copies
        lines += [
            f"duplicate examples: {data.duplicate_examples} ({copies} exact "
            f"{'copy' if copies == 1 else 'copies'}, {others} more once normalised)",
            f"duplicate prompts: {data.duplicate_prompts}",
        ]
    exact = data.exact
    if exact is not None:
        longest = f"{exact.longest}" + ("" if exact.longest_line is None else f" (line {exact.longest_line})")
        over = f"{exact.over_max_tokens}"
        if exact.over_lines:
            more = ", ..." if exact.over_max_tokens > len(exact.over_lines) else ""
            over += f" (lines {', '.join(map(str, exact.over_lines))}{more})"
        lines += [
            f"exact tokens: {exact.total}",
            f"exact tokens per example: p50 {exact.p50}, p95 {exact.p95}, longest {longest}",
            f"exactly over max_tokens ({data.max_tokens}): {over}",
            f"trained tokens (assistant turns): {exact.trained}",
            f"billed tokens for {plural(exact.n_epochs, 'epoch')}: {exact.billed}",
        ]
    return lines
