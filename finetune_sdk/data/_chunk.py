"""The validator's checks of a chunk of parsed lines, all at once: a few C-level passes (``map`` over the
chunk's objects and messages) instead of a Python loop per line. They only answer "all good" (with what
the statistics need) or "look again line by line"; the per-line path explains what is wrong.

Also :func:`fast_measure`, the same checks for one parsed line, and :func:`fast_check`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import accumulate, chain, compress, repeat
from typing import Any, cast

from ._json import as_array, as_object
from ._singles import NOT_SINGLES, singles_of

__all__ = ["Chunk", "Measure", "check_chunk", "fast_check", "fast_measure"]

_SEP = "\x00"


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
# C-level getters: the hot loop maps them over a chunk (a Python function per item costs several times
# more). Parsed JSON is ``Any``: their declared types say so.
Get = Callable[[Any], Any]
_get_role: Get = operator.itemgetter("role")
_get_content: Get = operator.itemgetter("content")
_get_messages: Get = operator.itemgetter("messages")
_get_first: Get = operator.itemgetter(0)
_get_second: Get = operator.itemgetter(1)
_get_last: Get = operator.itemgetter(-1)
_roles_of: Callable[[Any], Iterator[Any]] = partial(map, _get_role)
_contents_of: Callable[[Any], Iterator[Any]] = partial(map, _get_content)
_keep_singles: Callable[[bytes], bytes] = operator.methodcaller("translate", None, NOT_SINGLES)
_isspace = str.isspace


@dataclass
class Chunk:
    """What the statistics need of a chunk of valid examples, one entry per example."""

    orders: list[tuple[int, bool]]  # (messages, starts with a system message)
    prompts: list[str]  # the first user message
    lasts: list[str]  # the last message (the assistant's answer)
    characters: list[int]
    wide: list[int]  # UTF-8 bytes beyond one per character
    singles: list[int]  # ASCII digits and punctuation marks
    extra: list[int]  # indexes of the examples with other keys than messages/role/content
    plain: list[bool]  # lines of ASCII without a backslash: no escape, so no white space but the space


def check_chunk(objs: Sequence[Any], lines: Sequence[bytes]) -> Chunk | None:
    """The measures of ``objs`` (parsed from ``lines``) when every one is a valid example, else ``None``.

    A missing key, a wrong type or a non-string role or content makes one of the passes raise, which
    means "look again"; so does a conversation longer than 64 pairs (the per-line path knows it).
    """
    try:
        messages = list(map(_get_messages, objs))
        if set(map(type, messages)) != {list}:
            return None
        orders = list(map(_ROLE_ORDERS.get, map(_SEP.join, map(_roles_of, messages))))
        if None in orders:
            return None
        found = cast("list[tuple[int, bool]]", orders)  # no None left
        counts = list(map(len, messages))
        if list(map(_get_first, found)) != counts:
            return None
        flat_messages = list(chain.from_iterable(messages))
        flat = list(map(_get_content, flat_messages))
        if set(map(type, flat)) != {str}:
            return None
        lengths = list(map(len, flat))
        if 0 in lengths or any(map(_isspace, flat)):
            return None
        systems = list(map(_get_second, found))
        prompts = list(map(_get_content, map(operator.getitem, messages, systems)))
        lasts = list(map(_get_content, map(_get_last, messages)))
        extra: list[int] = []
        if set(map(len, objs)) != {1} or sum(map(len, flat_messages)) != 2 * len(flat):
            extra = [
                i for i, (obj, msgs) in enumerate(zip(objs, messages, strict=True)) if _has_extra(obj, msgs)
            ]
        # The characters of each example: sums of its messages' lengths, taken from running totals.
        ends = list(accumulate(counts))
        totals = [0, *accumulate(lengths)]
        at_end = list(map(totals.__getitem__, ends))
        characters = list(map(operator.sub, at_end, [0, *at_end[:-1]]))
        escaped = list(map(operator.contains, lines, repeat(b"\\")))
        ascii = list(map(bytes.isascii, lines))  # an escape (\u4f60) may hide a wide character
        # A line's own bytes hold its contents' digits and punctuation, and its structure's punctuation
        # ({"messages":[...]}: 6 marks, and 14 a message), unless it has escapes (\u0031 is "1", \" a
        # quote) or other keys.
        structure = map(operator.add, map(operator.mul, counts, repeat(14)), repeat(6))
        singles = list(map(operator.sub, map(len, map(_keep_singles, lines)), structure))
        wide = [0] * len(lines)
        looked = set(compress(range(len(lines)), map(operator.not_, ascii)))
        looked |= set(compress(range(len(lines)), escaped)) | set(extra)
        for at in looked:
            raw = "".join(map(_get_content, messages[at])).encode()
            wide[at] = len(raw) - characters[at]
            if escaped[at] or at in extra:
                singles[at] = singles_of(raw)
        plain = list(map(bool.__and__, ascii, map(operator.not_, escaped)))
    except (KeyError, TypeError, UnicodeEncodeError):
        return None
    return Chunk(found, prompts, lasts, characters, wide, singles, extra, plain)


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
            long = None if len(msgs) <= 2 * 64 + 1 else _long_order(tuple(map(_get_role, msgs)))
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
