"""A chat request, sans I/O: the messages, the sampling settings and their checks, the body sent.

Every argument is checked here, before anything is sent: a misspelt keyword is a ``TypeError``, a value
out of range a ``ValueError``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Union, cast

from typing_extensions import Unpack

from .._core.checks import is_conversation, is_message, is_number, is_str, is_str_mapping, is_whole
from .._core.options import RequestOptions, apply_options
from .._core.wire import RequestSpec
from ..errors import APIStatusError

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

    from ..data import Conversation, Message

__all__ = [
    "CHAT_PATH",
    "DEFAULT_MAX_TOKENS",
    "ChatOptions",
    "Messages",
    "chat_body",
    "chat_request",
    "normalize_messages",
    "without_stream_options",
]

DEFAULT_MAX_TOKENS: Final = 4096
CHAT_PATH: Final = "chat/completions"

# The openai TypedDicts give editors completion for message dicts; they exist for type checkers only,
# so importing finetune_sdk never imports openai.
MessageLike = Union["ChatCompletionMessageParam", Mapping[str, Any], "Message"]
Messages = Union[str, "Conversation", Iterable[MessageLike]]
"""What ``chat()`` accepts: one user turn as a string, message dicts, or ``Message``/``Conversation``."""


ROLES: Final = frozenset({"system", "user", "assistant", "tool", "developer"})


def _message_dict(item: object) -> dict[str, Any]:
    if is_str_mapping(item):
        if "role" not in item:
            raise ValueError(f"a message needs a 'role' (and 'content'); got keys {sorted(item)}")
        role = item["role"]
        if role not in ROLES:
            raise ValueError(f"a message's role is one of {', '.join(sorted(ROLES))}, got {role!r}")
        if "content" not in item and not item.get("tool_calls"):
            raise ValueError(f"a {role} message needs 'content'; got keys {sorted(item)}")
        return dict(item)
    if is_message(item):
        return {"role": item.role, "content": item.content}
    raise TypeError(f"a message is a dict or a finetune_sdk.Message, not {type(item).__name__}")


def normalize_messages(messages: Messages, system: str | None = None) -> list[dict[str, Any]]:
    """The ``messages`` list of a request.

    A string is one user turn. A :class:`Conversation` (a training example) is sent without its final
    assistant reply, so the model answers the example's last user turn and the two answers can be
    compared. ``system`` prepends a system message; messages that already start with one are refused,
    since which of the two should win would be a guess.
    """
    if isinstance(messages, str):
        out: list[dict[str, Any]] = [{"role": "user", "content": messages}]
    elif is_conversation(messages):
        turns = list(messages.messages)
        if turns and turns[-1].role == "assistant":
            turns.pop()
        out = [_message_dict(m) for m in turns]
    elif isinstance(messages, Mapping) or is_message(messages):
        raise TypeError("messages is a list of messages (or a string); wrap a single message in [...]")
    else:
        out = [_message_dict(m) for m in messages]
    if not out:
        raise ValueError("messages is empty: give at least one user message")
    if system is not None:
        if out[0].get("role") == "system":
            raise ValueError("messages already start with a system message: give system= or that, not both")
        out.insert(0, {"role": "system", "content": system})
    return out


def chat_body(
    model: str,
    messages: Messages,
    *,
    system: str | None,
    max_tokens: int | None,
    temperature: float | None,
    stream: bool,
    extra: Mapping[str, Any],
) -> dict[str, Any]:
    """The JSON body of ``POST /chat/completions``.

    Streams ask for usage (``stream_options.include_usage``); ``stream_options=None`` in ``extra``
    leaves it out for servers that refuse the field. Other ``extra`` keys pass through as given.
    """
    if "stream" in extra or "model" in extra or "messages" in extra:
        raise TypeError("model, messages and stream are set by the call itself, not by extra keywords")
    body: dict[str, Any] = {"model": model, "messages": normalize_messages(messages, system)}
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    if temperature is not None:
        body["temperature"] = temperature
    body["stream"] = stream
    if stream:
        body["stream_options"] = {"include_usage": True}
    body.update(extra)
    if body.get("stream_options", 0) is None:
        del body["stream_options"]
    return body


class ChatOptions(RequestOptions, total=False):
    """The keyword arguments of ``client.chat(...)`` and ``client.chat.complete(...)``: sampling
    settings the platform takes, and the per-call :class:`~finetune_sdk.RequestOptions`
    (``extra_body`` for fields not listed here)."""

    system: str | None
    """A system message to put first."""
    max_tokens: int | None
    """The longest reply, in tokens (default 4096; None leaves it to the server)."""
    temperature: float | None
    """Sampling temperature, 0 to 2."""
    top_p: float | None
    """Nucleus sampling, 0 to 1."""
    stop: str | Sequence[str] | None
    """Where to stop: a string or up to 4."""
    seed: int | None
    """Ask for a repeatable reply."""
    presence_penalty: float | None
    """-2 to 2."""
    frequency_penalty: float | None
    """-2 to 2."""
    stream_options: Mapping[str, Any] | None
    """A streamed call asks for usage (``{"include_usage": true}``); None leaves the field out."""


_SAMPLING: Final = {
    "temperature": (0.0, 2.0),
    "top_p": (0.0, 1.0),
    "presence_penalty": (-2.0, 2.0),
    "frequency_penalty": (-2.0, 2.0),
}
_REQUEST_KEYS: Final = frozenset(RequestOptions.__annotations__)
_CHAT_KEYS: Final = frozenset(ChatOptions.__annotations__) - _REQUEST_KEYS


def _whole(name: str, value: object, low: int) -> None:
    if value is not None and (not is_whole(value) or value < low):
        raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")


def _check_sampling(options: Mapping[str, Any]) -> None:
    """A bad sampling value is an error here, before anything is sent."""
    unknown = set(options) - _CHAT_KEYS - _REQUEST_KEYS
    if unknown:
        raise TypeError(
            f"unexpected keyword argument(s) {', '.join(sorted(unknown))}; chat takes "
            f"{', '.join(sorted(_CHAT_KEYS | _REQUEST_KEYS))} (extra_body= for other fields)"
        )
    _whole("max_tokens", options.get("max_tokens"), 1)
    _whole("seed", options.get("seed"), -(2**63))
    for name, (low, high) in _SAMPLING.items():
        value = options.get(name)
        if value is None:
            continue
        if not is_number(value):
            raise TypeError(f"{name} must be a number from {low:g} to {high:g}, got {value!r}")
        if not (low <= value <= high) or math.isnan(value):
            raise ValueError(f"{name} must be from {low:g} to {high:g}, got {value!r}")
    stop: object = options.get("stop")
    if stop is not None and not is_str(stop) and not _all_str(stop):
        raise TypeError(f"stop must be a string or a list of strings, got {stop!r}")


def _all_str(items: object) -> bool:
    """A sequence (not a string) of strings."""
    return isinstance(items, Sequence) and all(is_str(item) for item in cast("Sequence[object]", items))


def chat_request(
    model: str, messages: Messages, *, stream: bool, **options: Unpack[ChatOptions]
) -> RequestSpec:
    """The checked request of one chat call: ``options`` split into body fields and call options."""
    name: object = model
    if not is_str(name) or not name.strip():
        raise ValueError(f"model must be a model name such as 'Qwen/Qwen2.5-7B-Instruct', got {model!r}")
    _check_sampling(options)
    sampling = {k: v for k, v in options.items() if k in _CHAT_KEYS and k not in ("system", "max_tokens")}
    extra: dict[str, Any] = {k: v for k, v in sampling.items() if v is not None or k == "stream_options"}
    if "stop" in extra and not isinstance(extra["stop"], str):
        extra["stop"] = list(extra["stop"])
    extra.update(options.get("extra_body") or {})
    body = chat_body(
        model,
        messages,
        system=options.get("system"),
        max_tokens=options.get("max_tokens", DEFAULT_MAX_TOKENS),
        temperature=None,
        stream=stream,
        extra=extra,
    )
    request = {k: v for k, v in options.items() if k in _REQUEST_KEYS and k != "extra_body"}
    return apply_options(RequestSpec("POST", CHAT_PATH, json=body, stream=stream), request)


def without_stream_options(spec: RequestSpec, exc: APIStatusError) -> RequestSpec | None:
    """The same request without ``stream_options`` when ``exc`` is a server refusing that field (some
    OpenAI-compatible servers predate it, and strict ones reject what they do not know); else None."""
    body = spec.json
    if not is_str_mapping(body) or "stream_options" not in body or exc.status_code not in (400, 422):
        return None
    if "stream_options" not in f"{exc.message} {exc.body}":
        return None
    return dataclasses.replace(spec, json={k: v for k, v in body.items() if k != "stream_options"})
