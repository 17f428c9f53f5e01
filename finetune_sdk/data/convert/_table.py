"""Tables of prompt/response rows, whatever holds them (a CSV or TSV file, an Excel sheet, a Parquet
table, JSON records with such keys): which column is which, and the turns of a row.

A first row is the header when its cells name the columns: common English and Chinese names (问题,
答案, 回答, 提问, 指令, 输入, 输出, 系统; question, answer, prompt, response, instruction, input, output,
system, ...), in any case, full or half width. Columns named otherwise are named by the caller
(``FieldMap(prompt="Frage", response="Antwort")``, ``--columns prompt=Frage,response=Antwort``), by
header text or by position (``prompt=1``). Without a header, two columns are read as prompt, response
and three as system, prompt, response, and the report says so. Never a guess: a first row that looks
like a header of unknown names, or names that fit two columns, stops the conversion with a message that
asks for the mapping, so a header is never trained on.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ._fields import FieldMap
from ._turns import Reject, Turn

__all__ = [
    "HEADER_HINT",
    "TITLE_ROWS",
    "Columns",
    "UnsureColumnsError",
    "detect_columns",
    "fold",
    "header_at",
    "table_turns",
]

Column = Literal["prompt", "response", "system", "input"]

_NAMES: dict[Column, tuple[str, ...]] = {
    "prompt": (
        "prompt", "question", "instruction", "query", "user", "human", "ask",
        "问题", "提问", "指令", "问", "用户", "题目", "用户问题", "问句",
    ),
    "input": ("input", "context", "输入", "上下文"),
    "response": (
        "response", "answer", "output", "completion", "assistant", "gpt", "reply",
        "答案", "回答", "输出", "答", "回复", "助手", "答复",
    ),
    "system": ("system", "system prompt", "systemprompt", "系统", "系统提示", "系统提示词", "系统消息"),
}  # fmt: skip
#: Characters ignored when names are compared, besides case and width.
_IGNORED = str.maketrans("", "", " _-:：.。")
#: Cells of a header-like first row are at most this long.
_LABEL_CHARS = 24
_SENTENCE_ENDS = tuple(".?!。？！…")


def fold(name: str) -> str:
    """A column name as compared: NFKC (full width to half width), case folded, without spaces,
    underscores, hyphens and colons."""
    return unicodedata.normalize("NFKC", name).casefold().translate(_IGNORED)


_KNOWN: dict[str, Column] = {fold(n): role for role, names in _NAMES.items() for n in names}


class UnsureColumnsError(ValueError):
    """Which column is the prompt and which the response cannot be told for sure: the message says what
    was found and asks for the mapping."""


@dataclass
class Columns:
    """Which cell of a row is the prompt, the response, the system prompt and an input joined to the
    prompt; ``header`` is true when the first row names them (it is then no record); ``how`` says how
    it was decided; ``ignored`` names the other columns of a header; ``width`` is the number of cells a
    row may fill; ``notes`` are changes to list for the whole table."""

    index: dict[Column, int] = field(default_factory=dict[Column, int])
    header: bool = False
    how: str = ""
    width: int = 0
    ignored: dict[int, str] = field(default_factory=dict[int, str])
    notes: list[tuple[str, str]] = field(default_factory=list[tuple[str, str]])


def _given(fields: FieldMap) -> dict[Column, str]:
    found: dict[Column, str | None] = {
        "prompt": fields.prompt,
        "response": fields.response,
        "system": fields.system,
        "input": fields.input,
    }
    return {role: name for role, name in found.items() if name}


def _position(name: str, width: int) -> int | None:
    """A column given by its number from 1 (``"2"``), as an index; ``None`` when ``name`` is no number."""
    if not name.isdigit():
        return None
    number = int(name)
    if not 1 <= number <= max(width, 1):
        raise UnsureColumnsError(f"there is no column {number}: the table has {width} columns")
    return number - 1


def _by_name(first: Sequence[str], given: Mapping[Column, str], header: bool = False) -> Columns:
    """The columns the caller named (by header text or by position)."""
    folded = [fold(c) for c in first]
    index: dict[Column, int] = {}
    by_text = False
    for role, name in given.items():
        at = _position(name, len(first))
        if at is None:
            if fold(name) not in folded:
                shown = ", ".join(first) or "none"
                if header:
                    raise UnsureColumnsError(f"no column is named {name!r} in it (its cells: {shown})")
                raise UnsureColumnsError(
                    f"no column is named {name!r} in the first {TITLE_ROWS} rows (the first row's cells: "
                    f"{shown}); for a header further down, give its row: header_row=N (--header-row N)"
                )
            at, by_text = folded.index(fold(name)), True
        index[role] = at
    if by_text:  # the header's other known names fill in the roles not given
        for at, cell in enumerate(first):
            known = _KNOWN.get(fold(cell))
            if known is not None and known not in index and at not in index.values():
                index[known] = at
    if "prompt" not in index or "response" not in index:
        missing = " and ".join(r for r in ("prompt", "response") if r not in index)
        raise UnsureColumnsError(f"name the {missing} column too (--columns prompt=...,response=...)")
    header = header or by_text or _names_any(first)
    how = ", ".join(f"{role}={first[i] if header else f'column {i + 1}'!r}" for role, i in index.items())
    return _finish(first, index, header, f"{'header' if header else 'no header'}, columns given: {how}")


def _names_any(first: Sequence[str]) -> bool:
    """True when a cell of ``first`` is a known column name: the row is a header."""
    return any(fold(cell) in _KNOWN for cell in first)


def _known_roles(first: Sequence[str]) -> dict[Column, int] | None:
    """The roles the cells of a header name, when they name a prompt and a response column; ``None``
    when they name no known column at all; :class:`UnsureColumnsError` when they name some but not
    enough, or one role twice."""
    found: dict[Column, list[int]] = {}
    for at, cell in enumerate(first):
        role = _KNOWN.get(fold(cell))
        if role is not None:
            found.setdefault(role, []).append(at)
    if not found:
        return None
    twice = {role: ats for role, ats in found.items() if len(ats) > 1}
    if twice:
        role, ats = next(iter(twice.items()))
        names = ", ".join(repr(first[i]) for i in ats)
        raise UnsureColumnsError(
            f"the first row names {len(ats)} {role} columns ({names}): say which to read with "
            f"--columns {role}=NAME (FieldMap({role}=...) in Python)"
        )
    if "prompt" not in found and "input" in found:  # input and output only: the input is the prompt
        found["prompt"] = found.pop("input")
    if "prompt" in found and "response" in found:
        return {role: ats[0] for role, ats in found.items()}
    named = ", ".join(f"{first[ats[0]]!r} ({role})" for role, ats in found.items())
    missing = " and ".join(r for r in ("prompt", "response") if r not in found)
    raise UnsureColumnsError(
        f"the first row looks like a header ({named}) but names no {missing} column: name the columns "
        f"with --columns prompt=NAME,response=NAME (FieldMap(prompt=..., response=...) in Python)"
    )


#: Rows looked at for a header below a title (a title, a date line, blank rows above the real header).
TITLE_ROWS = 10
HEADER_HINT = "a header below a title, give its row: header_row=N (--header-row N)"


def header_at(rows: Sequence[Sequence[str]], fields: FieldMap) -> int:
    """Where the header is among the first rows of a table: 0 unless a later row (of the first
    :data:`TITLE_ROWS`) is clearly the header and the rows above it are a title (fewer cells with text
    than the header has); :class:`UnsureColumnsError` when such a row has rows above it that are not a
    title (the header would be trained on as an example). A header names the columns ``fields`` gives
    by text, or, when it gives none by text, a prompt and a response column among the names this module
    knows."""
    named = [fold(n) for n in _given(fields).values() if not n.isdigit()]
    for at, cells in enumerate(rows[:TITLE_ROWS]):
        folded = [fold(c) for c in cells]
        if named:
            found = all(n in folded for n in named)
        else:
            roles = {_KNOWN.get(c) for c in folded}
            found = "response" in roles and bool(roles & {"prompt", "input"})
        if found:
            width = sum(1 for c in cells if c.strip())
            if all(sum(1 for c in row if c.strip()) < width for row in rows[:at]):
                return at
            shown = ", ".join(repr(c) for c in cells if c.strip())
            raise UnsureColumnsError(
                f"row {at + 1} ({shown}) looks like the header, but the rows above it are not a title (as "
                f"many cells or more): give the header's row, header_row={at + 1} (--header-row {at + 1}), "
                "so that it is not trained on"
            )
    return 0


def _header_like(first: Sequence[str], rows: Sequence[Sequence[str]]) -> bool:
    """A first row of short labels over rows of longer text: a header of names this module does not know."""
    cells = [c.strip() for c in first]
    if not cells or any(
        not c or len(c) > _LABEL_CHARS or "\n" in c or c.endswith(_SENTENCE_ENDS) for c in cells
    ):
        return False
    if len(set(cells)) != len(cells) or not rows:
        return False
    label = sum(map(len, cells)) / len(cells)
    below = [len(r[i].strip()) for r in rows for i in range(min(len(r), len(cells)))]
    return bool(below) and sum(below) / len(below) >= 2 * label


def _finish(first: Sequence[str], index: dict[Column, int], header: bool, how: str) -> Columns:
    used = set(index.values())
    ignored = {i: name for i, name in enumerate(first) if i not in used} if header else {}
    return Columns(index=index, header=header, how=how, width=len(first), ignored=ignored)


def detect_columns(
    first: Sequence[str], rows: Sequence[Sequence[str]], fields: FieldMap, *, header: bool = False
) -> Columns:
    """The columns of a table from its first row and a few rows after it (to tell a header of unknown
    names from data). ``fields`` names columns the caller knows; ``header`` says the first row is the
    header for sure (the caller was told so). Raises :class:`UnsureColumnsError`."""
    given = _given(fields)
    if given:
        return _by_name(first, given, header)
    known = _known_roles(first)
    if known is None and header:
        shown = ", ".join(repr(c) for c in first if c.strip())
        raise UnsureColumnsError(
            f"{f'its cells ({shown}) name' if shown else 'it is blank and names'} no known column: name "
            "the columns with --columns prompt=NAME,response=NAME (FieldMap(prompt=..., response=...) in "
            "Python)"
        )
    if known is not None:
        if "input" in known and "prompt" in known and known["input"] == known["prompt"]:
            del known["input"]
        how = "header " + ", ".join(f"{role}={first[i]!r}" for role, i in known.items())
        return _finish(first, known, True, how)
    if _header_like(first, rows):
        shown = ", ".join(repr(c) for c in first)
        raise UnsureColumnsError(
            f"the first row ({shown}) looks like a header of names that are not known: name the columns "
            f"with --columns prompt=NAME,response=NAME (FieldMap(prompt=..., response=...) in Python), or "
            "by position (prompt=1,response=2) if the first row is an example"
        )
    if len(first) in (2, 3):
        order: tuple[Column, ...] = (
            ("prompt", "response") if len(first) == 2 else ("system", "prompt", "response")
        )
        how = f"no header, {len(first)} columns read as {', '.join(order)}"
        columns = _finish(first, {role: i for i, role in enumerate(order)}, False, how)
        columns.notes.append(("no_header", f"no header row: {how}, the first row an example"))
        return columns
    how = f"no header naming prompt and response columns, and {len(first)} columns, not 2 or 3"
    if len(first) == 1 and ";" in first[0]:
        how += "; its rows look separated by ';', which is not read: save it with commas or tabs"
    return Columns(header=False, how=how, width=len(first))


def table_turns(
    row: Sequence[str], columns: Columns, delimiter: str = ","
) -> tuple[list[Turn], list[tuple[str, str]]]:
    """The turns of one row, and the changes made: ``(code, action)`` pairs; :class:`Reject` when the
    row cannot be read. ``delimiter`` is the text file's, or ``""`` for a sheet's row (cells named by
    their column letters)."""
    index = columns.index
    if not index:
        raise Reject(
            "no_columns",
            f"the table has no prompt and response columns ({columns.how}): name them in a header, with "
            f"--columns prompt=...,response=... or FieldMap(prompt=..., response=...); for {HEADER_HINT}",
        )
    need = max(index.values()) + 1
    if not delimiter:  # a sheet's row: its empty cells at the end are not in it, and are not missing
        row = [*row, *[""] * (need - len(row))]
    if len(row) < need:
        raise Reject("missing_field", f"the row has {len(row)} cells, {need} needed")
    extra = [i + 1 for i in range(columns.width, len(row)) if row[i].strip()]
    if extra and columns.width and not delimiter:
        raise Reject(
            "extra_cells",
            f"the row has text in column {', '.join(_letters(i) for i in extra)}, which the header row "
            f"does not name (it names {columns.width}): name it there (its text is then left out, "
            "listed), or move the text",
        )
    if extra and columns.width:
        raise Reject(
            "extra_cells",
            f"the row has {len(row)} cells, the table {columns.width} columns (text in cell "
            f"{', '.join(map(str, extra))}): quote a cell that holds the delimiter {delimiter!r}",
        )
    notes: list[tuple[str, str]] = []
    turns: list[Turn] = []
    if "system" in index and row[index["system"]].strip():
        turns.append(Turn("system", row[index["system"]]))
    prompt = row[index["prompt"]]
    if "input" in index and row[index["input"]].strip():
        extra_text = row[index["input"]]
        prompt = f"{prompt}\n{extra_text}" if prompt.strip() else extra_text
        notes.append(("join_input", "the input column joined to the instruction with a newline"))
    left = [name for i, name in columns.ignored.items() if i < len(row) and row[i].strip()]
    if left:
        notes.append(("ignored_columns", f"left out the columns {', '.join(left)} (not training text)"))
    turns += [Turn("user", prompt), Turn("assistant", row[index["response"]])]
    return turns, notes


def _letters(number: int) -> str:
    """The letters of the column ``number`` from 1: A, ..., Z, AA, ..."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
