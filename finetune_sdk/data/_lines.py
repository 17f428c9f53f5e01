"""Reading a dataset as lines: regular files only, bounded memory per line, cancellable between blocks.

A FIFO would block ``open()`` until a writer comes, a device such as ``/dev/zero`` never ends, and a
folder has no lines: :func:`open_regular` opens without blocking and refuses all of them before a byte is
read. A line longer than ``max_line`` bytes is never held whole: its bytes are dropped as they come and a
:class:`LongLine` marker takes its place, which the validator reports as ``line_too_long``.
"""

from __future__ import annotations

import io
import os
import stat
import threading
from collections.abc import Iterator
from typing import IO, NamedTuple

from ._json import Line
from ._schema import StrPath

__all__ = [
    "BLOCK_SIZE",
    "BOM",
    "MAX_LINE_BYTES",
    "Block",
    "LongLine",
    "NotARegularFileError",
    "ValidationCancelledError",
    "iter_blocks",
    "iter_lines",
    "open_regular",
]

BLOCK_SIZE = 1 << 20
"""Bytes read at a time: big enough that the per-block cost vanishes, small enough to stay in cache and
keep memory flat (1 MiB measured faster than 4 MiB)."""

MAX_LINE_BYTES = 16 << 20
"""The longest line read whole (16 MiB, thousands of times a 4,096-token example); longer ones are
``line_too_long``."""

BOM = b"\xef\xbb\xbf"


class NotARegularFileError(OSError):
    """The path is a folder, a FIFO, a device or a socket: only regular files are read."""


class ValidationCancelledError(Exception):
    """Validation stopped because it was cancelled (see :meth:`Dataset.avalidate_file`)."""


class LongLine(bytes):
    """Stands for a line longer than the limit; ``length`` is its size in bytes. Its own value is empty,
    so a parser sees an invalid line and the validator asks why."""

    length: int
    limit: int

    @classmethod
    def of(cls, length: int, limit: int) -> LongLine:
        marker = cls()
        marker.length, marker.limit = length, limit
        return marker


_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def open_regular(path: StrPath) -> IO[bytes]:
    """Open ``path`` for reading in binary if it is a regular file (symbolic links followed).

    Raises :class:`NotARegularFileError` for anything else, without blocking on a FIFO, and
    ``FileNotFoundError`` when there is nothing there.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:  # Windows refuses to open a folder at all
        raise NotARegularFileError(_refusal(path, "a folder")) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotARegularFileError(_refusal(path, _kind(mode)))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return io.FileIO(fd, "rb", closefd=True)
    except BaseException:
        os.close(fd)
        raise


def _refusal(path: StrPath, kind: str) -> str:
    return (
        f"{os.fspath(path)!r} is {kind}, not a regular file: only regular files are read (copy the data "
        "into a .jsonl file, or pass the bytes or an open file object with filename=)"
    )


def iter_lines(
    file: IO[bytes], start: int = 0, end: int | None = None, *, max_line: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line number from 1, line without its newline)`` for the bytes ``start:end`` of ``file``.

    ``start`` must be 0 or just after a newline. A byte order mark at offset 0 is skipped. A line longer
    than ``max_line`` comes as a :class:`LongLine`.
    """
    lineno = 0
    for block in iter_blocks(file, start, end, max_line=max_line):
        for line in block.lines:
            lineno += 1
            yield lineno, line if isinstance(line, bytes) else bytes(line)
        if block.last is not None:
            yield lineno + 1, block.last


def _without_bom(file: IO[bytes], block: bytes, left: int) -> tuple[bytes, int]:
    """The first block without a leading BOM, and the bytes left to read (-1: to the end).

    A stream may hand out fewer bytes than a BOM in its first read: a BOM's prefix is completed first.
    """
    while left and len(block) < len(BOM) and BOM.startswith(block):
        more = file.read(len(BOM) - len(block) if left < 0 else min(len(BOM) - len(block), left))
        if not more:
            break
        left -= len(more) if left > 0 else 0
        block += more
    return (block[len(BOM) :] if block.startswith(BOM) else block), left


