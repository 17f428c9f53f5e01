"""The words and number formats of a comparison's figures, shared by every rendering.

The command line's summary, the plain-text and rich tables, the Markdown, HTML and JSON reports all take
their rows and sentences from here, built from one :class:`~._figures.Figures`: a number is formatted
once, a speed-up is stated one way (median latency, base over tuned), and both prompt-token counts are
labelled with where they come from (the SDK's count, the server's ``usage``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from .._text import plural, shorten
from ._figures import Figures, SideFigures

__all__ = [
    "MAX_LISTED_PROMPTS",
    "FigureRow",
    "check_lines",
    "check_rows",
    "emulation_line",
    "figure_table",
    "listed_prompts",
    "number",
    "percent",
    "saving_line",
    "scope_line",
    "seconds",
    "speed_line",
    "system_prompt_size",
    "token_label",
    "verdict_lines",
]


class FigureRow(NamedTuple):
    """One row of the figures' table: what it is, and the base and tuned values as shown."""

    label: str
    base: str
    tuned: str


def percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def seconds(value: float | None) -> str:
    """``0.54 s`` reads poorly next to ``0.04 s``: milliseconds below a second."""
    if value is None:
        return "-"
    return f"{value:.2f} s" if value >= 1 else f"{value * 1000:.0f} ms"


def number(value: float | None, digits: int = 1) -> str:
    """``326`` for a whole number, ``22.7`` otherwise (``-`` for none)."""
    if value is None:
        return "-"
    return f"{value:,.0f}" if value == round(value) else f"{value:,.{digits}f}"


def token_label(figures: Figures) -> str:
    """Where the SDK's prompt-token count comes from: Qwen2.5's tokenizer, or the SDK's estimate."""
    return "exact count" if figures.tokens_exact else "SDK's estimate"


def emulation_line(figures: Figures) -> str | None:
    """The warning every rendering shows first when the answers came from the emulator (else None)."""
    if not figures.emulated:
        return None
    return (
        "emulated: these answers come from the finetune-sdk emulator, not the platform;"
        " the figures show how the report reads, not how the models behave"
    )


def scope_line(figures: Figures) -> str:
    """``3 prompts, 5 samples of each per side: 15 calls per side, 4 at a time.``"""
    calls = figures.base.calls
    line = f"{plural(figures.prompts, 'prompt')}, {plural(figures.samples, 'sample')} of each per side"
    line += f": {plural(calls, 'call')} per side"
    if figures.concurrency is not None:
        line += f", {figures.concurrency} at a time" if figures.concurrency > 1 else ", one at a time"
    return line + "."


MAX_LISTED_PROMPTS = 12
"""Prompts listed where a check differs; a long run says how many more there are instead."""


def listed_prompts(prompts: Sequence[str]) -> str:
    """``a, b, c`` (``-`` for none), the prompts cut to one line each and at most a dozen listed."""
    shown = ", ".join(shorten(prompt, 40) for prompt in prompts[:MAX_LISTED_PROMPTS])
    more = len(prompts) - MAX_LISTED_PROMPTS
    return (shown or "-") + (f" and {more} more" if more > 0 else "")


def system_prompt_size(system: str | None) -> str:
    return plural(len(system), "character") if system else "none"


Cell = Callable[[SideFigures], str]


def figure_table(figures: Figures) -> list[FigureRow]:
    """The stability, tokens and speed of both sides (stability rows only with several samples)."""
    rows: list[tuple[str, Cell]] = []
    if figures.checks:
        rows.append(("calls passing every check", lambda s: percent(s.all_checks_pass)))
    if figures.samples > 1:
        rows.append(("distinct answers per prompt", lambda s: percent(s.distinct_share)))
        rows.append(("length spread (characters, std. dev.)", lambda s: number(s.length_spread)))
    always: list[tuple[str, Cell]] = [
        ("mean answer length (characters)", lambda s: number(s.mean_chars)),
        (f"prompt tokens per call ({token_label(figures)})", lambda s: number(s.prompt_tokens_per_call)),
        ("prompt tokens per call (server's usage)", lambda s: number(s.reported_prompt_tokens_per_call)),
        ("completion tokens per call (server's usage)", lambda s: number(s.completion_tokens_per_call)),
        ("time to first token, median", lambda s: seconds(s.ttft_median)),
        ("time to first token, p95", lambda s: seconds(s.ttft_p95)),
        ("latency, median", lambda s: seconds(s.latency_median)),
        ("latency, p95", lambda s: seconds(s.latency_p95)),
    ]
    rows += always
    return [FigureRow(label, cell(figures.base), cell(figures.tuned)) for label, cell in rows]


def check_rows(figures: Figures) -> list[tuple[str, str, str, str]]:
    """``(check, base passes, tuned passes, prompts where they differ)`` per check."""
    return [
        (c.name, percent(c.base_pass_rate), percent(c.tuned_pass_rate), listed_prompts(c.differing_prompts))
        for c in figures.checks
    ]


def check_lines(figures: Figures) -> list[str]:
    """Each check's pass rate per side, every check together, then the stability over samples."""
    lines = [
        f"check {check.name}: base {percent(check.base_pass_rate)} -> tuned {percent(check.tuned_pass_rate)}"
        + (
            f" (differs on {len(check.differing_prompts)} of {figures.prompts} prompts)"
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
            f" {number(figures.base.length_spread)} -> {number(figures.tuned.length_spread)} characters"
        )
    return lines


def saving_line(figures: Figures) -> str:
    """The prompt tokens the tuned setup saves per call, by the SDK's count and by the server's."""
    saved = figures.prompt_tokens_saved_per_call
    line = (
        f"prompt tokens per call {number(figures.base.prompt_tokens_per_call)} ->"
        f" {number(figures.tuned.prompt_tokens_per_call)} ({token_label(figures)}):"
        f" the tuned setup saves {number(saved)} ({percent(figures.prompt_tokens_saved_share)}),"
        f" {number(figures.prompt_tokens_saved_per_1000_calls)} per 1,000 calls"
    )
    reported = figures.reported_prompt_tokens_saved_per_call
    if reported is None:
        line += "; the server's usage: not reported by the server"
    else:
        line += f"; by the server's usage it saves {number(reported)} per call"
    return line


def speed_line(figures: Figures) -> str:
    """The speed-up, stated one way: median latency of every call of each side, base over tuned."""
    base, tuned, ratio = figures.base, figures.tuned, figures.latency_ratio
    line = f"median latency {seconds(base.latency_median)} -> {seconds(tuned.latency_median)}"
    if ratio is not None:
        if f"{ratio:.2f}" == "1.00" or f"{1 / ratio:.2f}" == "1.00":
            line += ": the tuned setup answers about as fast (1.00x)"
        elif ratio > 1:
            line += f": the tuned setup answers {ratio:.2f}x as fast"
        else:
            line += f": the tuned setup answers {1 / ratio:.2f}x slower"
    return line + f" (medians over {plural(base.calls, 'call')} per side)"


def verdict_lines(figures: Figures) -> list[str]:
    """The two sentences under the figures: tokens saved, then speed."""
    return [saving_line(figures), speed_line(figures)]
