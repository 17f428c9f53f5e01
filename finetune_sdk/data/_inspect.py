"""What :func:`validate_file` runs: the streaming validator, then, for a file on disk, what the
converter's detection adds. It sits above both, since the converter checks its output with the validator.
"""

from __future__ import annotations

import os
import threading
from typing import Literal

from typing_extensions import TypeIs

from ._lines import MAX_LINE_BYTES
from ._schema import ValidationIssue, ValidationReport
from ._stats import DEFAULT_MAX_TOKENS, DatasetStats
from ._threads import in_a_thread
from ._tokens import DEFAULT_EPOCHS
from ._validate import Source, validate_source
from .convert._describe import describe
from .convert._detect import shape_issue
from .convert._open import shape_of, sniff

__all__ = ["avalidate_file", "validate_file"]


def validate_file(
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
    all_issues: bool = False,
    cancel: threading.Event | None = None,
) -> ValidationReport:
    """Check a ``.jsonl`` file line by line against the platform's rules, streaming it (also
    ``Dataset.validate_file``).

    ``source`` is a path, the bytes of a file, or a binary file object (read from where it stands, in
    blocks: memory stays flat). Never raises for the content: every problem is in the returned
    :class:`ValidationReport`; only I/O errors raise, among them ``FileNotFoundError`` and
    :class:`~finetune_sdk.NotARegularFileError` for a folder, a FIFO or a device (refused before a
    byte is read). Stops after ``max_errors`` errors (``report.truncated``). A line longer than
    ``max_line_bytes`` (16 MiB) is reported as ``line_too_long`` without being held in memory.

    ``max_tokens`` is the limit for the "would be truncated" warning. ``filename`` is the name the
    report shows and whose extension is checked (default: the path, or a file object's ``name``;
    bytes without a name skip the extension check). ``tokens="exact"`` adds exact Qwen2.5 counts
    (``report.stats.exact``, the ``tokens`` extra) and bases the warning on them; ``n_epochs`` is for
    their billed total. ``duplicates=False`` skips counting duplicate examples and prompts (their
    stats are then ``None``): about twice as fast on long lines, for a check that only needs errors.

    ``workers`` splits a large file over that many processes. The default ``"auto"`` uses one per
    core (at most 4) for files of 128 MiB and more when they can be forked safely (no other thread
    running), and validates in-process otherwise; ``workers=1`` never starts a process. An explicit
    ``workers > 1`` in a threaded program starts its workers from a fork server, which imports the
    main module: guard scripts with ``if __name__ == "__main__":``. Workers that cannot start fall
    back to one process; the report is the same either way. Bytes and file objects use one process.

    For a path, a file that is clearly another format gets a file-level ``json_array``,
    ``looks_like_sharegpt``, ``looks_like_alpaca`` or ``csv_file`` error naming the ``finetune
    convert`` command to run; ``all_issues=True`` lists every rule a bad line breaks, not only the
    first (``max_errors`` then counts the first issue of each line); the keys ``weight`` and a
    top-level ``system`` get warnings saying what ignoring them loses. ``cancel``, a
    ``threading.Event`` set from another thread, stops the work before its next 64 lines
    (:class:`~finetune_sdk.data.ValidationCancelledError`).
    """
    if _is_path(source):
        shown = filename if filename is not None else os.fspath(source)
        found = shape_issue(shape_of(source), shown)
        if found is not None:  # binary: its "lines" would say nothing
            return _foreign(found, shown)
    elif isinstance(source, bytes | bytearray | memoryview):  # the bytes of an upload, say
        shown = filename or "<stream>"
        found = shape_issue(sniff(bytes(memoryview(source)[:16]), shown), shown)
        if found is not None:
            return _foreign(found, shown)
    report = validate_source(
        source,
        max_errors=max_errors,
        max_tokens=max_tokens,
        filename=filename,
        workers=workers,
        tokens=tokens,
        n_epochs=n_epochs,
        max_line_bytes=max_line_bytes,
        duplicates=duplicates,
        cancel=cancel,
    )
    if not _is_path(source):
        return report
    return describe(report, source, all_issues=all_issues, max_line_bytes=max_line_bytes)


#: :func:`validate_file` in a worker thread, for asyncio and trio alike; the same arguments. Cancelling
#: the awaiting task returns at once and stops the thread before its next 64 lines (milliseconds; a block
#: of exact token counting included); a file object passed in is then left part-read.
avalidate_file = in_a_thread(validate_file)


def _foreign(found: tuple[str, str], name: str) -> ValidationReport:
    """The report of a binary file: what it is and how to convert it, its bytes not read as lines."""
    code, message = found
    errors = [ValidationIssue(line=None, code=code, message=message)]
    return ValidationReport(
        path=name, errors=errors, stats=DatasetStats(duplicate_examples=None, duplicate_prompts=None)
    )


def _is_path(source: Source) -> TypeIs[str | os.PathLike[str]]:
    return isinstance(source, str | os.PathLike)
