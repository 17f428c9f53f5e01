"""Records that are rows of named values: a Parquet or Arrow table's rows, and JSON records read as a
table (prompt and response keys); each value as text, listed when it was not."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from .._json import as_object
from ._cells import cells_of
from ._columnar import column_names, iter_columnar
from ._detect import format_of
from ._input import SAMPLE, Input, SourceName
from ._raw import Raw
from ._repairs import Reject, Turn
from ._table import Columns, detect_columns, table_turns

__all__ = ["columnar_records", "dict_records", "written_kinds"]


def dict_records(
    what: Input, raws: Iterator[Raw], chosen: SourceName, keys: list[str] | None
) -> Iterator[Raw]:
    """Parsed records: as they are, or for a ``table`` source as table rows by ``keys``."""
    columns = detect_columns(keys, [], what.fields) if chosen == "table" and keys else None
    if columns is not None:
        report = what.report
        report.detected = f"{report.detected}; {columns.how}" if report.detected else columns.how
    for raw in raws:
        if columns is None or keys is None or raw.error is not None or raw.blank:
            yield raw
            continue
        try:
            raw.value, raw.notes = _dict_row(raw.value, keys, columns)
        except Reject as exc:
            raw.error = (exc.code, exc.reason)
        yield raw


def written_kinds(kinds: Iterable[tuple[int, str]], columns: Columns) -> str:
    """The kinds of the cells that were not text in the columns read (those of a column left out are not
    written, as text or otherwise), named once each."""
    read = set(columns.index.values())
    return ", ".join(sorted({kind for index, kind in kinds if index in read}))


def _dict_row(
    value: Any, keys: list[str], columns: Columns
) -> tuple[list[Turn], tuple[tuple[str, str], ...]]:
    record = as_object(value)
    if record is None:
        raise Reject("not_an_object", f"the record is a {type(value).__name__}, not an object")
    used = {keys[i] for i in columns.index.values()}
    for key in used:
        cell: object = record.get(key)
        if cell is not None and not isinstance(cell, str | int | float):
            raise Reject("invalid_content", f"the {key!r} is a {type(cell).__name__}, not text")
    cells, kinds = cells_of(record.get(k) for k in keys)
    turns, notes = table_turns(cells, columns)
    written = written_kinds(kinds, columns)
    if written:
        notes.append(("cell_as_text", f"{written} values written as text"))
    return turns, tuple(notes)


def columnar_records(what: Input, source: SourceName, table_path: str) -> tuple[SourceName, Iterator[Raw]]:
    kind = what.shape.kind
    try:
        sample = list(itertools.islice(iter_columnar(table_path, kind), SAMPLE))
        names = column_names(table_path, kind)
    except (ValueError, OSError) as exc:  # pyarrow's ArrowInvalid and ArrowIOError are these
        raise ValueError(
            f"{what.path} cannot be read as {what.shape.describe()} ({exc}): it is cut short or damaged; "
            "export it again"
        ) from None
    chosen: SourceName = source
    prefix = what.shape.describe()
    if source == "auto":
        found, why = format_of(sample)
        if found is not None:
            chosen = found
            what.report.detected = f"auto: {prefix}, {why} in the first rows"
        else:
            chosen = "table"
            what.report.detected = f"auto: {prefix} of columns {', '.join(names[:8])}"
    elif source == "csv":
        chosen = "table"
    raws = (Raw(n, value=v, original=v) for n, v in enumerate(iter_columnar(table_path, kind), 1))
    return chosen, dict_records(what, raws, chosen, names)
