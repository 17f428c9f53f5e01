"""Why no record of a file could be read for detection, when the file says so itself: it is empty, not
UTF-8, one JSON object holding the records in an array, objects pretty-printed over several lines, or
lines that are whole objects but not JSON. Said rather than "no known format"."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import IO

import orjson

from ._detect import Container, not_utf8
from ._jsonarray import BOM
from ._raw import loads_lenient

__all__ = ["nothing_read"]

_WHITE = BOM + b" \t\r\n"

#: ``{"data": [{`` at the start of a file: one object whose first key holds the records.
_WRAPPED = re.compile(rb'^\{\s*"((?:[^"\\]|\\.){1,64})"\s*:\s*\[\s*[\{\[]')

#: The longest first line read whole to tell why no record of a file parses.
_LINE_LOOKED_AT = 1 << 24


def nothing_read(
    path: str,
    head: bytes,
    container: Container,
    open_file: Callable[[], contextlib.AbstractContextManager[IO[bytes]]],
    *,
    utf8: bool,
    undecodable: Callable[[], ValueError],
) -> None:
    """Raise ``ValueError`` saying why no record of the file at ``path`` (shown so, its first bytes
    ``head``, reopened by ``open_file``) parsed, when the file itself tells; return otherwise."""
    if utf8 and not_utf8(head):
        raise undecodable()  # nothing decodes: say so, and guess the encoding
    start = head.lstrip(_WHITE)
    if not start:
        raise ValueError(f"{path} is empty{' but for white space' if head else ''}: nothing to convert")
    if container != "lines" or not start.startswith(b"{"):
        return
    _whole_lines_broken(path, head, start, open_file)
    wrapped = _WRAPPED.match(start)
    key = wrapped.group(1).decode("utf-8", "replace") if wrapped is not None else "messages"
    if key not in ("messages", "conversations"):  # those start a chat record pretty-printed
        raise ValueError(
            f"{path} is one JSON object whose {key!r} holds the records: take the array out (jq '.{key}' "
            f"{path} > records.json, or json.load(f)[{key!r}] in Python) and convert that"
        )
    raise ValueError(
        f"the JSON objects of {path} span several lines (pretty-printed): write one object per "
        "line (JSON Lines), or put them in one JSON array, then convert it"
    )


def _whole_lines_broken(
    path: str,
    head: bytes,
    start: bytes,
    open_file: Callable[[], contextlib.AbstractContextManager[IO[bytes]]],
) -> None:
    """A first line that is not the start of an object pretty-printed over several lines (``{`` alone, or
    ending with ``,``) but a whole object that is not valid JSON (``NaN`` aside: a lone surrogate, nesting
    too deep) is named with its error."""
    first, newline, _ = start.partition(b"\n")
    if newline and first.rstrip(b" \t\r").endswith((b"{", b"[", b",", b":")):
        return
    number = head[: len(head) - len(start)].count(b"\n") + 1
    line = b""
    with open_file() as file:
        for _ in range(number):
            line = file.readline(_LINE_LOOKED_AT)
    if not line.endswith(b"\n") and len(line) == _LINE_LOOKED_AT:
        return  # too long to look at whole
    try:
        loads_lenient(line)
    except orjson.JSONDecodeError as exc:
        raise ValueError(
            f"line {number} of {path} is not valid JSON ({exc}), nor is any of the first records: fix "
            "the program that wrote it (a lone half of a surrogate pair such as \\ud83d, or nesting deeper "
            "than 1024 levels, are not JSON)"
        ) from None
