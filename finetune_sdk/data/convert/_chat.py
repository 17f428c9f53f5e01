"""Message-list sources: ShareGPT (``conversations`` of ``from``/``value``), OpenAI chat JSON Lines (with
``name``, ``weight``, ``tool_calls``, content parts, ``developer``; and OpenAI's older function calling:
``function_call`` on an assistant message, ``function`` messages, the record's ``functions``) and the
platform's own format.

One reader serves them all, told the keys and the role table by a :class:`FieldMap`.
"""

from __future__ import annotations

from typing import Any

from ..._text import plural
from .._json import as_array, as_object
from ._fields import FieldMap
from ._repairs import Note, Reject, Repairs, Turn

__all__ = ["chat_turns"]

#: Message keys the reader uses besides the role and content keys; others are noted as left out.
_MESSAGE_KEYS = frozenset({"weight", "tool_calls", "function_call"})


def chat_turns(record: Any, fields: FieldMap, repairs: Repairs, note: Note) -> list[Turn]:
    """The turns of one record of a message-list source."""
    messages_key, role_key, content_key = fields.messages, fields.role, fields.content
    assert messages_key
    assert role_key
    assert content_key
    obj = as_object(record)
    if obj is None:
        raise Reject("not_an_object", f"the record is a JSON {type(record).__name__}, not an object")
    found = obj.get(messages_key)
    if found is None:
        why = (
            f"its {messages_key!r} is null"
            if messages_key in obj
            else f"the record has no {messages_key!r} key (keys: {', '.join(map(repr, obj)) or 'none'})"
        )
        raise Reject("missing_messages", why)
    messages = as_array(found)
    if messages is None:
        raise Reject("messages_not_list", f"{messages_key!r} is not a list")
    if "chosen" in obj and "rejected" in obj and "chosen" not in (messages_key, fields.system):
        # LLaMA-Factory's preference data: the answers follow the turns. Without them the record would
        # train on its history alone, or on nothing (its last turn is the question they answer).
        raise Reject(
            "preference_pair",
            f"the record has a 'chosen' and a 'rejected' answer after its {messages_key!r} (preference "
            "data, for DPO): the platform trains on one answer per prompt; append each record's chosen "
            f"answer to its {messages_key!r} to train on it",
        )
    turns: list[Turn] = []
    system = obj.get(fields.system) if fields.system else None
    if system is not None:
        if not isinstance(system, str):
            raise Reject("invalid_content", f"the top-level {fields.system!r} is not text")
        if system.strip():
            turns.append(Turn("system", system))
            note("top_level_system", f"the top-level {fields.system!r} became the first message")
    rendered = repairs.tool_definitions == "render" and repairs.tools == "render"
    definitions = _definitions(obj, note) if rendered else None
    if definitions:
        turns.append(Turn("tools", definitions))
    used = (messages_key, fields.system, *(("tools", "functions") if definitions else ()))
    ignored_top = sorted(str(k) for k in obj if k not in used)  # in memory, keys of any type
    if ignored_top:
        note("ignored_keys", f"left out the record's keys {', '.join(ignored_top)} (not training text)")
    renamed: dict[str, str] = {}
    ignored: set[str] = set()
    legacy: list[int] = []
    for index, item in enumerate(messages):
        turns.append(_turn(index, item, fields, repairs, renamed=renamed, ignored=ignored, legacy=legacy))
    if legacy:
        note(
            "function_call",
            f"message {', '.join(map(str, legacy))}: the function_call (OpenAI's older format) read as a "
            "tool call",
        )
    if renamed:
        note("map_roles", ", ".join(f"{a} -> {b}" for a, b in renamed.items()))
    if ignored:
        note(
            "ignored_keys",
            f"left out the message keys {', '.join(sorted(ignored))} (the platform ignores them)",
        )
    return turns


def _turn(
    index: int,
    item: Any,
    fields: FieldMap,
    repairs: Repairs,
    *,
    renamed: dict[str, str],
    ignored: set[str],
    legacy: list[int],
) -> Turn:
    """The turn of message ``index``; the roles it renamed, the keys it left out and whether it has a
    ``function_call`` (an index in ``legacy``) are noted."""
    role_key, content_key = fields.role or "role", fields.content or "content"
    message = as_object(item)
    if message is None:
        raise Reject("invalid_message", f"message {index} is not an object")
    raw_role = message.get(role_key)
    if not isinstance(raw_role, str):
        raise Reject(
            "missing_field" if raw_role is None else "invalid_role",
            f"message {index} has no text {role_key!r}",
        )
    role = _map_role(raw_role, fields, repairs, index)
    if role != raw_role:
        renamed[raw_role] = role
    function_call = message.get("function_call") or None
    if content_key not in message and not message.get("tool_calls") and function_call is None:
        raise Reject("missing_field", f"message {index} has no {content_key!r}")
    given = message.get("tool_calls") or None
    calls = as_array(given)
    if given is not None and calls is None:
        raise Reject("invalid_tool_call", f"message {index}: tool_calls is not a list")
    if function_call is not None:
        if as_object(function_call) is None:
            raise Reject("invalid_tool_call", f"message {index}: function_call is not an object")
        calls = [*(calls or []), function_call]
        legacy.append(index)
    if len(message) > 2:
        ignored.update(str(k) for k in message if k not in (role_key, content_key) and k not in _MESSAGE_KEYS)
    return Turn(role, message.get(content_key), calls=calls, weight=message.get("weight"))


def _definitions(obj: dict[str, Any], note: Note) -> Any:
    """The record's tool definitions: its ``tools``, and its ``functions`` (OpenAI's older format: each a
    function, written as the tool ``{"type": "function", "function": ...}`` it stands for)."""
    tools = obj.get("tools")
    functions = obj.get("functions")
    if not functions:
        return tools
    listed = as_array(functions)
    if listed is None:
        raise Reject("invalid_tools", "the record's functions are not a list")
    if tools and as_array(tools) is None:
        raise Reject("invalid_tools", "the record's tools are not a list")
    wrapped = [{"type": "function", "function": f} for f in listed]
    note(
        "functions_as_tools",
        f"the record's {plural(len(listed), 'function')} (OpenAI's older format) read as tool definitions",
    )
    return [*(as_array(tools) or []), *wrapped]


def _map_role(raw: str, fields: FieldMap, repairs: Repairs, index: int) -> str:
    if raw in ("system", "user", "assistant"):
        return raw
    if not repairs.map_roles:
        raise Reject("invalid_role", f"message {index} has the role {raw!r} (role mapping is off)")
    mapped = fields.roles.get(raw) or fields.roles.get(raw.lower())
    if mapped is None:
        raise Reject(
            "unknown_role",
            f"message {index} has the role {raw!r}, which the converter does not know: map it with "
            f"--role '{raw}=assistant' (or user, system, tool; FieldMap(roles={{{raw!r}: 'assistant'}}) in "
            "Python)",
        )
    return mapped
