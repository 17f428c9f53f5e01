"""The streaming validator behind :meth:`Dataset.validate_file`.

Two paths share the work. The fast path reads the file in big binary blocks, splits them into lines, parses
each line with ``orjson`` and checks the platform's rules with a few inline type tests; it only answers "good"
or "bad". When every line of a chunk of :data:`CHUNK_LINES` is good, their statistics are added at once
(:meth:`StatsBuilder.add_many`); otherwise the chunk is gone through again line by line, and every bad line is
explained by :func:`explain_line`, which decodes and parses it again and lets the pydantic models of
:mod:`finetune_sdk.data._schema` say which rule broke first. Property tests hold the paths to the same report.

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

import concurrent.futures
import io
import itertools
import multiprocessing
import multiprocessing.context
import operator
import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from typing import IO, Any, Literal, TypedDict

import orjson
from pydantic import ValidationError

from .._text import plural
from ._duplicates import DuplicateCounter
from ._lines import MAX_LINE_BYTES, LongLine, ValidationCancelledError, iter_blocks, open_regular
from ._notices import duplicate_warnings, token_warnings
from ._schema import (
    Conversation,
    StrPath,
    ValidationIssue,
    ValidationReport,
    explain_error,
    file_issue,
)
from ._stats import DEFAULT_MAX_TOKENS, DIGITS, StatsBuilder
from ._tokens import DEFAULT_EPOCHS, ExactCounter, load_encoding

__all__ = ["explain_line", "fast_check", "validate_source"]

CHUNK_LINES = 64
"""Lines whose statistics are added together when all are valid; a chunk with a bad line is gone through again
line by line, so it is kept small (16-64 measured alike)."""

#: With ``workers="auto"`` (the default), files from this size on are split over processes: below it,
#: starting the processes costs more than it saves.
AUTO_MIN_BYTES = 128 << 20

#: Files smaller than this are validated in one process whatever ``workers`` says.
MIN_BYTES_PER_WORKER = 16 << 20

_ISSUE = tuple[int, str, int | None, str]
"""``(line, code, index, message)``: an issue before it becomes a :class:`ValidationIssue`."""


_SEP = "\x00"


def _valid_role_orders(pairs: int) -> dict[str, tuple[int, bool]]:
    """Every valid sequence of roles up to ``pairs`` pairs, joined by ``_SEP`` -> (messages, whether it starts
    with a system message).

    Looking up the joined string is cheaper than hashing a tuple of fresh strings, and as exact once the
    number of messages is checked too: the join of n roles holds the n - 1 separators it put in, a key of
    n roles holds exactly n - 1, so when the two are equal no role holds a separator and each role is the
    key's role at its place.
    """
    orders: dict[str, tuple[int, bool]] = {}
    for k in range(1, pairs + 1):
        body = ("user", "assistant") * k
        orders[_SEP.join(body)] = (2 * k, False)
        orders[_SEP.join(("system", *body))] = (2 * k + 1, True)
    return orders


_ROLE_ORDERS = _valid_role_orders(64)
_get_role = operator.itemgetter("role")
_get_content = operator.itemgetter("content")
_isspace = str.isspace


def fast_check(obj: Any) -> bool:
    """True when a parsed line is a valid example (the fast path's verdict)."""
    return fast_measure(obj) is not None


Measure = tuple[int, bool, int, int, bool, int, list[str], bytes]
"""What :func:`fast_measure` finds in a valid example."""


def fast_measure(obj: Any) -> Measure | None:
    """``(messages, has_system, characters, extra UTF-8 bytes, has unknown keys, digits, contents, the
    contents' UTF-8 bytes back to back)`` of a valid example, or ``None`` when the parsed line breaks a
    rule (the last two serve the duplicate count, which so neither gets nor encodes the contents again).

    The hot path: a handful of C-level calls per line whatever the number of messages. A missing key, a
    wrong type or a non-string role or content makes one of them raise, which means "invalid"; the role
    order is one dict look-up among the valid orders (longer conversations take :func:`_long_order`).
    """
    try:
        msgs = obj["messages"]
        if type(obj) is not dict or type(msgs) is not list:
            return None
        found = _ROLE_ORDERS.get(_SEP.join(map(_get_role, msgs)))
        if found is not None and found[0] == len(msgs):
            system = found[1]
        else:
            long = None if len(msgs) <= 2 * 64 + 1 else _long_order(tuple(map(_get_role, msgs)))
            if long is None:
                return None
            system = long
        contents = list(map(_get_content, msgs))
        text = "".join(contents)  # TypeError unless every content is a str
        if "" in contents or any(map(_isspace, contents)):
            return None
        chars = len(text)
        raw = text.encode()
        wide = len(raw) - chars
        digits = len(raw) - len(raw.translate(None, DIGITS))
        extra_keys = len(obj) != 1 or sum(map(len, msgs)) != 2 * len(msgs)
    except (KeyError, TypeError, UnicodeEncodeError):
        return None
    return len(msgs), system, chars, wide, extra_keys, digits, contents, raw


def _long_order(roles: tuple[str, ...]) -> bool | None:
    """Like the ``_ROLE_ORDERS`` look-up, for conversations too long to be listed there."""
    system = roles[0] == "system"
    pairs, odd = divmod(len(roles) - system, 2)
    if odd or roles[system:] != ("user", "assistant") * pairs:
        return None
    return system


_JSON_POSITION = re.compile(r"line 1 column (\d+) \(char \d+\)")


def _examples(count: int) -> str:
    return f"{plural(count, 'example')} {'has' if count == 1 else 'have'}"


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
            (f"the line is not valid UTF-8 (byte {exc.start + 1} of the line): save the file as UTF-8"),
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
                (
                    f"a string holds a lone surrogate escape such as \\ud800 ({exc}): it cannot be written "
                    "as UTF-8; replace it with the character meant"
                ),
            )
        return (
            "invalid_json",
            None,
            (
                f"the line is not valid JSON ({_where_in_line(exc)}): write one complete JSON object per "
                "line "
                "(NaN and Infinity are not JSON)"
            ),
        )
    try:
        Conversation.model_validate(obj)
    except ValidationError as exc:
        return explain_error(exc)
    return None


