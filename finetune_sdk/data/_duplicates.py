"""Duplicate examples and prompts: the digests that find them, and the counter the validator keeps.

Two examples are duplicates when their roles and contents are equal after normalisation: Unicode NFC, then
runs of white space made one space and the ends trimmed (``"Hi  there\\n"`` and ``"Hi there"`` are one).
Two examples share a prompt when their first user messages are equal after the same normalisation.

Only fixed-size digests are kept, never the text, so memory grows with the number of examples, not with
their size. What drops or flags an example (``dedupe``, ``split``, ``leakage``) uses 16-byte blake2b
digests. The validator's counts use a 64-bit key made of CRC-32 and Adler-32, three times cheaper than
blake2b in its hot loop: a collision could only make a count lower, never drop or flag an example. Most
examples are normalised already; the validator proves it with a few scans of the line and then keys the
bytes its checks encoded, so only the others are normalised (the counts are the same either way).
"""

from __future__ import annotations

import itertools
import operator
import re
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from hashlib import blake2b
from typing import Any, Literal

__all__ = [
    "DuplicateCounter",
    "Key",
    "example_digest",
    "example_keys",
    "normal_text",
    "normalize",
    "prompt_digest",
]

Key = Literal["exact", "normalized", "prompt"]
"""What makes two examples the same: equal messages (``exact``), equal after normalisation
(``normalized``), or equal normalised first user prompts (``prompt``)."""

_get_content = operator.itemgetter("content")


def normalize(text: str) -> str:
    """``text`` in Unicode NFC with each run of white space made one space and the ends trimmed."""
    return normal_text((text,))


def normal_text(contents: Sequence[str]) -> str:
    """The contents, each normalised (:func:`normalize`), joined by NUL.

    Done once on the joined text rather than per content: NUL is not white space, so splitting on white
    space keeps it in place, and the spaces left beside it (a content's ends) are then removed.
    """
    joined = "\0".join(contents)
    if joined.isascii():
        ends = [c[:1] for c in contents] + [c[-1:] for c in contents]
        if " " not in ends and "" not in ends and _is_plain(joined):
            return joined
    else:
        joined = unicodedata.normalize("NFC", joined)
    return _SPACE_AT_EDGE.sub("\0", " ".join(joined.split()))


_SPACE_AT_EDGE = re.compile(" ?\0 ?")
_DOUBLE_SPACE = re.compile("  ")  # measured faster than `"  " in text` on prose
_DOUBLE_SPACE_BYTES = re.compile(b"  ")


def _is_plain(text: str) -> bool:
    """True when ASCII ``text`` is normalised already (its contents' ends are checked apart): single spaces
    only, no other white space. A few C-level scans instead of splitting the text into words and joining them
    again (10x faster on prose)."""
    return (
        bool(text)
        and text[0] != " "
        and text[-1] != " "
        and "\n" not in text
        and "\t" not in text
        and "\r" not in text
        and "\x0b" not in text
        and "\x0c" not in text
        and "\x1c" not in text
        and "\x1d" not in text
        and "\x1e" not in text
        and "\x1f" not in text
        and _DOUBLE_SPACE.search(text) is None
    )


def _quick(text: str) -> int:
    data = text.encode("utf-8", "surrogatepass")
    return zlib.crc32(data) << 32 | zlib.adler32(data)


def _digest(text: str, size: int) -> bytes:
    return blake2b(text.encode("utf-8", "surrogatepass"), digest_size=size).digest()


def example_digest(
    roles: Sequence[str], contents: Sequence[str], *, key: Key = "normalized", size: int = 16
) -> bytes:
    """The digest of one example's roles and contents for ``key`` ``"exact"`` or ``"normalized"``."""
    text = "\0".join(contents) if key == "exact" else normal_text(contents)
    return _digest(_keyed(roles, contents, text, normal=key != "exact"), size)


