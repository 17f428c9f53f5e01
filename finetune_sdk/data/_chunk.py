"""The validator's checks of a chunk of parsed lines, all at once: a few C-level passes (``map`` over the
chunk's objects and messages) instead of a Python loop per line. :func:`check_chunk` only answers "all
good" or "look again line by line" (the per-line path explains what is wrong); :func:`measure_chunk` then
measures the good examples for the statistics, mostly from the bytes of their lines.

Also :func:`fast_measure`, the same checks and measures for one parsed line, and :func:`fast_check`.

How a chunk is measured. The token estimate needs, per example, its characters, the UTF-8 bytes beyond
one per character ("wide") and its ASCII digits and punctuation marks ("singles"). One ``translate`` of the
whole block keeps the *marks* of each line: its singles and the lead byte of each character that is not
ASCII (:func:`block_marks`). When a line is written compactly (as ``orjson`` and ``json.dumps(...,
separators=(",", ":"))`` write it) its bytes are the structure (known from the number of messages), the
contents, and one byte more per escape (``\\n``, ``\\"``): so its characters are its length less all that,
and its singles the marks less the structure's. That is proven, not assumed: the length less the
structure, escapes and wide bytes is at least the characters of every line, and equal only when the line
is compact with no other key, so when the chunk's sums agree every line's figure is exact. Otherwise (white
space between the tokens, other keys, ``\\u`` escapes) the characters are summed per example and the lines
that are not simply spaced are measured from their contents, as :func:`fast_measure` does.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import accumulate, chain, compress, repeat
from operator import not_, sub
from typing import Any, NamedTuple

from ._json import Line, as_array, as_object
from ._singles import SINGLES, singles_of
from ._tokens import SPECIAL_TOKENS

__all__ = [
    "Checked",
    "Chunk",
    "Measure",
    "block_marks",
    "check_chunk",
    "control_token",
    "fast_check",
    "fast_measure",
    "line_marks",
    "measure_chunk",
]

_SEP = "\x00"
_LONGEST = 2 * 64 + 1
"""The most messages the chunk checks know (64 pairs and a system message); longer conversations go the
per-line way."""


def _valid_role_orders(pairs: int) -> dict[str, tuple[int, bool]]:
    """Every valid sequence of roles up to ``pairs`` pairs, joined by ``_SEP`` -> (messages, whether it starts
    with a system message).

    Looking up the joined string is cheaper than hashing a tuple of fresh strings, and as exact once the
    number of messages is checked too: the join of n roles holds the n - 1 separators it put in, a key of
    n roles holds exactly n - 1, so when the two are equal no role holds a separator and each role is the
    key's role at its place.
    """
    orders: dict[str, tuple[int, bool]] = {}
    for k in range(1, pairs + 1):
        body = ("user", "assistant") * k
        orders[_SEP.join(body)] = (2 * k, False)
        orders[_SEP.join(("system", *body))] = (2 * k + 1, True)
    return orders


_ROLE_ORDERS = _valid_role_orders(64)


def _roles(count: int) -> tuple[str, ...] | None:
    """The one valid order of ``count`` roles (an odd count starts with the system message), if any."""
    if count < 2:
        return None
    return ("system",) * (count & 1) + ("user", "assistant") * (count >> 1)


_ORDERS: list[tuple[str, ...] | None] = [_roles(n) for n in range(_LONGEST + 1)]
# ``None`` where no order is valid: ``join`` refuses it (TypeError), which check_chunk reads as "look again".
_ORDER_BY_COUNT: list[Any] = [None if r is None else _SEP.join(r) for r in _ORDERS]
# The compact structure of n messages, {"messages":[{"role":"user","content":""},...]}: its bytes, its
# singles (6 marks, and 14 a message) and its quotes (2, and 8 a message).
_STRUCTURE = [0 if r is None else 15 + sum(24 + len(role) for role in r) + len(r) - 1 for r in _ORDERS]
_STRUCTURE_SINGLES = [6 + 14 * n for n in range(_LONGEST + 1)]
_STRUCTURE_QUOTES = [2 + 8 * n for n in range(_LONGEST + 1)]

# The marks of a line: its singles and, for each character that is not ASCII, its lead byte (0xC0 and up)
# made 0xC0, 0xE0 or 0xF0 for a character of 2, 3 or 4 UTF-8 bytes; of a block, the newlines too, to cut
# them apart.
_MARKS = frozenset(SINGLES) | frozenset(range(0xC0, 0x100))
_LEAD_OF = bytes(c if c < 0xC0 else 0xC0 if c < 0xE0 else 0xE0 if c < 0xF0 else 0xF0 for c in range(256))
_NOT_MARKS = bytes(c for c in range(256) if c not in _MARKS)
_NOT_BLOCK_MARKS = bytes(c for c in range(256) if c not in _MARKS and c != 0x0A)
_HIGH = bytes(range(0x80, 0x100))

# C-level getters: the hot loop maps them over a chunk (a Python function per item costs several times
# more). Parsed JSON is ``Any``: their declared types say so.
Get = Callable[[Any], Any]
_get_role: Get = operator.itemgetter("role")
_get_content: Get = operator.itemgetter("content")
_get_messages: Get = operator.itemgetter("messages")
_contents_of: Callable[[Any], Iterator[Any]] = partial(map, _get_content)
_isspace = str.isspace
_strip = str.strip


def line_marks(line: Line) -> bytes:
    """The marks of one line: its ASCII digits and punctuation and the lead bytes of its wide characters."""
    return bytes(line).translate(_LEAD_OF, _NOT_MARKS)


def block_marks(text: bytes) -> list[bytes]:
    """The marks of every line of ``text``, one ``translate`` for the whole block."""
    return text.translate(_LEAD_OF, _NOT_BLOCK_MARKS).split(b"\n")


class Checked(NamedTuple):
    """A chunk of valid examples as :func:`check_chunk` found them."""

    messages: list[list[Any]]
    counts: list[int]  # messages per example
    contents: list[str]  # every message's content, example after example


@dataclass
class Chunk:
    """What the statistics need of a chunk of valid examples, one entry per example."""

    messages: list[list[Any]]
    counts: list[int]  # messages (an odd count starts with a system message)
    characters: list[int]
    wide: list[int]  # UTF-8 bytes beyond one per character
    singles: list[int]  # ASCII digits and punctuation marks
    extra: list[int]  # indexes of the examples with other keys than messages/role/content
    plain: list[bool] | bool  # per line (or for all): ASCII without a backslash
    compact: bool = True  # every line written compactly (so measured from its bytes alone)
    control: list[int] = field(default_factory=list[int])  # indexes of the examples with a control token


def check_chunk(objs: Sequence[Any], lines: Sequence[Line]) -> Checked | None:
    """The messages of ``objs`` (parsed from ``lines``) when every one is a valid example, else ``None``.

    A missing key, a wrong type (a ``len`` or a getter that does not apply, a role that ``join`` refuses,
    a content that ``str.strip`` refuses) makes a pass raise, which means "look again"; so does a
    conversation longer than 64 pairs (the per-line path knows it). The roles are checked by comparing
    the join of them all with the join of the one valid order for each example's number of messages (as
    exact as the comparison of :data:`_ROLE_ORDERS`: the separators counted on both sides agree).
    """
    try:
        messages = list(map(_get_messages, objs))
        counts = list(map(len, messages))
        expected = _SEP.join(map(_ORDER_BY_COUNT.__getitem__, counts))
        flat = list(chain.from_iterable(messages))
        if _SEP.join(map(_get_role, flat)) != expected:
            return None
        contents = list(map(_get_content, flat))
        if not all(map(_strip, contents)):  # empty, or only white space
            return None
    except (KeyError, TypeError, IndexError):
        return None
    return Checked(messages, counts, contents)


def measure_chunk(
    checked: Checked,
    objs: Sequence[Any],
    lengths: Sequence[int],
    marks: list[bytes],
    *,
    compact: bool = True,
) -> Chunk:
    """The measures of a checked chunk, parsed ``objs`` of lines of ``lengths`` bytes whose
    :func:`line_marks` are ``marks`` (see the module's docstring for how). ``compact=False`` (the chunk
    before was not: a file is written one way throughout) skips the try of the sums, sums the characters
    per example at once and measures the lines with escapes from their contents."""
    messages, counts, contents = checked
    size = len(counts)
    zeros = [0] * size
    wide, leads, escapes = zeros, zeros, zeros
    every = b"".join(marks)
    plain: list[bool] | None = None  # every line plain
    if not every.isascii():
        wide, leads = list(zeros), list(zeros)
        for at in compress(range(size), map(not_, map(bytes.isascii, marks))):
            mark = marks[at]
            leads[at] = count = len(mark) - len(mark.translate(None, _HIGH))
            # 1, 2 or 3 bytes more for a character of 2, 3 or 4 (most wide text is of 3: looked for first)
            more = 2 * count
            if b"\xc0" in mark:
                more -= mark.count(b"\xc0")
            if b"\xf0" in mark:
                more += mark.count(b"\xf0")
            wide[at] = more
        plain = list(map(not_, leads))
    backslash = b"\\" in every
    if backslash:
        escaped = list(map(operator.contains, marks, repeat(b"\\")))
        unescaped = list(map(not_, escaped))
        plain = unescaped if plain is None else list(map(bool.__and__, plain, unescaped))
        if compact:  # else not counted: a line with an escape then looks longer, so it is measured apart
            escapes = list(zeros)
            for at in compress(range(size), escaped):
                escapes[at] = _escapes(marks[at], messages[at])
    structure: Iterator[int] = map(_STRUCTURE.__getitem__, counts)
    marked: Iterator[int] = map(sub, map(len, marks), map(_STRUCTURE_SINGLES.__getitem__, counts))
    if wide is zeros and escapes is zeros:  # ASCII without escapes: the bytes are the characters
        sizes = list(map(sub, lengths, structure))
        singles = list(marked)
    else:
        sizes = list(map(sub, map(sub, map(sub, lengths, structure), escapes), wide))
        singles = list(map(sub, map(sub, marked, leads), escapes))
    every_plain = True if plain is None else plain
    control = _control(every, marks, messages, backslash=backslash)
    if compact and sum(sizes) == sum(map(len, contents)):  # every line compact: each figure exact
        return Chunk(messages, counts, sizes, wide, singles, [], every_plain, control=control)
    characters = _characters(contents, counts)
    if not compact and sizes == characters:  # compact after all (each figure at least the characters)
        return Chunk(messages, counts, sizes, wide, singles, [], every_plain, control=control)
    extra = _extra(objs, messages, contents)
    if wide is zeros:
        wide = list(zeros)
    for at in compress(range(size), map(operator.ne, sizes, characters)):
        mark = marks[at]
        if b"\\" in mark or mark.count(b'"') != _STRUCTURE_QUOTES[counts[at]]:
            # not only white space between the tokens (another key, or a key written twice, brings more
            # quotes; an escape may be a \u one): measured from the contents
            raw = "".join(_contents_of(messages[at])).encode()
            wide[at] = len(raw) - characters[at]
            singles[at] = singles_of(raw)
    return Chunk(
        messages, counts, characters, wide, singles, extra, every_plain, compact=False, control=control
    )


def _control(every: bytes, marks: list[bytes], messages: list[list[Any]], *, backslash: bool) -> list[int]:
    """The indexes of the examples whose text holds one of Qwen's control tokens (:func:`control_token`).

    Each token holds ``|``, a mark: a chunk whose marks (``every``) have none, nor ``\\007`` where the line
    has a backslash (``\\u007c``, an escaped ``|``), holds no control token, and that costs one scan of
    the marks (most chat text has no ``|``)."""
    if b"|" not in every and not (backslash and b"\\007" in every):
        return []
    return [
        at
        for at, mark in enumerate(marks)
        if (b"|" in mark or b"\\007" in mark) and control_token(_contents_of(messages[at])) is not None
    ]


_CONTROL = re.compile("|".join(re.escape(t) for t in SPECIAL_TOKENS if t.startswith("<|")))


def control_token(contents: Iterable[str]) -> str | None:
    """The first of Qwen's control tokens (``<|im_end|>``, ``<|endoftext|>``...) found in ``contents``, or
    ``None``. The chat template puts them around every message, so one inside a message's text would end
    or start a message there for a tokenizer that reads them (``<tool_call>`` is not one: tool calls are
    rendered with it)."""
    for text in contents:
        if "<|" in text:
            found = _CONTROL.search(text)
            if found is not None:
                return found.group()
    return None


def _escapes(marks: bytes, messages: list[Any]) -> int:
    """The number of escapes (``\\n``, ``\\\\``...) in a compact line with these ``marks``: its
    backslashes less its contents' own backslashes (each written ``\\\\``: two backslashes, one escape).

    For a line written otherwise the figure still leaves its length less the structure, the escapes and
    the wide bytes at least its characters (an escape takes two bytes or more, ``\\u005c`` six), which is
    what the chunk's sums rely on. A content's backslash puts two side by side among the marks; without
    that (most lines: their escapes are ``\\n``) the contents are not looked at."""
    found = marks.count(b"\\")
    if b"\\\\" in marks:
        found -= sum(text.count("\\") for text in map(_get_content, messages) if "\\" in text)
    return found


def _characters(contents: list[str], counts: list[int]) -> list[int]:
    """The characters of each example: sums of its messages' lengths, taken from running totals."""
    totals = [0, *accumulate(map(len, contents))]
    at_end = list(map(totals.__getitem__, accumulate(counts)))
    return list(map(sub, at_end, [0, *at_end[:-1]]))