@dataclass(frozen=True)
class _Options:
    """What a scan needs besides the bytes (sent to worker processes, so nothing unpicklable)."""

    max_errors: int
    max_tokens: int
    max_line: int = MAX_LINE_BYTES
    exact: bool = False
    n_epochs: int = DEFAULT_EPOCHS
    duplicates: bool = True

    def builder(self) -> StatsBuilder:
        exact = ExactCounter(self.max_tokens, self.n_epochs) if self.exact else None
        duplicates = DuplicateCounter() if self.duplicates else None
        return StatsBuilder(max_tokens=self.max_tokens, exact=exact, duplicates=duplicates)


@dataclass
class _Part:
    """What one scan of a byte range found; line numbers count from the start of the range."""

    lines: int = 0
    errors: list[_ISSUE] = field(default_factory=list)
    stopped: bool = False
    stats: StatsBuilder = field(default_factory=StatsBuilder)
    nonblank: bool = False
    extra_keys: int = 0
    first_extra_line: int | None = None


def _scan_path(path: StrPath, start: int, end: int | None, options: _Options) -> _Part:
    """Validate the lines in bytes ``start:end`` of the file at ``path`` (what a worker process runs)."""
    with open_regular(path) as file:
        return _scan(file, start, end, options)


def _scan(
    file: IO[bytes], start: int, end: int | None, options: _Options, cancel: threading.Event | None = None
) -> _Part:
    """Validate the lines in bytes ``start:end`` of ``file``: the hot loop."""
    part = _Part(stats=options.builder())
    max_errors = options.max_errors
    add_many = part.stats.add_many
    add_measured = part.stats.add_measured
    loads = orjson.loads
    measure = fast_measure
    decode_error = orjson.JSONDecodeError
    size = CHUNK_LINES
    lineno = 0
    blocks = iter_blocks(file, start, end, max_line=options.max_line, cancel=cancel)
    for lines, last in blocks:
        if last is not None:
            lines = [last]  # noqa: PLW2901 (the unfinished last line)
        block_end = lineno + len(lines)
        for at in range(0, len(lines), size):
            if cancel is not None and cancel.is_set():  # a slow chunk (exact tokens) must not hold it
                raise ValidationCancelledError("validation was cancelled")
            chunk = lines[at : at + size]
            try:
                objs = list(map(loads, chunk))
            except decode_error:
                objs = []
            found = list(map(measure, objs)) if objs else [None]
            if None in found:
                lineno = _one_by_one(part, chunk, lineno, max_errors)
                if len(part.errors) >= max_errors:
                    part.stopped = lineno < block_end or next(blocks, None) is not None
                    break
                continue
            columns = tuple(zip(*found, strict=True))
            messages, system, chars, wide, extra, digits = columns[:6]
            add_many(messages, system, chars, wide, lineno + 1, digits=digits)
            add_measured(objs, chunk, columns, lineno + 1)
            if True in extra:
                part.extra_keys += extra.count(True)
                if part.first_extra_line is None:
                    part.first_extra_line = lineno + 1 + extra.index(True)
            lineno += len(chunk)
        if part.stopped:
            break
    part.lines = lineno
    part.nonblank = part.stats.examples > 0 or any(e[1] != "blank_line" for e in part.errors)
    return part


