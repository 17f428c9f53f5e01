"""Records of a JSON file, one at a time and in flat memory: the elements of a top-level array, or lines.

:func:`iter_array` splits a top-level JSON array into the bytes of its elements without parsing them: it
only follows strings (and their escapes) and the nesting depth, so each element can be handed to
``orjson`` on its own. Memory is one read block plus the element being read, whatever the file's size.
One regular-expression search finds the next token: a whole innermost object or array, a whole string
(escapes included), a bracket or a comma; so the Python loop runs a few times per message, not per byte.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import IO

import orjson

from .._json import as_array

__all__ = [
    "BLOCK_SIZE",
    "BOM",
    "MAX_RECORD_BYTES",
    "ArrayState",
    "Oversized",
    "first_byte",
    "iter_array",
    "iter_array_lines",
    "iter_json_lines",
    "skip_bom",
    "without_bom",
]

BLOCK_SIZE = 1 << 20
BOM = b"\xef\xbb\xbf"
# A string, escapes included (written unrolled: linear, no backtracking). JSON strings hold no raw newline,
# so none is let in: a string cut short ends at its line's end (see iter_array).
_STRING = rb'"[^"\\\n]*(?:\\[^\n][^"\\\n]*)*"'
_PLAIN = rb'[^"{}\[\]]*'
#: The next token: a whole object or array holding none (most messages: one match instead of a dozen),
#: a whole string, a bracket or a comma; a lone quote is a string that the buffer cuts short.
_TOKEN = re.compile(
    rb"[{\[]" + _PLAIN + rb"(?:" + _STRING + _PLAIN + rb")*[}\]]|" + _STRING + rb'|[\[\]{},]|"', re.DOTALL
)
_WHITE = b" \t\r\n"
#: The inside of a string from where a scan stands: it stops at the closing quote, at the end of the
#: buffer, or before a backslash that is the buffer's last byte (its escaped character still to come).
_STRING_BODY = re.compile(rb'[^"\\\n]*(?:\\[^\n][^"\\\n]*)*')


class ArrayState:
    """What :func:`iter_array` found about the array itself (read after the iteration ends).

    ``problem`` is ``None`` for a well-formed array, else a sentence: the array was never closed, or
    something other than another array follows it. Elements read before the problem were yielded anyway.
    ``arrays`` counts the arrays read when several follow each other.
    """

    def __init__(self) -> None:
        self.problem: str | None = None
        self.arrays = 1  # arrays read one after the other (``[...][...]``): their elements all yielded


def skip_bom(file: IO[bytes]) -> bool:
    """Leave ``file`` (at its start) after a UTF-8 byte order mark, if it has one; say whether it had."""
    head = b""
    while len(head) < len(BOM) and (more := file.read(len(BOM) - len(head))):
        head += more  # a raw stream may return fewer bytes than asked
    if head == BOM:
        return True
    file.seek(0)
    return False


def without_bom(head: bytes) -> bytes:
    """``head`` without a byte order mark at its start."""
    return head[len(BOM) :] if head.startswith(BOM) else head


def first_byte(head: bytes) -> int | None:
    """The first byte of ``head`` that is not white space (after a BOM), or ``None``."""
    stripped = without_bom(head).lstrip(_WHITE)
    return stripped[0] if stripped else None


def iter_array(file: IO[bytes], state: ArrayState | None = None) -> Iterator[bytes]:
    """Yield the bytes of each element of the JSON array that ``file`` holds, white space stripped.

    An element left empty (``[1,,2]``) or cut short by the end of the file is yielded as it is, so its
    parse fails and it is reported like any other bad record.
    """
    state = state if state is not None else ArrayState()
    head, pos = _opening(file, state)
    if pos < 0:
        return
    # A bytearray grows in place: reading a long element costs its length once, not once per block.
    buf = bytearray(head)
    start = pos  # where the current element begins
    depth = 1
    elements = 0
    search = _TOKEN.search
    while True:
        found = search(buf, pos)
        if found is None:  # nothing but plain bytes after pos: go on after them
            end = len(buf)
            if not _more(file, buf, start):
                break
            pos, start = end - start, 0
            continue
        at, pos = found.span()
        if pos - at > 1:  # a whole string or flat container: the depth is unchanged
            continue
        char = buf[at]
        if char == 0x22:  # a lone quote: the buffer ends inside a string; read on from where the scan is
            stop, start = _string_stop(file, buf, at + 1, start)
            if stop < 0:
                break  # the file ends inside the string
            pos = stop + 1
            if buf[stop] == 0x22:
                continue
            # A raw newline in a string (or after its backslash): the element was cut short. It ends there,
            # as at a comma between two elements (its parse fails: it is rejected), and the next line starts
            # afresh, so the elements after it are read, not swallowed into it.
            at, depth = stop, 1
        if char in b"[{":
            depth += 1
        elif char in b"]}":
            depth -= 1
            if depth == 0:
                element = bytes(buf[start:at].strip(_WHITE))
                if element or elements:  # "[]" holds nothing, "[1,]" an empty second element
                    yield element
                rest = _check_tail(file, bytes(buf[pos:]), state)
                if rest is None:
                    return
                state.arrays += 1  # another array follows: its elements are records too
                buf, pos, start, depth, elements = bytearray(rest), 1, 1, 1, 0
        elif depth == 1:  # a comma between two elements
            yield bytes(buf[start:at].strip(_WHITE))
            elements += 1
            start = pos
    tail = bytes(buf[start:].strip(_WHITE))
    if tail:
        yield tail
    state.problem = "the JSON array is not closed: the file ends before its ']'"


def _string_stop(file: IO[bytes], buf: bytearray, scan: int, start: int) -> tuple[int, int]:
    """Scan a string from ``scan`` (after its opening quote), reading on while the buffer ends inside it
    (or with a backslash, its escape still to come). Returns where it ends: its closing quote, or the raw
    newline that cuts it short (-1 when the file ends inside it); and ``start`` as the buffer moved it."""
    while (scan := _string_end(buf, scan)) >= len(buf) - 1 and not buf.startswith(b'"', scan):
        if not _more(file, buf, start):
            break
        scan, start = scan - start, 0
    if buf.startswith(b'"', scan):
        return scan, start
    return buf.find(b"\n", scan), start


def _string_end(buf: bytearray, scan: int) -> int:
    """Where the scan of a string from ``scan`` stops: its closing quote, or the end of what is read."""
    found = _STRING_BODY.match(buf, scan)
    return found.end() if found is not None else scan  # (it always matches, if only empty)


def _more(file: IO[bytes], buf: bytearray, start: int) -> bool:
    """Append the next block to ``buf``, first dropping the bytes before ``start`` (positions in ``buf``
    move back by ``start``); ``False`` at the end of the file, ``buf`` left as it was."""
    more = file.read(BLOCK_SIZE)
    if not more:
        return False
    del buf[:start]
    buf += more
    return True


def _opening(file: IO[bytes], state: ArrayState) -> tuple[bytes, int]:
    """The first block holding the opening bracket, and the index after it (-1: no array)."""
    buf = file.read(BLOCK_SIZE)
    pos = len(buf) - len(buf.lstrip(_WHITE))
    while pos >= len(buf):  # only white space so far
        more = file.read(BLOCK_SIZE)
        if not more:
            state.problem = "the file holds no JSON array"
            return buf, -1
        buf, pos = more, len(more) - len(more.lstrip(_WHITE))
    if buf[pos] != ord("["):
        state.problem = "the file does not start with '['"
        return buf, -1
    return buf, pos + 1


def _check_tail(file: IO[bytes], rest: bytes, state: ArrayState) -> bytes | None:
    """What follows an array: ``None`` at the end of the file (or after something that is no array, a
    ``problem``), else the bytes from the next array's ``[`` on."""
    while True:
        rest = rest.lstrip(_WHITE)
        if rest.startswith(b"["):
            return rest
        if rest:
            state.problem = "something follows the JSON array's closing ']'"
            return None
        rest = file.read(BLOCK_SIZE)
        if not rest:
            return None


