"""A comparison for a terminal: the summary (what the command line prints under the answers), the
plain-text table and the rich one.

The summary holds the same figures, labels and sentences as the Markdown, HTML and JSON reports: all
come from :mod:`._format`, over one :class:`~._figures.Figures`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .._text import plural, shorten, table_lines
from ._figures import Figures
from ._format import check_lines, emulation_line, figure_table, scope_line, verdict_lines
from ._rows import ComparisonData, ComparisonRow, Setup

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["ANSWER_HEADERS", "answer_cells", "headers", "plain_table", "rich_table", "setups", "summary"]

ANSWER_HEADERS = ("#", "prompt", "base reply", "tuned reply", "prompt tok", "completion tok", "latency s")
"""The columns of the answers' table (``prompt tok`` and ``completion tok``: the server's usage)."""

FIGURES_HEADER = ("", "base", "tuned")


def _pair(a: object, b: object) -> str:
    return f"{'-' if a is None else a} / {'-' if b is None else b}"


def headers(comparison: ComparisonData) -> tuple[str, ...]:
    return (*ANSWER_HEADERS, "checks passed") if comparison.checks else ANSWER_HEADERS


def _passed(comparison: ComparisonData, row: ComparisonRow) -> tuple[str, ...]:
    """``"3/4 / 4/4"``: how many checks each side's first sample passed (nothing without checks)."""
    if not comparison.checks:
        return ()
    total = len(comparison.checks)
    base, tuned = (total - len(row.failed(side, comparison.checks)) for side in ("base", "tuned"))
    return (f"{base}/{total} / {tuned}/{total}",)


def answer_cells(comparison: ComparisonData, width: int) -> list[tuple[str, ...]]:
    """One row per prompt: its first samples cut to ``width`` columns, tokens, latencies, checks."""
    return [
        (
            str(i),
            shorten(row.prompt, width),
            shorten(row.base.text, width),
            shorten(row.tuned.text, width),
            _pair(row.base.prompt_tokens, row.tuned.prompt_tokens),
            _pair(row.base.completion_tokens, row.tuned.completion_tokens),
            f"{row.base.latency:.2f} / {row.tuned.latency:.2f}",
            *_passed(comparison, row),
        )
        for i, row in enumerate(comparison.rows, 1)
    ]


def summary(figures: Figures) -> str:
    """The emulation warning (if any), the scope, the checks, the figures' table and the verdict."""
    lines = [line for line in (emulation_line(figures),) if line]
    lines += [scope_line(figures), *check_lines(figures)]
    lines += table_lines([FIGURES_HEADER, *figure_table(figures)])
    lines += verdict_lines(figures)
    return "\n".join(lines)


def setups(comparison: ComparisonData) -> str:
    def one(name: str, setup: Setup) -> str:
        system = setup[1]
        prompt = f"system prompt of {plural(len(system), 'character')}" if system else "no system prompt"
        return f"{name}: {setup[0]} ({prompt})"

    return f"{one('base ', comparison.base)}\n{one('tuned', comparison.tuned)}"


def plain_table(comparison: ComparisonData, figures: Figures, width: int = 32) -> str:
    """The setups, a table of the answers (cut to ``width`` columns), then the summary."""
    lines = table_lines([headers(comparison), *answer_cells(comparison, width)], rule=True)
    return f"{setups(comparison)}\n\n" + "\n".join(lines) + f"\n\n{summary(figures)}"


def rich_table(
    comparison: ComparisonData, figures: Figures, *, clean: Callable[[str], str] = str, width: int = 60
) -> Table:
    """The answers' table as a rich table with the summary as its caption. Every cell is a ``Text``, so
    ``[`` in an answer is shown, never read as markup; ``clean`` may neutralise what a terminal would
    act on (the command line passes its control-character filter)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title="base (long prompt) vs tuned (short prompt)",
        caption=Text(clean(summary(figures)), justify="left"),
    )
    for header in headers(comparison):
        table.add_column(header, overflow="fold")
    for cells in answer_cells(comparison, width):
        table.add_row(*(Text(clean(cell)) for cell in cells))
    return table
