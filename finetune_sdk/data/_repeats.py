"""The validator's count of repeated examples and prompts, cheap enough for its hot loop.

Two examples that are the same once normalised have the same first user prompt once normalised, so the
hot loop keys every example by its normalised prompt alone (proving a prompt normalised costs a scan of a
short text; the whole example would cost as much as parsing it) and keeps the first line of each prompt
(its byte offset and its number: a few dozen bytes an example). Only an example whose prompt came before
(rarely: duplicates, and other answers to one prompt) is looked at further: it gets a *sketch* that
normalisation cannot change (its number of messages, its prompt and the last 16 characters of its last
message that are not white space), and the first example of its prompt, read again from the file, gets
one too. Two examples with equal sketches may still differ, so only then both are compared: by their
line's bytes (a copy has the same), else by the digests of :mod:`finetune_sdk.data._duplicates`, exactly
and normalised.

Without a way to read a line again (a stream that cannot seek, a dataset in memory), every example is
digested as it comes: the same counts, slower.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from hashlib import blake2b
from itertools import compress, repeat
from operator import getitem, itemgetter, ne, not_
from typing import Any

import orjson

from ._duplicates import is_normal, keyed_text, normalize
from ._json import Line
from ._sketches import Plain, prompt_keys, sketch_of, subset, tails, text_key

__all__ = ["DuplicateCounter", "LineReader", "Tally"]

Digest = bytes | int
"""An example's digest (see :func:`_digests`)."""

LineReader = Callable[[int], bytes]
"""Reads the line that starts at a byte offset of the file (without its newline)."""

_LINE_BITS = 32
_LINE_MASK = (1 << _LINE_BITS) - 1
_READ_AGAIN_KEPT = 256
_get_content = itemgetter("content")
_setdefault: Callable[[dict[int, int], int, int], int] = dict[int, int].setdefault


@dataclass
class Tally:
    """How many examples repeated an earlier one, and the first that did as ``(line, earlier line)``."""

    count: int = 0
    first_repeat: tuple[int, int] | None = None

    def hit(self, line: int, earlier: int) -> None:
        self.count += 1
        if self.first_repeat is None or line < self.first_repeat[0]:
            self.first_repeat = (line, earlier)

    def hit_many(self, lines: list[int], earlier: list[int]) -> None:
        """:meth:`hit` for each of ``lines`` (in order) and its ``earlier`` line."""
        if lines:
            self.count += len(lines)
            if self.first_repeat is None or lines[0] < self.first_repeat[0]:
                self.first_repeat = (lines[0], earlier[0])


@dataclass
class _Group:
    """The examples of one sketch: the first line of each distinct line's bytes (``raw``, with the first
    line of its normalised form), and, once two differ, of each exact and normalised digest."""

    raw: dict[int, tuple[int, int]] = field(default_factory=dict[int, tuple[int, int]])
    exact: dict[Digest, int] = field(default_factory=dict[Digest, int])
    normal: dict[Digest, int] = field(default_factory=dict[Digest, int])
    digested: bool = False


def _raw_key(line: Line) -> int:
    """A key of a line's bytes, the same in every process."""
    return zlib.crc32(line) << 32 | zlib.adler32(line)


def _raw_keys(lines: list[Line]) -> list[int]:
    """:func:`_raw_key` of each line."""
    crcs = map(int.__lshift__, map(zlib.crc32, lines), repeat(32))
    return list(map(int.__or__, crcs, map(zlib.adler32, lines)))


def _shifted(group: _Group, lines: int) -> _Group:
    """``group`` with its lines ``lines`` further on."""
    return _Group(
        {k: (a + lines, b + lines) for k, (a, b) in group.raw.items()},
        {k: v + lines for k, v in group.exact.items()},
        {k: v + lines for k, v in group.normal.items()},
        group.digested,
    )


def _digests(roles: Sequence[str], contents: Sequence[str], portable: bool) -> tuple[Digest, Digest]:
    """An example's exact and normalised digests: two examples are the same (exactly, or normalised) when
    their digests are equal, as for :func:`~finetune_sdk.data._duplicates.example_digest`. When the parts
    of a scan come from other processes they are its 16-byte BLAKE2b; else the cheaper ``hash`` of the
    roles and contents (compared only within this process and those forked from it, which share its
    secret): the contents already normalised are the same strings, their hashes computed once."""
    if portable:
        return _blake(keyed_text(roles, contents, "exact")), _blake(keyed_text(roles, contents))
    shape = tuple(roles)
    return hash((shape, tuple(contents))), hash((shape, tuple(map(_normal_one, contents))))


