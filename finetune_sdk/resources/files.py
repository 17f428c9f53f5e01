"""``client.files``: upload training data, list, retrieve, download and delete uploaded files.

An upload (a path, a Dataset, bytes or a binary file object) is checked locally first (a bad file raises
:class:`~finetune_sdk.DatasetValidationError` before a byte is sent), then streamed in small chunks, so
memory stays flat for any size. The steps of an upload are one flow (``_core.upload``) that both
clients drive.
"""

from __future__ import annotations

import contextlib
import inspect
import math
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Union

import anyio
from typing_extensions import Unpack

from .._core.ids import path_segment, resource_id
from .._core.options import PostOptions, RequestOptions, apply_options
from .._core.pages import PageQuery
from .._core.upload import ProgressCallback, UploadInput, upload_flow
from .._core.wire import RequestSpec
from .._resource import AsyncAPIResource, SyncAPIResource
from .._response import RawResponseView, async_raw_method, raw_method
from ..errors import NotFoundError
from ..pagination import AsyncPaginator, SyncCursorPage
from ..types import FileDeleted, FileObject

__all__ = ["AsyncFiles", "AsyncProgressCallback", "FileInput", "FileRef", "Files", "ProgressCallback"]

#: What ``upload`` takes: a path to a ``.jsonl`` file, a :class:`~finetune_sdk.Dataset`, bytes, a
#: binary file object, or a ``(filename, bytes_or_file)`` pair.
FileInput = UploadInput
#: On the async client ``on_progress`` may also be a coroutine function; it is awaited on the loop.
AsyncProgressCallback = Callable[[int, int], Union[Awaitable[None], None]]  # noqa: UP007
#: A file, or its id.
FileRef = Union[FileObject, str]  # noqa: UP007 - a runtime alias, valid on 3.10


def _list_query(purpose: str | None, limit: int | None, options: RequestOptions) -> PageQuery[FileObject]:
    return PageQuery("files", FileObject, limit, {"purpose": purpose}, options)


def _file_path(file: FileRef) -> str:
    return f"files/{path_segment(resource_id(file.id if isinstance(file, FileObject) else file, 'file'))}"


def _retrieve_spec(file: FileRef, options: RequestOptions) -> RequestSpec:
    return apply_options(RequestSpec("GET", _file_path(file)), options)


def _content_spec(file: FileRef, options: RequestOptions) -> RequestSpec:
    return apply_options(RequestSpec("GET", f"{_file_path(file)}/content", binary=True), options)


def _delete_spec(file: FileRef, options: RequestOptions) -> RequestSpec:
    return apply_options(RequestSpec("DELETE", _file_path(file)), options)


def _deleted_by_an_earlier_attempt(exc: NotFoundError, file: FileRef) -> FileDeleted:
    # A DELETE whose first attempt went through but whose answer was lost meets 404 on its retry.
    if exc.attempts > 1:
        return FileDeleted(id=file.id if isinstance(file, FileObject) else file, deleted=True)
    raise exc


class Files(SyncAPIResource):
    """Uploaded files: ``client.files``."""

    def upload(
        self,
        file: FileInput,
        *,
        filename: str | None = None,
        purpose: str = "fine-tune",
        validate: bool = True,
        on_progress: ProgressCallback | None = None,
        **options: Unpack[PostOptions],
    ) -> FileObject:
        """Upload training data: a path to a ``.jsonl`` file, a :class:`~finetune_sdk.Dataset`, bytes,
        a binary file object (``io.BytesIO``, an open file, a pipe) or a ``(filename, content)`` pair.

        ``filename`` is the name the platform records: by default the path's name, an open file's name,
        ``dataset.jsonl`` for a Dataset and ``upload.jsonl`` for bytes or an unnamed stream. The data is
        validated first unless ``validate=False``: a bad file raises
        :class:`~finetune_sdk.DatasetValidationError` (its line-numbered report names the file as given)
        and nothing is sent. ``on_progress(sent, total)`` is called as bytes go out. A retried upload
        starts again from the first byte with the same idempotency key, so at most one file is created:
        a seekable stream is rewound to where it stood when given; a stream that cannot seek is first
        copied to a temporary file (in blocks) so a retry can send it again. Streams given are left open.
        """
        flow = upload_flow(
            file,
            filename=filename,
            purpose=purpose,
            validate=validate,
            on_progress=on_progress,
            options=options,
        )
        return self._client.run(flow)

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

    def retrieve(self, file: FileRef, **options: Unpack[RequestOptions]) -> FileObject:
        """One file by id; :class:`~finetune_sdk.NotFoundError` if there is none."""
        return self._client.request(_retrieve_spec(file, options), FileObject)

    def content(self, file: FileRef, **options: Unpack[RequestOptions]) -> bytes:
        """The bytes of a file (a job's metrics file, a file uploaded earlier), within the client's
        ``max_answer_bytes`` (raise it with ``client.with_options(max_answer_bytes=...)`` for a large
        file)."""
        answer = self._client.send(_content_spec(file, options))
        return answer.response.content

    def delete(self, file: FileRef, **options: Unpack[RequestOptions]) -> FileDeleted:
        """Delete a file (a ``FileObject`` or its id).

        When an attempt deleted the file but its answer was lost, the retry's 404 counts as deleted.
        """
        try:
            return self._client.request(_delete_spec(file, options), FileDeleted)
        except NotFoundError as exc:
            return _deleted_by_an_earlier_attempt(exc, file)

    @property
    def with_raw_response(self) -> FilesWithRawResponse:
        """The same methods, returning an :class:`~finetune_sdk.APIResponse` (status, headers ...)."""
        return FilesWithRawResponse(self)


