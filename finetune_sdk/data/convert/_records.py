"""The records of an input file, one at a time, whatever holds them: JSON Lines, a JSON array, CSV or TSV
rows, an Excel sheet, a Parquet or Arrow table, each possibly compressed; and which source format they
are in. Memory stays flat: text is streamed, tables are read a row or a record batch at a time.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
from collections.abc import Callable, Generator, Iterator
from typing import IO, Any

import orjson

from ..._text import plural
from .._json import as_object
from .._schema import StrPath
from ._bare import bare_conversations, chatml_texts, split_chatml, wrap_messages
from ._cells import cells_of
from ._columnar import Formulas, iter_sheet, sheet_names
from ._csv import CsvRows, UndecodableError, first_bad_line
from ._detect import OLE_ADVICE, Container, container_of, format_of, records_of
from ._dictrows import columnar_records, dict_records, written_kinds
from ._encoding import UTF8, encoding_by_bom, encoding_hint, normal_encoding
from ._fields import CSV, FieldMap
from ._input import SAMPLE, SOURCES, Input, SourceName
from ._jsonarray import BOM, ArrayState, Oversized, iter_array, iter_array_lines, iter_json_lines
from ._nothing import nothing_read
from ._open import open_decompressed, random_access, shape_of
from ._raw import Raw, loads_lenient, parse_record
from ._repairs import Reject, Repairs
from ._report import Change, ConversionReport
from ._sheetrows import (
    Row,
    RowMarks,
    choose_sheet,
    header_rows,
    name_formulas,
    sheet_names_columns,
    title_note,
)
from ._sheetxml import SheetMarks, sheet_marks
from ._table import Columns, UnsureColumnsError, detect_columns, table_turns

__all__ = ["SOURCES", "Raw", "SourceName", "open_records", "parse_record"]


Opener = Callable[[], contextlib.AbstractContextManager[IO[bytes]]]


def _check_text(head: bytes, what: Input, container: Container) -> None:
    if what.encoding == UTF8 and head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValueError(f"{what.path} is not UTF-8: {encoding_hint(head)}")
    if container == "lines" and b"\r" in head and b"\n" not in head:
        raise ValueError(
            f"the lines of {what.path} end with a carriage return alone (CR, as on old Macs): save it "
            "with LF (or CRLF) line endings"
        )


def _skip_bom(file: io.BufferedReader) -> bool:
    """Move past a UTF-8 byte order mark at the start; say whether there was one."""
    if file.peek(len(BOM))[: len(BOM)] == BOM:
        file.read(len(BOM))
        return True
    return False


def _sample_records(what: Input, container: Container) -> list[Any]:
    """The first records that parse, for detection."""
    found: list[Any] = []
    with what.open() as file:
        _skip_bom(file)
        records = records_of(file, container)
        for raw in itertools.islice(records, SAMPLE * 5):
            with contextlib.suppress(orjson.JSONDecodeError):
                found.append(loads_lenient(raw)[0])
            if len(found) >= SAMPLE:
                break
    return found


def _choose(
    source: SourceName, container: Container, records: list[Any], what: Input
) -> tuple[SourceName, str]:
    layout = {
        "array": "a JSON array",
        "arrays": "JSON arrays, one per line",
        "lines": "JSON Lines",
        "csv": "a CSV/TSV table",
    }[container]
    prefix = f"{what.shape.describe()}, " if what.shape.compression else ""
    if source != "auto":
        return source, ""
    if container == "csv":
        return "csv", f"auto: {prefix}a CSV/TSV table (by the file name or a first line that is not JSON)"
    found, why = format_of(records)
    if found is None:
        if _table_keys(records, what.fields) is not None:
            return "table", f"auto: {prefix}{layout} of records with prompt and response keys"
        if any({"preferred_output", "non_preferred_output"} <= (as_object(r) or {}).keys() for r in records):
            raise ValueError(
                f"{what.path} holds OpenAI preference (DPO) records: 'input', 'preferred_output', "
                "'non_preferred_output'; the platform trains on one answer per prompt: to train on the "
                'preferred ones, write each as {"messages": input.messages + preferred_output} and '
                "convert that"
            )
        raise ValueError(
            f"cannot tell the format of {what.path}: {why}; pass source= (--from) and, for other key names, "
            "fields=FieldMap(...) (--field, --columns)"
        )
    return found, f"auto: {prefix}{layout}, {why} in the first records"


def _table_keys(records: list[Any], fields: FieldMap) -> tuple[list[str], Columns] | None:
    """The keys of dict records and their columns, when they name a prompt and a response."""
    keys: list[str] = list(dict.fromkeys(str(k) for r in records for k in as_object(r) or {}))
    if not keys:
        return None
    try:
        columns = detect_columns(keys, [], fields)
    except UnsureColumnsError:
        return None
    return (keys, columns) if columns.header else None


def _json_records(what: Input, container: Container, head: bytes) -> Iterator[Raw]:
    has_bom = head.startswith(BOM)
    if has_bom and what.repairs.strip_bom:
        what.note("strip_bom", "skipped the byte order mark")
    with what.open() as file:
        if what.repairs.strip_bom:
            _skip_bom(file)
        if container == "array":
            state = ArrayState()
            for number, raw in enumerate(iter_array(file, state), 1):
                yield parse_record(number, raw, what.undecoded)
            if state.arrays > 1:
                what.note(
                    "join_arrays",
                    f"read {state.arrays} JSON arrays that follow each other, their elements numbered on",
                )
            if state.problem:
                what.report.problems.append(state.problem)
            return
        if container == "arrays":
            yield from _array_lines(what, file)
            return
        for number, raw in enumerate(iter_json_lines(file), 1):
            if raw.startswith(BOM) and what.repairs.strip_bom and not isinstance(raw, Oversized):
                # Files joined together (cat, or type a.jsonl b.jsonl on Windows): each kept its mark.
                record = parse_record(number, raw[len(BOM) :], what.undecoded)
                record.notes = (
                    ("strip_bom", "skipped a byte order mark at the start of the line"),
                    *record.notes,
                )
                yield record
                continue
            yield parse_record(number, raw, what.undecoded)


def _array_lines(what: Input, file: IO[bytes]) -> Iterator[Raw]:
    """The records of a file of one JSON array per line, numbered on across the lines; each rejection
    names its line and element, and a line that holds no array of records is rejected whole."""
    lines = 0
    for number, (line, element, data) in enumerate(iter_array_lines(file), 1):
        raw = parse_record(number, data, what.undecoded)
        lines = line
        if element:
            raw.where = f"line {line}, element {element}"
            yield raw
            continue
        raw.where = f"line {line}"
        if raw.error is None and raw.value == []:
            raw.blank = True  # an empty array holds nothing: skipped and counted as blank
        elif raw.error is None and not raw.blank:
            value: object = raw.value
            kind = "an array holding no object" if isinstance(value, list) else f"a JSON {_json_kind(value)}"
            raw.error = (
                "not_an_array",
                f"the line is {kind}, not an array of records (the file holds one JSON array per line)",
            )
        yield raw
    what.note(
        "join_arrays",
        f"read {plural(lines, 'line')} of JSON arrays, their elements numbered on across the lines (a "
        "rejected record names its line and element)",
    )


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    names: dict[type, str] = {dict: "object", str: "string", bool: "boolean", int: "number", float: "number"}
    return names.get(type(value), type(value).__name__)


def _table_rows(what: Input, rows: Iterator[Row], delimiter: str) -> Iterator[Raw]:
    """Table rows ``(number, cells, kinds of non-text cells)`` as records, after the header."""
    given = what.fields.header_row
    above, head = header_rows(rows, what.fields, what.path, SAMPLE)
    if not head:
        return
    if above:
        what.note("skip_title_rows", title_note(above, head[0][0]))
    first, sample = head[0][1], [cells for _, cells, _ in head[1:]]
    try:
        columns = detect_columns(first, sample, what.fields, header=given is not None)
    except UnsureColumnsError as exc:
        if given is not None:
            raise UnsureColumnsError(
                f"row {given}, the header row given (header_row={given}): {exc}"
            ) from None
        if not above:
            raise
        raise UnsureColumnsError(f"row {head[0][0]}, read as the header below a title: {exc}") from None
    what.columns = columns
    report = what.report
    report.detected = f"{report.detected}; {columns.how}" if report.detected else columns.how
    for code, action in columns.notes:
        what.note(code, action)
    for number, row, kinds in itertools.chain(head[1:] if columns.header else head, rows):
        raw = Raw(number, original=row, blank=not any(c.strip() for c in row))
        try:
            if not raw.blank:
                turns, notes = table_turns(row, columns, delimiter)
                written = written_kinds(kinds, columns)
                if written:
                    notes.append(("cell_as_text", f"{written} cells written as text"))
                raw.value, raw.notes = turns, tuple(notes)
        except Reject as exc:
            raw.error = (exc.code, exc.reason)
        yield raw


def _csv_records(what: Input, head: bytes) -> Iterator[Raw]:
    with what.open() as file:
        table = CsvRows(file, head, tsv=what.shape.name.endswith(".tsv"))
        if head.startswith(BOM) and what.repairs.strip_bom:
            what.note("strip_bom", "skipped the byte order mark")
        try:
            yield from _table_rows(what, ((n, row, ()) for n, row in table.rows()), table.delimiter)
        except UndecodableError:
            raise _undecodable(what) from None
        finally:
            table.detach()


def _undecodable(what: Input) -> ValueError:
    with open_decompressed(what.path, what.shape.compression) as raw:
        line, sample = first_bad_line(raw, what.encoding)
    name = "UTF-8" if what.encoding == UTF8 else what.encoding
    hint = encoding_hint(sample) if what.encoding == UTF8 else f"check --encoding {what.encoding}"
    return ValueError(f"line {line} of {what.path} is not valid {name}: {hint}")


def _sheet(what: Input, table_path: str) -> Iterator[Raw]:
    try:
        sheets = sheet_names(table_path)
    except ValueError as exc:
        raise ValueError(f"{what.path}: {exc}") from exc.__cause__
    fields = what.fields
    index = choose_sheet(
        sheets,
        what.report,
        None
        if fields.header_row is not None
        else lambda i: sheet_names_columns(table_path, i, fields, SAMPLE),
    )
    what.report.detected = (
        f"auto: {what.shape.describe()}, sheet {sheets[index][0]!r}" if sheets else "an empty workbook"
    )
    marks = sheet_marks(table_path, sheets[index][0]) if sheets else SheetMarks()
    unvalued: dict[int, tuple[int, ...]] = {}
    rows = ((n, *cells_of(values)) for n, values in enumerate(iter_sheet(table_path, unvalued, index), 1))
    formulas = Formulas(table_path, index)
    row_marks: RowMarks | None = None
    try:
        for raw in _table_rows(what, ((n, cells, tuple(kinds)) for n, cells, kinds in rows), ""):
            # Only a row with a cell the sheet holds without a value, in a column read, looks for formulas.
            used = tuple(what.columns.index.values()) if what.columns is not None else ()
            empty = tuple(i for i in unvalued.pop(raw.number, ()) if i in used)
            if empty:
                name_formulas(raw, formulas.of(raw.number, empty))
            row_marks = row_marks or RowMarks(marks, used)  # the columns are known from the first row on
            row_marks.mark(raw)
            yield raw
    finally:
        formulas.close()
    if row_marks is not None:
        what.report.warnings.extend(row_marks.warnings())


@contextlib.contextmanager
def open_records(
    path: StrPath,
    *,
    source: SourceName,
    encoding: str | None,
    fields: FieldMap | None,
    repairs: Repairs,
    report: ConversionReport,
    notes: list[Change],
) -> Generator[tuple[SourceName, Iterator[Raw]]]:
    """The source format of the file at ``path`` and its records; sets ``report.detected`` and appends
    the changes made to the whole file to ``notes`` as they are made. Raises ``ValueError`` when the
    format cannot be told or a table's columns are unsure, ``ImportError`` naming the extra a reader
    needs."""
    shown = os.fspath(path)
    shape = shape_of(path)
    try:
        codec = normal_encoding(encoding or UTF8)
    except LookupError:
        raise ValueError(
            f"unknown encoding {encoding!r}: use a name such as gb18030, big5 or utf-16"
        ) from None
    what = Input(shown, shape, codec, (fields or FieldMap()).over(CSV), repairs, report, notes)
    if shape.kind == "zip":
        raise ValueError(f"{shown} is a ZIP archive: extract the data file from it first")
    if shape.kind == "ole":
        raise ValueError(f"{shown} is {shape.describe()}, which cannot be read here: {OLE_ADVICE}")
    with contextlib.ExitStack() as stack:
        if shape.kind in ("parquet", "arrow"):
            _no_header_row(what, f"{shape.describe()} (its columns are named in its schema)")
            table_path = stack.enter_context(random_access(path, shape.compression))
            chosen, records = columnar_records(what, source, table_path)
        elif shape.kind == "xlsx":
            table_path = stack.enter_context(random_access(path, shape.compression, ".xlsx"))
            chosen, records = ("table" if source in ("auto", "csv") else source), _sheet(what, table_path)
        else:
            chosen, records = _text_records(what, source, given=encoding is not None)
        yield chosen, _with_encoding_hint(what, records)


def _no_header_row(what: Input, holds: str) -> None:
    """A header row given for a file that holds no rows of cells is an error, not ignored."""
    if what.fields.header_row is not None:
        raise ValueError(
            f"header_row (--header-row) is for CSV, TSV and Excel tables; {what.path} holds {holds}"
        )


def _text_records(what: Input, source: SourceName, *, given: bool) -> tuple[SourceName, Iterator[Raw]]:
    with what.open() as file:
        head = file.read(1 << 16)
    by_bom = None if given else encoding_by_bom(head)
    if by_bom is not None:
        what.encoding = by_bom
        with what.open() as file:
            head = file.read(1 << 16)
    container = "csv" if source == "csv" else container_of(what.shape.name, head)
    _check_text(head, what, container)
    if by_bom is not None:
        what.note("encoding", f"read as {by_bom.upper()}, as its byte order mark says")
    elif what.encoding != UTF8:
        what.note("encoding", f"read as {what.encoding}, as asked")
    records = _sample_records(what, container) if container != "csv" and source in ("auto", "table") else []
    if not records and source == "auto":
        nothing_read(
            what.path,
            head,
            container,
            what.open,
            utf8=what.encoding == UTF8,
            undecodable=lambda: _undecodable(what),
        )
    if source == "auto" and bare_conversations(records, container):
        # Each line (or element) is a conversation's list of messages, with no object around it.
        layout = "JSON arrays, one per line" if container == "arrays" else "a JSON array"
        what.report.detected = f"auto: {layout}, each a list of messages (role, content): one conversation"
        whole: Container = "lines" if container == "arrays" else "array"
        return "openai", wrap_messages(_json_records(what, whole, head))
    if source == "auto" and container != "csv" and chatml_texts(records):
        layout = {"array": "a JSON array", "arrays": "JSON arrays, one per line"}.get(container, "JSON Lines")
        what.report.detected = (
            f"auto: {layout}, a 'text' in ChatML (the chat template applied) in the first records"
        )
        return "openai", split_chatml(_json_records(what, container, head))
    chosen, detected = _choose(source, container, records, what)
    what.report.detected = detected
    if container == "csv":
        return chosen, _csv_records(what, head)
    _no_header_row(what, "JSON records")
    if chosen == "table":
        found = _table_keys(records, what.fields)
        keys = found[0] if found is not None else None
        return chosen, dict_records(what, _json_records(what, container, head), chosen, keys)
    return chosen, _json_records(what, container, head)


def _with_encoding_hint(what: Input, records: Iterator[Raw]) -> Iterator[Raw]:
    yield from records
    if what.undecoded.sample is not None:
        count = what.undecoded.count
        verb = "is" if count == 1 else "are"
        hint = encoding_hint(what.undecoded.sample)
        what.report.problems.append(f"{plural(count, 'record')} {verb} not valid UTF-8: {hint}")
