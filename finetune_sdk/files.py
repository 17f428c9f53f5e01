"""``client.files``: upload training data, list, retrieve and delete uploaded files.

An upload (a path, a Dataset, bytes or a binary file object) is checked locally first (a bad file raises
:class:`~finetune_sdk.DatasetValidationError` before a byte is sent), then streamed in small chunks, so
memory stays flat for any size. Turning each kind of input into a named, rewindable body is ``_upload``'s.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Union

import anyio
import anyio.to_thread

from ._polling import Pager
from ._upload import (
    ProgressCallback,
    UploadInput,
    avalidate_source,
    check_upload,
    open_source,
    upload_spec,
    validate_source,
)
from ._wire import RequestSpec, resource_id
from .errors import NotFoundError
from .types import FileDeleted, FileObject

if TYPE_CHECKING:
    from ._client import AsyncClient, Client

__all__ = ["AsyncFiles", "FileInput", "FileRef", "Files", "ProgressCallback", "check_upload"]

#: What ``upload`` takes: a path to a ``.jsonl`` file, a :class:`~finetune_sdk.Dataset`, bytes, a
#: binary file object, or a ``(filename, bytes_or_file)`` pair.
FileInput = UploadInput


def _pager(purpose: str | None) -> Pager[FileObject]:
    return Pager("files", FileObject, params={"purpose": purpose} if purpose else {})


#: A file, or its id.
FileRef = Union[FileObject, str]  # noqa: UP007 - a runtime alias, valid on 3.10


def _file_path(file: FileRef) -> str:
    return f"files/{resource_id(file.id if isinstance(file, FileObject) else file, 'file')}"


def _deleted_by_an_earlier_attempt(exc: NotFoundError, path: str) -> FileDeleted:
    # A DELETE whose first attempt went through but whose answer was lost meets 404 on its retry.
    if exc.attempts > 1:
        return FileDeleted(id=path.rpartition("/")[2], deleted=True)
    raise exc


class Files:
    """Uploaded files: ``client.files``."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def upload(
        self,
        file: FileInput,
        *,
        filename: str | None = None,
        purpose: str = "fine-tune",
        validate: bool = True,
        on_progress: ProgressCallback | None = None,
        idempotency_key: str | None = None,
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
        with open_source(file, filename=filename, on_progress=on_progress) as source:
            if validate:
                validate_source(source)
            return self._client._request_model(upload_spec(source, purpose, idempotency_key), FileObject)

    def list(self, *, purpose: str | None = None) -> list[FileObject]:
        """All uploaded files (optionally only those of one ``purpose``)."""
        pager = _pager(purpose)
        files: list[FileObject] = []
        while (spec := pager.next_spec()) is not None:
            files += pager.received(self._client._request(spec))
        return files

    def retrieve(self, file_id: FileRef) -> FileObject:
        """One file by id; :class:`~finetune_sdk.NotFoundError` if there is none."""
        return self._client._request_model(RequestSpec("GET", _file_path(file_id)), FileObject)

    def delete(self, file_id: FileRef) -> FileDeleted:
        """Delete a file (a ``FileObject`` or its id).

        When an attempt deleted the file but its answer was lost, the retry's 404 counts as deleted.
        """
        path = _file_path(file_id)
        try:
            return self._client._request_model(RequestSpec("DELETE", path), FileDeleted)
        except NotFoundError as exc:
            return _deleted_by_an_earlier_attempt(exc, path)


class AsyncFiles:
    """Uploaded files: ``async_client.files``. The same methods as :class:`Files`, awaited.

    The body is read in small blocking chunks while it is sent, as httpx does for multipart bodies.
    """

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def upload(
        self,
        file: FileInput,
        *,
        filename: str | None = None,
        purpose: str = "fine-tune",
        validate: bool = True,
        on_progress: ProgressCallback | None = None,
        idempotency_key: str | None = None,
    ) -> FileObject:
        """Upload training data; see :meth:`Files.upload`. Copying a stream and validating run in a
        worker thread, off the event loop."""
        with contextlib.ExitStack() as stack:
            opened = open_source(file, filename=filename, on_progress=on_progress)
            source = await anyio.to_thread.run_sync(stack.enter_context, opened)
            if validate:
                await avalidate_source(source)
            spec = upload_spec(source, purpose, idempotency_key)
            return await self._client._request_model(spec, FileObject)

    async def list(self, *, purpose: str | None = None) -> list[FileObject]:
        """All uploaded files (optionally only those of one ``purpose``)."""
        pager = _pager(purpose)
        files: list[FileObject] = []
        while (spec := pager.next_spec()) is not None:
            files += pager.received(await self._client._request(spec))
        return files

    async def retrieve(self, file_id: FileRef) -> FileObject:
        """One file by id; :class:`~finetune_sdk.NotFoundError` if there is none."""
        return await self._client._request_model(RequestSpec("GET", _file_path(file_id)), FileObject)

    async def delete(self, file_id: FileRef) -> FileDeleted:
        """Delete a file (a ``FileObject`` or its id); see :meth:`Files.delete`."""
        path = _file_path(file_id)
        try:
            return await self._client._request_model(RequestSpec("DELETE", path), FileDeleted)
        except NotFoundError as exc:
            return _deleted_by_an_earlier_attempt(exc, path)
