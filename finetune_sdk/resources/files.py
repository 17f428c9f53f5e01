"""``client.files``: upload training data, list, retrieve and delete uploaded files.

An upload is checked locally first (a bad file raises :class:`~finetune_sdk.DatasetValidationError`
before a byte is sent), then streamed from disk in small chunks, so memory stays flat for any size.
"""

# pyright: reportUnnecessaryIsInstance=false, reportUnnecessaryComparison=false
from __future__ import annotations

import contextlib
import inspect
import io
import math
import os
import tempfile
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from pathlib import Path
from typing import Any, Union

import anyio
import anyio.to_thread
from typing_extensions import Unpack

from .._options import PostOptions, RequestOptions, apply_options
from .._resource import AsyncAPIResource, SyncAPIResource
from .._response import async_raw_method, raw_method
from .._wire import RequestSpec, resource_id
from ..dataset import Dataset
from ..errors import NotFoundError
from ..pagination import AsyncPaginator, PageQuery, SyncCursorPage
from ..types import FileDeleted, FileObject

__all__ = [
    "AsyncFiles",
    "AsyncProgressCallback",
    "FileInput",
    "FileRef",
    "Files",
    "ProgressCallback",
    "check_upload",
]

#: What ``upload`` takes: a path to a ``.jsonl`` file, or a :class:`~finetune_sdk.Dataset`.
FileInput = Union[str, "os.PathLike[str]", Dataset]
#: Called as ``on_progress(bytes_sent, total_bytes)`` while an upload goes out.
ProgressCallback = Callable[[int, int], None]
#: On the async client ``on_progress`` may also be a coroutine function; it is awaited on the loop.
AsyncProgressCallback = Callable[[int, int], Awaitable[None] | None]


class _ProgressReader(io.BufferedReader):
    """A file that reports how far it has been read. A seek (a retry rewinding) resets the count."""

    def __init__(self, path: Path, on_progress: ProgressCallback | None) -> None:
        super().__init__(io.FileIO(path, "rb"))
        self._total = os.fstat(self.fileno()).st_size
        self._on_progress = on_progress

    def read(self, size: int | None = -1, /) -> bytes:
        data = super().read(size)
        if self._on_progress is not None and data:
            self._on_progress(self.tell(), self._total)
        return data


@contextlib.contextmanager
def _upload_source(
    file: FileInput, *, validate: bool, on_progress: ProgressCallback | None
) -> Generator[tuple[str, _ProgressReader], None, None]:
    """The (filename, open file) to send; a Dataset is written to a temporary ``.jsonl`` first."""
    with contextlib.ExitStack() as stack:
        if isinstance(file, Dataset):
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="finetune-sdk-")))
            path = folder / "dataset.jsonl"
            file.to_jsonl(path)  # a Dataset was validated when it was built
        else:
            if validate:
                check_upload(file)
            path = Path(file)
            if not path.is_file():
                raise FileNotFoundError(f"No such file to upload: {str(path)!r}")
        yield path.name, stack.enter_context(_ProgressReader(path, on_progress))


def check_upload(file: FileInput) -> None:
    """Raise what an upload of ``file`` would fail on locally: a missing path, a folder, bad data."""
    if isinstance(file, Dataset):
        return  # a Dataset was validated when it was built
    if not isinstance(file, (str, os.PathLike)):
        raise TypeError(f"upload takes a path or a Dataset, got {type(file).__name__}")
    path = Path(file)
    if path.is_dir():
        raise IsADirectoryError(f"{os.fspath(path)!r} is a folder, not a .jsonl file")
    if not path.is_file():
        raise FileNotFoundError(f"No such file to upload: {os.fspath(path)!r}")
    Dataset.validate_file(path, workers=1).raise_for_errors()


def _upload_spec(
    filename: str, reader: _ProgressReader, purpose: str, idempotency_key: str | None
) -> RequestSpec:
    def fields() -> dict[str, Any]:
        reader.seek(0)  # every attempt sends the file from its first byte
        return {"file": (filename, reader, "application/jsonl")}

    return RequestSpec(
        "POST",
        "files",
        files=fields,
        data={"purpose": purpose},
        idempotency_key=idempotency_key,
    )


