"""``finetune convert``: another format (ShareGPT, Alpaca, OpenAI chat, CSV/TSV) to the platform's JSON
Lines, with every repair and every rejected record listed."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Literal

import click
import orjson

from .._text import plural
from ..data.convert import Change, Preview, Rejection, Repairs, convert_file
from ..data.convert._convert import SourceName
from ._output import CliError, InputFile, echo

__all__ = ["convert"]

#: The repairs ``--no-repair`` can turn off (the boolean fields of Repairs).
_SWITCHES = tuple(f.name for f in dataclasses.fields(Repairs) if f.type in ("bool", bool))


@click.command()
@click.argument("src", type=InputFile("a data file"))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="The .jsonl to write.")
@click.option(
    "--from",
    "source",
    type=click.Choice(["auto", "sharegpt", "alpaca", "openai", "csv", "jsonl"]),
    default="auto",
    show_default=True,
    help="The format of SRC (auto: detected from its first records).",
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write each record not converted here, with its reason.",
)
@click.option(
    "--tools",
    type=click.Choice(["render", "drop"]),
    default="render",
    show_default=True,
    help="Tool calls and results: as Qwen2.5's template text, or removed.",
)
@click.option(
    "--tool-definitions",
    "definitions",
    type=click.Choice(["drop", "render"]),
    default="drop",
    show_default=True,
    help="A record's tools: left out, or written into the system message as Qwen2.5's template does.",
)
@click.option(
    "--masked",
    type=click.Choice(["cut", "reject"]),
    default="cut",
    show_default=True,
    help="An example with a weight-0 assistant turn: cut before it, or reject it.",
)
@click.option(
    "--no-repair",
    "off",
    multiple=True,
    type=click.Choice(_SWITCHES),
    metavar="REPAIR",
    help=f"Turn a repair off (repeatable): {', '.join(_SWITCHES)}.",
)
@click.option("--dry-run", is_flag=True, help="Write nothing; report what would be done.")
@click.option(
    "--show",
    type=click.IntRange(min=0),
    default=0,
    metavar="N",
    help="Print the first N changed records as converted.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON.")
@click.pass_context
def convert(
    ctx: click.Context,
    *,
    src: Path,
    output: Path | None,
    source: SourceName,
    rejects: Path | None,
    tools: Literal["render", "drop"],
    definitions: Literal["drop", "render"],
    masked: Literal["cut", "reject"],
    off: tuple[str, ...],
    dry_run: bool,
    show: int,
    as_json: bool,
) -> None:
    """Convert SRC to the platform's JSON Lines (-o OUT.jsonl), repairing what can be repaired.

    Prints every change as SRC:RECORD: code: action and every record left out as
    SRC:RECORD: rejected: code: reason, then a summary. Exits 1 when no record could be converted.
    """
    if output is None and not dry_run:
        raise CliError("give the file to write with -o OUT.jsonl (or --dry-run to only look)")
    chosen = Repairs(tools=tools, tool_definitions=definitions, masked=masked)
    switches: dict[str, Any] = dict.fromkeys(off, False)
    repairs = dataclasses.replace(chosen, **switches)
    previews: list[Preview] = []

    def show_change(item: Change | Rejection) -> None:  # streamed, so every one is listed on any input
        if isinstance(item, Rejection):
            echo(f"{src}:{item.record}: rejected: {item.code}: {item.reason}")
        else:
            echo(f"{src if item.record is None else f'{src}:{item.record}'}: {item.code}: {item.action}")

    report = convert_file(
        src,
        None if dry_run else output,
        source=source,
        rejects=None if dry_run else rejects,
        repairs=repairs,
        preview=show,
        previews=previews,
        on_change=None if as_json else show_change,
    )
    if as_json:
        echo(report.model_dump_json(indent=2))
    else:
        for preview in previews:
            echo(f"--- record {preview.record}: {', '.join(c.code for c in preview.changes)}")
            echo(orjson.dumps({"messages": preview.messages}, option=orjson.OPT_INDENT_2).decode())
        echo(report.summary())
        if not dry_run:
            echo(
                f"wrote {plural(report.written, 'example')} to {output}"
                + (f", {plural(report.rejected, 'reject')} to {rejects}" if rejects is not None else "")
            )
    ctx.exit(0 if report.written else 1)
