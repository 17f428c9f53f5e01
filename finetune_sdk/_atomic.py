"""The one way the SDK and the CLI write a file: atomically, never over an input, nothing left behind.

Each output is written to a temporary file in the same folder (``.NAME.PID-RANDOM.part``), flushed to
disk, and renamed over ``NAME`` only when the whole write succeeded; several outputs written together
(a split's two files, a conversion and its rejects) are renamed together at the end. On any failure
(a full disk, an exception, Ctrl-C, a ``SIGTERM``) the temporary files are removed and the outputs are
as they were. A process killed outright (``SIGKILL``) cannot clean up: its temporary files are removed
by the next write to the same output, once no live process owns them.

Before anything is written, an output that is the same file as an input or as another output (through
a symbolic link, a hard link, or another spelling of the path) is refused with
:class:`~finetune_sdk.errors.OutputConflictError`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import threading
from collections.abc import Callable, Generator, Iterable, Sequence
from types import FrameType
from typing import IO, Any, TypeAlias

from .errors import OutputConflictError

__all__ = [
    "StrPath",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_writes",
    "check_outputs",
]

StrPath: TypeAlias = "str | os.PathLike[str]"

_SUFFIX = ".part"
#: The mode of a new output (``mkstemp`` would make it 0600); an output replaced keeps its own mode.
_NEW_FILE_MODE = 0o644
#: Signals that end a process by default and can be caught: while a write is under way (on the main
#: thread) they raise ``SystemExit`` instead, so the temporary files are removed on the way out.
_TERMINATING = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


def _same_file(a: StrPath, b: StrPath) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)  # hard links, and paths that realpath cannot tell apart
    except OSError:  # one of them does not exist (yet)
        return False


def check_outputs(outputs: Sequence[tuple[str, StrPath]], inputs: Sequence[tuple[str, StrPath]] = ()) -> None:
    """Refuse, before any work, an output that is one of ``inputs`` or the same file as another output.

    Each entry is ``(what, path)``, ``what`` naming it in the error (``"the output"``, ``"the rejects
    file"``, ``"the input"``).
    """
    for index, (what, path) in enumerate(outputs):
        for input_what, source in inputs:
            if _same_file(path, source):
                raise OutputConflictError(
                    f"{what} {os.fspath(path)} is {input_what} {os.fspath(source)}: writing it would "
                    "destroy what is being read; write it elsewhere",
                    path=os.fspath(path),
                )
        for other_what, other in outputs[index + 1 :]:
            if _same_file(path, other):
                raise OutputConflictError(
                    f"{what} and {other_what} are one file ({os.fspath(path)}): give each its own name",
                    path=os.fspath(path),
                )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # another user's process: not ours to judge
    return True


def _remove_stale(target: str) -> None:
    """Remove the temporary files of ``target`` left by processes that no longer run (killed outright)."""
    folder, name = os.path.split(target)
    prefix = f".{name}."
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if not (entry.name.startswith(prefix) and entry.name.endswith(_SUFFIX)):
                continue
            owner = entry.name[len(prefix) : -len(_SUFFIX)].partition("-")[0]
            if owner.isdigit() and int(owner) != os.getpid() and not _pid_alive(int(owner)):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _temporary(target: str) -> tuple[IO[bytes], str]:
    folder, name = os.path.split(target)
    if not os.path.isdir(folder):
        raise FileNotFoundError(2, "No such folder for the output", folder)
    if os.path.isdir(target):
        raise IsADirectoryError(21, "The output is a folder", target)
    _remove_stale(target)
    path = os.path.join(folder, f".{name}.{os.getpid()}-{secrets.token_hex(4)}{_SUFFIX}")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        # Name the output asked for, not the hidden temporary file next to it.
        raise type(exc)(exc.errno, f"{exc.strerror} (writing the output in its folder)", target) from None
    return os.fdopen(fd, "wb", buffering=1 << 20), path


@contextlib.contextmanager
def _signals_as_exit() -> Generator[None, None, None]:
    """On the main thread, make the terminating signals whose handler is the default raise
    ``SystemExit(128 + signal)`` for the block, so that cleanup runs; other handlers are left alone."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Callable[[int, FrameType | None], Any] | int | signal.Handlers | None] = {}

    def exit_on(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    for signum in _TERMINATING:
        if signal.getsignal(signum) is signal.SIG_DFL:
            previous[signum] = signal.signal(signum, exit_on)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def atomic_writes(
    paths: Sequence[StrPath], *, inputs: Iterable[StrPath] = ()
) -> Generator[list[IO[bytes]], None, None]:
    """Binary files for ``paths``, all renamed into place when the block ends without an error, and all
    removed when it raises (``KeyboardInterrupt`` and ``SystemExit`` included). An output that is one of
    ``inputs`` or another output is refused first (:class:`~finetune_sdk.errors.OutputConflictError`)."""
    targets = [os.path.abspath(p) for p in paths]
    check_outputs([("the output", t) for t in targets], [("the input", i) for i in inputs])
    opened: list[tuple[IO[bytes], str]] = []
    with _signals_as_exit():
        try:
            for target in targets:
                opened.append(_temporary(target))
            yield [file for file, _ in opened]
            for file, _ in opened:
                file.flush()
                os.fsync(file.fileno())
                file.close()
            for (_, temporary), target in zip(opened, targets, strict=True):
                mode = os.stat(target).st_mode & 0o777 if os.path.exists(target) else _NEW_FILE_MODE
                os.chmod(temporary, mode)
            for (_, temporary), target in zip(opened, targets, strict=True):
                os.replace(temporary, target)
        except BaseException:
            for file, temporary in opened:
                with contextlib.suppress(OSError):
                    file.close()
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
            raise


@contextlib.contextmanager
def atomic_write(path: StrPath, *, inputs: Iterable[StrPath] = ()) -> Generator[IO[bytes], None, None]:
    """One binary file written atomically; see :func:`atomic_writes`."""
    with atomic_writes([path], inputs=inputs) as (file,):
        yield file


def atomic_write_bytes(path: StrPath, data: bytes, *, inputs: Iterable[StrPath] = ()) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path, inputs=inputs) as file:
        file.write(data)


def atomic_write_text(path: StrPath, text: str, *, inputs: Iterable[StrPath] = ()) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"), inputs=inputs)
