"""Text as a terminal shows it: CJK and other wide characters take two columns.

Shared by every plain-text table (``Comparison.table()``, the CLI's listings), so Chinese prompts,
replies and file names line up.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

__all__ = ["columns", "pad", "plural", "shorten", "table_lines"]


def columns(text: str) -> int:
    """Terminal columns ``text`` takes."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def shorten(text: str, width: int) -> str:
    """``text`` on one line, cut to ``width`` columns with an ellipsis."""
    flat = " ".join(text.split())
    if columns(flat) <= width:
        return flat
    used = 0
    for index, char in enumerate(flat):
        used += columns(char)
        if used > width - 1:
            return flat[:index] + "…"
    return flat  # pragma: no cover - the loop always cuts a text wider than width


def pad(text: str, width: int) -> str:
    """``text`` followed by spaces up to ``width`` columns."""
    return text + " " * max(0, width - columns(text))


def table_lines(rows: Sequence[Sequence[str]], *, rule: bool = False) -> list[str]:
    """Rows of cells as aligned lines, two spaces between columns; ``rule`` underlines the first row."""
    if not rows:
        return []
    widths = [max(columns(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    if rule:
        lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 example``, ``3 examples`` (``many`` for irregular plurals)."""
    return f"{count} {word if count == 1 else (many or word + 's')}"