class Oversized(bytes):
    """A line longer than :data:`MAX_RECORD_BYTES`, never held whole: its first KiB (these bytes, which
    do not parse) and its ``size``."""

    size: int

    def __new__(cls, prefix: bytes, size: int) -> Oversized:
        line = super().__new__(cls, prefix)
        line.size = size
        return line


#: The longest record read: four times the longest line the platform takes (16 MiB), room for keys and
#: media left out; a longer one could never be written, so it is skipped, not parsed (memory stays
#: bounded whatever one line holds).
MAX_RECORD_BYTES = 1 << 26


def iter_json_lines(file: IO[bytes], limit: int = MAX_RECORD_BYTES) -> Iterator[bytes]:
    """Yield each line of a JSON Lines file without its line ending; a line longer than ``limit`` as an
    :class:`Oversized` (read past in blocks, never held whole).

    Python's buffered binary reader does the splitting, so memory is one line at a time.
    """
    readline = file.readline
    while raw := readline(limit):
        if len(raw) == limit and not raw.endswith(b"\n"):
            size, prefix = len(raw), raw[:1024]
            del raw
            while more := readline(1 << 20):
                size += len(more)
                if more.endswith(b"\n"):
                    size -= 1
                    break
            yield Oversized(prefix, size)
            continue
        yield raw[:-1] if raw.endswith(b"\n") else raw


def iter_array_lines(file: IO[bytes]) -> Iterator[tuple[int, int, bytes]]:
    """For a file of one JSON array per line (``cat a.json b.json``): ``(line, element, bytes)`` for each
    element of each line's array, ``line`` and ``element`` numbered from 1. A line that is not an array
    holding an object (not JSON, another value, an empty array, an array of no records) is yielded whole
    as element 0, to be rejected (or skipped, when blank) as it is."""
    for number, line in enumerate(iter_json_lines(file), 1):
        try:
            value: object = orjson.loads(line)
        except orjson.JSONDecodeError:
            value = None
        elements = as_array(value)
        if elements is not None and any(isinstance(element, dict) for element in elements):
            for index, element in enumerate(iter_array(io.BytesIO(line.strip(_WHITE))), 1):
                yield number, index, element
        else:
            yield number, 0, line
