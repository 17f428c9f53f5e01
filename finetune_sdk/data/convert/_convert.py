"""The conversion driver: read records one at a time, repair them, write them or reject them."""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Literal

import anyio.to_thread
import orjson

from .._lines import MAX_LINE_BYTES
from .._schema import StrPath
from ._alpaca import alpaca_turns
from ._chat import chat_turns
from ._csv import CsvTable, csv_turns
from ._detect import Container, container_of, format_of, sample
from ._fields import ALPACA, CSV, OPENAI, SHAREGPT, FieldMap
from ._jsonarray import BOM, ArrayState, iter_array, iter_json_lines
from ._repairs import Reject, Repairs, Turn, repair
from ._report import MAX_LISTED, Change, ConversionReport, Rejection

__all__ = ["Preview", "SourceName", "aconvert_file", "convert_file", "convert_records"]

SourceName = Literal["auto", "sharegpt", "alpaca", "openai", "csv", "jsonl"]
_SOURCES = ("auto", "sharegpt", "alpaca", "openai", "csv", "jsonl")
_DEFAULT_FIELDS: dict[str, FieldMap] = {
    "sharegpt": SHAREGPT,
    "alpaca": ALPACA,
    "openai": OPENAI,
    "jsonl": OPENAI,
    "csv": CSV,
}


@dataclass
class Preview:
    """A converted record, kept for ``--dry-run --show N``: its number, changes and messages."""

    record: int
    changes: list[Change]
    messages: list[dict[str, str]]


@dataclass
class _Sink:
    """Where converted records and rejects go."""

    out: IO[bytes] | None = None
    bad: IO[bytes] | None = None
    preview: int = 0
    previews: list[Preview] | None = None
    examples: list[dict[str, Any]] | None = None
    on_change: Callable[[Change | Rejection], None] | None = None
    cancel: threading.Event | None = None


@dataclass
class _Raw:
    """One input record: its number, the parsed value (or why it did not parse) and its original form."""

    number: int
    value: Any = None
    error: tuple[str, str] | None = None
    original: Any = None
    blank: bool = False
    source: bytes | None = None  # a JSON record's bytes, written as they are in the rejects file
    notes: tuple[tuple[str, str], ...] = ()  # changes made while reading (CSV rows)


def convert_file(
    src: StrPath,
    dst: StrPath | None,
    *,
    source: SourceName = "auto",
    rejects: StrPath | None = None,
    repairs: Repairs | None = None,
    fields: FieldMap | None = None,
    preview: int = 0,
    previews: list[Preview] | None = None,
    examples: list[dict[str, Any]] | None = None,
    on_change: Callable[[Change | Rejection], None] | None = None,
    max_listed: int = MAX_LISTED,
    cancel: threading.Event | None = None,
) -> ConversionReport:
    """Convert ``src`` (ShareGPT, Alpaca, OpenAI chat, CSV/TSV or the platform's own JSON Lines) to the
    platform's ``.jsonl`` at ``dst``, repairing what :class:`Repairs` allows.

    Streams: records are read, repaired and written one at a time (a JSON array too), so memory stays flat
    whatever the size of ``src``. ``source="auto"`` detects the format from the first records
    (``report.source``, ``report.detected``). ``rejects``, when given, receives one JSON line per record not
    written: ``{"record", "code", "reason", "input"}`` (``input`` is the record as read). ``dst=None``
    writes no output (a dry run; a ``rejects`` file given is still written). ``fields`` names other keys
    and roles; ``previews`` (a list), with ``preview=N``, receives the first N converted records that were
    changed; ``examples`` (a list) receives every converted example as a dict. ``on_change`` is called
    with each change and rejection as it happens; the report's lists keep the first ``max_listed`` (its
    counts cover all). Setting ``cancel`` stops the conversion before its next record with
    ``InterruptedError``, nothing written.

    ``dst`` is written to a temporary file renamed at the end, so a failure never leaves half a file, and
    ``dst`` may not be ``src``. Every converted example passes :meth:`Dataset.validate_file`, and
    ``report.written + report.rejected == report.read``. Raises ``ValueError`` for an unknown source or a
    format that cannot be detected, ``OSError`` for I/O errors.
    """
    if source not in _SOURCES:
        raise ValueError(f"source must be one of {', '.join(_SOURCES)}, got {source!r}")
    repairs = _options(repairs, fields)
    src_path = os.fspath(src)
    _check_targets(src_path, dst, rejects)
    with open(src_path, "rb") as file:
        head = file.read(1 << 16)
        container = container_of(src_path, head)
        if source == "csv":
            container = "csv"
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise ValueError(f"{src_path} is UTF-16 (or UTF-32) text: save it as UTF-8")
        if container == "lines" and b"\r" in head and b"\n" not in head:
            raise ValueError(
                f"the lines of {src_path} end with a carriage return alone (CR, as on old Macs): save it "
                "with LF (or CRLF) line endings"
            )
        chosen, detected = _choose(source, container, file)
        report = ConversionReport(
            source=chosen,
            detected=detected,
            path=src_path,
            dry_run=dst is None,
            max_listed=max_listed,
            output=None if dst is None else os.fspath(dst),
            rejects_path=None if rejects is None else os.fspath(rejects),
        )
        file.seek(0)
        with contextlib.ExitStack() as stack:
            out = stack.enter_context(_atomic(dst)) if dst is not None else None
            bad = stack.enter_context(_atomic(rejects)) if rejects is not None else None
            raws = _records(file, container, head, repairs=repairs, report=report, fields=fields)
            convert = _converter(chosen, (fields or FieldMap()).over(_DEFAULT_FIELDS[chosen]), repairs)
            sink = _Sink(out, bad, preview, previews, examples, on_change, cancel)
            _run(raws, convert, report, repairs, sink)
    return report


