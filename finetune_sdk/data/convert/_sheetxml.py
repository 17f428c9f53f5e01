"""What a worksheet's XML says that openpyxl's read-only mode does not show: the rows hidden (by hand or by
a filter) and the cells merged. Read from the workbook's parts with the standard library, one row at a
time, so memory stays flat whatever the sheet's size."""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO
from xml.parsers import expat

__all__ = ["Merged", "SheetMarks", "sheet_marks"]

_CELL = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")


@dataclass(frozen=True)
class Merged:
    """Merged cells: their range as the sheet names it (``A15:A16``), the first and last row and the
    columns (from 0) they span."""

    ref: str
    rows: tuple[int, int]
    columns: tuple[int, int]


@dataclass
class SheetMarks:
    """The hidden rows of a sheet, as runs ``(first, last)`` in increasing order, and its merged cells
    (of more than one cell: every cell but the first reads empty)."""

    hidden: list[tuple[int, int]] = field(default_factory=list[tuple[int, int]])
    merged: list[Merged] = field(default_factory=list[Merged])

    def is_hidden(self, row: int) -> bool:
        """True when ``row`` is hidden (looked up by bisection over the runs)."""
        low, high = 0, len(self.hidden)
        while low < high:
            middle = (low + high) // 2
            first, last = self.hidden[middle]
            if row < first:
                high = middle
            elif row > last:
                low = middle + 1
            else:
                return True
        return False

    def hidden_count(self) -> int:
        return sum(last - first + 1 for first, last in self.hidden)


def sheet_marks(path: str, title: str) -> SheetMarks:
    """The marks of the worksheet named ``title`` in the workbook at ``path``; none when its part cannot
    be found or read (openpyxl read the rows: what cannot be told here is left unlisted, not an error)."""
    marks = SheetMarks()
    try:
        with zipfile.ZipFile(path) as book:
            part = _part_of(book, title)
            if part is None:
                return marks
            with book.open(part) as sheet:
                _parse(sheet, lambda tag, attributes: _mark(tag, attributes, marks))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, expat.ExpatError):
        return SheetMarks()
    return marks


def _parse(source: IO[bytes], on_element: Callable[[str, dict[str, str]], None]) -> None:
    """Call ``on_element`` with each element's local name and attributes, reading ``source`` in blocks:
    nothing is kept, so memory stays flat. A document that declares entities is refused (a workbook's
    parts never do; expanding them is how a small file grows without bound)."""
    parser = expat.ParserCreate()

    def start(name: str, attributes: dict[str, str]) -> None:
        on_element(name.rpartition(":")[2], attributes)

    def refuse(*_: object) -> None:
        raise ValueError("the part declares entities")

    parser.StartElementHandler = start
    parser.EntityDeclHandler = refuse
    parser.StartDoctypeDeclHandler = refuse
    while block := source.read(1 << 16):
        parser.Parse(block, False)
    parser.Parse(b"", True)


def _mark(tag: str, attributes: dict[str, str], marks: SheetMarks) -> None:
    if tag == "row" and attributes.get("hidden") in ("1", "true"):
        number = int(attributes.get("r") or 0)
        if number and marks.hidden and marks.hidden[-1][1] == number - 1:
            marks.hidden[-1] = (marks.hidden[-1][0], number)
        elif number:
            marks.hidden.append((number, number))
    elif tag == "mergeCell":
        first, _, last = (attributes.get("ref") or "").partition(":")
        start, end = _CELL.match(first), _CELL.match(last)
        if start is None or end is None:
            return
        rows = (int(start.group(2)), int(end.group(2)))
        columns = (_column(start.group(1)), _column(end.group(1)))
        if rows[1] > rows[0] or columns[1] > columns[0]:
            marks.merged.append(Merged(f"{first}:{last}", rows, columns))


def _attributes_of(data: bytes, tag: str) -> Iterator[dict[str, str]]:
    """The attributes of each ``tag`` element of a small XML part."""
    found: list[dict[str, str]] = []

    def keep(name: str, attributes: dict[str, str]) -> None:
        if name == tag:
            found.append(attributes)

    _parse(io.BytesIO(data), keep)
    return iter(found)


def _part_of(book: zipfile.ZipFile, title: str) -> str | None:
    """The name of the part that holds the sheet ``title``, from the workbook and its relationships."""
    rel_id = None
    for sheet in _attributes_of(book.read("xl/workbook.xml"), "sheet"):
        if sheet.get("name") == title:
            rel_id = next((v for k, v in sheet.items() if k.rpartition(":")[2] == "id"), None)
            break
    if rel_id is None:
        return None
    for rel in _attributes_of(book.read("xl/_rels/workbook.xml.rels"), "Relationship"):
        if rel.get("Id") == rel_id:
            target = rel.get("Target") or ""
            return target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
    return None


def _column(letters: str) -> int:
    """The column of ``letters`` from 0: A is 0, Z 25, AA 26."""
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1
