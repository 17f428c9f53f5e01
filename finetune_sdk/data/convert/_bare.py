"""Conversations written without the ``messages`` object: as bare lists of messages, one per line or per
element of a JSON array (``json.dumps(messages)`` in a loop), or as one ``text`` in ChatML, the chat
template already applied (``<|im_start|>user\n...<|im_end|>``). Each is read as the ``messages`` of one
record, listed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .._json import as_array, as_object
from ._raw import Raw

__all__ = ["bare_conversations", "chatml_texts", "split_chatml", "wrap_messages"]


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


_TURN = re.compile(r"<\|im_start\|>([a-z_]+)\n(.*?)<\|im_end\|>\s*", re.DOTALL)


def chatml_texts(records: list[Any]) -> bool:
    """True when the sampled records are objects whose only text is a ``text`` in ChatML."""
    objects = [o for o in map(as_object, records) if o is not None]
    return bool(objects) and all(
        isinstance(text := o.get("text"), str) and text.lstrip().startswith("<|im_start|>") for o in objects
    )


def split_chatml(raws: Iterator[Raw]) -> Iterator[Raw]:
    """Each record's ``text`` in ChatML split into its messages (the record's other keys kept, so the
    conversion lists them as left out); a text with anything outside its turns is left as it is, rejected
    with its reason."""
    for raw in raws:
        record = as_object(raw.value) if raw.error is None else None
        text = record.get("text") if record is not None else None
        if record is not None and isinstance(text, str):
            raw.value, raw.error = _messages_of(record, text)
            if raw.error is None:
                raw.notes = (*raw.notes, ("split_chatml", "the ChatML text split into its messages"))
        yield raw


def _messages_of(record: dict[str, Any], text: str) -> tuple[Any, tuple[str, str] | None]:
    stripped = text.strip()
    messages: list[dict[str, str]] = []
    at = 0
    for turn in _TURN.finditer(stripped):
        if turn.start() != at:
            break
        messages.append({"role": turn.group(1), "content": turn.group(2)})
        at = turn.end()
    if at != len(stripped) or not messages:
        where = stripped[at : at + 40]
        return record, (
            "invalid_chatml",
            "the 'text' is not whole ChatML turns (<|im_start|>role\\n...<|im_end|>): at character "
            f"{at + 1}, {where!r}",
        )
    rest = {k: v for k, v in record.items() if k != "text"}
    return {**rest, "messages": messages}, None