def _one_by_one(part: _Part, lines: list[bytes], lineno: int, max_errors: int) -> int:
    """Check ``lines`` (after line ``lineno``) one at a time, explaining the bad ones, until ``max_errors``;
    return the number of the last line checked."""
    for line in lines:
        lineno += 1
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            obj = None
        found_ok = fast_measure(obj)
        if found_ok is not None:
            n, system, chars, wide, extra_keys, digits = found_ok[:6]
            part.stats.add(n, system, chars, wide, lineno, digits=digits)
            part.stats.add_measured((obj,), (line,), tuple(zip(found_ok)), lineno)
            if extra_keys:
                part.extra_keys += 1
                if part.first_extra_line is None:
                    part.first_extra_line = lineno
            continue
        found = explain_line(line)
        if found is None:  # the fast path was stricter than the models: trust the models
            continue
        code, index, message = found
        part.errors.append((lineno, code, index, message))
        if len(part.errors) >= max_errors:
            break
    return lineno


def _split_points(path: StrPath, size: int, parts: int) -> list[int]:
    """Offsets that cut the file into ``parts`` ranges of about equal size, each starting a line."""
    points = [0]
    with open(path, "rb") as file:
        for k in range(1, parts):
            file.seek(max(points[-1], size * k // parts))
            points.append(_after_next_newline(file))
    points.append(size)
    return sorted(set(points))


def _after_next_newline(file: IO[bytes]) -> int:
    """Move past the next newline (or to the end) reading a block at a time, not a whole line."""
    while True:
        at = file.tell()
        block = file.read(1 << 16)
        cut = block.find(b"\n")
        if cut >= 0 or not block:
            return at + (cut + 1 if cut >= 0 else len(block))


def _auto_workers(size: int) -> int:
    """Processes for ``workers="auto"``: one per core (at most 4) for a file of ``AUTO_MIN_BYTES`` or
    more, when they can be forked; else one.

    Forking is safe only while no other thread runs (a thread holding a lock would leave it locked in
    the child); the other start methods re-run the caller's main module in every worker, which a
    library must never do uninvited. So in a threaded program "auto" validates in-process.
    """
    if size < AUTO_MIN_BYTES or not _can_fork():
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _process_context() -> multiprocessing.context.BaseContext:
    # Asked for explicitly: fork when it is safe, else a fork server (which, like spawn, imports the
    # caller's main module in the workers: scripts need the usual `if __name__ == "__main__":` guard).
    if _can_fork():
        return multiprocessing.get_context("fork")
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _scan_in_processes(
    path: StrPath, size: int, count: int, options: _Options, cancel: threading.Event | None
) -> list[_Part]:
    points = _split_points(path, size, count)
    ranges = list(itertools.pairwise(points))
    try:
        pool = ProcessPoolExecutor(len(ranges), mp_context=_process_context())
    except (OSError, RuntimeError):
        return _scan_here(path, options, cancel)
    try:
        futures = [pool.submit(_scan_path, path, a, b, options) for a, b in ranges]
        while not all(f.done() for f in futures):
            concurrent.futures.wait(futures, timeout=0.05)
            if cancel is not None and cancel.is_set():
                raise ValidationCancelledError("validation was cancelled")
        return _cut_at_max_errors(path, ranges, [f.result() for f in futures], options)
    except (BrokenProcessPool, OSError, RuntimeError):
        # Workers could not start or died (no /dev/shm, a memory limit, an unguarded main module):
        # the report must not depend on that, so validate here instead.
        return _scan_here(path, options, cancel)
    finally:
        pool.shutdown(wait=cancel is None or not cancel.is_set(), cancel_futures=True)


def _cut_at_max_errors(
    path: StrPath, ranges: list[tuple[int, int]], parts: list[_Part], options: _Options
) -> list[_Part]:
    """The parts one process would have read: up to the part where ``max_errors`` is reached, that one
    scanned again to stop at its last error kept (each worker read on to its own budget, and the lines
    after the cut must not count in the stats)."""
    room = options.max_errors
    for k, part in enumerate(parts):
        if len(part.errors) >= room:
            if room < options.max_errors:
                parts[k] = _scan_path(path, *ranges[k], replace(options, max_errors=room))
            return parts[: k + 1]
        room -= len(part.errors)
    return parts


def _scan_here(path: StrPath, options: _Options, cancel: threading.Event | None) -> list[_Part]:
    with open_regular(path) as file:
        return [_scan(file, 0, None, options, cancel)]


Source = StrPath | bytes | bytearray | memoryview | IO[bytes]
"""What :meth:`Dataset.validate_file` reads: a path, the bytes of a file, or a binary file object."""


class ValidateOptions(TypedDict, total=False):
    """The keyword arguments of :meth:`Dataset.validate_file` (and :meth:`Dataset.avalidate_file`)."""

    max_errors: int
    max_tokens: int
    filename: str | None
    workers: int | Literal["auto"]
    tokens: Literal["estimate", "exact"]
    n_epochs: int
    max_line_bytes: int
    duplicates: bool
    all_issues: bool


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
    if workers != "auto" and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be 'auto' or a whole number >= 1, got {workers!r}")
    if tokens not in ("estimate", "exact"):
        raise ValueError(f"tokens must be 'estimate' or 'exact', got {tokens!r}")
    if isinstance(n_epochs, bool) or not isinstance(n_epochs, int) or n_epochs < 1:
        raise ValueError(f"n_epochs must be a whole number >= 1, got {n_epochs!r}")
    if max_line_bytes < 1:
        raise ValueError(f"max_line_bytes must be at least 1, got {max_line_bytes}")
    if tokens == "exact":
        load_encoding()  # a missing extra is an ImportError now, not in a worker process
    options = _Options(max_errors, max_tokens, max_line_bytes, tokens == "exact", n_epochs, duplicates)
    if isinstance(source, str | os.PathLike):
        with open_regular(source) as file:  # refuses a folder, FIFO or device before reading a byte
            size = os.fstat(file.fileno()).st_size
            name = os.fspath(source) if filename is None else filename
            count = _auto_workers(size) if workers == "auto" else workers
            count = min(count, max(1, size // MIN_BYTES_PER_WORKER))
            if _refused(name, options) is not None or count == 1:
                return _validate_stream(file, name, options, cancel, size > 0)
        return _validate_parts(
            name, lambda budget: _scan_in_processes(source, size, count, budget, cancel), options
        )
    stream = io.BytesIO(source) if isinstance(source, bytes | bytearray | memoryview) else source
    if filename is None:
        given = getattr(stream, "name", None)
        filename = given if isinstance(given, str) else None
    return _validate_stream(stream, filename, options, cancel, True)


def _refused(name: str | None, options: _Options) -> list[ValidationIssue] | None:
    """The file-level errors when they leave no room for more, else ``None``."""
    errors = _file_errors(name)
    return errors if len(errors) >= options.max_errors else None


def _file_errors(name: str | None) -> list[ValidationIssue]:
    return [] if name is None or name.endswith(".jsonl") else [file_issue("wrong_extension")]


def _validate_stream(
    file: IO[bytes], name: str | None, options: _Options, cancel: threading.Event | None, has_bytes: bool
) -> ValidationReport:
    refused = _refused(name, options)
    if refused is not None:
        return ValidationReport(path=name or "<stream>", errors=refused, truncated=has_bytes)
    return _validate_parts(name, lambda budget: [_scan(file, 0, None, budget, cancel)], options)


def _validate_parts(
    name: str | None, scan: Callable[[_Options], list[_Part]], options: _Options
) -> ValidationReport:
    errors = _file_errors(name)
    budget = replace(options, max_errors=options.max_errors - len(errors))
    return _report(name or "<stream>", errors, scan(budget), options)


def _report(
    path: str, errors: list[ValidationIssue], parts: list[_Part], options: _Options
) -> ValidationReport:
    """Join the parts of a scan, in file order, into one report."""
    max_errors = options.max_errors
    stats = options.builder()
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
    warnings = _warnings(stats, extra, first_extra)
    return ValidationReport(
        path=path,
        errors=errors,
        warnings=warnings,
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
    if stats.duplicates is not None:
        warnings.extend(duplicate_warnings(stats.duplicates))
    warnings.extend(token_warnings(stats))
    return warnings
