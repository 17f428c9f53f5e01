"""The validator's hot loop: one scan of a byte range of a file, chunk by chunk.

Each chunk of :data:`CHUNK_LINES` lines is parsed with ``orjson`` and checked at once
(:func:`~finetune_sdk.data._chunk.check_chunk`); when every line is a valid example they are measured
from their bytes (:func:`~finetune_sdk.data._chunk.measure_chunk`, with the marks one ``translate`` of the
block kept) and their statistics added together. Otherwise the chunk is gone through again line by line,
and every bad line is explained by :func:`explain_line`, which decodes and parses it again and lets the
pydantic models say which rule broke first.
"""

from __future__ import annotations

import operator
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate, repeat
from typing import IO

import orjson
from pydantic import ValidationError

from ._chunk import block_marks, check_chunk, fast_measure, line_marks, measure_chunk
from ._json import Line
from ._lines import (
    BOM,
    MAX_LINE_BYTES,
    Block,
    LongLine,
    ValidationCancelledError,
    iter_blocks,
    open_regular,
)
from ._repeats import DuplicateCounter, LineReader
from ._schema import Conversation, StrPath, explain_error
from ._stats import DEFAULT_MAX_TOKENS, StatsBuilder
from ._tokens import DEFAULT_EPOCHS, ExactCounter

__all__ = ["CHUNK_LINES", "Issue", "Options", "Part", "explain_line", "fd_reader", "scan", "scan_path"]

CHUNK_LINES = 64
"""Lines checked together; a chunk with a bad line is gone through again line by line, so it is kept small
(16-64 measured alike)."""

Issue = tuple[int, str, int | None, str]
"""``(line, code, index, message)``: an issue before it becomes a :class:`ValidationIssue`."""


@dataclass(frozen=True)
class Options:
    """What a scan needs besides the bytes (sent to worker processes, so nothing unpicklable).

    ``portable`` makes the duplicate keys the same in every process (workers not forked from this one
    hash strings with another secret)."""

    max_errors: int
    max_tokens: int = DEFAULT_MAX_TOKENS
    max_line: int = MAX_LINE_BYTES
    exact: bool = False
    n_epochs: int = DEFAULT_EPOCHS
    duplicates: bool = True
    portable: bool = False

    def builder(self, reader: LineReader | None = None) -> StatsBuilder:
        exact = ExactCounter(self.max_tokens, self.n_epochs) if self.exact else None
        duplicates = DuplicateCounter(reader, self.portable) if self.duplicates else None
        return StatsBuilder(max_tokens=self.max_tokens, exact=exact, duplicates=duplicates)


@dataclass
class Part:
    """What one scan of a byte range found; line numbers count from the start of the range."""

    lines: int = 0
    errors: list[Issue] = field(default_factory=list[Issue])
    stopped: bool = False
    stats: StatsBuilder = field(default_factory=StatsBuilder)
    nonblank: bool = False
    extra_keys: int = 0
    first_extra_line: int | None = None


_JSON_POSITION = re.compile(r"line 1 column (\d+) \(char \d+\)")


def _where_in_line(exc: orjson.JSONDecodeError) -> str:
    # The parser sees one line at a time, so its "line 1" would contradict the report's line number.
    return _JSON_POSITION.sub(r"at column \1", str(exc))


def explain_line(line: bytes) -> tuple[str, int | None, str] | None:
    """Why a line is not a valid example, as ``(code, index, message)``; ``None`` if it is valid.

    Slow and thorough: decodes, parses and validates the line with the pydantic models.
    """
    if isinstance(line, LongLine):
        return (
            "line_too_long",
            None,
            f"the line is {line.length:,} bytes long, more than max_line_bytes={line.limit:,}: an example "
            "this long cannot fit the platform's max_tokens; split or shorten it (or check that the file "
            "has its newlines)",
        )
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return (
            "invalid_encoding",
            None,
            f"the line is not valid UTF-8 (byte {exc.start + 1} of the line): save the file as UTF-8",
        )
    if not text or text.isspace():
        return "blank_line", None, "the line is empty: remove it (every line must hold one example)"
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        if "surrogate" in str(exc):
            return (
                "invalid_encoding",
                None,
                f"a string holds a lone surrogate escape such as \\ud800 ({exc}): it cannot be written as "
                "UTF-8; replace it with the character meant",
            )
        return (
            "invalid_json",
            None,
            f"the line is not valid JSON ({_where_in_line(exc)}): write one complete JSON object per line "
            "(NaN and Infinity are not JSON)",
        )
    try:
        Conversation.model_validate(obj)
    except ValidationError as exc:
        return explain_error(exc)
    return None