async def aconvert_file(
    src: StrPath,
    dst: StrPath | None,
    *,
    source: SourceName = "auto",
    rejects: StrPath | None = None,
    repairs: Repairs | None = None,
    fields: FieldMap | None = None,
    preview: int = 0,
    previews: list[Preview] | None = None,
    examples: list[dict[str, Any]] | None = None,
    on_change: Callable[[Change | Rejection], None] | None = None,
    max_listed: int = MAX_LISTED,
) -> ConversionReport:
    """:func:`convert_file` in a worker thread, for asyncio and trio alike (``on_change`` is called in that
    thread). Cancelling the awaiting task returns at once and stops the thread before its next record:
    no output is left behind."""
    cancel = threading.Event()
    work = functools.partial(
        convert_file, src, dst, source=source, rejects=rejects, repairs=repairs, fields=fields,
        preview=preview, previews=previews, examples=examples, on_change=on_change, max_listed=max_listed,
        cancel=cancel,
    )  # fmt: skip
    try:
        return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
    finally:
        cancel.set()  # on cancellation the thread is left running: this makes it stop


def convert_records(
    records: Iterable[Any],
    *,
    source: Literal["sharegpt", "alpaca", "openai", "jsonl"],
    repairs: Repairs | None = None,
    fields: FieldMap | None = None,
) -> tuple[list[dict[str, Any]], ConversionReport]:
    """Convert records held in memory (dicts shaped like a file's records): ``(examples, report)``, each
    example a ``{"messages": [...]}`` dict the platform accepts. Raises ``ValueError`` for another
    ``source`` (``"auto"`` and ``"csv"`` read files: use :func:`convert_file`), ``TypeError`` for
    ``repairs`` or ``fields`` of the wrong type."""
    if source not in _RECORD_SOURCES:
        raise ValueError(
            f"source must be one of {', '.join(_RECORD_SOURCES)} for records in memory, got {source!r}"
            " (convert_file reads files, CSV and detection included)"
        )
    repairs = _options(repairs, fields)
    report = ConversionReport(source=source, path="<records>", dry_run=True)
    convert = _converter(source, (fields or FieldMap()).over(_DEFAULT_FIELDS[source]), repairs)
    examples: list[dict[str, Any]] = []
    raws = (_Raw(n, value=r, original=r) for n, r in enumerate(records, 1))
    _run(raws, convert, report, repairs, _Sink(examples=examples))
    return examples, report


_RECORD_SOURCES = ("sharegpt", "alpaca", "openai", "jsonl")


