"""CSV and TSV files of prompt/response rows (and an optional system column), read with the standard
``csv`` module from a text stream, so a quoted newline stays inside its cell and memory stays flat.

The header is the first row when one of its cells names a known column (case and spaces ignored);
without one, two columns are read as prompt, response and three as system, prompt, response. Nothing is
dropped silently: an ``input`` column beside an ``instruction`` one is joined to the prompt with a newline
(as Alpaca's ``input`` is), the text of other columns is named in an ``ignored_columns`` change, and a
row with more filled cells than the table has columns (a comma that was not quoted) is rejected
(``extra_cells``); a first row that is no header is a record like the others.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from typing import IO

from .._lines import MAX_LINE_BYTES
from ._fields import FieldMap
from ._repairs import Reject, Turn

__all__ = ["CsvTable", "csv_turns"]

_NAMES = {
    "prompt": ("prompt", "question", "instruction", "input", "query", "user", "human"),
    "response": ("response", "answer", "output", "completion", "assistant", "gpt", "reply"),
    "system": ("system", "system_prompt", "system prompt"),
}


class CsvTable:
    """The rows of a CSV or TSV file as ``(row number, cells)``, after its header; ``columns`` says which
    cell is the prompt, the response and the system prompt, and ``how`` how that was decided."""

    def __init__(
        self,
        binary: IO[bytes],
        fields: FieldMap,
        *,
        tab: bool | None = None,
        bom: bool = True,
        tsv: bool = False,
    ) -> None:
        """``tab`` forces the delimiter (``None``: the one the first line has more of); ``tsv`` (a file
        named ``.tsv``) picks tabs whenever the first line has one."""
        # utf-8-sig skips a byte order mark, and again after the seek back to the start.
        self._binary = binary
        if csv.field_size_limit() < MAX_LINE_BYTES:  # a cell may be as long as a line may be
            csv.field_size_limit(MAX_LINE_BYTES)
        head = binary.read(1 << 16).decode("utf-8", "replace")  # only to choose the delimiter
        binary.seek(0)
        self._text = io.TextIOWrapper(binary, encoding="utf-8-sig" if bom else "utf-8", newline="")
        if tab is None:
            first = head.split("\n", 1)[0]
            tab = ("\t" in first) if tsv else first.count("\t") > first.count(",")
        self.delimiter = "\t" if tab else ","
        self._reader = csv.reader(self._text, delimiter=self.delimiter)
        self.columns: dict[str, int] = {}
        self.width = 0  # the cells a row may fill: the header's, or the first row's
        self.ignored: dict[int, str] = {}  # header columns that are not read, by index
        self.how = ""
        self._first: list[str] | None = None
        self._first_line = 0
        self._detect(fields)

    def _next(self, number: int) -> list[str] | None:
        """The next row, ``None`` at the end; a row that cannot be read is a ``ValueError`` (the reader
        cannot go on after it, so the file must be fixed, and nothing is written)."""
        try:
            return next(self._reader)
        except StopIteration:
            return None
        except UnicodeDecodeError:
            line = _first_bad_line(self._binary)
            raise ValueError(f"line {line} of the file is not valid UTF-8: save the file as UTF-8") from None
        except csv.Error as exc:
            raise ValueError(f"row {number} (line {self._reader.line_num}) cannot be read: {exc}") from exc

    def _detect(self, fields: FieldMap) -> None:
        first = self._next(1)
        if first is None:
            self.how = "empty"
            return
        wanted = {
            role: tuple(n for n in ((getattr(fields, role),) if getattr(fields, role) else ()) + names)
            for role, names in _NAMES.items()
        }
        cells = [c.strip().lower() for c in first]
        for role, names in wanted.items():
            for name in names:
                if name.lower() in cells:
                    self.columns[role] = cells.index(name.lower())
                    break
        self.width = len(first)
        if "prompt" in self.columns and "response" in self.columns:
            if "input" in cells and cells.index("input") not in self.columns.values():
                self.columns["input"] = cells.index("input")  # Alpaca's input, beside the instruction
            self.how = "header " + ", ".join(f"{role}={first[i]!r}" for role, i in self.columns.items())
            used = set(self.columns.values())
            self.ignored = {i: name for i, name in enumerate(first) if i not in used}
            return
        self.columns = {}
        self._first, self._first_line = first, self._reader.line_num  # a record, not a header
        if len(first) in (2, 3):
            order = ("prompt", "response") if len(first) == 2 else ("system", "prompt", "response")
            self.columns = {role: i for i, role in enumerate(order)}
            self.how = f"no header, {len(first)} columns read as {', '.join(order)}"
        else:
            self.how = (
                f"no header naming prompt and response columns, and {len(first)} columns, not 2 or 3 "
                f"(first row {first!r:.80})"
            )
            if len(first) == 1 and ";" in first[0]:
                self.how += "; its rows look separated by ';', which is not read: save it with commas or tabs"

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """``(row number counting the header as 1, cells)`` for each data row."""
        if self._first is not None:
            yield 1, self._first
        number = 1
        while True:
            row = self._next(number + 1)
            if row is None:
                return
            number += 1
            yield number, row


def _first_bad_line(binary: IO[bytes]) -> int:
    """The line of the first byte that is not UTF-8 (the text reader decodes ahead, so its error cannot
    say where)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    binary.seek(0)
    lines = 1
    while block := binary.read(1 << 20):
        try:
            decoder.decode(block)
        except UnicodeDecodeError as exc:
            return lines + block.count(b"\n", 0, max(0, exc.start))
        lines += block.count(b"\n")
    return lines


def csv_turns(row: list[str], table: CsvTable) -> tuple[list[Turn], tuple[tuple[str, str], ...]]:
    """The turns of one row, and the changes made: ``(code, action)`` pairs."""
    columns = table.columns
    if not columns:
        raise Reject(
            "no_columns",
            f"the file has no prompt and response columns ({table.how}): name them in a header "
            "or with FieldMap(prompt=..., response=...)",
        )
    need = max(columns.values()) + 1
    if len(row) < need:
        raise Reject("missing_field", f"the row has {len(row)} cells, {need} needed")
    extra = [i + 1 for i in range(table.width, len(row)) if row[i].strip()]
    if extra:
        raise Reject(
            "extra_cells",
            f"the row has {len(row)} cells, the table {table.width} columns (text in cell "
            f"{', '.join(map(str, extra))}): quote a cell that holds the delimiter {table.delimiter!r}",
        )
    notes: list[tuple[str, str]] = []
    turns = []
    if "system" in columns and row[columns["system"]].strip():
        turns.append(Turn("system", row[columns["system"]]))
    prompt = row[columns["prompt"]]
    if "input" in columns and row[columns["input"]].strip():
        extra_text = row[columns["input"]]
        prompt = f"{prompt}\n{extra_text}" if prompt.strip() else extra_text
        notes.append(("join_input", "the input column joined to the instruction with a newline"))
    left = [name for i, name in table.ignored.items() if i < len(row) and row[i].strip()]
    if left:
        notes.append(("ignored_columns", f"left out the columns {', '.join(left)} (not training text)"))
    turns += [Turn("user", prompt), Turn("assistant", row[columns["response"]])]
    return turns, tuple(notes)
