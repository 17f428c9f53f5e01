"""The rows of a CSV or TSV file, read with the standard ``csv`` module from a text stream, so a quoted
newline stays inside its cell and memory stays flat. Which column is which is decided by
:mod:`._table`; this module only splits the text into cells.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from typing import IO

from .._lines import MAX_LINE_BYTES

__all__ = ["CsvRows", "UndecodableError", "first_bad_line"]


class UndecodableError(ValueError):
    """The text of a table is not in the encoding it is read with (the driver names the line and the
    likely encoding)."""


class CsvRows:
    """The rows of a CSV or TSV text of UTF-8 bytes as ``(row number from 1, cells)``.

    The delimiter is a tab when ``tsv`` (a file named ``.tsv``) and the first line has one, else the one
    of comma, tab and semicolon the first line has most of (a comma on a tie); the first line is the
    first of the first ten that has one of them (a title above a header has none). A byte order mark is
    skipped.
    """

    def __init__(self, binary: IO[bytes], head: bytes, *, tsv: bool = False) -> None:
        if csv.field_size_limit() < MAX_LINE_BYTES:  # a cell may be as long as a line may be
            csv.field_size_limit(MAX_LINE_BYTES)
        lines = head.decode("utf-8", "replace").split("\n", 10)[:10]
        # the first line with a delimiter: a title line above the header has none
        first = next((line for line in lines if any(d in line for d in ",\t;")), lines[0])
        if tsv and "\t" in first:
            self.delimiter = "\t"
        else:  # the one the header line has most of; a semicolon is Excel's in much of Europe
            self.delimiter = max((",", "\t", ";"), key=first.count)
        self._text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        # strict: a stray or unclosed quote is an error, not text run together (the lenient reader drops
        # the quote, or reads every row after it into one cell, silently).
        self._reader = csv.reader(self._text, delimiter=self.delimiter, strict=True)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Each row with its number; a row that cannot be read is a ``ValueError`` (the reader cannot go
        on after it, so the file must be fixed, and nothing is written)."""
        number = 0
        while True:
            start = self._reader.line_num + 1  # where the row begins: a quoted cell may span lines
            try:
                row = next(self._reader)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                raise UndecodableError(str(exc)) from None
            except csv.Error as exc:
                raise ValueError(
                    f"row {number + 1} (from line {start}) cannot be read: {exc}: a cell that "
                    'starts with a quote must end with one, and a quote inside it is written twice ("")'
                ) from exc
            number += 1
            yield number, row

    def detach(self) -> None:
        """Leave the binary stream open (the caller closes it)."""
        self._text.detach()


def first_bad_line(binary: IO[bytes], encoding: str = "utf-8") -> tuple[int, bytes]:
    """The line of the first byte that ``encoding`` cannot decode, and up to 64 KiB from the start of that
    line, to tell the likely encoding (a text reader decodes ahead, so its own error cannot say where)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = 1
    while block := binary.read(1 << 20):
        try:
            decoder.decode(block)
        except UnicodeDecodeError as exc:
            start = block.rfind(b"\n", 0, max(0, exc.start)) + 1
            return lines + block.count(b"\n", 0, max(0, exc.start)), block[start : start + (1 << 16)]
        lines += block.count(b"\n")
    return lines, b""
