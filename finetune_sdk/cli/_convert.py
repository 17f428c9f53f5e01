"""``finetune convert``: another format (ShareGPT, Alpaca, OpenAI chat, tables in CSV, TSV, Excel or
Parquet, Parquet/Arrow exports, compressed or not) to the platform's JSON Lines, every repair counted and
every rejected record kept with its reason."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Literal

import click
import orjson

from .._text import plural
from ..data.convert import ConversionReport, FieldMap, Preview, Repairs, SourceName, convert_file
from ..data.convert._repairs import MASKED_RULES
from ._fields import field_map, source_options
from ._options import choice_option
from ._output import CliError, InputFile, echo, note
from ._refusals import refuse_conflicts

__all__ = ["convert"]

#: The repairs ``--no-repair`` can turn off (the boolean fields of Repairs).
_SWITCHES = tuple(f.name for f in dataclasses.fields(Repairs) if f.type in ("bool", bool))
#: Rejected records printed one per line before the summary; the rejects file has them all.
SHOWN_REJECTIONS = 10


def masked_help() -> str:
    """The help of ``--masked``: the rules of :data:`MASKED_RULES`, word for word."""
    rules = "; ".join(f"{name}: {rule}" for name, rule in MASKED_RULES.items())
    return f"An assistant turn with weight 0 is never trained on. {rules}."


@click.command()
@click.argument("src", type=InputFile("a data file"))
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="The .jsonl file to write."
)
@source_options("SRC")
@click.option(
    "--encoding", metavar="NAME", help="The text encoding of SRC (default UTF-8), e.g. gb18030, big5."
)
@click.option(
    "--header-row",
    type=click.IntRange(min=1),
    metavar="N",
    help="The row (from 1) of a table's header, below a title: the rows above it are skipped (listed). "
    "Without it, a header under a few title rows is found when it names known columns.",
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write each record not converted here, with its reason.",
)
@click.option(
    "--changes",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every change, record by record, here (JSON Lines).",
)
@choice_option(
    "--tools",
    choices=["render", "drop"],
    default="render",
    help="Tool calls and results: as Qwen2.5's template text, or removed.",
)
@choice_option(
    "--tool-definitions",
    "definitions",
    choices=["render", "drop"],
    default="render",
    help="A record's tools: written into the system message as Qwen2.5's template does (with the calls), "
    "or left out (a warning when calls are then trained without them).",
)
@choice_option("--masked", choices=MASKED_RULES, default="drop", help=masked_help())
@choice_option(
    "--images",
    choices=["reject", "drop"],
    default="reject",
    help="A message with image, audio or file parts (or a record naming images, as LLaVA exports do): "
    "reject the record, or drop those parts, keeping the text.",
)
@click.option(
    "--no-repair",
    "off",
    multiple=True,
    type=click.Choice(_SWITCHES),
    metavar="REPAIR",
    help=f"Turn a repair off (repeatable): {', '.join(_SWITCHES)}.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Write no converted output; report what would be done (--rejects and --changes are still written).",
)
@click.option(
    "--show",
    type=click.IntRange(min=0),
    default=0,
    metavar="N",
    help="Print the first N records as converted.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary line (and warnings on stderr).")
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON.")
@click.pass_context
def convert(
    ctx: click.Context,
    *,
    src: Path,
    output: Path | None,
    source: SourceName,
    encoding: str | None,
    header_row: int | None,
    columns: dict[str, str] | None,
    field_names: tuple[tuple[str, str], ...],
    roles: tuple[tuple[str, str], ...],
    rejects: Path | None,
    changes: Path | None,
    tools: Literal["render", "drop"],
    definitions: Literal["render", "drop"],
    masked: Literal["drop", "cut", "reject"],
    images: Literal["reject", "drop"],
    off: tuple[str, ...],
    dry_run: bool,
    show: int,
    quiet: bool,
    as_json: bool,
) -> None:
    """Convert SRC to the platform's JSON Lines (-o OUT.jsonl), repairing what can be repaired.

    Prints the records left out (SRC:RECORD: rejected: code: reason, the first few), a summary with one
    line per change code and its count, and what was written; --changes writes every change, --rejects
    every record left out. Exits 1 when no record could be converted.
    """
    if output is None and not dry_run:
        raise CliError("give the file to write with -o OUT.jsonl (or --dry-run to only look)")
    if output is not None and not output.name.endswith(".jsonl"):
        raise click.BadParameter(
            f"{output} does not end in .jsonl: the platform takes only JSON Lines files", param_hint="-o"
        )
    chosen = Repairs(tools=tools, tool_definitions=definitions, masked=masked, images=images)
    switches: dict[str, Any] = dict.fromkeys(off, False)
    repairs = dataclasses.replace(chosen, **switches)
    fields = field_map(columns, field_names, roles)
    if header_row is not None:
        fields = dataclasses.replace(fields or FieldMap(), header_row=header_row)
    previews: list[Preview] = []
    with refuse_conflicts():
        report = convert_file(
            src,
            None if dry_run else output,
            source=source,
            rejects=rejects,
            changes=changes,
            repairs=repairs,
            fields=fields,
            encoding=encoding,
            preview=show,
            previews=previews,
        )
    if as_json:
        echo(report.model_dump_json(indent=2))
    else:
        _print(report, previews, src=src, quiet=quiet)
    ctx.exit(0 if report.written else 1)


def _print(report: ConversionReport, previews: list[Preview], *, src: Path, quiet: bool) -> None:
    for problem in report.problems:
        note(f"{src}: problem: {problem}")
    for warning in report.warnings:
        note(f"{src}: warning: {warning}")
    if quiet:
        echo(report.headline())
        return
    for preview in previews:
        _show(preview)
    for rejection in report.rejections[:SHOWN_REJECTIONS]:
        echo(f"{src}:{rejection.record}: rejected: {rejection.code}: {rejection.reason}")
    more = report.rejected - min(len(report.rejections), SHOWN_REJECTIONS)
    if more:
        where = f"all in {report.rejects_path}" if report.rejects_path else "--rejects FILE keeps them all"
        echo(f"... and {plural(more, 'more rejected record')} ({where})")
    echo(report.headline())
    for code, count in sorted(report.change_counts.items()):
        echo(f"  {code}: {plural(count, 'change')}")
    if report.dry_run:
        return
    written = [f"wrote {plural(report.written, 'example')} to {report.output}"]
    if report.rejects_path is not None:
        written.append(f"{plural(report.rejected, 'reject')} to {report.rejects_path}")
    if report.changes_path is not None:
        written.append(f"{plural(sum(report.change_counts.values()), 'change')} to {report.changes_path}")
    echo(", ".join(written))


def _show(preview: Preview) -> None:
    codes = ", ".join(dict.fromkeys(c.code for c in preview.changes)) or "unchanged"
    if preview.rejection is not None:
        echo(f"--- record {preview.record}: rejected: {preview.rejection.code}: {preview.rejection.reason}")
        return
    echo(f"--- record {preview.record}: {codes}")
    echo(orjson.dumps({"messages": preview.messages}, option=orjson.OPT_INDENT_2).decode())
