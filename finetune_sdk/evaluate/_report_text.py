"""A comparison in words: the summary lines of its figures, and the Markdown report.

The HTML report (:mod:`._report_html`) shows the same rows as these tables; both take their labels and
number formats from here, so the three renderings never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .._text import plural, shorten

if TYPE_CHECKING:
    from ._comparison import Comparison, ComparisonRow
    from ._figures import Figures, SideFigures

__all__ = [
    "figure_lines",
    "figure_table",
    "listed_prompts",
    "markdown",
    "percent",
    "saving_line",
    "scope_line",
    "seconds",
    "system_prompt_size",
    "token_label",
]

Cell = Callable[["SideFigures"], str]


def percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def seconds(value: float | None) -> str:
    """``0.54 s`` reads poorly next to ``0.04 s``: milliseconds below a second."""
    if value is None:
        return "-"
    return f"{value:.2f} s" if value >= 1 else f"{value * 1000:.0f} ms"


def _number(value: float | None, digits: int = 1) -> str:
    """``326`` for a whole number, ``22.7`` otherwise (``-`` for none)."""
    if value is None:
        return "-"
    return f"{value:,.0f}" if value == round(value) else f"{value:,.{digits}f}"


def scope_line(comparison: Comparison) -> str:
    """``3 prompts, 5 samples of each per side.``"""
    return (
        f"{plural(len(comparison.rows), 'prompt')}, {plural(comparison.samples, 'sample')} of each per side."
    )


MAX_LISTED_PROMPTS = 12
"""Prompts listed where a check differs; a long run says how many more there are instead."""


def listed_prompts(prompts: Sequence[str]) -> str:
    """``a, b, c`` (``-`` for none), the prompts cut to one line each and at most a dozen listed."""
    shown = ", ".join(shorten(prompt, 40) for prompt in prompts[:MAX_LISTED_PROMPTS])
    more = len(prompts) - MAX_LISTED_PROMPTS
    return (shown or "-") + (f" and {more} more" if more > 0 else "")


def system_prompt_size(system: str | None) -> str:
    return plural(len(system), "character") if system else "none"


def token_label(figures: Figures) -> str:
    return "exact" if figures.tokens_exact else "estimate"


def figure_table(figures: Figures) -> list[tuple[str, str, str]]:
    """``(what, base, tuned)`` rows of stability, tokens and speed (stability rows only with samples)."""
    rows: list[tuple[str, Cell]] = []
    if figures.checks:
        rows.append(("calls passing every check", lambda s: percent(s.all_checks_pass)))
    if figures.samples > 1:
        rows.append(("distinct answers per prompt", lambda s: percent(s.distinct_share)))
        rows.append(("length spread (characters, std. dev.)", lambda s: _number(s.length_spread)))
    rows += [
        ("mean answer length (characters)", lambda s: _number(s.mean_chars)),
        (f"prompt tokens per call ({token_label(figures)})", lambda s: _number(s.prompt_tokens_per_call)),
        ("prompt tokens per call (server's usage)", lambda s: _number(s.reported_prompt_tokens_per_call)),
        ("completion tokens per call (server's usage)", lambda s: _number(s.completion_tokens_per_call)),
        ("time to first token, median", lambda s: seconds(s.ttft_median)),
        ("time to first token, p95", lambda s: seconds(s.ttft_p95)),
        ("latency, median", lambda s: seconds(s.latency_median)),
        ("latency, p95", lambda s: seconds(s.latency_p95)),
    ]
    return [(label, cell(figures.base), cell(figures.tuned)) for label, cell in rows]


def saving_line(figures: Figures) -> str:
    """What the tuned setup saves per call and per 1,000 calls, and how much faster it answers."""
    saved = figures.prompt_tokens_saved_per_call
    line = (
        f"the tuned setup sends {_number(saved)} fewer prompt tokens per call"
        f" ({percent(figures.prompt_tokens_saved_share)}), {saved * 1000:,.0f} per 1,000 calls"
        f" ({token_label(figures)})"
    )
    ratio = figures.latency_ratio
    if ratio is not None and ratio >= 1:
        line += f"; it answers {ratio:.2f}x as fast (median latency)"
    elif ratio is not None:
        line += f"; it answers {1 / ratio:.2f}x slower (median latency)"
    return line


def figure_lines(comparison: Comparison) -> list[str]:
    """Lines for :meth:`Comparison.summary`: each check's pass rate per side, then the stability."""
    figures = comparison.figures()
    lines = [
        f"check {check.name}: base {percent(check.base_pass_rate)} -> tuned {percent(check.tuned_pass_rate)}"
        + (
            f" (differs on {len(check.differing_prompts)} of {len(comparison.rows)} prompts)"
            if check.differing_prompts
            else ""
        )
        for check in figures.checks
    ]
    if figures.checks:
        lines.append(
            f"every check passed: base {percent(figures.base.all_checks_pass)} ->"
            f" tuned {percent(figures.tuned.all_checks_pass)} of calls"
        )
    if figures.samples > 1:
        lines.append(
            f"over {figures.samples} samples per prompt: distinct answers"
            f" base {percent(figures.base.distinct_share)} -> tuned {percent(figures.tuned.distinct_share)},"
            " length spread"
            f" {_number(figures.base.length_spread)} -> {_number(figures.tuned.length_spread)} characters"
        )
    return lines


# -- Markdown ---------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    """Text that stays inside one Markdown table cell."""
    flat = " ".join(text.split())
    return flat.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;") or " "


def _table(headers: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(_cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _answer(comparison: Comparison, row: ComparisonRow, side: str) -> str:
    """The first sample's text, its failed checks, and how many samples passed every check."""
    text = row.samples(side)[0].text
    failed = row.failed(side, comparison.checks)
    out = text + (f" ✗ {', '.join(failed)}" if failed else (" ✓" if comparison.checks else ""))
    if comparison.samples > 1 and comparison.checks:
        passing = sum(not row.failed(side, comparison.checks, i) for i in range(comparison.samples))
        out += f" ({passing} of {comparison.samples} samples pass every check)"
    return out


def markdown(comparison: Comparison, *, note: str | None = None) -> str:
    """The Markdown report of ``comparison``."""
    figures = comparison.figures()
    out = ["# Base versus tuned", ""]
    if note:
        out += [f"> {' '.join(note.split())}", ""]
    setups = [
        (name, setup[0], system_prompt_size(setup[1]))
        for name, setup in (("base", comparison.base), ("tuned", comparison.tuned))
    ]
    out += _table(("setup", "model", "system prompt"), setups)
    out += ["", scope_line(comparison), ""]
    if figures.checks:
        out += ["## Checks", ""]
        checks = [
            (
                c.name,
                percent(c.base_pass_rate),
                percent(c.tuned_pass_rate),
                listed_prompts(c.differing_prompts),
            )
            for c in figures.checks
        ]
        out += [*_table(("check", "base passes", "tuned passes", "prompts where they differ"), checks), ""]
    out += ["## Stability, tokens and speed", ""]
    out += _table(("", "base", "tuned"), figure_table(figures))
    out += ["", saving_line(figures) + ".", "", "## Answers", ""]
    answers = [
        (str(i), row.prompt, _answer(comparison, row, "base"), _answer(comparison, row, "tuned"))
        for i, row in enumerate(comparison.rows, 1)
    ]
    out += _table(("#", "prompt", "base", "tuned"), answers)
    return "\n".join(out) + "\n"
