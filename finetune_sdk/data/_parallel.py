"""Validating a large file in several processes: where to cut it, how many workers, and how to start
them safely; the report is the same as one process's."""

from __future__ import annotations

import concurrent.futures
import itertools
import multiprocessing
import multiprocessing.context
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import IO

from ._lines import ValidationCancelledError, open_regular
from ._scan import Options, Part, fd_reader, scan, scan_path
from ._schema import StrPath

__all__ = ["AUTO_MIN_BYTES", "MIN_BYTES_PER_WORKER", "auto_workers", "can_fork", "scan_in_processes"]

#: With ``workers="auto"`` (the default), files from this size on are split over processes: below it,
#: starting the processes costs more than it saves.
AUTO_MIN_BYTES = 128 << 20

#: Files smaller than this are validated in one process whatever ``workers`` says.
MIN_BYTES_PER_WORKER = 16 << 20


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


def auto_workers(size: int) -> int:
    """Processes for ``workers="auto"``: one per core (at most 4) for a file of ``AUTO_MIN_BYTES`` or
    more, when they can be forked; else one.

    Forking is safe only while no other thread runs (a thread holding a lock would leave it locked in
    the child); the other start methods re-run the caller's main module in every worker, which a
    library must never do uninvited. So in a threaded program "auto" validates in-process.
    """
    if size < AUTO_MIN_BYTES or not can_fork():
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def process_context() -> multiprocessing.context.BaseContext:
    # Asked for explicitly: fork when it is safe, else a fork server (which, like spawn, imports the
    # caller's main module in the workers: scripts need the usual `if __name__ == "__main__":` guard).
    if can_fork():
        return multiprocessing.get_context("fork")
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def scan_in_processes(
    path: StrPath, size: int, count: int, options: Options, cancel: threading.Event | None
) -> list[Part]:
    """The parts of the file as ``count`` workers scan them (in-process when workers cannot start)."""
    points = _split_points(path, size, count)
    ranges = list(itertools.pairwise(points))
    try:
        context = process_context()
        pool = ProcessPoolExecutor(len(ranges), mp_context=context)
    except (OSError, RuntimeError):
        return scan_here(path, options, cancel)
    # Workers not forked from this process hash strings with another secret: keys that match anyway.
    budget = replace(options, portable=options.portable or context.get_start_method() != "fork")
    try:
        futures = [pool.submit(scan_path, path, a, b, budget) for a, b in ranges]
        while not all(f.done() for f in futures):
            concurrent.futures.wait(futures, timeout=0.05)
            if cancel is not None and cancel.is_set():
                raise ValidationCancelledError("validation was cancelled")
        return _cut_at_max_errors(path, ranges, [f.result() for f in futures], budget)
    except (BrokenProcessPool, OSError, RuntimeError):
        # Workers could not start or died (no /dev/shm, a memory limit, an unguarded main module):
        # the report must not depend on that, so validate here instead.
        return scan_here(path, options, cancel)
    finally:
        pool.shutdown(wait=cancel is None or not cancel.is_set(), cancel_futures=True)


def _cut_at_max_errors(
    path: StrPath, ranges: list[tuple[int, int]], parts: list[Part], options: Options
) -> list[Part]:
    """The parts one process would have read: up to the part where ``max_errors`` is reached, that one
    scanned again to stop at its last error kept (each worker read on to its own budget, and the lines
    after the cut must not count in the stats)."""
    room = options.max_errors
    for k, part in enumerate(parts):
        if len(part.errors) >= room:
            if room < options.max_errors:
                parts[k] = scan_path(path, *ranges[k], replace(options, max_errors=room))
            return parts[: k + 1]
        room -= len(part.errors)
    return parts


def scan_here(path: StrPath, options: Options, cancel: threading.Event | None) -> list[Part]:
    with open_regular(path) as file:
        return [scan(file, 0, None, options, cancel=cancel, reader=fd_reader(file.fileno()))]