def _normal_one(text: str) -> str:
    return text if is_normal(text) else normalize(text)


def _blake(text: str) -> bytes:
    return blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _parts(obj: Any) -> tuple[list[str], list[str]]:
    messages = obj["messages"]
    return [m["role"] for m in messages], [m["content"] for m in messages]


@dataclass
class DuplicateCounter:
    """Counts the examples that repeat an earlier one (normalised, and exactly) and those whose first
    prompt does, as the validator reads them. With a ``reader`` it keeps the first line of each prompt
    and reads lines again to settle the examples that repeat a prompt; without one it digests every
    example.

    ``firsts`` maps a prompt key to its first example, ``offset << 32 | line`` (the line alone without a
    reader); ``first_raw`` a repeated prompt key to the key of its first example's bytes (a copy of that
    example, the usual repeat, is known by its bytes alone); ``sketches`` a prompt key repeated by other
    bytes to the first example of each sketch; ``groups`` a sketch two examples share to their
    digests."""

    reader: LineReader | None = None
    portable: bool = False
    prompts: Tally = field(default_factory=Tally)
    examples: Tally = field(default_factory=Tally)
    exact: Tally = field(default_factory=Tally)
    firsts: dict[int, int] = field(default_factory=dict[int, int])
    first_raw: dict[int, int] = field(default_factory=dict[int, int])
    sketches: dict[int, dict[int, int]] = field(default_factory=dict[int, dict[int, int]])
    groups: dict[int, _Group] = field(default_factory=dict[int, _Group])
    eager: _Group = field(default_factory=_Group)
    # The lines read again for the chunk at hand, and their parsed examples: a first example is often
    # wanted more than once in a row (its bytes, then its sketch, then its digests). Cleared each chunk.
    _read_again: dict[int, tuple[bytes, Any]] = field(
        default_factory=dict[int, tuple[bytes, Any]], repr=False, compare=False
    )

    @property
    def exact_count(self) -> int:
        return self.exact.count

    def add_chunk(
        self,
        messages: Sequence[Sequence[Any]],
        counts: Sequence[int],
        lines: Sequence[int],
        *,
        offsets: Sequence[int] | None,
        objs: Sequence[Any],
        raw: Sequence[Line] | None = None,
        plain: Plain = False,
    ) -> None:
        """Count valid examples: their messages and how many (an odd count starts with a system message),
        their line numbers, the byte offsets of their lines (``None``: the lines cannot be read again), the
        parsed lines, their bytes (``raw``) and which are ``plain``."""
        prompts = list(map(_get_content, map(getitem, messages, map(int.__and__, counts, repeat(1)))))
        keys = prompt_keys(prompts, plain, self.portable)
        if self.reader is None or offsets is None or raw is None:
            self._see(keys, list(lines), lines)
            for line, obj in zip(lines, objs, strict=True):
                self._digest(_parts(obj), line)
            return
        packed = list(map(int.__or__, map(int.__lshift__, offsets, repeat(_LINE_BITS)), lines))
        repeats = self._see(keys, packed, lines)
        if repeats:
            self._read_again.clear()
            self._repeated(
                repeats,
                keys=keys,
                packed=packed,
                counts=counts,
                messages=messages,
                objs=objs,
                raw=raw,
                plain=plain,
            )

    def _see(self, keys: Sequence[int], packed: list[int], lines: Sequence[int]) -> list[int]:
        """Note the prompt ``keys`` of examples at ``packed`` (on ``lines``); the indexes of those whose
        prompt came before."""
        firsts = list(map(self.firsts.setdefault, keys, packed))
        if firsts == packed:
            return []
        repeats = list(compress(range(len(packed)), map(ne, firsts, packed)))
        earlier = map(firsts.__getitem__, repeats)
        self.prompts.hit_many(
            list(map(lines.__getitem__, repeats)), list(map(int.__and__, earlier, repeat(_LINE_MASK)))
        )
        return repeats

    def _repeated(
        self,
        repeats: list[int],
        *,
        keys: Sequence[int],
        packed: list[int],
        counts: Sequence[int],
        messages: Sequence[Sequence[Any]],
        objs: Sequence[Any],
        raw: Sequence[Line],
        plain: Plain,
    ) -> None:
        """Look further at the examples (at ``repeats``) whose prompt came before, a few passes for them
        all: most repeat the first example of their prompt (the same bytes); the others are sketched."""
        wanted = list(map(keys.__getitem__, repeats))
        known = list(map(self.first_raw.get, wanted))
        if None in known:
            known = [self._first_raw(key) if k is None else k for key, k in zip(wanted, known, strict=True)]
        mine = [packed[at] for at in repeats]
        copies = list(map(int.__eq__, _raw_keys([raw[at] for at in repeats]), known))
        if any(copies):
            lines = list(map(int.__and__, compress(mine, copies), repeat(_LINE_MASK)))
            firsts = list(
                map(int.__and__, map(self.firsts.__getitem__, compress(wanted, copies)), repeat(_LINE_MASK))
            )
            self.exact.hit_many(lines, firsts)
            self.examples.hit_many(lines, firsts)
            if all(copies):
                return
        others = list(compress(repeats, map(not_, copies)))
        others_keys = list(map(keys.__getitem__, others))
        ends = tails([messages[at][-1]["content"] for at in others], subset(plain, others))
        marks: list[str] | list[int] = list(map(text_key, ends, repeat(True))) if self.portable else ends
        sketches = list(map(hash, zip(map(counts.__getitem__, others), others_keys, marks, strict=True)))
        found = list(map(self.sketches.get, others_keys))
        by_sketch = [
            self._by_sketch(key) if group is None else group
            for key, group in zip(others_keys, found, strict=True)
        ]
        others_packed = list(map(packed.__getitem__, others))
        firsts = list(map(_setdefault, by_sketch, sketches, others_packed))
        for i in compress(range(len(others)), map(ne, firsts, others_packed)):
            at = others[i]
            self._settle(
                sketches[i], firsts[i], raw[at], objs[at], packed[at] & _LINE_MASK, key=others_keys[i]
            )

    def _first_raw(self, key: int) -> int:
        """The key of the bytes of prompt ``key``'s first example (read again, once)."""
        found = self.first_raw.get(key)
        if found is None:
            found = self.first_raw[key] = _raw_key(self._read(self.firsts[key]))
        return found

    def _by_sketch(self, key: int) -> dict[int, int]:
        """The first example of each sketch of prompt ``key``, from its first example (read again) when the
        prompt is first repeated by other bytes."""
        found = self.sketches.get(key)
        if found is None:
            first = self.firsts[key]
            found = self.sketches[key] = {self._sketch_of(first, key): first}
        return found

    def _load(self, packed: int) -> Any:
        """The example at ``packed``, read again and parsed."""
        data, parsed = self._read_again.get(packed) or (self._read(packed), None)
        if parsed is None:
            parsed = orjson.loads(data)
            self._read_again[packed] = (data, parsed)
        return parsed

    def _sketch_of(self, packed: int, key: int) -> int:
        """The sketch of the example at ``packed`` (read again), whose prompt key is ``key``."""
        messages = self._load(packed)["messages"]
        return sketch_of(len(messages), key, tails([messages[-1]["content"]])[0], self.portable)

    def add(self, roles: Sequence[str], contents: Sequence[str], line: int) -> None:
        """Count one valid example (digested: for datasets in memory)."""
        first_user = next((i for i, role in enumerate(roles) if role == "user"), None)
        if first_user is not None:
            self._see(prompt_keys([contents[first_user]], False, self.portable), [line], [line])
        self._digest((list(roles), list(contents)), line)

    def _digest(self, parts: tuple[list[str], list[str]], line: int) -> None:
        exact, normal = _digests(*parts, self.portable)
        self._note(self.eager, exact, normal, line)

    def _note(self, group: _Group, exact: Digest, normal: Digest, line: int) -> int:
        """Note an example's digests in ``group``; the first line of its normalised form."""
        earlier = group.exact.setdefault(exact, line)
        if earlier != line:
            self.exact.hit(line, earlier)
        earlier = group.normal.setdefault(normal, line)
        if earlier != line:
            self.examples.hit(line, earlier)
        return earlier

    def _read(self, packed: int) -> bytes:
        """The line at ``packed``, read again (once a chunk)."""
        found = self._read_again.get(packed)
        if found is not None:
            return found[0]
        assert self.reader is not None
        data = self.reader(packed >> _LINE_BITS)
        if len(self._read_again) >= _READ_AGAIN_KEPT:  # bounded when parts are merged, too
            self._read_again.clear()
        self._read_again[packed] = (data, None)
        return data

    def _group(self, sketch: int, first: int, key: int | None = None) -> _Group:
        """The group of ``sketch``, made from its first example's bytes (read again unless it is the first of
        its prompt ``key``, whose bytes' key is known) when it has none."""
        group = self.groups.get(sketch)
        if group is None:
            line = first & _LINE_MASK
            known = self.first_raw.get(key) if key is not None and self.firsts.get(key) == first else None
            group = self.groups[sketch] = _Group(
                {_raw_key(self._read(first)) if known is None else known: (line, line)}
            )
        return group

    def _digested(self, group: _Group, first: int) -> _Group:
        """``group`` with the digests of its first example, at ``first`` (read again, once): until a line
        with other bytes comes, every example of the group is a copy of that one."""
        if not group.digested:
            exact, normal = _digests(*_parts(self._load(first)), self.portable)
            line = first & _LINE_MASK
            group.exact.setdefault(exact, line)
            group.normal.setdefault(normal, line)
            group.digested = True
        return group

    def _settle(self, sketch: int, first: int, data: Line, obj: Any, line: int, *, key: int) -> None:
        """An example (of prompt ``key``) whose sketch an earlier one has: compared by its bytes, else by
        its digests."""
        group = self._group(sketch, first, key)
        key = _raw_key(data)
        seen = group.raw.get(key)
        if seen is not None:  # the same bytes (the usual repeat): the same example, exactly and normalised
            self.exact.hit(line, seen[0])
            self.examples.hit(line, seen[1])
            return
        exact, normal = _digests(*_parts(obj), self.portable)
        normal_first = self._note(self._digested(group, first), exact, normal, line)
        group.raw[key] = (group.exact[exact], normal_first)

    def merge(self, other: DuplicateCounter, line_offset: int) -> None:
        """Add the part that follows this one (its offsets in the same file), ``line_offset`` lines on."""
        for tally, more in (
            (self.prompts, other.prompts),
            (self.examples, other.examples),
            (self.exact, other.exact),
        ):
            tally.count += more.count
            if more.first_repeat is not None:
                line, earlier = more.first_repeat
                if tally.first_repeat is None or line + line_offset < tally.first_repeat[0]:
                    tally.first_repeat = (line + line_offset, earlier + line_offset)
        for exact, line in other.eager.exact.items():
            self._merge_one(self.eager.exact, exact, line + line_offset, self.exact)
        for normal, line in other.eager.normal.items():
            self._merge_one(self.eager.normal, normal, line + line_offset, self.examples)
        for key, packed in other.firsts.items():  # a dict keeps insertion order: line order
            shifted = packed + line_offset
            mine = self.firsts.setdefault(key, shifted)
            theirs = other.sketches.get(key)
            if mine == shifted:  # a prompt new to this part: its sketches and groups as they are
                if theirs is not None:
                    self.sketches[key] = {sketch: at + line_offset for sketch, at in theirs.items()}
                    for sketch in theirs.keys() & other.groups.keys():
                        self.groups[sketch] = _shifted(other.groups[sketch], line_offset)
                continue
            self.prompts.hit(shifted & _LINE_MASK, mine & _LINE_MASK)
            if self.reader is None:
                continue  # the examples were digested: merged above
            if theirs is None:
                theirs = {self._sketch_of(shifted, key): shifted}
            else:
                theirs = {sketch: at + line_offset for sketch, at in theirs.items()}
            by_sketch = self._by_sketch(key)
            for sketch, at in theirs.items():
                self._merge_sketch(by_sketch, sketch, at, other.groups.get(sketch), line_offset)

    def _merge_sketch(
        self, by_sketch: dict[int, int], sketch: int, at: int, theirs: _Group | None, line_offset: int
    ) -> None:
        """Add the examples of ``sketch`` in the part that follows (the first at ``at``, the others in
        ``theirs``, not yet shifted by ``line_offset``) to those of this part."""
        first = by_sketch.setdefault(sketch, at)
        if first == at:
            if theirs is not None:
                self.groups[sketch] = _shifted(theirs, line_offset)
            return
        mine = self._digested(self._group(sketch, first), first)
        if theirs is None:
            theirs = self._group_of(at)
        else:
            theirs = _shifted(theirs, line_offset)
            if not theirs.digested:  # all copies of its first: the first stands for them
                alone = self._group_of(at)
                theirs.exact, theirs.normal = alone.exact, alone.normal
        for exact, line in theirs.exact.items():
            self._merge_one(mine.exact, exact, line, self.exact)
        for normal, line in theirs.normal.items():
            self._merge_one(mine.normal, normal, line, self.examples)

    def _group_of(self, packed: int) -> _Group:
        """A digested group of the one example at ``packed``."""
        exact, normal = _digests(*_parts(self._load(packed)), self.portable)
        line = packed & _LINE_MASK
        return _Group({}, {exact: line}, {normal: line}, True)

    @staticmethod
    def _merge_one(seen: dict[Digest, int], digest: Digest, line: int, tally: Tally) -> None:
        earlier = seen.setdefault(digest, line)
        if earlier != line:
            tally.hit(line, earlier)