def _extra(objs: Sequence[Any], messages: list[list[Any]], contents: list[str]) -> list[int]:
    """The indexes of the examples with other keys than messages/role/content."""
    if set(map(len, objs)) == {1} and sum(map(len, chain.from_iterable(messages))) == 2 * len(contents):
        return []
    return [i for i, (obj, msgs) in enumerate(zip(objs, messages, strict=True)) if _has_extra(obj, msgs)]


def _has_extra(obj: dict[str, Any], messages: list[dict[str, Any]]) -> bool:
    return len(obj) != 1 or sum(map(len, messages)) != 2 * len(messages)


Measure = tuple[int, bool, int, int, bool, int, list[str]]
"""What :func:`fast_measure` finds in a valid example: ``(messages, has_system, characters, extra UTF-8
bytes, has unknown keys, ASCII digits and punctuation marks, contents)``."""


def fast_measure(obj: Any) -> Measure | None:
    """The measures of one parsed line when it is a valid example, else ``None``."""
    record = as_object(obj)
    msgs = as_array(record.get("messages")) if record is not None else None
    if record is None or msgs is None:
        return None
    try:
        found = _ROLE_ORDERS.get(_SEP.join(map(_get_role, msgs)))
        if found is not None and found[0] == len(msgs):
            system = found[1]
        else:
            long = None if len(msgs) <= _LONGEST else _long_order(tuple(map(_get_role, msgs)))
            if long is None:
                return None
            system = long
        contents: list[str] = list(map(_get_content, msgs))
        text = "".join(contents)  # TypeError unless every content is a str
        if "" in contents or any(map(_isspace, contents)):
            return None
        raw = text.encode()
        extra_keys = len(record) != 1 or sum(map(len, msgs)) != 2 * len(msgs)
    except (KeyError, TypeError, UnicodeEncodeError):
        return None
    return len(msgs), system, len(text), len(raw) - len(text), extra_keys, singles_of(raw), contents


def fast_check(obj: Any) -> bool:
    """True when a parsed line is a valid example (the fast path's verdict)."""
    return fast_measure(obj) is not None


def _long_order(roles: tuple[str, ...]) -> bool | None:
    """Like the ``_ROLE_ORDERS`` look-up, for conversations too long to be listed there."""
    system = roles[0] == "system"
    pairs, odd = divmod(len(roles) - system, 2)
    if odd or roles[system:] != ("user", "assistant") * pairs:
        return None
    return system