def _keyed(roles: Sequence[str], contents: Sequence[str], text: str, *, normal: bool) -> str:
    """What is digested for an example: its roles, then ``text`` (its contents joined by NUL), or, when a
    content holds a NUL itself (the join is then ambiguous: ``["a\0b", "c"]``, ``["a", "b\0c"]``), each
    content with its length before it."""
    head = "\0".join(roles)
    if text.count("\0") == len(contents) - 1:  # no content holds a NUL: the join can be split back
        return head + "\0\0" + text
    parts = [normalize(c) for c in contents] if normal else contents
    return head + "\0\1" + "".join(f"{len(p)}:{p}" for p in parts)


def prompt_digest(roles: Sequence[str], contents: Sequence[str], *, size: int = 16) -> bytes | None:
    """The digest of an example's first user message, normalised; ``None`` when it has none."""
    for role, content in zip(roles, contents, strict=True):
        if role == "user":
            return _digest(normalize(content), size)
    return None


def example_keys(roles: Sequence[str], contents: Sequence[str], key: Key, size: int = 16) -> bytes | None:
    """The digest for ``key``: :func:`prompt_digest` for ``"prompt"``, else :func:`example_digest`."""
    if key == "prompt":
        return prompt_digest(roles, contents, size=size)
    return example_digest(roles, contents, key=key, size=size)


@dataclass
class Repeats:
    """The first line of every digest seen, how many lines repeated an earlier one, and the first that
    did, as ``(line, line of the earlier copy)``; lines are those of the part it saw."""

    first: dict[int, int] = field(default_factory=dict)
    count: int = 0
    first_repeat: tuple[int, int] | None = None

    def see(self, digest: int, line: int) -> None:
        earlier = self.first.setdefault(digest, line)
        if earlier != line:
            self.count += 1
            if self.first_repeat is None:
                self.first_repeat = (line, earlier)

    def merge(self, other: Repeats, line_offset: int) -> None:
        """Add the part that follows this one, ``line_offset`` lines further on (repeats across the two
        parts count too)."""
        if not self.first and not self.count and not line_offset:  # the first part: taken as it is
            self.first, self.count, self.first_repeat = dict(other.first), other.count, other.first_repeat
            return
        own = self.first_repeat
        for digest, line in other.first.items():  # a dict keeps insertion order: line order
            self.see(digest, line + line_offset)
        self.count += other.count
        if own is None and other.first_repeat is not None:  # the earlier of one across and one inside
            inside = (other.first_repeat[0] + line_offset, other.first_repeat[1] + line_offset)
            self.first_repeat = inside if self.first_repeat is None else min(self.first_repeat, inside)


@dataclass
class DuplicateCounter:
    """Counts the examples that repeat an earlier one, and those whose first prompt does, as the validator
    reads them. Holds two 64-bit keys per distinct example."""

    examples: Repeats = field(default_factory=Repeats)
    prompts: Repeats = field(default_factory=Repeats)

    def add_measured(
        self,
        lines: Iterable[bytes | None],
        systems: Iterable[bool],
        contents: Iterable[Sequence[str]],
        data: Iterable[bytes],
        first_line: int,
    ) -> None:
        """Count valid examples on consecutive lines from ``first_line``, from what the validator's checks
        already took out of them: the raw line, whether it starts with a system message, the contents and
        their UTF-8 bytes back to back.

        The hot loop. Most examples are normalised already (:func:`_plain` proves it with a few C-level
        scans), and then their key is that of the bytes the checks encoded: nothing is normalised, joined
        or encoded again.
        """
        see_example, see_prompt = self.examples.see, self.prompts.see
        example_first, prompt_first = self.examples.first.setdefault, self.prompts.first.setdefault
        rows = zip(lines, systems, contents, data, strict=True)
        for line, (raw, system, texts, encoded) in enumerate(rows, first_line):
            if not _plain(texts, raw):
                texts = _normal_parts(texts)  # noqa: PLW2901 (the normalised contents replace them)
                encoded = "".join(texts).encode("utf-8", "surrogatepass")  # noqa: PLW2901
            key = _example_key(2 * len(texts) + system, texts, encoded)
            if example_first(key, line) != line:  # a repeat (rare): counted by `see`
                see_example(key, line)
            key = _quick(texts[system])  # a valid example's first user message
            if prompt_first(key, line) != line:
                see_prompt(key, line)

    def add_parsed(self, objs: Iterable[Any], first_line: int) -> None:
        """Count valid parsed lines (``{"messages": [...]}``) on consecutive lines from ``first_line``."""
        rows = [list(map(_get_content, obj["messages"])) for obj in objs]
        self.add_measured(
            itertools.repeat(None, len(rows)),
            [obj["messages"][0]["role"] == "system" for obj in objs],
            rows,
            ["".join(texts).encode("utf-8", "surrogatepass") for texts in rows],
            first_line,
        )

    def add(self, roles: Sequence[str], contents: Sequence[str], line: int) -> None:
        """Count one valid example."""
        parts = _normal_parts(contents)
        encoded = "".join(parts).encode("utf-8", "surrogatepass")
        self.examples.see(_example_key(_order(roles), parts, encoded), line)
        first_user = next((i for i, role in enumerate(roles) if role == "user"), None)
        if first_user is not None:
            self.prompts.see(_quick(parts[first_user]), line)

    def merge(self, other: DuplicateCounter, line_offset: int) -> None:
        """Add the part that follows this one, ``line_offset`` lines further on."""
        self.examples.merge(other.examples, line_offset)
        self.prompts.merge(other.prompts, line_offset)