def _list_query(purpose: str | None, limit: int | None, options: RequestOptions) -> PageQuery[FileObject]:
    return PageQuery("files", FileObject, limit, {"purpose": purpose}, options)


#: A file, or its id.
FileRef = Union[FileObject, str]  # noqa: UP007 - a runtime alias, valid on 3.10


def _file_path(file: FileRef) -> str:
    return f"files/{resource_id(file.id if isinstance(file, FileObject) else file, 'file')}"


def _deleted_by_an_earlier_attempt(exc: NotFoundError, path: str) -> FileDeleted:
    # A DELETE whose first attempt went through but whose answer was lost meets 404 on its retry.
    if exc.attempts > 1:
        return FileDeleted(id=path.rpartition("/")[2], deleted=True)
    raise exc


class Files(SyncAPIResource):
    """Uploaded files: ``client.files``."""

    def upload(
        self,
        file: FileInput,
        *,
        purpose: str = "fine-tune",
        validate: bool = True,
        on_progress: ProgressCallback | None = None,
        **options: Unpack[PostOptions],
    ) -> FileObject:
        """Upload a ``.jsonl`` file (a path) or a :class:`~finetune_sdk.Dataset`.

        A path is validated first unless ``validate=False``; a bad file raises
        :class:`~finetune_sdk.DatasetValidationError` with its line-numbered report and nothing is sent.
        ``on_progress(sent, total)`` is called as bytes go out. A retried upload starts again from the
        first byte with the same idempotency key, so at most one file is created.
        """
        with _upload_source(file, validate=validate, on_progress=on_progress) as (name, reader):
            spec = apply_options(_upload_spec(name, reader, purpose, None), options, post=True)
            return self._client.request(spec, FileObject)

    def list(
        self,
        *,
        purpose: str | None = None,
        limit: int | None = None,
        after: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> SyncCursorPage[FileObject]:
        """Uploaded files (optionally only those of one ``purpose``), ``limit`` per page (at most 100)
        from after the file id ``after``; iterate the page for every file."""
        return self._client.get_page(_list_query(purpose, limit, options), after=after)

    def retrieve(self, file_id: FileRef, **options: Unpack[RequestOptions]) -> FileObject:
        """One file by id; :class:`~finetune_sdk.NotFoundError` if there is none."""
        spec = apply_options(RequestSpec("GET", _file_path(file_id)), options)
        return self._client.request(spec, FileObject)

    def delete(self, file_id: FileRef, **options: Unpack[RequestOptions]) -> FileDeleted:
        """Delete a file (a ``FileObject`` or its id).

        When an attempt deleted the file but its answer was lost, the retry's 404 counts as deleted.
        """
        path = _file_path(file_id)
        try:
            return self._client.request(apply_options(RequestSpec("DELETE", path), options), FileDeleted)
        except NotFoundError as exc:
            return _deleted_by_an_earlier_attempt(exc, path)

    @property
    def with_raw_response(self) -> FilesWithRawResponse:
        """The same methods, returning an :class:`~finetune_sdk.APIResponse` (status, headers ...)."""
        return FilesWithRawResponse(self)


class AsyncFiles(AsyncAPIResource):
    """Uploaded files: ``async_client.files``. The same methods as :class:`Files`, awaited.

    The file is read from disk in small blocking chunks, as httpx does for multipart bodies.
    """

    async def upload(
        self,
        file: FileInput,
        *,
        purpose: str = "fine-tune",
        validate: bool = True,
        on_progress: AsyncProgressCallback | None = None,
        **options: Unpack[PostOptions],
    ) -> FileObject:
        """Upload a ``.jsonl`` file (a path) or a :class:`~finetune_sdk.Dataset`; see :meth:`Files.upload`.
        ``on_progress`` may be a plain function or a coroutine function."""
        if validate and not isinstance(file, Dataset):
            # Validation reads the whole file: keep it off the event loop.
            await anyio.to_thread.run_sync(check_upload, file)
        async with _progress_relay(on_progress) as relay:
            with _upload_source(file, validate=False, on_progress=relay) as (name, reader):
                spec = apply_options(_upload_spec(name, reader, purpose, None), options, post=True)
                return await self._client.request(spec, FileObject)

    def list(
        self,
        *,
        purpose: str | None = None,
        limit: int | None = None,
        after: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[FileObject]:
        """Uploaded files; ``await`` for the first page, ``async for`` for all. See :meth:`Files.list`."""
        query = _list_query(purpose, limit, options)
        return AsyncPaginator(lambda: self._client.get_page(query, after=after))

    async def retrieve(self, file_id: FileRef, **options: Unpack[RequestOptions]) -> FileObject:
        """One file by id; :class:`~finetune_sdk.NotFoundError` if there is none."""
        spec = apply_options(RequestSpec("GET", _file_path(file_id)), options)
        return await self._client.request(spec, FileObject)

    async def delete(self, file_id: FileRef, **options: Unpack[RequestOptions]) -> FileDeleted:
        """Delete a file (a ``FileObject`` or its id); see :meth:`Files.delete`."""
        path = _file_path(file_id)
        try:
            spec = apply_options(RequestSpec("DELETE", path), options)
            return await self._client.request(spec, FileDeleted)
        except NotFoundError as exc:
            return _deleted_by_an_earlier_attempt(exc, path)

    @property
    def with_raw_response(self) -> AsyncFilesWithRawResponse:
        """The same methods, returning an :class:`~finetune_sdk.APIResponse` (status, headers ...)."""
        return AsyncFilesWithRawResponse(self)


@contextlib.asynccontextmanager
async def _progress_relay(
    callback: AsyncProgressCallback | None,
) -> AsyncGenerator[ProgressCallback | None, None]:
    """A plain callback for the reader; an async ``callback`` is awaited by a task, in order."""
    if callback is None:
        yield None
        return
    send, receive = anyio.create_memory_object_stream[tuple[int, int]](max_buffer_size=math.inf)

    async def relay() -> None:
        async with receive:
            async for sent, total in receive:
                result = callback(sent, total)
                if inspect.isawaitable(result):
                    await result

    async with anyio.create_task_group() as group:
        group.start_soon(relay)
        with send:
            yield lambda sent, total: send.send_nowait((sent, total))


class FilesWithRawResponse:
    """The methods of :class:`Files`, each returning an :class:`~finetune_sdk.APIResponse`."""

    def __init__(self, resource: Files) -> None:
        self._resource = resource

    @raw_method(Files.upload)
    def upload(self) -> None:
        """:meth:`Files.upload`, with its raw response."""

    @raw_method(Files.list)
    def list(self) -> None:
        """:meth:`Files.list`, with its raw response."""

    @raw_method(Files.retrieve)
    def retrieve(self) -> None:
        """:meth:`Files.retrieve`, with its raw response."""

    @raw_method(Files.delete)
    def delete(self) -> None:
        """:meth:`Files.delete`, with its raw response."""


class AsyncFilesWithRawResponse:
    """The methods of :class:`AsyncFiles`, each returning an :class:`~finetune_sdk.APIResponse`."""

    def __init__(self, resource: AsyncFiles) -> None:
        self._resource = resource

    @async_raw_method(AsyncFiles.upload)
    def upload(self) -> None:
        """:meth:`AsyncFiles.upload`, with its raw response."""

    @async_raw_method(AsyncFiles.list)
    def list(self) -> None:
        """:meth:`AsyncFiles.list`, with its raw response."""

    @async_raw_method(AsyncFiles.retrieve)
    def retrieve(self) -> None:
        """:meth:`AsyncFiles.retrieve`, with its raw response."""

    @async_raw_method(AsyncFiles.delete)
    def delete(self) -> None:
        """:meth:`AsyncFiles.delete`, with its raw response."""