def _options(repairs: Repairs | None, fields: FieldMap | None) -> Repairs:
    """``repairs`` (the defaults for ``None``), after checking the types of both options."""
    if repairs is not None and not isinstance(repairs, Repairs):
        raise TypeError(f"repairs must be a Repairs(...), got {type(repairs).__name__}")
    if fields is not None and not isinstance(fields, FieldMap):
        raise TypeError(f"fields must be a FieldMap(...), got {type(fields).__name__}")
    return repairs if repairs is not None else Repairs()


def _check_targets(src: str, dst: StrPath | None, rejects: StrPath | None) -> None:
    """Refuse an output that is the input (through a link too) or the other output."""
    for target in (dst, rejects):
        if target is not None and _same_file(target, src):
            raise ValueError(
                f"the output {os.fspath(target)} would overwrite the input {src}: write it elsewhere"
            )
    if dst is not None and rejects is not None and _same_file(dst, rejects):
        raise ValueError(f"the rejects file and the output are one file ({os.fspath(dst)}): give two names")


def _same_file(a: StrPath, b: StrPath) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)  # hard links, and paths that realpath cannot tell apart
    except OSError:  # one of them does not exist yet
        return False


def _choose(source: SourceName, container: Container, file: IO[bytes]) -> tuple[str, str]:
    if source != "auto":
        return source, ""
    if container == "csv":
        return "csv", "auto: a CSV/TSV table (by the file name or a first line that is not JSON)"
    found, why = format_of(sample(file, container))
    if found is None:
        raise ValueError(
            f"cannot tell the format of {getattr(file, 'name', 'the file')}: {why}; pass "
            "source= and, for other key names, fields=FieldMap(...)"
        )
    layout = "a JSON array" if container == "array" else "JSON Lines"
    return found, f"auto: {layout}, {why} in the first records"


Convert = Callable[[Any, Callable[[str, str], None]], list[Turn]]


def _converter(source: str, fields: FieldMap, repairs: Repairs) -> Convert:
    if source == "alpaca":
        return lambda value, note: alpaca_turns(value, fields, note)
    if source == "csv":
        return lambda value, note: value  # the rows are turned into turns while reading
    return lambda value, note: chat_turns(value, fields, repairs, note)


def _records(
    file: IO[bytes],
    container: Container,
    head: bytes,
    *,
    repairs: Repairs,
    report: ConversionReport,
    fields: FieldMap | None,
) -> Iterator[_Raw]:
    """The input records, numbered: JSON Lines by line, an array by element, CSV by row."""
    has_bom = head.startswith(BOM)
    if has_bom and repairs.strip_bom:
        report.add_change(Change(record=None, code="strip_bom", action="skipped the byte order mark"))
    if container == "csv":
        yield from _csv_records(file, repairs=repairs, report=report, fields=fields, has_bom=has_bom)
        return
    file.seek(len(BOM) if has_bom and repairs.strip_bom else 0)
    if container == "array":
        state = ArrayState()
        for number, raw in enumerate(iter_array(file, state), 1):
            yield _parse(number, raw)
        if state.arrays > 1:
            action = f"read {state.arrays} JSON arrays that follow each other, their elements numbered on"
            report.add_change(Change(record=None, code="join_arrays", action=action))
        if state.problem:
            report.problems.append(state.problem)
        return
    for number, raw in enumerate(iter_json_lines(file), 1):
        yield _parse(number, raw)


def _csv_records(
    file: IO[bytes], *, repairs: Repairs, report: ConversionReport, fields: FieldMap | None, has_bom: bool
) -> Iterator[_Raw]:
    file.seek(0)
    name = str(getattr(file, "name", "")).lower()
    tsv = name.endswith(".tsv")  # tab-separated, even when its first line holds more commas than tabs
    table = CsvTable(file, (fields or FieldMap()).over(CSV), tsv=tsv, bom=repairs.strip_bom or not has_bom)
    report.detected = f"{report.detected}; {table.how}" if report.detected else table.how
    for number, row in table.rows():
        raw = _Raw(number, original=row, blank=not any(c.strip() for c in row))
        try:
            if not raw.blank:
                raw.value, raw.notes = csv_turns(row, table)
        except Reject as exc:
            raw.error = (exc.code, exc.reason)
        yield raw