def _example_key(order: int, contents: Sequence[str], encoded: bytes) -> int:
    """The validator's 64-bit key of an example whose ``contents`` are normalised: its roles (``order``,
    :func:`_order`), the length of each content and two checksums of ``encoded``, the contents' UTF-8
    bytes back to back, hashed together. The lengths say where each content ends, so no content can run
    into the next whatever it holds (NUL included), and the bytes the checks encoded serve without a join.
    Only integers are hashed, and Python's hash of a tuple of integers is the same in every process (that
    of a string is not), so the keys of worker processes can be compared."""
    return hash((order, zlib.crc32(encoded), zlib.adler32(encoded), *map(len, contents)))


def _order(roles: Sequence[str]) -> int:
    """The roles as :func:`_example_key` takes them: the roles of a valid example are known from their
    number and whether the first is ``system`` (what the validator passes, ``2 * messages + system``);
    any other roles get a negative checksum of theirs, each with its length before it."""
    system = bool(roles) and roles[0] == "system"
    if list(roles) == ["system"] * system + ["user", "assistant"] * (len(roles) // 2):
        return 2 * len(roles) + system
    return -1 - _quick("".join(f"{len(role)}:{role}" for role in roles))


def _normal_parts(contents: Sequence[str]) -> list[str]:
    """Each content normalised (:func:`normalize`): all at once when no content holds a NUL."""
    if not any("\0" in c for c in contents):
        return normal_text(contents).split("\0")
    return [normalize(c) for c in contents]


def _plain(contents: Sequence[str], line: bytes | None) -> bool:
    """True when every content is normalised already (normalising would give it back unchanged); it may
    say False of a normalised one, which is then normalised for nothing.

    No content may start or end with white space (``str.strip`` gives back the very same string when it
    has nothing to strip), nor hold a NUL (the spaces beside it would go). Inside, an ASCII ``line``
    without a backslash holds no escape, so its strings hold no control character (JSON escapes them) and
    no other white space than the space: no two spaces side by side anywhere in the line is enough (one
    C-level scan, the dearest of these checks). Else the contents' text is checked: :func:`_is_plain` for
    ASCII; for other text, Unicode's NFC quick check (``unicodedata.normalize`` gives back the very same
    string when it answers yes, which it does for the whole text only when it does for each piece) and
    its white space.
    """
    if list(map(str.strip, contents)) != contents:
        return False
    if line is not None and line.isascii() and b"\\" not in line:
        return _DOUBLE_SPACE_BYTES.search(line) is None
    text = "".join(contents)
    if "\0" in text:  # normalising takes the spaces beside a NUL away too (see `normal_text`)
        return False
    if text.isascii():
        return _is_plain(text)
    return unicodedata.normalize("NFC", text) is text and " ".join(text.split()) == text
