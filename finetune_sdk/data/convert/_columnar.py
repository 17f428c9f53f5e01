"""Records of a Parquet or Arrow (Feather) file, read with ``pyarrow`` (the ``parquet`` extra) one record
batch at a time, so memory stays one batch whatever the file's size. Each row comes as a dict of Python
values, the way a JSON record would: a ``messages`` column of lists of ``{role, content}`` structs (a
Hugging Face ``datasets`` export) reads like a JSON Lines file of chat records.

And the rows of a worksheet of an Excel workbook (``.xlsx``), read with ``openpyxl`` (the ``xlsx``
extra) in read-only mode, one row at a time.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from ._cells import shown

__all__ = ["BATCH_ROWS", "Formulas", "column_names", "iter_columnar", "iter_sheet", "sheet_names"]

#: Rows per record batch read from a Parquet file.
BATCH_ROWS = 1024


def _require(module: str, extra: str, what: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(
            f'reading {what} needs {module.split(".", maxsplit=1)[0]}: pip install "finetune-sdk[{extra}]"'
        ) from None


def _batches(path: str, kind: str) -> Iterator[Any]:
    if kind == "parquet":
        parquet = _require("pyarrow.parquet", "parquet", "a Parquet file")
        handle = parquet.ParquetFile(path)
        try:
            yield from handle.iter_batches(batch_size=BATCH_ROWS)
        finally:
            handle.close()
        return
    ipc = _require("pyarrow.ipc", "parquet", "an Arrow file")
    arrow = _require("pyarrow", "parquet", "an Arrow file")
    with arrow.memory_map(path, "r") as source:
        try:
            reader = ipc.open_file(source)
        except arrow.ArrowInvalid:  # a stream, not a file (no footer)
            source.seek(0)
            yield from ipc.open_stream(source)
            return
        for index in range(reader.num_record_batches):
            yield reader.get_batch(index)


def iter_columnar(path: str, kind: str) -> Iterator[dict[str, Any]]:
    """The rows of a Parquet (``kind="parquet"``) or Arrow IPC / Feather file, as dicts."""
    for batch in _batches(path, kind):
        rows: list[dict[str, Any]] = batch.to_pylist()
        yield from rows


def column_names(path: str, kind: str) -> list[str]:
    """The column names of a Parquet or Arrow file, from its schema."""
    if kind == "parquet":
        parquet = _require("pyarrow.parquet", "parquet", "a Parquet file")
        names: list[str] = list(parquet.read_schema(path).names)
        return names
    for batch in _batches(path, kind):
        found: list[str] = list(batch.schema.names)
        return found
    return []


def _workbook(path: str) -> Any:
    openpyxl = _require("openpyxl", "xlsx", "an Excel workbook")
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl's own, zipfile's, KeyError for a missing part: all one answer
        raise ValueError(
            f"it cannot be read as an Excel workbook ({type(exc).__name__}: {exc}): open it in Excel "
            "and save it again as .xlsx, or save the sheet as CSV"
        ) from exc


def sheet_names(path: str) -> list[tuple[str, str]]:
    """The worksheets of a workbook, in order (chart sheets, which hold no cells, left out): each one's
    name and state (``visible``, ``hidden`` or ``veryHidden``)."""
    book = _workbook(path)
    try:
        return [(str(sheet.title), str(sheet.sheet_state)) for sheet in book.worksheets]
    finally:
        book.close()


def iter_sheet(
    path: str, unvalued: dict[int, tuple[int, ...]] | None = None, index: int = 0
) -> Iterator[tuple[object, ...]]:
    """The rows of the worksheet at ``index`` of a workbook as tuples of cell values (``None`` for an empty
    cell), trailing empty cells removed. ``unvalued`` receives, by row number from 1, the positions of the
    cells of a row that are in the file but hold no value (a formula never computed, or an empty cell with
    a style): :class:`Formulas` tells which are formulas, for the rows that need it."""
    book = _workbook(path)
    try:
        sheet = book.worksheets[index]
        for number, cells in enumerate(sheet.iter_rows(), 1):
            # Each value as its number format shows it (``15%``, not ``0.15``): the text people read.
            row: tuple[object, ...] = tuple(
                shown(cell.value, getattr(cell, "number_format", None)) for cell in cells
            )
            if unvalued is not None and None in row:
                empty = tuple(
                    i for i, cell in enumerate(cells) if cell.value is None and hasattr(cell, "row")
                )
                if empty:  # an EmptyCell (no row) is not in the file at all
                    unvalued[number] = empty
            end = len(row)
            while end and (row[end - 1] is None or row[end - 1] == ""):
                end -= 1
            yield row[:end]
    finally:
        book.close()


class Formulas:
    """The formulas of a worksheet (the one at ``index``), looked up row by row in increasing row order: the
    workbook is opened again (its formulas, not their saved values) only when a row is first asked for,
    and read forward once however many rows are asked for."""

    def __init__(self, path: str, index: int = 0) -> None:
        self._path = path
        self._index = index
        self._book: Any = None
        self._rows: Iterator[tuple[int, tuple[Any, ...]]] | None = None
        self._at: tuple[int, tuple[Any, ...]] = (0, ())

    def of(self, number: int, columns: tuple[int, ...]) -> dict[int, str]:
        """The formula text (``=1+2``) of the cells of row ``number`` at ``columns`` that hold one."""
        if self._rows is None:
            openpyxl = _require("openpyxl", "xlsx", "an Excel workbook")
            self._book = openpyxl.load_workbook(self._path, read_only=True, data_only=False)
            self._rows = enumerate(self._book.worksheets[self._index].iter_rows(min_row=number), number)
        while self._at[0] < number:
            found = next(self._rows, None)
            if found is None:
                return {}
            self._at = found
        if self._at[0] != number:  # asked for a row already passed
            return {}
        cells = self._at[1]
        found_formulas: dict[int, str] = {}
        for index in columns:
            value: object = cells[index].value if index < len(cells) else None
            if isinstance(value, str) and value.startswith("=") and cells[index].data_type == "f":
                found_formulas[index] = value
        return found_formulas

    def close(self) -> None:
        if self._book is not None:
            self._book.close()