def _parse(number: int, raw: bytes) -> _Raw:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _Raw(
            number,
            error=("invalid_encoding", f"not valid UTF-8 (byte {exc.start + 1})"),
            original=raw.decode("utf-8", "backslashreplace"),
        )
    if not text.strip():
        return _Raw(number, original=text, blank=True)
    try:
        return _Raw(number, value=orjson.loads(raw), original=None, source=raw)
    except orjson.JSONDecodeError as exc:
        return _Raw(number, error=("invalid_json", f"not valid JSON ({exc})"), original=text)


def _run(
    raws: Iterable[_Raw], convert: Convert, report: ConversionReport, repairs: Repairs, sink: _Sink
) -> None:
    out, bad, examples, previews = sink.out, sink.bad, sink.examples, sink.previews
    listen = sink.on_change
    read = written = blank = 0  # plain counters: the report's fields are validated on every assignment
    cancel = sink.cancel
    for raw in raws:
        if cancel is not None and cancel.is_set():
            raise InterruptedError("the conversion was cancelled: nothing was written")
        if raw.blank and repairs.drop_blank:
            blank += 1
            skipped = Change(record=raw.number, code="drop_blank", action="skipped a blank record")
            report.add_change(skipped)
            if listen is not None:
                listen(skipped)
            continue
        read += 1
        notes: list[Change] = [Change(record=raw.number, code=c, action=a) for c, a in raw.notes]
        number = raw.number

        def note(code: str, action: str, number: int = number, notes: list[Change] = notes) -> None:
            notes.append(Change(record=number, code=code, action=action))

        try:
            if raw.error is not None:
                raise Reject(*raw.error)
            if raw.blank:
                raise Reject("blank_record", "the record is blank")
            messages = repair(convert(raw.value, note), repairs, note)
            example = {"messages": messages}
            line = _line_of(example)
        except Reject as exc:
            reason = exc.reason
            if notes:  # say what the repairs had done when nothing valid was left
                reason += f" (after the repairs: {', '.join(dict.fromkeys(n.code for n in notes))})"
            rejection = Rejection(record=number, code=exc.code, reason=reason)
            report.add_rejection(rejection)
            if listen is not None:
                listen(rejection)
            if bad is not None:
                bad.write(_rejected_line(raw, exc.code, reason))
            continue
        written += 1
        for change in notes:
            report.add_change(change)
            if listen is not None:
                listen(change)
        if out is not None:
            out.write(line)
        if examples is not None:
            examples.append(example)
        if previews is not None and notes and len(previews) < sink.preview:
            previews.append(Preview(number, notes, messages))
    report.read, report.written, report.blank = read, written, blank


def _line_of(example: dict[str, Any]) -> bytes:
    """The output line of ``example``, or :class:`Reject` when the validator would refuse its length."""
    line = orjson.dumps(example, option=orjson.OPT_APPEND_NEWLINE)
    if len(line) - 1 > MAX_LINE_BYTES:
        raise Reject(
            "line_too_long",
            f"the converted example is {len(line) - 1:,} bytes long, more than the {MAX_LINE_BYTES:,} "
            "a line may have: split or shorten it",
        )
    return line


def _rejected_line(raw: _Raw, code: str, reason: str) -> bytes:
    """The rejects file's line for ``raw``: its input as it was read (a JSON record byte for byte, so
    nothing is re-serialised; a record too deep for the encoder as its text)."""
    entry: dict[str, Any] = {"record": raw.number, "code": code, "reason": reason}
    source = raw.source.strip(b" \t\r\n") if raw.source is not None else None
    if source is not None and b"\n" not in source and b"\r" not in source:  # one line, read anywhere as one
        entry["input"] = orjson.Fragment(source)
    else:
        entry["input"] = raw.original if raw.original is not None else raw.value
    try:
        return orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        entry["input"] = (raw.source or b"").decode("utf-8", "backslashreplace")
        return orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE)


@contextlib.contextmanager
def _atomic(path: StrPath) -> Iterator[IO[bytes]]:
    """A file written under a temporary name next to ``path`` and renamed to it only on success."""
    target = os.path.abspath(os.fspath(path))
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise FileNotFoundError(errno.ENOENT, "No such folder for the output", folder)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".convert-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb", buffering=1 << 20) as file:
            yield file
        # mkstemp makes the file private (0600): give it the mode the file it replaces had, else the usual
        # 0644 (the process umask cannot be read without changing it for every thread)
        os.chmod(temporary, os.stat(target).st_mode & 0o777 if os.path.exists(target) else 0o644)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
