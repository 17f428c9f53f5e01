"""Conversations written as bare lists of messages, one per line or per element of a JSON array
(``json.dumps(messages)`` in a loop): each list read as the ``messages`` of one record, listed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .._json import as_array
from ._raw import Raw

__all__ = ["bare_conversations", "wrap_messages"]


def _message(value: Any) -> bool:
    return isinstance(value, dict) and "role" in value and "content" in value


def bare_conversations(records: list[Any], container: str) -> bool:
    """True when the sampled records of a file are messages: for JSON arrays one per line, the elements
    of the lines' arrays; for one JSON array, lists of messages."""
    if not records:
        return False
    if container == "arrays":
        return all(_message(r) for r in records)
    if container == "array":
        lists = [as_array(r) for r in records]
        return all(messages and all(_message(m) for m in messages) for messages in lists)
    return False


def wrap_messages(raws: Iterator[Raw]) -> Iterator[Raw]:
    """Each record that is a list read as ``{"messages": list}``, listed as ``wrap_messages``; any other
    record as it is (the conversion rejects it with its reason)."""
    for raw in raws:
        messages = as_array(raw.value) if raw.error is None else None
        if messages is not None:
            raw.value = {"messages": messages}
            raw.notes = (
                *raw.notes,
                ("wrap_messages", "a bare list of messages read as the record's messages"),
            )
        yield raw