def fd_reader(fd: int, base: int = 0) -> LineReader | None:
    """Reads a line of the file open as ``fd`` at ``base + offset`` without moving its position (``None``
    where ``os.pread`` does not exist)."""
    if not hasattr(os, "pread"):
        return None

    def read(offset: int) -> bytes:
        pieces: list[bytes] = []
        at = base + offset
        size = 1 << 13  # most lines are shorter: a read of 64 KiB for each would cost more than the line
        while block := os.pread(fd, size, at):
            cut = block.find(b"\n")
            if cut >= 0:
                pieces.append(block[:cut])
                break
            pieces.append(block)
            at += len(block)
            size = min(2 * size, 1 << 20)
        return b"".join(pieces)

    return read


def scan_path(path: StrPath, start: int, end: int | None, options: Options) -> Part:
    """Validate the lines in bytes ``start:end`` of the file at ``path`` (what a worker process runs)."""
    with open_regular(path) as file:
        part = scan(file, start, end, options, reader=fd_reader(file.fileno()))
    if part.stats.duplicates is not None:
        part.stats.duplicates.reader = None  # bound to this process's file; the parent reads its own
    return part


def _line_lengths(lines: list[Line]) -> list[int]:
    lengths = list(map(len, lines))
    if 0 in lengths:  # a blank line, or a line too long to keep (its marker is empty)
        lengths = [line.length if isinstance(line, LongLine) else len(line) for line in lines]
    return lengths


def _marks(block: Block, lines: list[Line]) -> list[bytes]:
    """The marks of each line (see :func:`~finetune_sdk.data._chunk.block_marks`): one ``translate`` of
    the whole block when it is exact, the first line (which may start in the block before) apart."""
    if block.text is None or not lines:
        return list(map(line_marks, lines))
    found = block_marks(block.text)
    found[0] = line_marks(lines[0])
    del found[len(lines) :]
    return found


def scan(
    file: IO[bytes],
    start: int,
    end: int | None,
    options: Options,
    *,
    cancel: threading.Event | None = None,
    reader: LineReader | None = None,
) -> Part:
    """Validate the lines in bytes ``start:end`` of ``file``: the hot loop. With a ``reader`` (the file can
    be read again at an offset), duplicates are counted from sketches and lines read again when needed."""
    part = Part(stats=options.builder(reader))
    position = start
    if start == 0 and reader is not None:
        position = len(BOM) if reader(0).startswith(BOM) else 0
    max_errors, size, loads = options.max_errors, CHUNK_LINES, orjson.loads
    add_chunk = part.stats.add_chunk
    lineno = 0
    compact = True  # the lines so far were written compactly
    blocks = iter_blocks(file, start, end, max_line=options.max_line, cancel=cancel)
    for block in blocks:
        lines: list[Line] = block.lines if block.last is None else [block.last]
        block_end = lineno + len(lines)
        lengths = _line_lengths(lines)
        marks = _marks(block, lines)
        starts = list(accumulate(map(operator.add, lengths, repeat(1)), initial=position))
        position = starts.pop()
        for at in range(0, len(lines), size):
            if cancel is not None and cancel.is_set():  # a slow chunk (exact tokens) must not hold it
                raise ValidationCancelledError("validation was cancelled")
            chunk = lines[at : at + size]
            try:
                objs = list(map(loads, chunk))
            except orjson.JSONDecodeError:
                objs = []
            checked = check_chunk(objs, chunk) if objs else None
            if checked is None:
                lineno = _one_by_one(part, chunk, lineno, max_errors, starts[at : at + size])
                if len(part.errors) >= max_errors:
                    part.stopped = lineno < block_end or next(blocks, None) is not None
                    break
                continue
            found = measure_chunk(
                checked, objs, lengths[at : at + size], marks[at : at + size], compact=compact
            )
            compact = found.compact
            add_chunk(found, objs, chunk, lineno + 1, starts[at : at + size] if reader is not None else None)
            if found.extra:
                part.extra_keys += len(found.extra)
                if part.first_extra_line is None:
                    part.first_extra_line = lineno + 1 + found.extra[0]
            lineno += len(chunk)
        if part.stopped:
            break
    part.lines = lineno
    part.nonblank = part.stats.examples > 0 or any(e[1] != "blank_line" for e in part.errors)
    return part


def _one_by_one(part: Part, lines: list[Line], lineno: int, max_errors: int, starts: list[int]) -> int:
    """Check ``lines`` (after line ``lineno``) one at a time, explaining the bad ones, until ``max_errors``;
    return the number of the last line checked."""
    for line, offset in zip(lines, starts, strict=True):
        lineno += 1
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            obj = None
        measured = fast_measure(obj)
        if measured is not None:
            part.stats.add_one(measured, obj, lineno, offset, line)
            if measured[4]:
                part.extra_keys += 1
                if part.first_extra_line is None:
                    part.first_extra_line = lineno
            continue
        found = explain_line(line if isinstance(line, bytes) else bytes(line))
        if found is None:  # the fast path was stricter than the models: trust the models
            continue
        code, index, message = found
        part.errors.append((lineno, code, index, message))
        if len(part.errors) >= max_errors:
            break
    return lineno


Scan = Callable[[Options], list[Part]]
