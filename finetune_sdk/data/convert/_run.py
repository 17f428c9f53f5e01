"""The loop of a conversion: each record converted and repaired, then written, or rejected with its
reason; every change and rejection counted, listed and passed on."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO, Any

import orjson

from .._chunk import control_token
from .._lines import MAX_LINE_BYTES
from ._records import Raw
from ._repairs import Reject, Repairs, Turn, repair
from ._report import Change, ConversionReport, Preview, Rejection

__all__ = ["Sink", "run"]

Convert = Callable[[Any, Callable[[str, str], None]], list[Turn]]


@dataclass
class Sink:
    """Where converted records, rejects and changes go."""

    out: IO[bytes] | None = None
    bad: IO[bytes] | None = None
    log: IO[bytes] | None = None
    preview: int = 0
    previews: list[Preview] | None = None
    examples: list[dict[str, Any]] | None = None
    on_change: Callable[[Change | Rejection], None] | None = None
    cancel: threading.Event | None = None
    controls: int = 0  # written examples with Qwen's control tokens in their text
    first_control: tuple[int, str] | None = None  # the first one's record and token

    def tell(self, item: Change | Rejection) -> None:
        """Pass ``item`` on to the listener and, for a change, to the changes file."""
        if self.on_change is not None:
            self.on_change(item)
        if self.log is not None and isinstance(item, Change):
            self.log.write(orjson.dumps(item.model_dump(), option=orjson.OPT_APPEND_NEWLINE))


def run(
    raws: Iterable[Raw],
    convert: Convert,
    report: ConversionReport,
    repairs: Repairs,
    sink: Sink,
    *,
    file_notes: list[Change] | None = None,
) -> None:
    """Convert ``raws`` into ``sink``, filling in ``report``. ``file_notes`` receives the changes made to
    the whole file while it is read (a byte order mark, a table without header): each is counted and
    passed on as it comes."""
    read = written = blank = 0  # plain counters: the report's fields are validated on every assignment
    pending = file_notes if file_notes is not None else []
    for raw in _with_notes(raws, pending, report, sink):
        if sink.cancel is not None and sink.cancel.is_set():
            raise InterruptedError("the conversion was cancelled: nothing was written")
        if raw.blank and repairs.drop_blank:
            blank += 1
            skipped = Change(record=raw.number, code="drop_blank", action="skipped a blank record")
            report.add_change(skipped)
            sink.tell(skipped)
            continue
        read += 1
        written += _one(raw, convert, report, repairs, sink)
    report.read, report.written, report.blank = read, written, blank
    if sink.first_control is not None:
        record, token = sink.first_control
        many = sink.controls > 1
        report.warnings.append(
            f"{sink.controls} written example{'s have' if many else ' has'} Qwen's control tokens in "
            f"{'their' if many else 'its'} text (first: record {record}, {token}): the chat template puts "
            "them around every message, so the tuned model would read a message ending or starting there; "
            "remove them from the source, or write them otherwise"
        )
    bare = report.change_counts.get("no_tool_definitions", 0)
    if bare:
        report.warnings.append(
            f"{bare} written example{'s have' if bare > 1 else ' has'} tool calls but not the definitions "
            "of the tools called (the record had none, or --tool-definitions drop): the model learns to "
            "call tools it is never shown, even for a plain question; add each record's 'tools', or "
            "convert with --tools drop"
        )


#: Changes said in full in the reason of a record rejected after them: a cell read empty because it is
#: part of merged cells is the likely reason, which its code alone would not show.
_TOLD_IN_FULL = frozenset({"merged_cell"})


def _one(raw: Raw, convert: Convert, report: ConversionReport, repairs: Repairs, sink: Sink) -> int:
    """Convert one record into ``sink``; 1 when it was written, 0 when rejected."""
    notes: list[Change] = [Change(record=raw.number, code=c, action=a) for c, a in raw.notes]

    def note(code: str, action: str) -> None:
        notes.append(Change(record=raw.number, code=code, action=action))

    try:
        if raw.error is not None:
            raise Reject(*raw.error)
        if raw.blank:
            raise Reject("blank_record", "the record is blank")
        messages = repair(convert(raw.value, note), repairs, note)
        example = {"messages": messages}
        line = _line_of(example)
    except Reject as exc:
        reason = f"{exc.reason} ({raw.where})" if raw.where else exc.reason
        told = [n.action for n in notes if n.code in _TOLD_IN_FULL]
        if told:  # what the file did to the record, which is likely why nothing was left
            reason += f" ({'; '.join(told)})"
        if notes:  # say what the repairs had done when nothing valid was left
            reason += f" (after the repairs: {', '.join(dict.fromkeys(n.code for n in notes))})"
        rejection = Rejection(record=raw.number, code=exc.code, reason=reason)
        report.add_rejection(rejection)
        sink.tell(rejection)
        if sink.bad is not None:
            sink.bad.write(_rejected_line(raw, exc.code, reason))
        if sink.previews is not None and len(sink.previews) < sink.preview:
            sink.previews.append(Preview(record=raw.number, changes=notes, messages=[], rejection=rejection))
        return 0
    for change in notes:
        report.add_change(change)
        sink.tell(change)
    if b"<|" in line:  # as validate warns: kept as given (they may be meant), but said
        token = control_token(m["content"] for m in messages)
        if token is not None:
            sink.controls += 1
            sink.first_control = sink.first_control or (raw.number, token)
    if sink.out is not None:
        sink.out.write(line)
    if sink.examples is not None:
        sink.examples.append(example)
    if sink.previews is not None and len(sink.previews) < sink.preview:
        sink.previews.append(Preview(record=raw.number, changes=notes, messages=messages))
    return 1


def _with_notes(
    raws: Iterable[Raw], pending: list[Change], report: ConversionReport, sink: Sink
) -> Iterable[Raw]:
    """``raws``, with the file's changes noted so far reported before each record (and after the last)."""
    for raw in raws:
        _drain(pending, report, sink)
        yield raw
    _drain(pending, report, sink)


def _drain(pending: list[Change], report: ConversionReport, sink: Sink) -> None:
    while pending:
        change = pending.pop(0)
        report.add_change(change)
        sink.tell(change)


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


def _rejected_line(raw: Raw, code: str, reason: str) -> bytes:
    """The rejects file's line for ``raw``: its input as it was read (a JSON record byte for byte, so
    nothing is re-serialised; a record too deep for the encoder, or of values JSON has not, as text)."""
    entry: dict[str, Any] = {"record": raw.number, "code": code, "reason": reason}
    source = raw.source.strip(b" \t\r\n") if raw.source is not None else None
    strict = not any(code == "non_json_number" for code, _ in raw.notes)  # NaN is no JSON: kept as text
    if source is not None and not strict:
        entry["input"] = source.decode("utf-8", "backslashreplace")
    elif source is not None and b"\n" not in source and b"\r" not in source:  # one line, read as one
        entry["input"] = orjson.Fragment(source)
    else:
        entry["input"] = raw.original if raw.original is not None else raw.value
    try:
        return orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE, default=_as_json)
    except orjson.JSONEncodeError:
        entry["input"] = (raw.source or b"").decode("utf-8", "backslashreplace") or repr(raw.original)
        return orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE)


def _as_json(value: Any) -> Any:
    """Values of a Parquet row that JSON has not: bytes as text, the rest by their ``str``."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "backslashreplace")
    return str(value)
