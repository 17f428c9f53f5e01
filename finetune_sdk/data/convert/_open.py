"""What a data file is before any record is read: its compression (gzip, bz2, xz, zstd) and its kind (a
text file of JSON or CSV, a Parquet or Arrow table, an Excel workbook), each recognised by its content
first and by its name where the content cannot tell, and a way to open it decompressed.

Compressed files are read as streams, whatever their size. Parquet and Excel files need random access:
compressed, they are first decompressed into a temporary file, removed afterwards.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import importlib
import lzma
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import IO, Literal, cast

from .._lines import open_regular
from .._schema import StrPath
from ._streams import CutShortError, checked, zstd_frames

__all__ = [
    "COMPRESSIONS",
    "Compression",
    "Kind",
    "Shape",
    "inner_name",
    "open_decompressed",
    "random_access",
    "shape_of",
    "sniff",
]

Compression = Literal["gzip", "bz2", "xz", "zstd"]
Kind = Literal["text", "parquet", "arrow", "xlsx", "zip", "ole"]

COMPRESSIONS: dict[Compression, tuple[str, ...]] = {
    "gzip": (".gz", ".gzip"),
    "bz2": (".bz2",),
    "xz": (".xz", ".lzma"),
    "zstd": (".zst", ".zstd"),
}
_MAGIC: tuple[tuple[bytes, Compression], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
_KIND_NAMES: dict[Kind, tuple[str, ...]] = {
    "parquet": (".parquet", ".pq"),
    "arrow": (".arrow", ".feather", ".ipc", ".arrows"),
    "xlsx": (".xlsx", ".xlsm"),
}
#: The first bytes of an OLE2 compound file: a legacy .xls/.doc, or an Office file encrypted with a password
#: (the .xlsx inside is then ciphered): neither holds rows openpyxl can read.
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: What to install for a reader that needs an extra.
EXTRAS = {"parquet": "parquet", "arrow": "parquet", "xlsx": "xlsx", "zstd": "zstd"}


@dataclass(frozen=True)
class Shape:
    """What a file is: ``compression`` (``None`` for none), ``kind``, and ``name``, the file name without
    its compression suffix, lower case (``train.jsonl`` for ``Train.JSONL.gz``)."""

    compression: Compression | None
    kind: Kind
    name: str

    def describe(self) -> str:
        """``"a gzip-compressed Parquet file"`` and the like."""
        what = {
            "text": "text file",
            "parquet": "Parquet file",
            "arrow": "Arrow/Feather file",
            "xlsx": "Excel workbook",
            "zip": "ZIP archive",
            "ole": "Excel 97-2003 workbook (.xls) or password-protected Office file",
        }[self.kind]
        if self.compression is None:
            return f"an {what}" if what[0] in "AEIOU" else f"a {what}"
        return f"a {self.compression}-compressed {what}"


def _is_bz2(head: bytes) -> bool:
    return head[:3] == b"BZh" and head[3:4] in tuple(b"%d" % d for d in range(1, 10))


def compression_of(head: bytes, name: str) -> Compression | None:
    """The compression of a file from its first bytes, else from its name."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if _is_bz2(head):
        return "bz2"
    if head:  # content that is no compressed stream decides over a misleading name
        return None
    return next((kind for kind, ends in COMPRESSIONS.items() if name.endswith(ends)), None)


def inner_name(name: str, compression: Compression | None) -> str:
    """``name`` (lower case) without the suffix of ``compression``."""
    lowered = name.lower()
    if compression is None:
        return lowered
    for end in COMPRESSIONS[compression]:
        if lowered.endswith(end):
            return lowered[: -len(end)]
    return lowered


def kind_of(head: bytes, name: str, zip_names: Callable[[], list[str]] | None = None) -> Kind:
    """The kind of an uncompressed file from its first bytes (and its name for Arrow streams)."""
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith((b"ARROW1", b"FEA1")):
        return "arrow"
    if head.startswith(b"PK\x03\x04"):
        names = zip_names() if zip_names is not None else []
        if name.endswith(_KIND_NAMES["xlsx"]) or "xl/workbook.xml" in names:
            return "xlsx"
        return "zip"
    if head.startswith(OLE_MAGIC):
        return "ole"
    if head.startswith(b"\xff\xff\xff\xff") and name.endswith(_KIND_NAMES["arrow"]):
        return "arrow"  # an Arrow IPC stream (no magic of its own)
    if not head and name.endswith(_KIND_NAMES["parquet"]):
        return "parquet"
    return "text"


