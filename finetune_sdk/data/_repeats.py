"""The validator's count of repeated examples and prompts, cheap enough for its hot loop.

Proving that an example is normalised already costs a scan of all its text for two spaces side by side,
as much as parsing it; so the hot loop proves it only for the first user prompt (short) and keys every
example by a *sketch* that normalisation cannot change: its roles, its normalised prompt and the last 16
characters of its last message that are not white space. Examples whose normalised forms are equal have
equal sketches; two examples with equal sketches may still differ, so only then (rarely: duplicates, and
answers to one prompt that end alike) both are read again from the file (their line's offset is kept)
and compared by the digests of :mod:`finetune_sdk.data._duplicates`, exactly and normalised. Memory is
one sketch and one prompt key per example (a few dozen bytes), plus the digests of those few.

Without a way to read a line again (a stream that cannot seek, a dataset in memory), every example is
digested as it comes: the same counts, slower.
"""

from __future__ import annotations

import unicodedata
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import contains, is_, not_
from typing import Any

import orjson

from ._duplicates import example_digest, normalize

__all__ = ["DuplicateCounter", "LineReader", "Repeats", "Tally"]

LineReader = Callable[[int], bytes]
"""Reads the line that starts at a byte offset of the file (without its newline)."""

#: Characters of a message's end kept in the sketch, and how far back they are looked for.
_TAIL, _WINDOW = 16, 64
_LINE_BITS = 32
_LINE_MASK = (1 << _LINE_BITS) - 1
_TAIL_SLICE = slice(-_TAIL, None)
_WINDOW_SLICE = slice(-_WINDOW, None)
_nfc = unicodedata.is_normalized


@dataclass
class Tally:
    """How many examples repeated an earlier one, and the first that did as ``(line, earlier line)``."""

    count: int = 0
    first_repeat: tuple[int, int] | None = None

    def hit(self, line: int, earlier: int) -> None:
        self.count += 1
        if self.first_repeat is None or line < self.first_repeat[0]:
            self.first_repeat = (line, earlier)


@dataclass
class Repeats:
    """The first line of every key seen, and the :class:`Tally` of the lines that repeated one."""

    first: dict[int, int] = field(default_factory=dict[int, int])
    tally: Tally = field(default_factory=Tally)

    @property
    def count(self) -> int:
        return self.tally.count

    @property
    def first_repeat(self) -> tuple[int, int] | None:
        return self.tally.first_repeat

    def see_all(self, keys: Sequence[int], lines: Sequence[int]) -> None:
        """Note ``keys`` seen on ``lines`` (in order)."""
        firsts = list(map(self.first.setdefault, keys, lines))
        if firsts != lines:
            for line, earlier in zip(lines, firsts, strict=True):
                if earlier != line:
                    self.tally.hit(line, earlier)

    def merge(self, other: Repeats, line_offset: int) -> None:
        """Add the part that follows this one, ``line_offset`` lines further on."""
        for key, line in other.first.items():  # a dict keeps insertion order: line order
            shifted = line + line_offset
            earlier = self.first.setdefault(key, shifted)
            if earlier != shifted:
                self.tally.hit(shifted, earlier)
        self.tally.count += other.tally.count
        if other.tally.first_repeat is not None:
            line, earlier = other.tally.first_repeat
            if self.tally.first_repeat is None or line + line_offset < self.tally.first_repeat[0]:
                self.tally.first_repeat = (line + line_offset, earlier + line_offset)


@dataclass
class _Group:
    """The examples of one sketch: the first line of each distinct line's bytes (``raw``, with the first
    line of its normalised form), and, once two differ, of each exact and normalised digest."""

    raw: dict[int, tuple[int, int]] = field(default_factory=dict[int, tuple[int, int]])
    exact: dict[bytes, int] = field(default_factory=dict[bytes, int])
    normal: dict[bytes, int] = field(default_factory=dict[bytes, int])
    digested: bool = False


