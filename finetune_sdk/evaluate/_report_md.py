"""A comparison as a Markdown report, every text in it escaped so a viewer fetches nothing.

Model output, prompts, check names and the note are data: an answer holding ``![x](http://...)``, a
raw ``<img src=...>``, an autolink ``<http://...>``, a reference-style link or a bare URL must show as
those characters, not make a Markdown viewer load an image, follow a link or render HTML.
:func:`md_text` escapes link and image brackets, emphasis, code spans, pipes and backslashes with a
backslash, HTML's ``& < >`` as entities, and breaks the GFM autolinks of bare ``http://`` and ``www.``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ._figures import Figures
from ._format import (
    check_rows,
    emulation_line,
    figure_table,
    scope_line,
    system_prompt_size,
    verdict_lines,
)
from ._rows import ComparisonData, ComparisonRow

__all__ = ["markdown", "md_cell", "md_text"]

# Inline syntax that a backslash neutralises (CommonMark lets any ASCII punctuation be escaped):
# link and image brackets, emphasis, code spans, strikethrough, table pipes and the backslash itself.
_INLINE = re.compile(r"[\\`*_\[\]|~]")
# GFM's extended autolinks turn a bare URL into a link: a backslash before its ':' or '.' stops that.
_URL_SCHEME = re.compile(r"://")
_WWW = re.compile(r"(?i)\b(www)\.")
# What would open a block at the start of a line: a heading, a list item, a quote, a rule.
_BLOCK_START = re.compile(r"^(\s*)([#+\-=>]|\d+[.)])")


def md_text(text: str) -> str:
    """``text`` as Markdown inline text that renders as exactly those characters (on one line)."""
    flat = " ".join(text.split())
    escaped = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = _INLINE.sub(r"\\\g<0>", escaped)
    escaped = _URL_SCHEME.sub(r"\\://", escaped)
    return _WWW.sub(r"\1\\.", escaped)


def _line_start_safe(text: str) -> str:
    return _BLOCK_START.sub(lambda m: f"{m[1]}\\{m[2]}", text, count=1)


def md_cell(text: str) -> str:
    """``text`` for one table cell: escaped, its lines kept apart by ``<br>`` (never empty)."""
    lines = [md_text(line) for line in text.splitlines()]
    return "<br>".join(line for line in lines if line) or " "


def md_paragraph(text: str) -> str:
    """``text`` as one escaped paragraph line that opens no block (no heading, list or quote)."""
    return _line_start_safe(md_text(text))


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(md_cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return lines


def _answer(comparison: ComparisonData, row: ComparisonRow, side: str) -> str:
    """The first sample's text, its failed checks, and how many samples passed every check."""
    text = row.samples(side)[0].text
    failed = row.failed(side, comparison.checks)
    out = text + (f" ✗ {', '.join(failed)}" if failed else (" ✓" if comparison.checks else ""))
    if comparison.samples > 1 and comparison.checks:
        passing = sum(not row.failed(side, comparison.checks, i) for i in range(comparison.samples))
        out += f" ({passing} of {comparison.samples} samples pass every check)"
    return out


def markdown(comparison: ComparisonData, figures: Figures, *, note: str | None = None) -> str:
    """The Markdown report of ``comparison`` and its ``figures``."""
    out = ["# Base versus tuned", ""]
    emulated = emulation_line(figures)
    if emulated:
        out += [f"> {md_paragraph(emulated)}", ""]
    if note:
        out += [f"> {md_paragraph(note)}", ""]
    setups = [
        (name, setup[0], system_prompt_size(setup[1]))
        for name, setup in (("base", comparison.base), ("tuned", comparison.tuned))
    ]
    out += _table(("setup", "model", "system prompt"), setups)
    out += ["", md_paragraph(scope_line(figures)), ""]
    if figures.checks:
        out += ["## Checks", ""]
        headers = ("check", "base passes", "tuned passes", "prompts where they differ")
        out += [*_table(headers, check_rows(figures)), ""]
    out += ["## Stability, tokens and speed", ""]
    out += _table(("", "base", "tuned"), figure_table(figures))
    out += [""]
    for line in verdict_lines(figures):
        out += [md_paragraph(line), ""]
    out += ["## Answers", ""]
    answers = [
        (str(i), row.prompt, _answer(comparison, row, "base"), _answer(comparison, row, "tuned"))
        for i, row in enumerate(comparison.rows, 1)
    ]
    out += _table(("#", "prompt", "base", "tuned"), answers)
    return "\n".join(out) + "\n"
