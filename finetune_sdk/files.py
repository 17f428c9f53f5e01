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

from ._wire import RequestSpec
from .dataset import Dataset
from .types import FileDeleted, FileObject, Page

if TYPE_CHECKING:
    from ._client import AsyncClient, Client

__all__ = ["AsyncFiles", "FileInput", "Files", "ProgressCallback"]

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
            path = Path(file)
            if validate:
                _validate_path(path)
            elif not path.is_file():
                raise FileNotFoundError(f"No such file to upload: {str(path)!r}")
        yield path.name, stack.enter_context(_ProgressReader(path, on_progress))


def _validate_path(path: str | os.PathLike[str]) -> None:
    if not Path(path).is_file():
        raise FileNotFoundError(f"No such file to upload: {os.fspath(path)!r}")
    Dataset.validate_file(path).raise_for_errors()


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


def _list_spec(purpose: str | None) -> RequestSpec:
    return RequestSpec("GET", "files", params={"purpose": purpose} if purpose else None)


def _file_path(file_id: str) -> str:
    if not file_id or "/" in file_id:
        raise ValueError(f"not a file id: {file_id!r}")
    return f"files/{file_id}"


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
        return self._client._request_model(_list_spec(purpose), Page[FileObject]).data

    def retrieve(self, file_id: str) -> FileObject:
        """One file by id; :class:`~finetune_sdk.NotFoundError` if there is none."""
        return self._client._request_model(RequestSpec("GET", _file_path(file_id)), FileObject)

    def delete(self, file_id: str) -> FileDeleted:
        """Delete a file by id."""
        return self._client._request_model(RequestSpec("DELETE", _file_path(file_id)), FileDeleted)


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
            await anyio.to_thread.run_sync(_validate_path, file)
        with _upload_source(file, validate=False, on_progress=on_progress) as (name, reader):
            spec = _upload_spec(name, reader, purpose, idempotency_key)
            return await self._client._request_model(spec, FileObject)

    async def list(self, *, purpose: str | None = None) -> list[FileObject]:
        """All uploaded files (optionally only those of one ``purpose``)."""
        return (await self._client._request_model(_list_spec(purpose), Page[FileObject])).data

    async def retrieve(self, file_id: str) -> FileObject:
        """One file by id; :class:`~finetune_sdk.NotFoundError` if there is none."""
        return await self._client._request_model(RequestSpec("GET", _file_path(file_id)), FileObject)

    async def delete(self, file_id: str) -> FileDeleted:
        """Delete a file by id."""
        return await self._client._request_model(RequestSpec("DELETE", _file_path(file_id)), FileDeleted)
