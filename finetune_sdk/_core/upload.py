"""What ``files.upload`` sends: any input made into a named body that every attempt reads from its start.

An upload takes a path, a :class:`~finetune_sdk.Dataset`, bytes, a binary file object (``io.BytesIO``,
an open file, a pipe) or a ``(filename, content)`` pair. :func:`open_source` turns each into a
:class:`Source`: the filename to send, the name reports show, and a :class:`Body` that reads the data in
blocks and rewinds for a retry. A stream that cannot seek is first copied to a temporary file, so that a
retry can send it again. :func:`validate_source` is the one place where an upload is checked locally.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import logging
import os
import tempfile
from collections.abc import Callable, Generator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Union, cast

from ..errors import APIResponseValidationError, APIStatusError
from ..types import FileObject, Page
from .checks import is_dataset, is_str
from .flow import Call, Flow, call, send
from .ids import path_segment
from .options import PostOptions, apply_options
from .wire import RequestSpec, parse_model

if TYPE_CHECKING:
    from ..data import Dataset, ValidationReport

__all__ = [
    "DEFAULT_FILENAME",
    "Body",
    "FileContent",
    "ProgressCallback",
    "Source",
    "UploadInput",
    "avalidate_source",
    "check_upload",
    "open_source",
    "upload_or_reuse_flow",
    "upload_spec",
    "validate_source",
]

#: Bytes, or a binary file object (``io.BytesIO``, an open file, a pipe ...).
FileContent = Union[bytes, bytearray, memoryview, IO[bytes]]  # noqa: UP007 - valid on 3.10
_Content = Union[str, "os.PathLike[str]", "Dataset", FileContent]
#: What ``upload`` takes: a path, a :class:`~finetune_sdk.Dataset`, bytes or a binary file object, or a
#: ``(filename, bytes_or_file)`` pair.
UploadInput = Union[_Content, tuple[str, FileContent]]  # noqa: UP007
#: Called as ``on_progress(bytes_sent, total_bytes)`` while an upload goes out.
ProgressCallback = Callable[[int, int], None]

#: The name sent for bytes or an unnamed stream when no ``filename`` is given.
DEFAULT_FILENAME = "upload.jsonl"
#: A Dataset's name when no ``filename`` is given.
DATASET_FILENAME = "dataset.jsonl"
_BLOCK = 1024 * 1024
logger = logging.getLogger("finetune_sdk")


class Body:
    """The part of a binary stream from where it stood when given to its end, read as a file of its own.

    ``seek(0)`` goes back to that start (a retry sends the same bytes again); ``on_progress(sent, total)``
    is called after each read. It has no ``fileno()``, so httpx measures it by seeking, not by the size
    of the whole file under it.
    """

    def __init__(self, file: IO[bytes], on_progress: ProgressCallback | None = None) -> None:
        self._file = file
        self._start = file.tell()
        self.size = file.seek(0, os.SEEK_END) - self._start
        file.seek(self._start)
        self._pos = 0
        self._on_progress = on_progress

    def read(self, size: int | None = -1, /) -> bytes:
        left = self.size - self._pos
        data = _binary(self._file.read(left if size is None or size < 0 else min(size, left)))
        self._pos += len(data)
        if self._on_progress is not None and data:
            self._on_progress(self._pos, self.size)
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET, /) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        self._file.seek(self._start + self._pos)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def silent(self) -> Body:
        """The same bytes from the first, read without reporting progress (for a local check)."""
        self.seek(0)
        return Body(self._file)


def _binary(data: object) -> bytes:
    if not isinstance(data, bytes):
        raise TypeError("upload needs bytes or a file opened in binary mode ('rb'), not text")
    return data


@dataclasses.dataclass(frozen=True)
class Source:
    """One upload, opened: ``filename`` is sent, ``shown_as`` names it in reports and errors, ``body``
    holds the bytes; ``path`` is a file on disk holding exactly those bytes, when there is one."""

    filename: str
    shown_as: str
    body: Body
    path: Path | None = None
    checked: bool = False
    """True for a Dataset: it was validated when it was built."""


def _seekable(file: IO[bytes]) -> bool:
    try:
        return bool(file.seekable()) and file.tell() >= 0
    except (AttributeError, OSError, ValueError):
        return False


def _stream_name(file: object) -> str | None:
    name = getattr(file, "name", None)
    return name if isinstance(name, str) and name and not name.startswith("<") else None


def _unpack(file: UploadInput, filename: str | None) -> tuple[_Content, str | None]:
    """A ``(filename, content)`` pair taken apart; its name and ``filename=`` may not disagree."""
    if not isinstance(file, tuple):
        return file, filename
    pair: tuple[object, ...] = file
    if len(pair) != 2 or not is_str(pair[0]):
        raise TypeError("a tuple to upload is (filename, bytes_or_binary_file)")
    name, content = file
    if filename is not None and filename != name:
        raise ValueError(f"two names for one upload: {name!r} in the tuple and filename={filename!r}")
    if isinstance(content, (str, os.PathLike, tuple)) or is_dataset(content):
        raise TypeError("the content of a (filename, content) pair is bytes or a binary file object")
    return content, name


@contextlib.contextmanager
def open_source(
    file: UploadInput, *, filename: str | None = None, on_progress: ProgressCallback | None = None
) -> Generator[Source, None, None]:
    """``file`` as a :class:`Source`, open for the ``with`` block; temporary copies are removed after it.

    A path must be a file (``FileNotFoundError``, ``IsADirectoryError``); text (``str`` content, a file in
    text mode) is a ``TypeError``; so is anything else that is not an upload.
    """
    content, filename = _unpack(file, filename)
    if filename is not None and (not is_str(filename) or not filename.strip()):
        raise ValueError(f"filename must be a non-empty string, got {filename!r}")
    with contextlib.ExitStack() as stack:

        def scratch() -> Path:
            return Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="finetune-sdk-")))

        def body(stream: IO[bytes]) -> Body:
            return Body(stack.enter_context(contextlib.closing(stream)), on_progress)

        if is_dataset(content):
            name = _dataset_filename(filename)
            path = scratch() / "dataset.jsonl"
            content.to_jsonl(path)
            yield Source(name, name, body(path.open("rb")), path, checked=True)
        elif isinstance(content, (str, os.PathLike)):
            path = _existing_file(content)
            yield Source(filename or path.name, os.fspath(path), body(path.open("rb")), path)
        elif isinstance(content, (bytes, bytearray, memoryview)):
            name = filename or DEFAULT_FILENAME
            yield Source(name, name, body(io.BytesIO(content)))
        elif isinstance(content, io.TextIOBase):
            raise TypeError("upload needs a file opened in binary mode ('rb'), not text mode")
        elif callable(getattr(content, "read", None)):
            given = _stream_name(content)
            name = filename or (Path(given).name if given else DEFAULT_FILENAME)
            shown = filename or given or name
            if _seekable(content):
                # The caller's stream: rewound for each attempt, and left open.
                yield Source(name, shown, Body(content, on_progress))
            else:
                path = _spool(content, scratch() / "upload")
                yield Source(name, shown, body(path.open("rb")), path)
        else:
            raise TypeError(
                "upload takes a path, a Dataset, bytes, a binary file object (opened with 'rb') or a "
                f"(filename, content) pair, got {type(content).__name__}"
            )


def _dataset_filename(filename: str | None) -> str:
    name = filename or DATASET_FILENAME
    if not name.endswith(".jsonl"):
        raise ValueError(f"a Dataset is sent as JSON Lines: its filename must end in .jsonl, not {name!r}")
    return name


def _existing_file(value: str | os.PathLike[str]) -> Path:
    path = Path(value)
    if path.is_dir():
        raise IsADirectoryError(f"{os.fspath(path)!r} is a folder, not a .jsonl file")
    if not path.is_file():
        raise FileNotFoundError(f"No such file to upload: {os.fspath(path)!r}")
    return path


def _spool(stream: IO[bytes], path: Path) -> Path:
    """Copy a stream that cannot seek to ``path`` in blocks, so that a retry can send it again."""
    with path.open("wb") as out:
        while block := stream.read(_BLOCK):
            out.write(_binary(block))
    return path


def _validation_target(source: Source) -> tuple[Path | IO[bytes], dict[str, Any]]:
    """What the validator reads for ``source`` (its file, or its body from the first byte), and how."""
    if source.path is not None:
        target: Path | IO[bytes] = source.path
    else:
        # The validator only calls read(n): a Body is file enough for it.
        target = cast("IO[bytes]", source.body.silent())
    # Duplicates are worth a warning in ``validate``, not a refusal of the upload: skip counting them.
    return target, {"filename": source.filename, "workers": 1, "duplicates": False}


def _raise_for(source: Source, report: ValidationReport) -> None:
    source.body.seek(0)
    report.model_copy(update={"path": source.shown_as}).raise_for_errors()


def validate_source(source: Source, *, max_errors: int = 100) -> None:
    """Raise :class:`~finetune_sdk.DatasetValidationError` when the source breaks a rule of the
    platform; its report, and the error's text, name the file as the caller gave it.

    A body held only in memory or in the caller's stream is validated as it is read, in blocks
    (memory stays flat); the body is rewound afterwards.
    """
    if source.checked:
        return
    from ..data import Dataset  # local data only: ``import finetune_sdk`` stays light

    target, options = _validation_target(source)
    _raise_for(source, Dataset.validate_file(target, max_errors=max_errors, **options))


async def avalidate_source(source: Source, *, max_errors: int = 100) -> None:
    """:func:`validate_source` off the event loop; cancelling the caller stops it within milliseconds."""
    if source.checked:
        return
    from ..data import Dataset

    target, options = _validation_target(source)
    _raise_for(source, await Dataset.avalidate_file(target, max_errors=max_errors, **options))


def check_upload(file: UploadInput, *, filename: str | None = None) -> None:
    """Raise what an upload of ``file`` would fail on locally: a missing path, a folder, bad data.

    A seekable stream is rewound afterwards; a stream that cannot seek is read to its end.
    """
    if is_dataset(file):
        _dataset_filename(filename)  # the data was validated when the Dataset was built
        return
    with open_source(file, filename=filename) as source:
        validate_source(source)


def upload_spec(source: Source, purpose: str, idempotency_key: str | None = None) -> RequestSpec:
    """The ``POST /files`` of ``source``: a multipart body built anew, from the first byte, per attempt."""

    def fields() -> dict[str, Any]:
        source.body.seek(0)
        return {"file": (source.filename, source.body, "application/jsonl")}

    return RequestSpec(
        "POST", "files", files=fields, data={"purpose": purpose}, idempotency_key=idempotency_key
    )


def _enter(stack: contextlib.ExitStack, opened: contextlib.AbstractContextManager[Source]) -> Source:
    return stack.enter_context(opened)


def _digest(source: Source) -> tuple[int, str]:
    """The size and SHA-256 of the bytes an upload would send (read from the first, rewound after)."""
    body, digest, size = source.body.silent(), hashlib.sha256(), 0
    while block := body.read(_BLOCK):
        digest.update(block)
        size += len(block)
    source.body.seek(0)
    return size, digest.hexdigest()


def _existing(source: Source, purpose: str, size: int, digest: str) -> Flow[FileObject | None]:
    """A file already on the server with the same name, the same size and the same bytes, if any (each
    candidate of the same name and size is downloaded and hashed; its size, known, bounds the download
    whatever the client's ``max_answer_bytes``). A server that cannot list or send a file back makes
    this None: the upload goes ahead."""
    after: str | None = None
    seen: set[str] = set()
    try:
        while True:
            params: dict[str, object] = {"purpose": purpose, "limit": 100}
            if after is not None:
                params["after"] = after
            answer = yield from send(RequestSpec("GET", "files", params=params))
            page = parse_model(Page[FileObject], answer.payload, response=answer.response)
            for found in page.data:
                if found.filename != source.filename or found.bytes != size or found.status == "error":
                    continue
                path = f"files/{path_segment(found.id)}/content"
                download = RequestSpec("GET", path, binary=True, max_answer_bytes=max(size, 1))
                content = yield from send(download)
                if hashlib.sha256(content.payload).hexdigest() == digest:
                    return found
            fresh = [f.id for f in page.data if f.id not in seen]
            if not page.has_more or not fresh:
                return None
            seen.update(fresh)
            after = fresh[-1]
    except (APIStatusError, APIResponseValidationError) as exc:
        logger.info("could not look for %s on the server (%s): uploading it", source.shown_as, exc)
        return None


def upload_or_reuse_flow(
    file: UploadInput,
    *,
    filename: str | None,
    purpose: str,
    validate: bool,
    on_progress: ProgressCallback | None,
    options: PostOptions,
    reuse: bool,
) -> Flow[tuple[FileObject, bool]]:
    """Open ``file``, validate it (unless told not to), and send it: the file object the platform made,
    and whether this call made it. With ``reuse``, a file already on the server with the same name and
    the same bytes is returned instead (and False), and nothing is sent.

    Opening (which may copy a one-way stream to a temporary file) and validating run off the event loop
    on the async client; validating is cancellable there.
    """
    apply_options(RequestSpec("POST", "files"), options, post=True)  # bad options fail before any request
    with contextlib.ExitStack() as stack:
        opened = open_source(file, filename=filename, on_progress=on_progress)
        source = yield from call(_enter, stack, opened, blocking=True)
        if validate:
            yield Call(validate_source, (source,), blocking=True, awaitable=avalidate_source)
        if reuse:
            size, digest = yield from call(_digest, source, blocking=True)
            found = yield from _existing(source, purpose, size, digest)
            if found is not None:
                logger.info(
                    "%s is on the server already, as %s: not uploaded again", source.shown_as, found.id
                )
                return found, False
        answer = yield from send(apply_options(upload_spec(source, purpose), options, post=True))
        return parse_model(FileObject, answer.payload, response=answer.response), True