def _raw_key(line: bytes) -> int:
    """A key of a line's bytes, the same in every process."""
    return zlib.crc32(line) << 32 | zlib.adler32(line)


def _shifted(group: _Group, lines: int) -> _Group:
    """``group`` with its lines ``lines`` further on."""
    return _Group(
        {k: (a + lines, b + lines) for k, (a, b) in group.raw.items()},
        {k: v + lines for k, v in group.exact.items()},
        {k: v + lines for k, v in group.normal.items()},
        group.digested,
    )


def _digests(roles: Sequence[str], contents: Sequence[str]) -> tuple[bytes, bytes]:
    return example_digest(roles, contents, key="exact"), example_digest(roles, contents)


def _parts(obj: Any) -> tuple[list[str], list[str]]:
    messages = obj["messages"]
    return [m["role"] for m in messages], [m["content"] for m in messages]


def _text_key(text: str, portable: bool) -> int:
    if not portable:
        return hash(text)
    data = text.encode("utf-8", "surrogatepass")
    return zlib.crc32(data) << 32 | zlib.adler32(data)


def _nfc_all(texts: list[str]) -> bool:
    """True when every text is in NFC; only the texts that are not ASCII are looked at (a NUL between
    them keeps each apart: it is a starter that composes with nothing)."""
    wide = list(compress(texts, map(not_, map(str.isascii, texts))))
    return not wide or _nfc("NFC", "\0".join(wide))


def _normal_already(texts: list[str], plain: Sequence[bool] | None = None) -> bool:
    """True when every text is normalised already, proven on the chunk at once: no two spaces side by
    side, nothing to strip at an end, and, unless every line is ``plain``, printable (so no white space
    but the space, no control character) and NFC. The printable test joins the texts with a letter, the
    others with a NUL (not white space: a space beside it is a space at the end of a text)."""
    joined = "\0".join(texts)
    spaced = "  " in joined or " \0" in joined or "\0 " in joined or joined[:1] == " " or joined[-1:] == " "
    if spaced:
        return False
    if plain is not None:  # the texts of plain lines are ASCII without control characters: not looked at
        texts = list(compress(texts, map(not_, plain)))
    return "a".join(texts).isprintable() and _nfc_all(texts)


def _suspects(texts: list[str]) -> list[int]:
    """The indexes of the texts that may not be normalised (the others are)."""
    printable = map(str.isprintable, texts)
    single = map(not_, map(contains, texts, repeat("  ")))
    stripped = map(is_, map(str.strip, texts), texts)
    ascii = map(str.isascii, texts)
    return [
        at
        for at, (p, s, t, a, text) in enumerate(zip(printable, single, stripped, ascii, texts, strict=True))
        if not (p and s and t and (a or _nfc("NFC", text)))
    ]


def prompt_keys(prompts: list[str], plain: Sequence[bool] | None = None, portable: bool = False) -> list[int]:
    """The keys of normalised prompts; only those not proven normalised already are normalised. A prompt
    of a ``plain`` line (ASCII, no escape) holds no white space but the space: only spaces are looked at."""
    texts = prompts
    if not _normal_already(prompts, plain):
        texts = list(prompts)
        for at in _suspects(prompts):
            texts[at] = normalize(prompts[at])
    return [_text_key(t, True) for t in texts] if portable else list(map(hash, texts))


def tails(lasts: list[str], plain: Sequence[bool] | None = None) -> list[str]:
    """The last 16 characters that are not white space of each message, normalised (a message of a
    ``plain`` line holds no white space but the space and is NFC)."""
    windows: list[str] = list(map(str.__getitem__, lasts, repeat(_WINDOW_SLICE)))
    joined = "\0".join(windows)
    looked = windows if plain is None else list(compress(windows, map(not_, plain)))
    whole = lasts if plain is None else list(compress(lasts, map(not_, plain)))
    if "a".join(looked).isprintable() and _nfc_all(whole):
        found: list[str] = list(
            map(str.__getitem__, joined.replace(" ", "").split("\0"), repeat(_TAIL_SLICE))
        )
        if min(map(len, found)) >= _TAIL or max(map(len, lasts)) <= _WINDOW:
            return found
    return [_tail(last) for last in lasts]


