"""Text in another encoding than UTF-8: read it when the caller names the encoding, and when a file is
not UTF-8, say which encoding it most likely is (never convert with a guess).

The guess uses ``charset-normalizer`` when it is installed (the ``detect`` extra); without it, a byte
order mark names UTF-16 or UTF-32, and otherwise the first of GB18030 (GBK's superset), Big5,
Shift-JIS and EUC-KR that decodes the sample strictly into mostly common characters is named.
"""

from __future__ import annotations

import codecs
import importlib
import io
import unicodedata
from typing import IO, Any

__all__ = [
    "UTF8",
    "TranscodedReader",
    "encoding_by_bom",
    "encoding_hint",
    "guess_encoding",
    "normal_encoding",
]

UTF8 = "utf-8"

#: Names a user types for an encoding, to the name the hint gives (Python's codec names).
_LABELS = {
    "gb18030": "GB18030 (a superset of GBK and GB2312, as saved by Excel on Chinese Windows)",
    "gbk": "GBK (GB18030 reads it too)",
    "gb2312": "GB2312 (GB18030 reads it too)",
    "big5": "Big5 (traditional Chinese)",
    "utf-16": "UTF-16",
    "utf-32": "UTF-32",
    "shift_jis": "Shift-JIS (Japanese)",
    "euc_kr": "EUC-KR (Korean)",
    "cp1252": "Windows-1252 (Western European)",
}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CANDIDATES = ("gb18030", "big5", "shift_jis", "euc_kr")


def normal_encoding(name: str) -> str:
    """The codec name for ``name`` (``"GBK"`` -> ``"gbk"``, ``"utf8"`` -> ``"utf-8"``); ``LookupError``
    for an encoding Python does not know."""
    return codecs.lookup(name).name


def encoding_by_bom(sample: bytes) -> str | None:
    """``"utf-16"`` or ``"utf-32"`` when ``sample`` starts with that encoding's byte order mark (Excel's
    "Unicode Text" and Windows PowerShell's ``>`` write UTF-16 with one): a mark names its encoding for
    sure, no guess."""
    return next((name for bom, name in _BOMS if sample.startswith(bom)), None)


def _utf16_without_bom(sample: bytes) -> str | None:
    """UTF-16 text of mostly ASCII has a NUL in every other byte."""
    even, odd = sample[0:400:2], sample[1:400:2]
    if len(odd) < 8:
        return None
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def _plausible(text: str) -> float:
    """The share of the non-ASCII characters that are letters of a script (not symbols, private use or
    unassigned code points), which a wrong decoding produces many of."""
    wide = [c for c in text if ord(c) > 127]
    if not wide:
        return 0.0
    good = sum(1 for c in wide if unicodedata.category(c)[0] in "LNP" and c != "\ufffd")
    return good / len(wide)


#: The encodings a guess may name: those of text files people export (a detector's other answers on a
#: short or broken sample are noise).
_NAMEABLE = frozenset(
    {
        "gb18030", "gbk", "gb2312", "big5", "big5hkscs", "utf-16", "utf-16-le", "utf-16-be", "utf-32",
        "utf-32-le", "utf-32-be", "shift_jis", "cp932", "euc_jp", "euc_kr", "cp949", "cp1252",
        "iso8859-1", "latin-1", "cp1251", "koi8-r", "cp1250", "iso8859-15",
    }
)  # fmt: skip
#: Fewer bytes above ASCII than this are too few to tell an encoding by.
_MIN_WIDE_BYTES = 8


#: Fewer bytes above ASCII than this are too few for a detector's statistics.
_FEW_WIDE_BYTES = 256


def _by_strict_decoding(sample: bytes) -> str | None:
    """The first candidate that decodes ``sample`` strictly into mostly letters of a script."""
    for name in _CANDIDATES:
        decoder = codecs.getincrementaldecoder(name)("strict")
        try:
            text = decoder.decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        if _plausible(text) > 0.95:
            return name
    return None


def _by_charset_normalizer(sample: bytes) -> str | None:
    try:
        module: Any = importlib.import_module("charset_normalizer")
    except ImportError:
        return None
    best = module.from_bytes(sample).best()
    if best is None:
        return None
    name = normal_encoding(str(best.encoding))
    return name if name in _NAMEABLE else None


def guess_encoding(sample: bytes) -> str | None:
    """The most likely encoding of ``sample`` when it is not UTF-8, as a codec name; ``None`` when
    nothing fits well (a sample cut in the middle of a character at its end is fine)."""
    found = encoding_by_bom(sample) or _utf16_without_bom(sample)
    if found is not None:
        return found
    wide = sum(1 for byte in sample if byte > 127)
    if wide < _MIN_WIDE_BYTES:
        return None
    if wide < _FEW_WIDE_BYTES:
        # On a few characters a detector's statistics are noise (a short GBK line reads as CP949 or
        # UTF-16): there the strict decoders, GB18030 first, speak first.
        detected = _by_strict_decoding(sample) or _by_charset_normalizer(sample)
    else:
        detected = _by_charset_normalizer(sample) or _by_strict_decoding(sample)
    if detected is not None:
        return detected
    try:
        sample.decode("cp1252")
    except UnicodeDecodeError:
        return None
    return "cp1252"


def encoding_hint(sample: bytes) -> str:
    """A sentence for a file that is not UTF-8: the likely encoding and how to read it."""
    found = guess_encoding(sample)
    if found is None:
        return "its encoding could not be recognised: save it as UTF-8, or name its encoding with --encoding"
    base = found.removesuffix("-le").removesuffix("-be")
    label = _LABELS.get(base, found.upper())
    return (
        f"it looks like {label} (a guess, not used: check a few rows): convert it with "
        f"--encoding {found} (encoding={found!r} in Python), or save it as UTF-8"
    )


class TranscodedReader(io.RawIOBase):
    """A binary stream of UTF-8 read from ``source`` decoded with ``encoding`` (a byte order mark of
    that encoding is dropped). A byte that the encoding cannot decode raises ``UnicodeDecodeError``."""

    def __init__(self, source: IO[bytes], encoding: str) -> None:
        super().__init__()
        self._text = io.TextIOWrapper(source, encoding=encoding, newline="")
        self._pending = b""
        self._first = True

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending:
            chunk = self._text.read(1 << 16)
            if not chunk:
                return 0
            if self._first:
                self._first = False
                chunk = chunk.removeprefix("\ufeff")
            self._pending = chunk.encode("utf-8", "surrogatepass")
        size = min(len(view), len(self._pending))
        view[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self) -> None:
        self._text.detach()
        super().close()
