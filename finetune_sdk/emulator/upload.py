"""A multipart upload streamed straight into the emulator's folder: one copy, never all in memory.

Starlette's form parser would spool the file to a temporary file first (a second copy); this parser
writes each chunk of the ``file`` part to ``<folder>/<filename>`` as it arrives and keeps only the
small text fields (``purpose``) in memory, within bounds: at most :data:`MAX_PARTS` parts, each field
and each part's headers at most :data:`MAX_FIELD_BYTES`, so a body of many small fields costs no memory.
A body that ends before its closing boundary is refused: what arrived is not stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from .limits import file_name, too_large
from .responses import ApiError

MAX_FIELD_BYTES = 64 * 1024
MAX_PARTS = 16


@dataclass
class Upload:
    """What a finished upload left: its fields, and where (and how big) the file is."""

    fields: dict[str, str] = field(default_factory=dict[str, str])
    filename: str | None = None
    path: Path | None = None
    size: int = 0


def _malformed(why: str) -> ApiError:
    return ApiError(400, f"file: the multipart body is malformed ({why})", "invalid_upload", param="file")


class _Parts:
    """Callbacks of python-multipart: route each part to the file on disk or to a text field."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.upload = Upload()
        self.parts = 0
        self.ended = False
        self._header_field = b""
        self._header_value = b""
        self._header_bytes = 0
        self._headers: dict[bytes, bytes] = {}
        self._name = ""
        self._out: BinaryIO | None = None
        self._value = bytearray()

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise ApiError(400, f"file: more than {MAX_PARTS} form parts", "invalid_upload", param="file")
        self._headers = {}
        self._header_bytes = 0
        self._value = bytearray()

    def _count_header(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > MAX_FIELD_BYTES:
            raise _malformed(f"a part's headers are longer than {MAX_FIELD_BYTES} bytes")

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        if self._name == "file" and b"filename" in options and self.upload.path is None:
            self.upload.filename = file_name(options[b"filename"])
            self.folder.mkdir(parents=True, exist_ok=True)
            self.upload.path = self.folder / self.upload.filename
            self._out = self.upload.path.open("wb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._out is not None:
            self.upload.size += end - start
            if self.upload.size > self.max_bytes:
                raise too_large(self.max_bytes, "file: the file", "file_too_large")
            self._out.write(data[start:end])
            return
        if len(self._value) + end - start > MAX_FIELD_BYTES:
            raise too_large(MAX_FIELD_BYTES, f"{self._name or 'a form field'}: the field")
        self._value += data[start:end]

    def on_part_end(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None
        elif self._name:
            self.upload.fields[self._name] = self._value.decode("utf-8", "replace")

    def on_end(self) -> None:
        self.ended = True

    def close(self) -> None:
        if self._out is not None:
            self._out.close()


async def receive_upload(request: Request, folder: Path, max_bytes: int) -> Upload:
    """Stream a ``multipart/form-data`` body; the ``file`` part goes to ``folder``. Raises
    :class:`ApiError` (the caller removes ``folder``) for a body it cannot store whole."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise ApiError(400, "file: send the upload as multipart/form-data", "invalid_upload", param="file")
    parts = _Parts(folder, max_bytes)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": parts.on_part_begin,
            "on_header_field": parts.on_header_field,
            "on_header_value": parts.on_header_value,
            "on_header_end": parts.on_header_end,
            "on_headers_finished": parts.on_headers_finished,
            "on_part_data": parts.on_part_data,
            "on_part_end": parts.on_part_end,
            "on_end": parts.on_end,
        },
    )
    most = max_bytes + MAX_PARTS * 2 * MAX_FIELD_BYTES  # the file, and every part's headers and field
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > most:
                raise too_large(most)
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        raise _malformed(str(exc)) from exc
    finally:
        parts.close()
    if not parts.ended:
        raise _malformed("it ends before its closing boundary; nothing was stored")
    return parts.upload
