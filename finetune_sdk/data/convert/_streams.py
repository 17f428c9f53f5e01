"""Decompressed streams that say when their data is cut short or damaged: a download interrupted in the
middle of a ``.gz``, ``.bz2``, ``.xz`` or ``.zst`` file is a clear ``ValueError`` naming the file, never a
bare ``EOFError``, nor (zstd) the records read so far taken for the whole file."""

from __future__ import annotations

import gzip
import io
import lzma
import zlib
from typing import IO, Any, Protocol

__all__ = ["CutShortError", "checked", "zstd_frames"]


class CutShortError(ValueError):
    """A compressed file that ends before its data does, or whose data is damaged."""


class _Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes) -> bytes: ...


class _ZstdFrames(io.RawIOBase):
    """The frames of a zstd stream one after another, each checked to end: ``zstandard``'s stream reader
    returns what it decoded of a frame cut short as if the stream ended there."""

    def __init__(self, source: IO[bytes], module: Any) -> None:
        super().__init__()
        self._source = source
        self._module = module
        self._frame: _Decompressor = module.ZstdDecompressor().decompressobj()
        self._fed = False  # the current frame has had input
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending:
            # Little input at a time: what one call decodes stays bounded (a zstd block of 128 KiB can be a
            # few bytes), so memory stays flat whatever the compression ratio.
            data = self._source.read(_INPUT)
            if not data:
                if self._fed and not self._frame.eof:
                    raise EOFError("Compressed file ended before the end-of-stream marker was reached")
                return 0
            self._pending = self._feed(data)
        size = min(len(view), len(self._pending))
        view[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def _feed(self, data: bytes) -> bytes:
        out: list[bytes] = []
        while data:
            if self._frame.eof:  # the next frame (zstd -c a b > ab.zst, or a file written in parts)
                self._frame = self._module.ZstdDecompressor().decompressobj()
                self._fed = False
            self._fed = True
            out.append(self._frame.decompress(data))
            data = self._frame.unused_data if self._frame.eof else b""
        return b"".join(out)


#: Compressed bytes fed to the zstd decoder at a time.
_INPUT = 1 << 12


def zstd_frames(source: IO[bytes], module: Any) -> IO[bytes]:
    """``source``, a zstd stream, decompressed with ``module`` (``zstandard``), every frame checked to
    end (``EOFError`` when the last is cut short)."""
    return io.BufferedReader(_ZstdFrames(source, module), 1 << 16)


class _Checked(io.RawIOBase):
    """``stream``, with the errors of a decompressor turned into :class:`CutShortError` naming ``path``."""

    def __init__(
        self, stream: IO[bytes], path: str, compression: str, damaged: tuple[type[BaseException], ...]
    ):
        super().__init__()
        self._stream = stream
        self._path = path
        self._compression = compression
        self._damaged = damaged

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._stream.read(len(memoryview(buffer)))
        except EOFError:
            raise CutShortError(
                f"{self._path} ends before its {self._compression} data does: the file was cut short (an "
                "interrupted download or copy?); nothing was written: get the whole file again"
            ) from None
        except self._damaged as exc:
            raise CutShortError(
                f"{self._path}: its {self._compression} data is damaged ({exc}); nothing was written: get "
                "the file again, or decompress it with another tool to see what is left"
            ) from None
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)


def checked(
    stream: IO[bytes], path: str, compression: str, zstd_error: type[BaseException] | None
) -> IO[bytes]:
    """``stream`` (decompressed ``compression``) with its errors said as :class:`CutShortError`."""
    damaged: tuple[type[BaseException], ...] = (gzip.BadGzipFile, lzma.LZMAError, zlib.error)
    if compression == "bz2":
        damaged += (OSError,)  # the bz2 module says "Invalid data stream" with a plain OSError
    if zstd_error is not None:
        damaged += (zstd_error,)
    return io.BufferedReader(_Checked(stream, path, compression, damaged), 1 << 16)
