"""Base model with a long system prompt versus tuned model with a short one, measured side by side.

The guide's own case: a base model needed 553 tokens of style rules to answer on style (and still
wavered); the tuned model answers on style with an 8-token prompt. ``client.chat.compare(...)`` sends the same
prompts to both setups and returns a :class:`Comparison`: for each prompt both replies (``samples`` of each
when asked for), their prompt and completion tokens (from the server's ``usage``) and latency, the scores
of the given checks, and the figures (:meth:`Comparison.figures`): pass rates per check, how stable each
side is, the prompt tokens the tuned setup saves and how much faster it answers. It renders as a
plain-text table (``str()``), a rich table, JSON, Markdown and a self-contained HTML page, all showing
the same figures; each says "emulated" when the answers came from the SDK's emulator.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from typing import TYPE_CHECKING, Any

import orjson

from .._atomic import atomic_write_text
from ._rows import Clock, ComparisonData, ComparisonRow, Reply, Setup, prepare_prompts

if TYPE_CHECKING:
    from rich.table import Table

    from ..types import FineTuneJob
    from ._curves import MetricsRows
    from ._figures import Figures

__all__ = ["Clock", "Comparison", "ComparisonRow", "Reply", "Setup", "prepare_prompts"]


def _total(values: list[int | None]) -> int | None:
    """The sum, or None when any count is missing (a partial sum would mislead)."""
    total = 0
    for value in values:
        if value is None:
            return None
        total += value
    return total


@dataclasses.dataclass(frozen=True)
class Comparison(ComparisonData):
    """The result of ``client.chat.compare(...)``: one :class:`ComparisonRow` per prompt, and its figures.

    ``checks`` are the checks the replies were scored with (:meth:`with_checks` scores them anew);
    :meth:`figures` gives pass rates, stability, tokens and speed, the one set of numbers every
    rendering shows.
    """

    @functools.cached_property
    def _figures(self) -> Figures:
        from ._figures import compute

        return compute(self)

    def figures(self) -> Figures:
        """Pass rate per check and side, stability over samples, prompt tokens and speed (computed once)."""
        return self._figures

    def _sum(self, side: str, field: str) -> int | None:
        return _total([getattr(reply, field) for reply in self.replies(side)])

    @property
    def base_prompt_tokens(self) -> int | None:
        """Prompt tokens of all base calls, as the server's usage said (None if it reported none)."""
        return self._sum("base", "prompt_tokens")

    @property
    def tuned_prompt_tokens(self) -> int | None:
        """Prompt tokens of all tuned calls, as the server's usage said (None if it reported none)."""
        return self._sum("tuned", "prompt_tokens")

    @property
    def prompt_tokens_saved(self) -> int | None:
        """How many prompt tokens the tuned setup spared over all calls, by the server's usage."""
        base, tuned = self.base_prompt_tokens, self.tuned_prompt_tokens
        return None if base is None or tuned is None else base - tuned

    @property
    def prompt_tokens_saved_share(self) -> float | None:
        """The saving as a share of the base setup's prompt tokens (0.95 = 95% fewer)."""
        saved, base = self.prompt_tokens_saved, self.base_prompt_tokens
        return None if saved is None or not base else saved / base

    @property
    def base_latency(self) -> float:
        """Seconds the base calls took, summed."""
        return sum(reply.latency for reply in self.replies("base"))

    @property
    def tuned_latency(self) -> float:
        """Seconds the tuned calls took, summed."""
        return sum(reply.latency for reply in self.replies("tuned"))

    @property
    def speedup(self) -> float | None:
        """How many times faster the tuned setup answered: median base latency over median tuned latency
        (``figures().latency_ratio``, the speed-up every report states; below 1 it is slower)."""
        return self.figures().latency_ratio

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain JSON types: the answers, the figures (raw), the summary as every other
        rendering shows it (``summary.table`` and ``summary.lines``), and the server's usage summed."""
        from ._format import check_rows, emulation_line, figure_table, scope_line, verdict_lines

        figures = self.figures()
        return {
            "emulated": self.emulated,
            "base": {"model": self.base[0], "system_prompt": self.base[1]},
            "tuned": {"model": self.tuned[0], "system_prompt": self.tuned[1]},
            "samples": self.samples,
            "concurrency": self.concurrency,
            "checks": [{"name": check.name, "threshold": check.threshold} for check in self.checks],
            "rows": [dataclasses.asdict(row) for row in self.rows],
            "figures": dataclasses.asdict(figures),
            "summary": {
                "emulated": emulation_line(figures),
                "scope": scope_line(figures),
                "checks": [
                    {"check": c, "base": b, "tuned": t, "differing_prompts": d}
                    for c, b, t, d in check_rows(figures)
                ],
                "table": [row._asdict() for row in figure_table(figures)],
                "lines": verdict_lines(figures),
            },
            "totals": {
                "base_prompt_tokens": self.base_prompt_tokens,
                "tuned_prompt_tokens": self.tuned_prompt_tokens,
                "prompt_tokens_saved": self.prompt_tokens_saved,
                "prompt_tokens_saved_share": self.prompt_tokens_saved_share,
                "base_completion_tokens": self._sum("base", "completion_tokens"),
                "tuned_completion_tokens": self._sum("tuned", "completion_tokens"),
                "base_latency": self.base_latency,
                "tuned_latency": self.tuned_latency,
            },
        }

    def to_json(self, *, indent: bool = True) -> str:
        """:meth:`to_dict` as a JSON string."""
        return orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2 if indent else 0).decode()

    def to_markdown(self, *, note: str | None = None) -> str:
        """A Markdown report: setups, checks, stability, tokens and speed, then the answers. Every text
        is escaped, so nothing in an answer, a prompt, a check name or ``note`` makes a viewer fetch an
        image, follow a link or render HTML."""
        from ._report_md import markdown

        return markdown(self, self.figures(), note=note)

    def to_html(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        title: str | None = None,
        note: str | None = None,
        metrics: MetricsRows | None = None,
        job: FineTuneJob | None = None,
    ) -> str:
        """One self-contained HTML page (no scripts, no network): bars of the pass rates per check, of
        tokens and latency, the figures, and the answers side by side with failing checks marked.
        ``note`` is shown under the title; ``metrics`` (the tuned job's metrics rows, and its ``job``)
        add its loss curves. Written to ``path`` (UTF-8, atomically) when given; returned either way."""
        from ._report_html import html_report

        page = html_report(self, self.figures(), title=title, note=note, metrics=metrics, job=job)
        if path is not None:
            atomic_write_text(path, page)
        return page

    def summary(self) -> str:
        """What the command line prints under the answers: the emulation warning (when emulated), the
        scope, each check's pass rates, the figures' table, the tokens saved and the speed-up."""
        from ._report_text import summary

        return summary(self.figures())

    def table(self, width: int = 32) -> str:
        """A plain-text table (texts cut to ``width`` terminal columns), the two setups and the summary."""
        from ._report_text import plain_table

        return plain_table(self, self.figures(), width)

    def __str__(self) -> str:
        return self.table()

    def __rich__(self) -> Table:
        """A rich table (rich is imported only here, so it stays optional); no text is read as markup."""
        from ._report_text import rich_table

        return rich_table(self, self.figures())

    def print(self) -> None:
        """Print as a rich table if rich is installed, else as plain text."""
        try:
            from rich import print as rich_print
            from rich.text import Text
        except ImportError:
            print(self.table())
        else:
            from ._report_text import setups

            rich_print(Text(setups(self)))
            rich_print(self)