def sniff(head: bytes, name: str) -> Shape:
    """The shape of a file from its first bytes and its name, for bytes in memory (a ZIP archive is
    taken for a workbook only by its name)."""
    compression = compression_of(head, name.lower())
    inner = inner_name(name, compression)
    if compression is not None:
        return Shape(compression, _inner_kind(None, compression, inner), inner)
    return Shape(None, kind_of(head, inner), inner)


def shape_of(path: StrPath, display: str | None = None) -> Shape:
    """The shape of the file at ``path`` (named ``display`` when given): reads a few bytes."""
    shown: str = display if display is not None else os.fspath(path)
    name = os.path.basename(shown)
    with open_regular(path) as file:
        head = file.read(16)
    compression = compression_of(head, name.lower())
    inner = inner_name(name, compression)
    if compression is None:
        return Shape(None, kind_of(head, inner, lambda: _zip_names(path)), inner)
    return Shape(compression, _inner_kind(path, compression, inner), inner)


def _inner_kind(path: StrPath | None, compression: Compression, inner: str) -> Kind:
    """The kind of what a compressed file holds: from its first decompressed bytes where they can be
    read (the extra of the compression installed), else from its name."""
    head = b""
    if path is not None:
        with (
            contextlib.suppress(OSError, ImportError, EOFError, lzma.LZMAError, CutShortError),
            open_decompressed(path, compression) as file,
        ):
            head = file.read(16)
    return kind_of(head, inner)


def _zip_names(path: StrPath) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()[:200]
    except (zipfile.BadZipFile, OSError):
        return []


def _zstd(file: IO[bytes]) -> tuple[IO[bytes], type[BaseException] | None]:
    """The zstd stream ``file`` decompressed, and the error its decoder raises for damaged data."""
    try:
        module = importlib.import_module("zstandard")
    except ImportError:
        try:  # the standard library's, from Python 3.14
            stdlib = importlib.import_module("compression.zstd")
        except ImportError:
            raise ImportError(
                'the file is zstd-compressed: pip install "finetune-sdk[zstd]" (or decompress it first)'
            ) from None
        return cast("IO[bytes]", stdlib.ZstdFile(file)), cast("type[BaseException]", stdlib.ZstdError)
    return zstd_frames(file, module), cast("type[BaseException]", module.ZstdError)


@contextlib.contextmanager
def open_decompressed(path: StrPath, compression: Compression | None) -> Generator[IO[bytes]]:
    """``path`` opened for reading from its start, decompressed; data cut short or damaged raises
    :class:`~._streams.CutShortError` (a ``ValueError``) naming the file as it is read."""
    shown = os.fspath(path)
    with open_regular(path) as raw:
        if compression is None:
            yield raw
        elif compression == "gzip":
            with gzip.GzipFile(fileobj=raw, mode="rb") as file:
                yield checked(cast("IO[bytes]", file), shown, compression, None)
        elif compression == "bz2":
            with bz2.BZ2File(raw, mode="rb") as file:
                yield checked(cast("IO[bytes]", file), shown, compression, None)
        elif compression == "xz":
            with lzma.LZMAFile(raw, mode="rb") as file:
                yield checked(cast("IO[bytes]", file), shown, compression, None)
        else:
            stream, error = _zstd(raw)
            with contextlib.closing(stream):
                yield checked(stream, shown, compression, error)


@contextlib.contextmanager
def random_access(
    path: StrPath, compression: Compression | None, suffix: str = ".decompressed"
) -> Generator[str]:
    """A path that can be read with seeks: ``path`` itself, or for a compressed file a temporary copy of
    what it holds, named with ``suffix`` (a reader such as openpyxl goes by it), removed when the block
    ends."""
    if compression is None:
        yield os.fspath(path)
        return
    handle, temporary = tempfile.mkstemp(prefix="finetune-", suffix=suffix)
    try:
        with os.fdopen(handle, "wb") as out, open_decompressed(path, compression) as source:
            shutil.copyfileobj(source, out, 1 << 20)
        yield temporary
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
