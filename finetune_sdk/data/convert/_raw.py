"""One input record as read, before it is converted: :class:`Raw`, and :func:`parse_record` for a JSON
record's bytes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import orjson

from ._jsonarray import MAX_RECORD_BYTES, Oversized

__all__ = ["Raw", "Undecoded", "loads_lenient", "parse_record"]


@dataclass
class Raw:
    """One input record: its number, the parsed value (or why it did not parse) and its original form."""

    number: int
    value: Any = None
    error: tuple[str, str] | None = None
    original: Any = None
    blank: bool = False
    source: bytes | None = None  # a JSON record's bytes, written as they are in the rejects file
    notes: tuple[tuple[str, str], ...] = ()  # changes made while reading (table rows)
    where: str = ""  # where it is when its number alone does not say (a line's element), for a rejection


@dataclass
class Undecoded:
    """The first record that was not valid text, kept to name the likely encoding afterwards."""

    sample: bytes | None = None
    count: int = 0


def parse_record(number: int, raw: bytes, undecoded: Undecoded | None = None) -> Raw:
    """A JSON record from its bytes (an :class:`~._jsonarray.Oversized` line is rejected unread)."""
    if isinstance(raw, Oversized):
        return Raw(
            number,
            error=(
                "record_too_long",
                f"the record is {raw.size:,} bytes long, more than the {MAX_RECORD_BYTES:,} read (the "
                "platform takes lines of 16 MiB): skipped unread, its first KiB kept; split or shorten it",
            ),
            original=raw.decode("utf-8", "backslashreplace") + "...",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if undecoded is not None:
            undecoded.count += 1
            undecoded.sample = undecoded.sample or raw[: 1 << 16]
        return Raw(
            number,
            error=("invalid_encoding", f"not valid UTF-8 (byte {exc.start + 1})"),
            original=raw.decode("utf-8", "backslashreplace"),
        )
    if not text.strip():
        return Raw(number, original=text, blank=True)
    try:
        value, constants = loads_lenient(raw)
    except orjson.JSONDecodeError as exc:
        return Raw(number, error=("invalid_json", f"not valid JSON ({exc})"), original=text)
    if not constants:
        return Raw(number, value=value, original=None, source=raw)
    names = " and ".join(constants)
    action = f"{names} (not JSON, written by Python's json module for a missing number) read as null"
    return Raw(number, value=value, original=None, source=raw, notes=(("non_json_number", action),))


def loads_lenient(raw: bytes) -> tuple[Any, tuple[str, ...]]:
    """The JSON value of ``raw``, and the names of the numbers JSON has not (``NaN``, ``Infinity``,
    ``-Infinity``) read as ``None``: Python's ``json.dumps`` writes them for a missing float, so an export
    of pandas or plain Python holds them. Raises orjson's ``JSONDecodeError`` for anything else that is
    not JSON (a lone surrogate, nesting too deep)."""
    try:
        return orjson.loads(raw), ()
    except orjson.JSONDecodeError as exc:
        if not any(word in raw for word in (b"NaN", b"Infinity")):
            raise
        error = exc
    seen: list[str] = []

    def constant(name: str) -> None:
        seen.append(name)

    try:
        value = json.loads(raw, parse_constant=constant)
        orjson.dumps(value)  # what the stricter parser refused besides them (a lone surrogate) stays refused
    except (ValueError, RecursionError, orjson.JSONEncodeError):
        raise error from None
    if not seen:
        raise error
    return value, tuple(dict.fromkeys(seen))
