"""What reading a file needs to know about it, passed along the readers: :class:`Input`."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import IO, Any, Literal

from ._encoding import UTF8, TranscodedReader
from ._fields import FieldMap
from ._open import Shape, open_decompressed
from ._raw import Undecoded
from ._repairs import Repairs
from ._report import Change, ConversionReport
from ._table import Columns

__all__ = ["SAMPLE", "SOURCES", "Input", "SourceName"]

SourceName = Literal["auto", "sharegpt", "alpaca", "openai", "csv", "table", "jsonl"]
"""The source formats :func:`~finetune_sdk.convert_file` reads: ``table`` is rows of prompt/response
columns in any container (CSV, TSV, Excel, Parquet, JSON records with such keys); ``csv`` is the same,
forcing a text file to be read as CSV/TSV."""

SOURCES: tuple[SourceName, ...] = ("auto", "sharegpt", "alpaca", "openai", "csv", "table", "jsonl")

#: Records looked at to detect a source format; rows looked at to tell a header from data.
SAMPLE = 20


@dataclass
class Input:
    """What reading needs to know about the file."""

    path: str
    shape: Shape
    encoding: str
    fields: FieldMap
    repairs: Repairs
    report: ConversionReport
    notes: list[Change]
    undecoded: Undecoded = field(default_factory=Undecoded)
    columns: Columns | None = None  # a table's columns, once its header is read

    @contextlib.contextmanager
    def open(self) -> Generator[io.BufferedReader]:
        """The file from its start, decompressed, as UTF-8 bytes."""
        with open_decompressed(self.path, self.shape.compression) as raw:
            if self.encoding == UTF8:
                yield io.BufferedReader(_Unclosed(raw), 1 << 20)
                return
            with contextlib.closing(TranscodedReader(raw, self.encoding)) as text:
                yield io.BufferedReader(text, 1 << 20)

    def note(self, code: str, action: str) -> None:
        """A change to the whole file (passed on by the conversion loop)."""
        self.notes.append(Change(record=None, code=code, action=action))


class _Unclosed(io.RawIOBase):
    """A binary stream seen through a buffered reader, left open by it (its owner closes it)."""

    def __init__(self, stream: IO[bytes]) -> None:
        super().__init__()
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(memoryview(buffer)))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)