class Block(NamedTuple):
    """The complete lines of one block read, or at the end the unfinished last line.

    ``text`` is the block the lines were cut from when it is exact: its newlines end ``lines[0]`` (of which
    it holds the end) and each of the other lines, in order; ``None`` when a line was too long to keep.
    """

    lines: list[Line]
    last: bytes | None = None
    text: bytes | None = None


#: A block whose first ``_SAMPLE`` bytes hold lines shorter than ``_VIEWED`` bytes on average is split into
#: copies; below that a line costs less to copy than to find and view (measured).
_SAMPLE, _VIEWED = 1 << 16, 1 << 10


def _cut(block: bytes, head: int) -> tuple[list[Line], bytes]:
    """The lines of ``block`` (its first newline at ``head``) and what follows its last newline: views of
    it when its lines are long, copies when they are short (a sample of its start tells)."""
    if block.count(b"\n", head, head + _SAMPLE) > _SAMPLE // _VIEWED:
        lines: list[Line] = []
        lines += block.split(b"\n")
        return lines, bytes(lines.pop())
    ends = [head]
    find, add = block.find, ends.append
    at = find(b"\n", head + 1)
    while at >= 0:
        add(at)
        at = find(b"\n", at + 1)
    view = memoryview(block)
    lines = [block[:head]]
    lines += map(view.__getitem__, map(slice, map((1).__add__, ends), ends[1:]))
    return lines, block[ends[-1] + 1 :]


def iter_blocks(
    file: IO[bytes],
    start: int = 0,
    end: int | None = None,
    *,
    max_line: int = MAX_LINE_BYTES,
    cancel: threading.Event | None = None,
) -> Iterator[Block]:
    """Yield the complete lines of each block, and at the end the unfinished last line (if any).

    The lines of a block after its first are views of it, not copies, when they are long: splitting a
    block of long lines into new ``bytes`` costs as much as parsing them (:func:`_cut`). A stream is read
    from where it stands when ``start`` is 0; a seekable file is moved to ``start`` otherwise. ``cancel``
    is looked at before every block: once set, :class:`ValidationCancelledError`.
    """
    if start:
        file.seek(start)
    left = -1 if end is None else end - start
    pending: list[bytes] = []
    pending_len = 0
    skipping = False  # inside a line too long to keep: its bytes are counted, not kept
    first = start == 0
    while left:
        if cancel is not None and cancel.is_set():
            raise ValidationCancelledError("validation was cancelled")
        block = file.read(BLOCK_SIZE if left < 0 else min(BLOCK_SIZE, left))
        if not block:
            break
        left -= len(block) if left > 0 else 0
        if first:
            first = False
            block, left = _without_bom(file, block, left)
        head = block.find(b"\n")
        if head < 0:
            pending_len += len(block)
            if not skipping:
                pending.append(block)
                if pending_len > max_line:
                    pending, skipping = [], True
            continue
        lead: Line
        if skipping or pending_len + head > max_line:
            lead = LongLine.of(pending_len + head, max_line)
        else:
            lead = b"".join((*pending, block[:head])) if pending else block[:head]
        lines, tail = _cut(block, head)
        lines[0] = lead
        exact = not isinstance(lead, LongLine)
        if max_line < BLOCK_SIZE and max(map(len, lines)) > max_line:
            lines = [LongLine.of(len(x), max_line) if len(x) > max_line else x for x in lines]
            exact = False
        skipping = len(tail) > max_line
        pending, pending_len = ([tail] if tail and not skipping else []), len(tail)
        yield Block(lines, None, block if exact else None)
    if skipping or pending_len > max_line:
        yield Block([], LongLine.of(pending_len, max_line))
    elif pending:
        yield Block([], b"".join(pending))
