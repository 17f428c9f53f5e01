"""The conversion: read records one at a time, repair them, write them or reject them, every change
listed. :func:`convert_file` for files, :func:`aconvert_file` its async twin, :func:`convert_records` for
records in memory."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from typing import Any, Literal, cast

from ..._atomic import atomic_writes, check_outputs
from .._schema import StrPath
from .._threads import in_a_thread
from ._alpaca import alpaca_turns
from ._chat import chat_turns
from ._fields import ALPACA, CSV, OPENAI, SHAREGPT, FieldMap
from ._records import SOURCES, Raw, SourceName, open_records
from ._repairs import Repairs, Turn, with_media_checked
from ._report import MAX_LISTED, Change, ConversionReport, Preview, Rejection
from ._run import Sink, run

__all__ = ["Preview", "SourceName", "aconvert_file", "convert_file", "convert_records"]

_DEFAULT_FIELDS: dict[str, FieldMap] = {
    "sharegpt": SHAREGPT,
    "alpaca": ALPACA,
    "openai": OPENAI,
    "jsonl": OPENAI,
    "csv": CSV,
    "table": CSV,
}
_RECORD_SOURCES = ("sharegpt", "alpaca", "openai", "jsonl")


def convert_file(
    src: StrPath,
    dst: StrPath | None,
    *,
    source: SourceName = "auto",
    rejects: StrPath | None = None,
    changes: StrPath | None = None,
    repairs: Repairs | None = None,
    fields: FieldMap | None = None,
    encoding: str | None = None,
    preview: int = 0,
    previews: list[Preview] | None = None,
    examples: list[dict[str, Any]] | None = None,
    on_change: Callable[[Change | Rejection], None] | None = None,
    max_listed: int = MAX_LISTED,
    cancel: threading.Event | None = None,
) -> ConversionReport:
    """Convert ``src`` to the platform's JSON Lines at ``dst``, repairing what :class:`Repairs` allows.

    ``src`` is ShareGPT, Alpaca, OpenAI chat or the platform's own records, as JSON Lines or a JSON array;
    a table of prompt/response columns (CSV, TSV, Excel ``.xlsx``, Parquet, or JSON records with such
    keys); a Parquet or Arrow file of chat records (a Hugging Face ``datasets`` export); any of them
    gzip-, bz2-, xz- or zstd-compressed (recognised by content and by name). Parquet, Excel and zstd need
    the ``parquet``, ``xlsx`` and ``zstd`` extras. ``source="auto"`` detects the format from the first
    records (``report.source``, ``report.detected``). Text is UTF-8 (with or without a byte order mark)
    unless ``encoding`` names another (``"gb18030"``, ``"big5"``, ``"utf-16"``); a file that is not
    UTF-8 is a ``ValueError`` (a table) or a rejected record (JSON) that names the likely encoding,
    never read with a guess.

    Streams: records are read, repaired and written one at a time, so memory stays flat. ``rejects``
    receives one JSON line per record not written: ``{"record", "code", "reason", "input"}``; ``changes``
    one per change: ``{"record", "code", "action"}``. ``dst=None`` writes no output (a dry run; the
    ``rejects`` and ``changes`` files given are still written). ``fields`` names other keys, roles and
    columns; ``previews`` (a list), with ``preview=N``, receives the first N records as converted or
    rejected; ``examples`` (a list) receives every converted example as a dict. ``on_change`` is called
    with each change and rejection as it happens; the report's lists keep the first ``max_listed`` (its
    counts cover all). Setting ``cancel`` stops the conversion before its next record with
    ``InterruptedError``, nothing written.

    Every output is written atomically (a temporary file renamed at the end, all together), so a
    failure or a kill never leaves half a file; an output that is ``src`` or another output (a link
    included) is refused with :class:`~finetune_sdk.OutputConflictError`, and ``dst`` must end in
    ``.jsonl``, both before any work. Every converted example passes :meth:`Dataset.validate_file`, and
    ``report.written + report.rejected == report.read``. Raises ``ValueError`` for an unknown source, a
    format or table columns that cannot be told for sure, ``ImportError`` naming a missing extra,
    ``OSError`` for I/O errors.
    """
    repairs = _options(source, repairs, fields)
    src_path = os.fspath(src)
    if dst is not None and not os.fspath(dst).endswith(".jsonl"):
        raise ValueError(
            f"the output {os.fspath(dst)} must end in .jsonl: the platform takes only JSON Lines files"
        )
    named = [("the output", dst), ("the rejects file", rejects), ("the changes file", changes)]
    outputs = [(what, path) for what, path in named if path is not None]
    check_outputs(outputs, [("the input", src_path)])
    report = ConversionReport(
        source=source,
        path=src_path,
        dry_run=dst is None,
        max_listed=max_listed,
        output=None if dst is None else os.fspath(dst),
        rejects_path=None if rejects is None else os.fspath(rejects),
        changes_path=None if changes is None else os.fspath(changes),
    )
    file_notes: list[Change] = []
    with open_records(
        src_path, source=source, encoding=encoding, fields=fields, repairs=repairs, report=report,
        notes=file_notes,
    ) as (chosen, raws):  # fmt: skip
        report.source = chosen
        convert = _converter(chosen, (fields or FieldMap()).over(_DEFAULT_FIELDS[chosen]), repairs)
        with atomic_writes([path for _, path in outputs], inputs=[src_path]) as files:
            opened = dict(zip((what for what, _ in outputs), files, strict=True))
            sink = Sink(
                out=opened.get("the output"),
                bad=opened.get("the rejects file"),
                log=opened.get("the changes file"),
                preview=preview,
                previews=previews,
                examples=examples,
                on_change=on_change,
                cancel=cancel,
            )
            run(raws, convert, report, repairs, sink, file_notes=file_notes)
    return report


#: :func:`convert_file` in a worker thread, for asyncio and trio alike (``on_change`` is called in that
#: thread); the same arguments. Cancelling the awaiting task returns at once and stops the thread before
#: its next record: no output is left behind.
aconvert_file = in_a_thread(convert_file)


def convert_records(
    records: Iterable[Any],
    *,
    source: Literal["sharegpt", "alpaca", "openai", "jsonl"],
    repairs: Repairs | None = None,
    fields: FieldMap | None = None,
) -> tuple[list[dict[str, Any]], ConversionReport]:
    """Convert records held in memory (dicts shaped like a file's records): ``(examples, report)``, each
    example a ``{"messages": [...]}`` dict the platform accepts. Raises ``ValueError`` for another
    ``source`` (``"auto"`` and the tables read files: use :func:`convert_file`), ``TypeError`` for
    ``repairs`` or ``fields`` of the wrong type."""
    if source not in _RECORD_SOURCES:
        raise ValueError(
            f"source must be one of {', '.join(_RECORD_SOURCES)} for records in memory, got {source!r}"
            " (convert_file reads files, tables and detection included)"
        )
    repairs = _options(source, repairs, fields)
    report = ConversionReport(source=source, path="<records>", dry_run=True)
    convert = _converter(source, (fields or FieldMap()).over(_DEFAULT_FIELDS[source]), repairs)
    examples: list[dict[str, Any]] = []
    raws = (Raw(n, value=r, original=r) for n, r in enumerate(records, 1))
    run(raws, convert, report, repairs, Sink(examples=examples))
    return examples, report


def _options(source: str, repairs: Repairs | None, fields: FieldMap | None) -> Repairs:
    """``repairs`` (the defaults for ``None``), after checking ``source`` and the types of both."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    if repairs is not None and not isinstance(cast(object, repairs), Repairs):  # callers without types
        raise TypeError(f"repairs must be a Repairs(...), got {type(repairs).__name__}")
    if fields is not None and not isinstance(cast(object, fields), FieldMap):
        raise TypeError(f"fields must be a FieldMap(...), got {type(fields).__name__}")
    row = cast(object, fields.header_row if fields is not None else None)  # callers without types
    if row is not None and (not isinstance(row, int) or isinstance(row, bool) or row < 1):
        raise ValueError(f"header_row is a row number from 1, got {row!r}")
    return repairs if repairs is not None else Repairs()


Convert = Callable[[Any, Callable[[str, str], None]], list[Turn]]


def _converter(source: str, fields: FieldMap, repairs: Repairs) -> Convert:
    if source == "alpaca":
        return with_media_checked(lambda value, note: alpaca_turns(value, fields, note), repairs)
    if source in ("csv", "table"):
        return _as_turns  # table rows are turned into turns while reading
    return with_media_checked(lambda value, note: chat_turns(value, fields, repairs, note), repairs)


def _as_turns(value: Any, note: Callable[[str, str], None]) -> list[Turn]:
    turns: list[Turn] = value
    return turns
