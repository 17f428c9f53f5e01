"""``finetune jobs list``: the newest jobs, filtered by status, model, suffix, metadata and creation time,
as a table (rich on a terminal, plain columns in a pipe) or JSON."""

from __future__ import annotations

import datetime
import itertools
import re
from typing import Any

import click

from ..types import FineTuneJob, JobStatus
from ._fields import KEY_VALUE
from ._options import count_option
from ._output import columns, json_option, print_json, safe, when
from ._state import State, pass_state

__all__ = ["MOMENT", "list_jobs"]

_SECONDS = re.compile(r"\d+(\.\d+)?")
_HEADINGS = ("id", "status", "model", "fine_tuned_model", "suffix", "created")


class Moment(click.ParamType):  # type: ignore[type-arg]  # generic only from click 8.2 on
    """A moment as an ISO date (its 00:00 local time), an ISO date and time (local time unless it
    names its offset or ends in ``Z``), or Unix seconds."""

    name = "when"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime.datetime | int:
        if isinstance(value, (datetime.datetime, int)):
            return value
        text = str(value).strip()
        if _SECONDS.fullmatch(text):
            return int(float(text))
        try:
            moment = datetime.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            self.fail(
                f"{text!r} is neither an ISO date or time (2025-01-31, 2025-01-31T08:30, "
                "2025-01-31T08:30+08:00) nor Unix seconds",
                param,
                ctx,
            )
        return moment if moment.tzinfo is not None else moment.astimezone()


MOMENT = Moment()


def _row(job: FineTuneJob) -> tuple[object, ...]:
    return (job.id, job.status, job.model, job.fine_tuned_model, job.suffix, when(job.created_at))


def _print_table(found: list[FineTuneJob]) -> None:
    """A rich table on a terminal, else plain columns (no header: they pipe into other tools)."""
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal:
        columns(_row(job) for job in found)
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False)
    for heading in _HEADINGS:  # folded, never cut to "…": an id or a model name must stay whole
        table.add_column(heading, overflow="fold")
    for job in found:
        table.add_row(*(Text(safe("-" if cell is None else str(cell))) for cell in _row(job)))
    console.print(table)


@click.command("list")
@count_option("--limit", default=20, help="Show at most N.")
@click.option("--status", type=click.Choice([s.value for s in JobStatus]), help="Only jobs with this status.")
@click.option("--model", metavar="MODEL", help="Only jobs of this base model.")
@click.option("--suffix", help="Only jobs with this suffix.")
@click.option(
    "--metadata",
    "metadata",
    type=KEY_VALUE,
    multiple=True,
    metavar="KEY=VALUE",
    help="Only jobs whose metadata holds this pair (repeatable: every pair).",
)
@click.option(
    "--created-after",
    type=MOMENT,
    metavar="WHEN",
    help="Only jobs created at or after WHEN: 2025-01-31, 2025-01-31T08:30[+08:00] or Unix seconds.",
)
@click.option("--created-before", type=MOMENT, metavar="WHEN", help="Only jobs created at or before WHEN.")
@json_option
@pass_state
def list_jobs(
    state: State,
    *,
    limit: int,
    status: str | None,
    model: str | None,
    suffix: str | None,
    metadata: tuple[tuple[str, str], ...],
    created_after: datetime.datetime | int | None,
    created_before: datetime.datetime | int | None,
    as_json: bool,
) -> None:
    """The newest jobs: id, status, model, fine_tuned_model, suffix, created.

    The filters are sent to the platform and applied to its answer too (a server may ignore them); a
    date or time without an offset is local time.
    """
    listing = state.client().jobs.list(
        limit=min(limit, 100),  # list() pages (limit is its page size): take `limit` from as many as needed
        status=status,
        model=model,
        suffix=suffix,
        metadata=dict(metadata) or None,
        created_after=created_after,
        created_before=created_before,
    )
    found = list(itertools.islice(listing, limit))
    if as_json:
        print_json(found)
    else:
        _print_table(found)
