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

from .._calls import pages, runs
from .._core.flow import Flow, request, send
from .._core.ids import path_segment, resource_id
from .._core.options import PostOptions, RequestOptions, apply_options
from .._core.pages import PageQuery
from .._core.upload import ProgressCallback, UploadInput, upload_or_reuse_flow
from .._core.wire import RequestSpec
from .._resource import AsyncAPIResource, Listing, Settings, SyncAPIResource
from .._response import AsyncRawResponseView, SyncRawResponseView, async_raw_method
from ..errors import NotFoundError
from ..types import FileDeleted, FileObject

__all__ = ["AsyncFiles", "AsyncProgressCallback", "FileInput", "FileRef", "Files", "ProgressCallback"]

#: What ``upload`` takes: a path to a ``.jsonl`` file, a :class:`~finetune_sdk.Dataset`, bytes, a
#: binary file object, or a ``(filename, bytes_or_file)`` pair.
FileInput = UploadInput
#: On the async client ``on_progress`` may also be a coroutine function; it is awaited on the loop.
AsyncProgressCallback = Callable[[int, int], Union[Awaitable[None], None]]  # noqa: UP007
#: A file, or its id.
FileRef = Union[FileObject, str]  # noqa: UP007 - a runtime alias, valid on 3.10


def _file_path(file: FileRef) -> str:
    return f"files/{path_segment(resource_id(file.id if isinstance(file, FileObject) else file, 'file'))}"


def _deleted_by_an_earlier_attempt(exc: NotFoundError, file: FileRef) -> FileDeleted:
    # A DELETE whose first attempt went through but whose answer was lost meets 404 on its retry.
    if exc.attempts > 1:
        return FileDeleted(id=file.id if isinstance(file, FileObject) else file, deleted=True)
    raise exc


def _upload(
    client: Settings,
    file: FileInput,
    *,
    filename: str | None = None,
    purpose: str = "fine-tune",
    validate: bool = True,
    on_progress: ProgressCallback | None = None,
    reuse: bool = True,
    **options: Unpack[PostOptions],
) -> Flow[FileObject]:
    """Upload training data: a path to a ``.jsonl`` file, a :class:`~finetune_sdk.Dataset`, bytes,
    a binary file object (``io.BytesIO``, an open file, a pipe) or a ``(filename, content)`` pair.

    ``filename`` is the name the platform records: by default the path's name, an open file's name,
    ``dataset.jsonl`` for a Dataset and ``upload.jsonl`` for bytes or an unnamed stream. The data is
    validated first unless ``validate=False``: a bad file raises
    :class:`~finetune_sdk.DatasetValidationError` (its line-numbered report names the file as given)
    and nothing is sent. ``on_progress(sent, total)`` is called as bytes go out (on the async client
    it may be a coroutine function). A retried upload starts again from the first byte with the same
    idempotency key, so at most one file is created: a seekable stream is rewound to where it stood
    when given; a stream that cannot seek is first copied to a temporary file (in blocks) so a retry
    can send it again. Streams given are left open. On the async client, copying a stream and
    validating run off the event loop, and validating is cancellable.

    With ``reuse`` (the default), a file already on the server under the same name with the same bytes
    (the same size, then the same SHA-256 of its content) is returned instead and nothing is sent again;
    ``reuse=False`` always uploads.
    """
    found, _ = yield from upload_or_reuse_flow(
        file,
        filename=filename,
        purpose=purpose,
        validate=validate,
        on_progress=on_progress,
        options=options,
        reuse=reuse,
    )
    return found


def _list(
    client: Settings,
    *,
    purpose: str | None = None,
    limit: int | None = None,
    after: str | None = None,
    **options: Unpack[RequestOptions],
) -> Listing[FileObject]:
    """Uploaded files (optionally only those of one ``purpose``), ``limit`` per page (at most 100)
    from after the file id ``after``; iterate the page for every file (``async for`` on the async
    client, where ``await`` gives the first page)."""
    return Listing(PageQuery("files", FileObject, limit, {"purpose": purpose}, options), after)


def _retrieve(client: Settings, file: FileRef, **options: Unpack[RequestOptions]) -> Flow[FileObject]:
    """One file by id; :class:`~finetune_sdk.NotFoundError` if there is none."""
    return request(apply_options(RequestSpec("GET", _file_path(file)), options), FileObject)


def _content(client: Settings, file: FileRef, **options: Unpack[RequestOptions]) -> Flow[bytes]:
    """The bytes of a file (a job's metrics file, a file uploaded earlier), within the client's
    ``max_answer_bytes`` (raise it with ``client.with_options(max_answer_bytes=...)`` for a large
    file)."""
    spec = apply_options(RequestSpec("GET", f"{_file_path(file)}/content", binary=True), options)
    answer = yield from send(spec)
    return answer.response.content


def _delete(client: Settings, file: FileRef, **options: Unpack[RequestOptions]) -> Flow[FileDeleted]:
    """Delete a file (a ``FileObject`` or its id).

    When an attempt deleted the file but its answer was lost, the retry's 404 counts as deleted.
    """
    try:
        return (
            yield from request(apply_options(RequestSpec("DELETE", _file_path(file)), options), FileDeleted)
        )
    except NotFoundError as exc:
        return _deleted_by_an_earlier_attempt(exc, file)


class _FileCalls:
    """The methods of the files resources and of their raw-response views, written once (the async
    client's ``upload`` is its own: its ``on_progress`` may be a coroutine function)."""

    list = pages(_list)
    retrieve = runs(_retrieve)
    content = runs(_content)
    delete = runs(_delete)


_upload_call = runs(_upload)  # the sync client's and its view's; the async client's is its own


class Files(_FileCalls, SyncAPIResource):
    """Uploaded files: ``client.files``."""

    upload = _upload_call

    @property
    def with_raw_response(self) -> FilesWithRawResponse:
        """The same methods, returning an :class:`~finetune_sdk.APIResponse` (status, headers ...)."""
        return FilesWithRawResponse(self)


class AsyncFiles(_FileCalls, AsyncAPIResource):
    """Uploaded files: ``async_client.files``. The same methods as :class:`Files`, awaited; ``list``
    returns an :class:`~finetune_sdk.AsyncPaginator`.

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
        reuse: bool = True,
        **options: Unpack[PostOptions],
    ) -> FileObject:
        """Upload training data; see :meth:`Files.upload`. ``on_progress`` may be a plain function or a
        coroutine function (awaited in order, on the event loop)."""
        async with _progress_relay(on_progress) as relay:
            flow = _upload(
                self._client,
                file,
                filename=filename,
                purpose=purpose,
                validate=validate,
                on_progress=relay,
                reuse=reuse,
                **options,
            )
            return await self._client.run(flow)

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


class FilesWithRawResponse(_FileCalls, SyncRawResponseView):
    """The methods of :class:`Files`, each returning an :class:`~finetune_sdk.APIResponse`."""

    upload = _upload_call


class AsyncFilesWithRawResponse(_FileCalls, AsyncRawResponseView):
    """The methods of :class:`AsyncFiles`, each returning an :class:`~finetune_sdk.APIResponse`."""

    upload = async_raw_method(AsyncFiles.upload)
