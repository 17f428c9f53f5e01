"""The streaming validator behind :meth:`Dataset.validate_file`.

Two paths share the work (:mod:`finetune_sdk.data._scan`). The fast path reads the file in big binary
blocks, splits them into lines, parses each chunk of lines with ``orjson`` and checks the platform's rules
on the whole chunk at once (:mod:`finetune_sdk.data._chunk`); it only answers "good" or "bad". When every
line of the chunk is good, their statistics are added at once; otherwise the chunk is gone through again
line by line, and every bad line is explained by the pydantic models of :mod:`finetune_sdk.data._schema`.
Property tests hold the paths to the same report. This module takes the source (a path, bytes, a stream),
splits a large file over processes (:mod:`finetune_sdk.data._parallel`) and joins the parts into a report.

Each line is parsed on its own. One ``orjson.loads`` of a chunk as a JSON array (``b"[" + b",".join(lines)
+ b"]"``, falling back when it fails or its length is not the number of lines) was measured no faster, and it
is not equivalent: a line may leave a bracket or a string open and swallow the joining comma while a later
line holding ``{...},{...}`` adds the element back, so three ``invalid_json`` lines would pass as three valid
examples (``tests/unit/test_validate_paths.py`` keeps such a file).

Decisions about the edges of the format (``docs/datasets.md`` lists them for users):

- lines are split on ``\\n``; a ``\\r`` before it is JSON white space, so CRLF files pass; a single final
  newline does not start another line, but ``\\n\\n`` at the end leaves a blank last line;
- a UTF-8 byte order mark at the very start of the file is skipped;
- a line is blank when it decodes to nothing or only white space (``str.isspace``);
- JSON is what ``orjson`` accepts: no ``NaN`` or ``Infinity``, at most 1024 levels of nesting; a string with a
  lone surrogate escape (``"\\ud800"``) is ``invalid_encoding``; when a key repeats, the last value counts;
- ``max_errors`` stops the reading: the report is ``truncated`` and its stats cover the lines read.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import IO, Literal

from .._text import plural
from ._chunk import fast_check, fast_measure
from ._lines import MAX_LINE_BYTES, open_regular
from ._notices import duplicate_warnings, token_warnings
from ._parallel import MIN_BYTES_PER_WORKER, auto_workers, scan_in_processes
from ._repeats import LineReader
from ._scan import Options, Part, explain_line, fd_reader, scan
from ._schema import StrPath, ValidationIssue, ValidationReport, file_issue
from ._stats import DEFAULT_MAX_TOKENS, StatsBuilder
from ._tokens import DEFAULT_EPOCHS, load_encoding

__all__ = ["Source", "explain_line", "fast_check", "fast_measure", "validate_source"]

Source = StrPath | bytes | bytearray | memoryview | IO[bytes]
"""What :meth:`Dataset.validate_file` reads: a path, the bytes of a file, or a binary file object."""


def _examples(count: int) -> str:
    return f"{plural(count, 'example')} {'has' if count == 1 else 'have'}"


def _buffer_reader(data: memoryview, base: int) -> LineReader:
    def read(offset: int) -> bytes:
        at = base + offset
        size = 1 << 13
        while at + size < len(data):  # a window that grows until it holds the newline
            cut = bytes(data[at : at + size]).find(b"\n")
            if cut >= 0:
                return bytes(data[at : at + cut])
            size *= 2
        rest = bytes(data[at:])
        cut = rest.find(b"\n")
        return rest if cut < 0 else rest[:cut]

    return read


def _stream_reader(stream: IO[bytes]) -> LineReader | None:
    """How to read a line of ``stream`` again at an offset from where it stands now, when it can be."""
    if isinstance(stream, io.BytesIO):
        return _buffer_reader(stream.getbuffer(), stream.tell())
    try:
        fd, base = stream.fileno(), stream.tell()
        if not stream.seekable():
            return None
    except (OSError, AttributeError, ValueError):
        return None
    return fd_reader(fd, base)


def validate_source(
    source: Source,
    *,
    max_errors: int = 100,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    filename: str | None = None,
    workers: int | Literal["auto"] = "auto",
    tokens: Literal["estimate", "exact"] = "estimate",
    n_epochs: int = DEFAULT_EPOCHS,
    max_line_bytes: int = MAX_LINE_BYTES,
    duplicates: bool = True,
    cancel: threading.Event | None = None,
) -> ValidationReport:
    """Validate ``source`` line by line: the report of the rules alone."""
    if max_errors < 1:
        raise ValueError(f"max_errors must be at least 1, got {max_errors}")
    if workers != "auto" and (not _whole(workers) or workers < 1):
        raise ValueError(f"workers must be 'auto' or a whole number >= 1, got {workers!r}")
    if tokens not in ("estimate", "exact"):
        raise ValueError(f"tokens must be 'estimate' or 'exact', got {tokens!r}")
    if not _whole(n_epochs) or n_epochs < 1:
        raise ValueError(f"n_epochs must be a whole number >= 1, got {n_epochs!r}")
    if max_line_bytes < 1:
        raise ValueError(f"max_line_bytes must be at least 1, got {max_line_bytes}")
    if tokens == "exact":
        load_encoding()  # a missing extra is an ImportError now, not in a worker process
    options = Options(max_errors, max_tokens, max_line_bytes, tokens == "exact", n_epochs, duplicates)
    if isinstance(source, str | os.PathLike):
        with open_regular(source) as file:  # refuses a folder, FIFO or device before reading a byte
            size = os.fstat(file.fileno()).st_size
            name = os.fspath(source) if filename is None else filename
            count = auto_workers(size) if workers == "auto" else workers
            count = min(count, max(1, size // MIN_BYTES_PER_WORKER))
            if _refused(name, options) is not None or count == 1:
                here = fd_reader(file.fileno())
                return _validate_stream(file, name, options, cancel, has_bytes=size > 0, reader=here)
            with open_regular(source) as again:  # to settle duplicates across the parts
                return _validate_parts(
                    name,
                    lambda budget: scan_in_processes(source, size, count, budget, cancel),
                    options,
                    fd_reader(again.fileno()),
                )
    if isinstance(source, bytes | bytearray | memoryview):
        data = memoryview(source)
        stream: IO[bytes] = io.BytesIO(data)
        reader: LineReader | None = _buffer_reader(data, 0)
    else:
        stream, reader = source, _stream_reader(source)
    if filename is None:
        given = getattr(stream, "name", None)
        filename = given if isinstance(given, str) else None
    return _validate_stream(stream, filename, options, cancel, has_bytes=True, reader=reader)


def _whole(value: object) -> bool:
    """True for an ``int`` that is not a ``bool`` (callers without type checking pass anything)."""
    return type(value) is int


def _refused(name: str | None, options: Options) -> list[ValidationIssue] | None:
    """The file-level errors when they leave no room for more, else ``None``."""
    errors = _file_errors(name)
    return errors if len(errors) >= options.max_errors else None


def _file_errors(name: str | None) -> list[ValidationIssue]:
    return [] if name is None or name.endswith(".jsonl") else [file_issue("wrong_extension")]


def _validate_stream(
    file: IO[bytes],
    name: str | None,
    options: Options,
    cancel: threading.Event | None,
    *,
    has_bytes: bool,
    reader: LineReader | None,
) -> ValidationReport:
    refused = _refused(name, options)
    if refused is not None:
        return ValidationReport(path=name or "<stream>", errors=refused, truncated=has_bytes)
    return _validate_parts(
        name, lambda budget: [scan(file, 0, None, budget, cancel=cancel, reader=reader)], options, reader
    )


def _validate_parts(
    name: str | None, parts: Callable[[Options], list[Part]], options: Options, reader: LineReader | None
) -> ValidationReport:
    errors = _file_errors(name)
    budget = replace(options, max_errors=options.max_errors - len(errors))
    found = parts(budget)
    portable = any(p.stats.duplicates is not None and p.stats.duplicates.portable for p in found)
    return _report(name or "<stream>", errors, found, replace(options, portable=portable), reader)


def _report(
    path: str, errors: list[ValidationIssue], parts: list[Part], options: Options, reader: LineReader | None
) -> ValidationReport:
    """Join the parts of a scan, in file order, into one report."""
    stats = parts[0].stats if len(parts) == 1 else options.builder(reader)  # one part: taken as it is
    max_errors = options.max_errors
    offset = 0
    truncated = False
    extra = 0
    first_extra: int | None = None
    nonblank = False
    for part in parts:
        room = max_errors - len(errors)
        errors.extend(
            ValidationIssue(line=line + offset, code=code, message=message, index=index)
            for line, code, index, message in part.errors[:room]
        )
        if len(parts) > 1:
            stats.merge(part.stats, offset)
        if part.first_extra_line is not None and first_extra is None:
            first_extra = part.first_extra_line + offset
        extra += part.extra_keys
        nonblank = nonblank or part.nonblank
        offset += part.lines
        if len(part.errors) > room:
            truncated = True
        elif len(errors) >= max_errors:
            truncated = part.stopped or part is not parts[-1]
        else:
            continue
        break
    if not truncated and not nonblank:
        errors.append(file_issue("empty_file"))
    return ValidationReport(
        path=path,
        errors=errors,
        warnings=_warnings(stats, extra, first_extra),
        stats=stats.build(),
        lines=offset,
        truncated=truncated,
    )


def _warnings(stats: StatsBuilder, extra: int, first_extra: int | None) -> list[ValidationIssue]:
    warnings: list[ValidationIssue] = []
    if extra:
        warnings.append(
            ValidationIssue(
                line=first_extra,
                code="unknown_keys",
                message=f"{_examples(extra)} other keys than messages/role/content (first at "
                f"line {first_extra}): the platform ignores them",
            )
        )
    if stats.first_control is not None:
        line, token = stats.first_control
        warnings.append(
            ValidationIssue(
                line=line,
                code="control_tokens",
                message=f"{_examples(stats.control)} Qwen's control tokens in their text (first at line "
                f"{line}: {token}): the chat template puts them around every message, so the tuned model "
                "would read a message ending or starting there; remove them, or write them otherwise",
            )
        )
    if stats.duplicates is not None:
        warnings.extend(duplicate_warnings(stats.duplicates))
    warnings.extend(token_warnings(stats))
    return warnings
