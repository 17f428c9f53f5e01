"""What makes two examples the same: normalisation and the digests of an example and of its prompt.

Two examples are duplicates when their roles and contents are equal after normalisation: Unicode NFC, then
runs of white space made one space and the ends trimmed (``"Hi  there\\n"`` and ``"Hi there"`` are one).
They are exact duplicates when their roles and contents are equal as they are. Two examples share a
prompt when their first user messages are equal after the same normalisation.

Only fixed-size digests are kept, never the text: 16-byte blake2b digests of a canonical form (the roles,
then the contents with what separates them), so memory grows with the number of examples, not with their
size. The validator's counter (:mod:`finetune_sdk.data._repeats`) uses these digests only for the few
examples that may repeat an earlier one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from hashlib import blake2b
from typing import Literal

__all__ = [
    "Key",
    "example_digest",
    "example_keys",
    "is_normal",
    "keyed_text",
    "normal_text",
    "normalize",
    "prompt_digest",
]

Key = Literal["exact", "normalized", "prompt"]
"""What makes two examples the same: equal messages (``exact``), equal after normalisation
(``normalized``), or equal normalised first user prompts (``prompt``)."""


def normalize(text: str) -> str:
    """``text`` in Unicode NFC with each run of white space made one space and the ends trimmed."""
    return normal_text((text,))


def normal_text(contents: Sequence[str]) -> str:
    """The contents, each normalised (:func:`normalize`), joined by NUL.

    Only the contents that need it are normalised: the others (ASCII or printable text in NFC with single
    spaces and nothing to strip) are kept as they are, so an example with one stray space costs one
    content's normalisation, not the whole example's. The same as normalising the join of them all: NUL is
    not white space (splitting keeps it in place) and composes with nothing; the spaces left beside a NUL
    within a content are then removed, as :func:`normalize` does for one content.
    """
    if all(map(_is_plain, contents)):
        return "\0".join(contents)
    joined = "\0".join(
        [c if is_normal(c) else " ".join(unicodedata.normalize("NFC", c).split()) for c in contents]
    )
    if joined.count("\0") != len(contents) - 1:  # a content holds a NUL: no space beside it
        joined = _SPACE_AT_EDGE.sub("\0", joined)
    return joined


def is_normal(text: str) -> bool:
    """True when ``text`` is normalised already: plain ASCII (:func:`_is_plain`), or printable (so no white
    space but the space) in NFC with single spaces and nothing to strip."""
    if text.isascii():
        return _is_plain(text)
    return (
        text.isprintable()
        and text[0] != " "
        and text[-1] != " "
        and _DOUBLE_SPACE.search(text) is None
        and unicodedata.is_normalized("NFC", text)
    )


_SPACE_AT_EDGE = re.compile(" ?\0 ?")
_DOUBLE_SPACE = re.compile("  ")  # measured faster than `"  " in text` on prose


def _is_plain(text: str) -> bool:
    """True when ``text`` is ASCII and normalised already: not empty, single spaces only, nothing to strip,
    no other white space. A few C-level scans instead of splitting the text into words and joining them
    again (10x faster on prose)."""
    return (
        text.isascii()
        and bool(text)
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


def _digest(text: str, size: int) -> bytes:
    return blake2b(text.encode("utf-8", "surrogatepass"), digest_size=size).digest()


def example_digest(
    roles: Sequence[str], contents: Sequence[str], *, key: Key = "normalized", size: int = 16
) -> bytes:
    """The digest of one example's roles and contents for ``key`` ``"exact"`` or ``"normalized"``."""
    return _digest(keyed_text(roles, contents, key), size)


def keyed_text(roles: Sequence[str], contents: Sequence[str], key: Key = "normalized") -> str:
    """What :func:`example_digest` digests: two examples are the same for ``key`` ``"exact"`` or
    ``"normalized"`` when these texts are equal."""
    text = "\0".join(contents) if key == "exact" else normal_text(contents)
    return _keyed(roles, contents, text, normal=key != "exact")


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