class AsyncFiles(AsyncAPIResource):
    """Uploaded files: ``async_client.files``. The same methods as :class:`Files`, awaited.

    The body is read in small blocking chunks while it is sent, as httpx does for multipart bodies.
    """

    async def upload(
        self,
        file: FileInput,
        *,
        filename: str | None = None,
        purpose: str = "fine-tune",
        validate: bool = True,
        on_progress: AsyncProgressCallback | None = None,
        **options: Unpack[PostOptions],
    ) -> FileObject:
        """Upload training data; see :meth:`Files.upload`. Copying a stream and validating run off the
        event loop (validating is cancellable); ``on_progress`` may be a plain function or a coroutine
        function."""
        async with _progress_relay(on_progress) as relay:
            flow = upload_flow(
                file,
                filename=filename,
                purpose=purpose,
                validate=validate,
                on_progress=relay,
                options=options,
            )
            return await self._client.run(flow)

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

    async def retrieve(self, file: FileRef, **options: Unpack[RequestOptions]) -> FileObject:
        """One file by id; :class:`~finetune_sdk.NotFoundError` if there is none."""
        return await self._client.request(_retrieve_spec(file, options), FileObject)

    async def content(self, file: FileRef, **options: Unpack[RequestOptions]) -> bytes:
        """The bytes of a file; see :meth:`Files.content`."""
        answer = await self._client.send(_content_spec(file, options))
        return answer.response.content

    async def delete(self, file: FileRef, **options: Unpack[RequestOptions]) -> FileDeleted:
        """Delete a file (a ``FileObject`` or its id); see :meth:`Files.delete`."""
        try:
            return await self._client.request(_delete_spec(file, options), FileDeleted)
        except NotFoundError as exc:
            return _deleted_by_an_earlier_attempt(exc, file)

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


class FilesWithRawResponse(RawResponseView):
    """The methods of :class:`Files`, each returning an :class:`~finetune_sdk.APIResponse`."""

    @raw_method(Files.upload)
    def upload(self) -> None:
        """:meth:`Files.upload`, with its raw response."""

    @raw_method(Files.list)
    def list(self) -> None:
        """:meth:`Files.list`, with its raw response."""

    @raw_method(Files.retrieve)
    def retrieve(self) -> None:
        """:meth:`Files.retrieve`, with its raw response."""

    @raw_method(Files.content)
    def content(self) -> None:
        """:meth:`Files.content`, with its raw response."""

    @raw_method(Files.delete)
    def delete(self) -> None:
        """:meth:`Files.delete`, with its raw response."""


class AsyncFilesWithRawResponse(RawResponseView):
    """The methods of :class:`AsyncFiles`, each returning an :class:`~finetune_sdk.APIResponse`."""

    @async_raw_method(AsyncFiles.upload)
    def upload(self) -> None:
        """:meth:`AsyncFiles.upload`, with its raw response."""

    @async_raw_method(AsyncFiles.list)
    def list(self) -> None:
        """:meth:`AsyncFiles.list`, with its raw response."""

    @async_raw_method(AsyncFiles.retrieve)
    def retrieve(self) -> None:
        """:meth:`AsyncFiles.retrieve`, with its raw response."""

    @async_raw_method(AsyncFiles.content)
    def content(self) -> None:
        """:meth:`AsyncFiles.content`, with its raw response."""

    @async_raw_method(AsyncFiles.delete)
    def delete(self) -> None:
        """:meth:`AsyncFiles.delete`, with its raw response."""
