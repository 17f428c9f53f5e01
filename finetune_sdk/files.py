"""``client.files``: upload training data, list, retrieve and delete uploaded files.

An upload is checked locally first (a bad file raises :class:`~finetune_sdk.DatasetValidationError`
before a byte is sent), then streamed from disk in small chunks, so memory stays flat for any size.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import anyio
import anyio.to_thread

from ._polling import Pager
from ._wire import RequestSpec, path_segment, resource_id
from .dataset import Dataset
from .errors import NotFoundError
from .types import FileDeleted, FileObject

if TYPE_CHECKING:
    from ._client import AsyncClient, Client

__all__ = ["AsyncFiles", "FileInput", "FileRef", "Files", "ProgressCallback", "check_upload"]

#: What ``upload`` takes: a path to a ``.jsonl`` file, or a :class:`~finetune_sdk.Dataset`.
FileInput = Union[str, "os.PathLike[str]", Dataset]
#: Called as ``on_progress(bytes_sent, total_bytes)`` while an upload goes out.
ProgressCallback = Callable[[int, int], None]


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
) -> Iterator[tuple[str, _ProgressReader]]:
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


def _pager(purpose: str | None) -> Pager[FileObject]:
    return Pager("files", FileObject, params={"purpose": purpose} if purpose else {})


#: A file, or its id.
FileRef = Union[FileObject, str]  # noqa: UP007 - a runtime alias, valid on 3.10


def _file_path(file: FileRef) -> str:
    return f"files/{path_segment(resource_id(file.id if isinstance(file, FileObject) else file, 'file'))}"


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
        purpose: str = "fine-tune",
        validate: bool = True,
        on_progress: ProgressCallback | None = None,
        idempotency_key: str | None = None,
    ) -> FileObject:
        """Upload a ``.jsonl`` file (a path) or a :class:`~finetune_sdk.Dataset`.

        A path is validated first unless ``validate=False``; a bad file raises
        :class:`~finetune_sdk.DatasetValidationError` with its line-numbered report and nothing is sent.
        ``on_progress(sent, total)`` is called as bytes go out. A retried upload starts again from the
        first byte with the same idempotency key, so at most one file is created.
        """
        with _upload_source(file, validate=validate, on_progress=on_progress) as (name, reader):
            spec = _upload_spec(name, reader, purpose, idempotency_key)
            return self._client._request_model(spec, FileObject)

    def list(self, *, purpose: str | None = None) -> list[FileObject]:
        """All uploaded files (optionally only those of one ``purpose``)."""
        pager = _pager(purpose)
        files: list[FileObject] = []
        while (spec := pager.next_spec()) is not None:
            answer = self._client._send(spec)
            files += pager.received(answer.payload, answer.response)
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

    The file is read from disk in small blocking chunks, as httpx does for multipart bodies.
    """

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def upload(
        self,
        file: FileInput,
        *,
        purpose: str = "fine-tune",
        validate: bool = True,
        on_progress: ProgressCallback | None = None,
        idempotency_key: str | None = None,
    ) -> FileObject:
        """Upload a ``.jsonl`` file (a path) or a :class:`~finetune_sdk.Dataset`; see :meth:`Files.upload`."""
        if validate and not isinstance(file, Dataset):
            # Validation reads the whole file: keep it off the event loop.
            await anyio.to_thread.run_sync(check_upload, file)
        with _upload_source(file, validate=False, on_progress=on_progress) as (name, reader):
            spec = _upload_spec(name, reader, purpose, idempotency_key)
            return await self._client._request_model(spec, FileObject)

    async def list(self, *, purpose: str | None = None) -> list[FileObject]:
        """All uploaded files (optionally only those of one ``purpose``)."""
        pager = _pager(purpose)
        files: list[FileObject] = []
        while (spec := pager.next_spec()) is not None:
            answer = await self._client._send(spec)
            files += pager.received(answer.payload, answer.response)
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