def _tail(last: str) -> str:
    window = last[_WINDOW_SLICE]
    if window.isprintable() and (last.isascii() or _nfc("NFC", last)):
        found = window.replace(" ", "")[_TAIL_SLICE]
        if len(found) >= _TAIL or len(last) <= _WINDOW:
            return found
    return "".join(normalize(last).split())[_TAIL_SLICE]


@dataclass
class DuplicateCounter:
    """Counts the examples that repeat an earlier one (normalised, and exactly) and those whose first
    prompt does, as the validator reads them. With a ``reader`` it keeps a sketch and an offset per
    example and reads lines again to settle equal sketches; without one it digests every example."""

    reader: LineReader | None = None
    portable: bool = False
    prompts: Repeats = field(default_factory=Repeats)
    examples: Tally = field(default_factory=Tally)
    exact: Tally = field(default_factory=Tally)
    sketches: dict[int, int] = field(default_factory=dict[int, int])  # sketch -> offset << 32 | line
    groups: dict[int, _Group] = field(default_factory=dict[int, _Group])
    eager: _Group = field(default_factory=_Group)

    @property
    def exact_count(self) -> int:
        return self.exact.count

    def add_chunk(
        self,
        prompts: list[str],
        lasts: list[str],
        orders: Sequence[tuple[int, bool]],
        lines: Sequence[int],
        *,
        offsets: Sequence[int] | None,
        objs: Sequence[Any],
        raw: Sequence[bytes] | None = None,
        plain: Sequence[bool] | None = None,
    ) -> None:
        """Count valid examples: their first user messages and last messages, ``(messages, starts with a
        system message)``, their line numbers, the byte offsets of their lines (``None``: the lines
        cannot be read again), the parsed lines, their bytes (``raw``) and whether each is ``plain``."""
        keys = prompt_keys(prompts, plain, self.portable)
        self.prompts.see_all(keys, lines)
        if offsets is None or self.reader is None or raw is None:
            for line, obj in zip(lines, objs, strict=True):
                self._digest(_parts(obj), line)
            return
        ends = tails(lasts, plain)
        ends_keys: Iterable[Any] = map(_text_key, ends, repeat(True)) if self.portable else ends
        sketches = list(map(hash, zip(orders, keys, ends_keys, strict=True)))
        packed: list[int] = list(map(int.__or__, map(int.__lshift__, offsets, repeat(_LINE_BITS)), lines))
        firsts = list(map(self.sketches.setdefault, sketches, packed))
        if firsts != packed:
            for at, (first, mine) in enumerate(zip(firsts, packed, strict=True)):
                if first != mine:
                    self._settle(sketches[at], first, raw[at], objs[at], mine & _LINE_MASK)

    def add(self, roles: Sequence[str], contents: Sequence[str], line: int) -> None:
        """Count one valid example (digested: for datasets in memory)."""
        first_user = next((i for i, role in enumerate(roles) if role == "user"), None)
        if first_user is not None:
            self.prompts.see_all(prompt_keys([contents[first_user]], None, self.portable), [line])
        self._digest((list(roles), list(contents)), line)

    def _digest(self, parts: tuple[list[str], list[str]], line: int) -> None:
        exact, normal = _digests(*parts)
        self._note(self.eager, exact, normal, line)

    def _note(self, group: _Group, exact: bytes, normal: bytes, line: int) -> int:
        """Note an example's digests in ``group``; the first line of its normalised form."""
        earlier = group.exact.setdefault(exact, line)
        if earlier != line:
            self.exact.hit(line, earlier)
        earlier = group.normal.setdefault(normal, line)
        if earlier != line:
            self.examples.hit(line, earlier)
        return earlier

    def _read(self, packed: int) -> bytes:
        assert self.reader is not None
        return self.reader(packed >> _LINE_BITS)

    def _group(self, sketch: int, first: int) -> _Group:
        """The group of ``sketch``, made from its first example's bytes (read again) when it has none."""
        group = self.groups.get(sketch)
        if group is None:
            line = first & _LINE_MASK
            group = self.groups[sketch] = _Group({_raw_key(self._read(first)): (line, line)})
        return group

    def _digested(self, group: _Group, sketch: int) -> _Group:
        """``group`` with the digests of its first example (read again, once): until a line with other
        bytes comes, every example of the group is a copy of that one."""
        if not group.digested:
            packed = self.sketches[sketch]
            exact, normal = _digests(*_parts(orjson.loads(self._read(packed))))
            line = packed & _LINE_MASK
            group.exact.setdefault(exact, line)
            group.normal.setdefault(normal, line)
            group.digested = True
        return group

    def _settle(self, sketch: int, first: int, data: bytes, obj: Any, line: int) -> None:
        """An example whose sketch an earlier one has: compared by its bytes, else by its digests."""
        group = self._group(sketch, first)
        key = _raw_key(data)
        seen = group.raw.get(key)
        if seen is not None:  # the same bytes (the usual repeat): the same example, exactly and normalised
            self.exact.hit(line, seen[0])
            self.examples.hit(line, seen[1])
            return
        exact, normal = _digests(*_parts(obj))
        normal_first = self._note(self._digested(group, sketch), exact, normal, line)
        group.raw[key] = (group.exact[exact], normal_first)

    def merge(self, other: DuplicateCounter, line_offset: int) -> None:
        """Add the part that follows this one (its offsets in the same file), ``line_offset`` lines on."""
        self.prompts.merge(other.prompts, line_offset)
        for tally, more in ((self.examples, other.examples), (self.exact, other.exact)):
            tally.count += more.count
            if more.first_repeat is not None:
                line, earlier = more.first_repeat
                if tally.first_repeat is None or line + line_offset < tally.first_repeat[0]:
                    tally.first_repeat = (line + line_offset, earlier + line_offset)
        for exact, line in other.eager.exact.items():
            self._merge_one(self.eager.exact, exact, line + line_offset, self.exact)
        for normal, line in other.eager.normal.items():
            self._merge_one(self.eager.normal, normal, line + line_offset, self.examples)
        for sketch, packed in other.sketches.items():
            shifted = packed + line_offset
            first = self.sketches.setdefault(sketch, shifted)
            theirs = other.groups.get(sketch)
            if first == shifted:
                if theirs is not None:
                    self.groups[sketch] = _shifted(theirs, line_offset)
                continue
            mine = self._digested(self._group(sketch, first), sketch)
            if theirs is None:
                theirs = self._group_of(shifted)
            else:
                theirs = _shifted(theirs, line_offset)
                if not theirs.digested:
                    alone = self._group_of(shifted)
                    theirs.exact, theirs.normal = alone.exact, alone.normal
            for exact, line in theirs.exact.items():
                self._merge_one(mine.exact, exact, line, self.exact)
            for normal, line in theirs.normal.items():
                self._merge_one(mine.normal, normal, line, self.examples)

    def _group_of(self, packed: int) -> _Group:
        """A digested group of the one example at ``packed``."""
        exact, normal = _digests(*_parts(orjson.loads(self._read(packed))))
        line = packed & _LINE_MASK
        return _Group({}, {exact: line}, {normal: line}, True)

    @staticmethod
    def _merge_one(seen: dict[bytes, int], digest: bytes, line: int, tally: Tally) -> None:
        earlier = seen.setdefault(digest, line)
        if earlier != line:
            tally.hit(line, earlier)
