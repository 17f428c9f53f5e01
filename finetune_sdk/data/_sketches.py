"""What the duplicate counter keys examples by, cheaply enough for the validator's hot loop: the key of
each normalised first user prompt, and the *sketch* of an example (its number of messages, its prompt key
and the last characters of its last message that are not white space, normalised), which normalisation
cannot change.

Normalising every text would cost a scan of it for two spaces side by side (as much as parsing it), so the
texts of a whole chunk are proven normalised already at once: one scan of their join, and the few that
are not are normalised one by one. A text of a *plain* line (ASCII without a backslash) holds no white
space but the space, no control character, and is NFC: only its spaces need looking at.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate, compress, repeat
from operator import not_

from ._duplicates import normalize

__all__ = ["Plain", "prompt_keys", "sketch_of", "subset", "tails", "text_key"]

#: Characters of a message's end kept in the sketch, and how far back they are looked for.
_TAIL, _WINDOW = 16, 64
_TAIL_SLICE = slice(-_TAIL, None)
_WINDOW_SLICE = slice(-_WINDOW, None)
_nfc = unicodedata.is_normalized
_DOUBLE_SPACE = re.compile("  ")  # measured faster than `"  " in text` on prose


def text_key(text: str, portable: bool) -> int:
    if not portable:
        return hash(text)
    data = text.encode("utf-8", "surrogatepass")
    return zlib.crc32(data) << 32 | zlib.adler32(data)


_OTHER_SPACES = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"  # the white space of ASCII but the space


def _spaces_only(texts: list[str]) -> bool:
    """True when no text holds white space but the space, looked at together: the ASCII ones for the
    nine other white-space characters of ASCII (a fast search each), the others printable (stricter:
    white space and control characters are not)."""
    narrow = list(map(str.isascii, texts))
    joined = "".join(compress(texts, narrow))
    if any(map(joined.__contains__, _OTHER_SPACES)):
        return False
    wide = list(compress(texts, map(not_, narrow)))
    return not wide or "".join(wide).isprintable()


def _clean(text: str) -> bool:
    """True when ``text`` holds no white space but the space and is in NFC."""
    if text.isascii():
        return not any(map(text.__contains__, _OTHER_SPACES))
    return text.isprintable() and _nfc("NFC", text)


def _nfc_all(texts: list[str]) -> bool:
    """True when every text is in NFC; only the texts that are not ASCII are looked at (a NUL between
    them keeps each apart: it is a starter that composes with nothing)."""
    wide = list(compress(texts, map(not_, map(str.isascii, texts))))
    return not wide or _nfc("NFC", "\0".join(wide))


Plain = Sequence[bool] | bool
"""Which texts come from *plain* lines, ASCII without a backslash (so no white space but the space, no
control character, and NFC): a flag per text, or one for them all."""


def subset(plain: Plain, indexes: list[int]) -> Plain:
    """``plain`` for the texts at ``indexes``."""
    return plain if isinstance(plain, bool) else list(map(plain.__getitem__, indexes))


def _looked_at(texts: list[str], plain: Plain) -> list[int]:
    """The indexes of the texts that do not come from plain lines."""
    if isinstance(plain, bool):
        return [] if plain else list(range(len(texts)))
    return list(compress(range(len(texts)), map(not_, plain)))


def _odd_ones(texts: list[str], plain: Plain = False) -> set[int]:
    """The indexes of the texts that may not be normalised; the others are, proven on the chunk at once.

    Spaces: in the join of the texts by a space, a text that holds two spaces side by side, or begins or
    ends with one, puts two side by side (each place found is traced back to the texts on both of its
    sides). The texts of lines that are not ``plain`` must also hold no other white space and be in NFC:
    looked at together, and one by one only when that fails.
    """
    odd: set[int] = set()
    joined = " ".join(texts)
    double = _DOUBLE_SPACE.search(joined)
    if double is not None or joined[:1] == " " or joined[-1:] == " ":
        odd.update(_spaced(texts, joined, -1 if double is None else double.start()))
    looked = _looked_at(texts, plain)
    if looked:
        wide = list(map(texts.__getitem__, looked))
        if not (_spaces_only(wide) and _nfc_all(wide)):
            odd.update(at for at, text in zip(looked, wide, strict=True) if not _clean(text))
    return odd


def _spaced(texts: list[str], joined: str, at: int) -> set[int]:
    """The texts on either side of each place where ``joined`` (``" ".join(texts)``) holds two spaces side
    by side, the first at ``at`` (-1: none), and the first and last when they begin or end it with a
    space."""
    starts = list(accumulate(map((1).__add__, map(len, texts)), initial=0))
    found: set[int] = set()
    if joined[:1] == " ":
        found.add(0)
    if joined[-1:] == " ":
        found.add(len(texts) - 1)
    while at >= 0:
        found.add(bisect_right(starts, at) - 1)
        found.add(bisect_right(starts, at + 1) - 1)
        at = joined.find("  ", at + 1)
    return found


def prompt_keys(prompts: list[str], plain: Plain = False, portable: bool = False) -> list[int]:
    """The keys of normalised prompts; only those not proven normalised already are normalised. A prompt
    of a ``plain`` line (ASCII, no escape) holds no white space but the space: only spaces are looked at."""
    texts = prompts
    odd = _odd_ones(prompts, plain)
    if odd:
        texts = list(prompts)
        for at in odd:
            texts[at] = normalize(prompts[at])
    return [text_key(t, True) for t in texts] if portable else list(map(hash, texts))


def tails(lasts: list[str], plain: Plain = False) -> list[str]:
    """The last 16 characters that are not white space of each message, normalised (a message of a
    ``plain`` line holds no white space but the space and is NFC). Taken from the last 64 characters of
    all the messages at once; one by one only for a message whose window falls short (more than 48
    spaces in it) or may not be normalised."""
    windows: list[str] = list(map(str.__getitem__, lasts, repeat(_WINDOW_SLICE)))
    looked = _looked_at(windows, plain)
    if looked and not (
        _spaces_only(list(map(windows.__getitem__, looked)))
        and _nfc_all(list(map(lasts.__getitem__, looked)))
    ):
        return list(map(_tail, lasts))
    cut = "\0".join(windows).replace(" ", "").split("\0")
    if len(cut) != len(windows):  # a message holds a NUL of its own
        return list(map(_tail, lasts))
    found: list[str] = list(map(str.__getitem__, cut, repeat(_TAIL_SLICE)))
    if min(map(len, found)) < _TAIL:  # a window held too few characters: unless it is the whole message
        for at in compress(range(len(found)), map(int.__gt__, map(len, lasts), repeat(_WINDOW))):
            if len(found[at]) < _TAIL:
                found[at] = _tail(lasts[at])
    return found


def _tail(last: str) -> str:
    window = last[_WINDOW_SLICE]
    if _spaces_only([window]) and (last.isascii() or _nfc("NFC", last)):
        found = window.replace(" ", "")[_TAIL_SLICE]
        if len(found) >= _TAIL or len(last) <= _WINDOW:
            return found
    return "".join(normalize(last).split())[_TAIL_SLICE]


def sketch_of(count: int, key: int, tail: str, portable: bool) -> int:
    """The sketch of an example of ``count`` messages, prompt key ``key`` and last characters ``tail``."""
    return hash((count, key, text_key(tail, True) if portable else tail))
