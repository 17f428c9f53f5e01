"""Say what a file is: which source format :func:`~finetune_sdk.convert_file` should read it as, and the
file-level codes :meth:`Dataset.validate_file` gives a file that is clearly another format."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import IO, Any, Literal

import orjson

from .._json import as_array, as_object
from ._encoding import encoding_by_bom, encoding_hint, guess_encoding
from ._fields import FieldMap
from ._jsonarray import first_byte, iter_array, iter_array_lines, iter_json_lines, skip_bom, without_bom
from ._open import Shape
from ._table import detect_columns

__all__ = [
    "SAMPLE",
    "Container",
    "Source",
    "container_of",
    "foreign_format",
    "foreign_head",
    "format_of",
    "not_utf8",
    "records_of",
    "sample",
    "shape_issue",
]

Source = Literal["sharegpt", "alpaca", "openai", "csv", "jsonl"]
Container = Literal["array", "arrays", "lines", "csv"]
"""How records are laid out: one JSON array (or several, one after the other), one array per line,
JSON Lines, or CSV/TSV rows."""

SAMPLE = 20
"""Records looked at to detect a format."""

_HEAD = 1 << 16
_WHITE = b" \t\r\n"
_OPENAI_ROLES = frozenset({"developer", "tool", "function"})


def container_of(path: str | os.PathLike[str], head: bytes) -> Container:
    """How records are laid out: a JSON array, JSON arrays one per line, JSON Lines, or CSV/TSV rows."""
    name = os.fspath(path).lower()
    if name.endswith((".csv", ".tsv")):
        return "csv"
    first = first_byte(head)
    if first == ord("["):
        return "arrays" if _array_per_line(head) else "array"
    if first == ord("{") or first is None:
        return "lines"
    if name.endswith((".jsonl", ".ndjson")) and _objects_follow(head):
        return "lines"  # one broken first line does not make JSON Lines a table
    return "csv"


def _objects_follow(head: bytes) -> bool:
    """True when the lines after the first (those whole in ``head``) are mostly JSON objects."""
    objects = others = 0
    for line in head.split(b"\n")[1:-1]:
        if not line.strip(_WHITE):
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            value = None
        objects, others = (objects + 1, others) if isinstance(value, dict) else (objects, others + 1)
    return objects > others


def _array_per_line(head: bytes) -> bool:
    """True when the first line is a whole array on its own, followed by more lines (``cat a.json b.json``
    of arrays written on one line each)."""
    line, _, rest = without_bom(head).lstrip(_WHITE).partition(b"\n")
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return bool(rest.strip(_WHITE))


def sample(file: Any, container: Container, count: int = SAMPLE) -> list[Any]:
    """The first ``count`` records that parse (JSON containers only), read from the start of ``file``."""
    file.seek(0)
    skip_bom(file)
    records = records_of(file, container)
    found: list[Any] = []
    for raw in records:
        if len(found) >= count:
            break
        try:
            found.append(orjson.loads(raw))
        except orjson.JSONDecodeError:
            continue
    return found


def records_of(file: IO[bytes], container: Container) -> Iterator[bytes]:
    """The bytes of each JSON record of ``file`` (a JSON container), to look at (a line of arrays that
    holds no record is yielded whole)."""
    if container == "array":
        return iter_array(file)
    if container == "arrays":
        return (element for _, _, element in iter_array_lines(file))
    return iter_json_lines(file)


def format_of(records: list[Any]) -> tuple[Source | None, str]:
    """The source format of parsed records and the reason, from their keys; ``None`` when unclear."""
    objects = [o for o in map(as_object, records) if o is not None]
    keys: set[str] = set[str]().union(*(o.keys() for o in objects))
    if "conversations" in keys:
        return "sharegpt", "a 'conversations' key"
    if {"instruction", "output"} <= keys:
        return "alpaca", "'instruction' and 'output' keys"
    if "messages" in keys:
        for record in objects:
            messages = as_array(record.get("messages"))
            if messages is not None and any(_openai_extra(m) for m in messages):
                return "openai", "'messages' with OpenAI extras (parts, tool calls, weight, name or roles)"
        return "jsonl", "'messages' in the platform's own shape"
    return None, f"none of the known keys (found: {', '.join(sorted(keys)[:8]) or 'no objects'})"


def _openai_extra(given: Any) -> bool:
    message = as_object(given)
    if message is None:
        return False
    role = message.get("role")
    return (
        not isinstance(message.get("content"), str)
        or len(message) > 2
        or (isinstance(role, str) and role in _OPENAI_ROLES)
    )


def _command(display: str, extra: str = "") -> str:
    name = os.path.basename(display)
    stem = name
    for end in (".gz", ".gzip", ".bz2", ".xz", ".lzma", ".zst", ".zstd"):
        stem = stem.removesuffix(end)
    stem = stem[: -len(".jsonl")] if stem.endswith(".jsonl") else os.path.splitext(stem)[0]
    folder = os.path.dirname(display)
    out = os.path.join(folder, f"{stem}.converted.jsonl") if folder else f"{stem}.converted.jsonl"
    return f"`finetune convert {display} -o {out}{extra}`"


#: What to do with a legacy or encrypted Office file, which no reader here opens.
OLE_ADVICE = (
    "open it in Excel (or WPS, LibreOffice) and save it as .xlsx without a password, or as CSV UTF-8, "
    "then convert that"
)


def shape_issue(shape: Shape, display: str) -> tuple[str, str] | None:
    """``(code, message)`` for a file that is not text the validator can read: compressed, Parquet,
    Arrow, an Excel workbook, a legacy or encrypted Office file (``xls_file``) or a ZIP archive; ``None``
    for a plain text file."""
    if shape.kind == "text" and shape.compression is None:
        return None
    what = shape.describe()
    if shape.kind == "zip":
        return "zip_file", f"the file is {what}, not JSON Lines: extract the data file from it first"
    if shape.kind == "ole":
        return "xls_file", f"the file is {what}, not JSON Lines: {OLE_ADVICE}"
    code = {"text": "compressed_file", "parquet": "parquet_file", "arrow": "arrow_file", "xlsx": "xlsx_file"}[
        shape.kind
    ]
    if shape.kind == "text":
        code = "compressed_file"
        what = f"{what} ({shape.name} inside)"
    extra = {"parquet": "parquet", "arrow": "parquet", "xlsx": "xlsx"}.get(shape.kind)
    needs = f' (pip install "finetune-sdk[{extra}]")' if extra else ""
    if shape.compression == "zstd":
        needs = ' (pip install "finetune-sdk[zstd]")'
    return (
        code,
        f"the file is {what}; the platform takes plain .jsonl text: convert it with "
        f"{_command(display)}{needs}",
    )


def foreign_format(path: str | os.PathLike[str], display: str) -> tuple[str, str] | None:
    """``(code, message)`` when a text file is clearly not JSON Lines of ``messages``: ``json_array``,
    ``looks_like_sharegpt``, ``looks_like_alpaca``, ``looks_like_openai``, ``looks_like_table``,
    ``csv_file`` or ``not_utf8``; else ``None``. Reads at most the first 64 KiB."""
    with open(path, "rb") as file:
        head = file.read(_HEAD)
    return foreign_head(head, display, os.fspath(path))


def foreign_head(head: bytes, display: str, name: str | None = None) -> tuple[str, str] | None:
    """:func:`foreign_format` from the first bytes of a file shown as ``display`` (named ``name``)."""
    by_bom = encoding_by_bom(head)
    if by_bom is not None:
        return (
            "not_utf8",
            f"the file is {by_bom.upper()} text (its byte order mark says so), not UTF-8: convert it with "
            f"{_command(display)}, which reads it as {by_bom.upper()}",
        )
    if not_utf8(head):
        found = guess_encoding(head)  # a stray byte in UTF-8 text is left to the line's own error
        if found is not None:
            hint = encoding_hint(head)
            return (
                "not_utf8",
                f"the file is not UTF-8 text: {hint}; {_command(display, f' --encoding {found}')}",
            )
    container = container_of(name or display, head)
    command = _command(display)
    if container == "csv":
        if not _delimited(head):
            return None
        return "csv_file", f"the file is a CSV/TSV table, not JSON Lines: convert it with {command}"
    if container in ("array", "arrays"):
        records = _parse_some(records_of(_head_file(head), container))
        if not any(isinstance(r, dict) for r in records):
            return None  # not clearly an array of records (a lone "[" is a broken line)
        kind, _ = format_of(records)
        what = f" of {_NAMES[kind]} records" if kind else ""
        layout = (
            f"is one JSON array{what}" if container == "array" else f"holds JSON arrays{what}, one per line"
        )
        return (
            "json_array",
            f"the file {layout}, not one JSON object per line: convert it with {command}",
        )
    records = _parse_some(iter_json_lines(_head_file(head)))
    kind, _ = format_of(records)
    if kind == "openai" and not _clearly_openai(records):
        kind = "jsonl"  # a broken message of the platform's own format, not another format
    if kind in ("sharegpt", "alpaca", "openai"):
        return (
            f"looks_like_{kind}",
            f"the file looks like {_NAMES[kind]} data, not the platform's "
            f"messages format: convert it with {command}",
        )
    if kind is None and _table_like(records):
        return (
            "looks_like_table",
            f"the file holds records of prompt and response keys, not the platform's messages format: "
            f"convert it with {command}",
        )
    return None


_OPENAI_KEYS = frozenset({"tool_calls", "tool_call_id", "weight", "name", "refusal", "function_call"})


def _clearly_openai(records: list[Any]) -> bool:
    """True when the records use what only OpenAI's chat format has: content parts, tool calls, weights,
    names, or the developer and tool roles (a content that is a number is a broken line, not a format)."""
    for record in records:
        messages = as_array((as_object(record) or {}).get("messages")) or []
        for message in (m for m in map(as_object, messages) if m is not None):
            content = as_array(message.get("content")) or []
            parts = any("type" in p for p in map(as_object, content) if p is not None)
            if parts or message.get("role") in _OPENAI_ROLES or _OPENAI_KEYS & message.keys():
                return True
    return False


def not_utf8(head: bytes) -> bool:
    """True when the head is not UTF-8 (a character cut at its very end aside)."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(head) - 4
    return False


def _table_like(records: list[Any]) -> bool:
    keys = list(dict.fromkeys(str(k) for r in records for k in as_object(r) or {}))
    if not keys or "messages" in keys:
        return False
    try:
        return detect_columns(keys, [], FieldMap()).header
    except ValueError:
        return False


_NAMES = {"sharegpt": "ShareGPT", "alpaca": "Alpaca", "openai": "OpenAI chat", "jsonl": "chat"}


def _head_file(data: bytes) -> io.BytesIO:
    return io.BytesIO(without_bom(data))


def _parse_some(raws: Iterator[bytes]) -> list[Any]:
    found: list[Any] = []
    for raw in raws:
        try:
            found.append(orjson.loads(raw))
        except orjson.JSONDecodeError:
            continue
        if len(found) >= SAMPLE:
            break
    return found


def _delimited(head: bytes) -> bool:
    """True when the head reads as rows of a delimited table: commas, tabs or semicolons (Excel's separator
    where the decimal mark is a comma) on the first line, as the CSV reader splits them."""
    try:
        first = head.decode("utf-8", "ignore").lstrip("\ufeff").split("\n", 1)[0]
    except UnicodeDecodeError:
        return False
    return first.count(",") + first.count("\t") + first.count(";") >= 1
