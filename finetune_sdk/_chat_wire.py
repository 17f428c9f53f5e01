"""Chat, sans I/O: the request body, and what the answer (a stream of SSE chunks, or one JSON object) means.

Nothing here sends or receives. The sync and async streams (:mod:`finetune_sdk.chat`) feed each SSE
event's data to one :class:`StreamState`, which returns the text delta and records the finish reason
and usage; at the end of the bytes it decides whether the stream was complete. So "what counts as a
delta", "what is an error event" and "was this stream cut short?" are answered once, here.

The per-chunk path is kept tiny on purpose (one ``orjson.loads``, a few dict lookups, no model per
chunk): a service relaying hundreds of streams spends its CPU here.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Union

import httpx
import orjson
from typing_extensions import Unpack

from ._models import APIModel
from ._options import RequestOptions, apply_options
from ._wire import ENVELOPE_OK_CODES, RequestSpec, _envelope_status, _error_fields
from .dataset import Conversation, Message
from .errors import APIResponseValidationError, APIStatusError, StreamInterruptedError, _status_error_class

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "ChatCompletion",
    "ChatOptions",
    "ChatUsage",
    "Messages",
    "StreamState",
    "chat_body",
    "chat_request",
    "completion_text",
    "normalize_messages",
]

DEFAULT_MAX_TOKENS: Final = 4096
CHAT_PATH: Final = "chat/completions"

# The openai TypedDicts give editors completion for message dicts; they exist for type checkers only,
# so importing finetune_sdk never imports openai.
MessageLike = Union["ChatCompletionMessageParam", Mapping[str, Any], Message]
Messages = Union[str, Conversation, Iterable[MessageLike]]  # noqa: UP007 - a runtime alias, valid on 3.10
"""What ``chat()`` accepts: one user turn as a string, message dicts, or ``Message``/``Conversation``."""


class ChatUsage(APIModel):
    """Tokens a chat call used, as the server counted them (``usage`` in the answer)."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int

    def __init__(self, prompt_tokens: int, completion_tokens: int, total_tokens: int, **extra: Any) -> None:
        counts = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}
        super().__init__(**counts, **{"total_tokens": total_tokens}, **extra)

    @classmethod
    def from_wire(cls, raw: Mapping[str, Any]) -> ChatUsage:
        """Read a ``usage`` object leniently: missing counts are 0, a missing total is the sum."""
        prompt = int(raw.get("prompt_tokens") or 0)
        completion = int(raw.get("completion_tokens") or 0)
        total = raw.get("total_tokens")
        return cls(prompt, completion, int(total) if total is not None else prompt + completion)


ROLES: Final = frozenset({"system", "user", "assistant", "tool", "developer"})


def _message_dict(item: MessageLike) -> dict[str, Any]:
    if isinstance(item, Message):
        return {"role": item.role, "content": item.content}
    if isinstance(item, Mapping):
        if "role" not in item:
            raise ValueError(f"a message needs a 'role' (and 'content'); got keys {sorted(item)}")
        role = item["role"]
        if role not in ROLES:
            raise ValueError(f"a message's role is one of {', '.join(sorted(ROLES))}, got {role!r}")
        if "content" not in item and not item.get("tool_calls"):
            raise ValueError(f"a {role} message needs 'content'; got keys {sorted(item)}")
        return dict(item)
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
    elif isinstance(messages, Conversation):
        turns = list(messages.messages)
        if turns and turns[-1].role == "assistant":
            turns.pop()
        out = [_message_dict(m) for m in turns]
    elif isinstance(messages, Mapping | Message):
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
    """The keyword arguments of ``chat``, ``chat_stream`` and ``complete``: sampling settings the
    platform takes, and the per-call :class:`~finetune_sdk._options.RequestOptions` (``extra_body``
    for fields not listed here)."""

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
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < low):
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
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{name} must be a number from {low:g} to {high:g}, got {value!r}")
        if not (low <= value <= high) or math.isnan(value):
            raise ValueError(f"{name} must be from {low:g} to {high:g}, got {value!r}")
    stop = options.get("stop")
    if (
        stop is not None
        and not isinstance(stop, str)
        and not (isinstance(stop, Sequence) and all(isinstance(s, str) for s in stop))
    ):
        raise TypeError(f"stop must be a string or a list of strings, got {stop!r}")


def chat_request(
    model: str, messages: Messages, *, stream: bool, **options: Unpack[ChatOptions]
) -> RequestSpec:
    """The checked request of one chat call: ``options`` split into body fields and call options."""
    if not isinstance(model, str) or not model.strip():
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


class ChatCompletion(str):
    """The whole reply of ``complete()``: a ``str`` (its text), with ``finish_reason``, ``usage`` and
    ``request_id`` beside it."""

    text: str
    finish_reason: str | None
    usage: ChatUsage | None
    request_id: str | None
    model: str

    def __new__(
        cls,
        text: str,
        *,
        model: str,
        finish_reason: str | None,
        usage: ChatUsage | None,
        request_id: str | None,
    ) -> ChatCompletion:
        self = super().__new__(cls, text)
        self.text = text
        self.model = model
        self.finish_reason = finish_reason
        self.usage = usage
        self.request_id = request_id
        return self


def without_stream_options(spec: RequestSpec, exc: APIStatusError) -> RequestSpec | None:
    """The same request without ``stream_options`` when ``exc`` is a server refusing that field (some
    OpenAI-compatible servers predate it, and strict ones reject what they do not know); else None."""
    body = spec.json
    if not isinstance(body, dict) or "stream_options" not in body or exc.status_code not in (400, 422):
        return None
    if "stream_options" not in f"{exc.message} {exc.body}":
        return None
    return dataclasses.replace(spec, json={k: v for k, v in body.items() if k != "stream_options"})


def _in_stream_status(payload: object) -> int:
    """The HTTP status an in-stream error stands for; 500 (a server failure) when it names none."""
    if not isinstance(payload, dict):
        return 500
    error = payload.get("error")
    candidates = [error.get("status"), error.get("code")] if isinstance(error, dict) else []
    for raw in (*candidates, payload.get("code")):
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw if 400 <= raw < 600 else _envelope_status(raw, 500)
    return 500


def _in_stream_error(
    payload: object, model: str, text_so_far: int, response: httpx.Response | None
) -> APIStatusError:
    """The typed error for an error event inside a stream (``{"error": {...}}`` or an error envelope).

    Its message says how much text had come first. Before any text it is retried like the same status
    answered outright (429, 5xx, the overload code); after text, never.
    """
    message, code = _error_fields(payload)
    status = _in_stream_status(payload)
    return _status_error_class(status)(
        f"the stream from {model} reported an error after {text_so_far} characters: "
        f"{message or 'no message'}",
        status_code=status,
        code=code,
        body=payload,
        request_id=response.headers.get("x-request-id") if response is not None else None,
        response=response,
        request=response.request if response is not None else None,
    )


def _is_error_payload(chunk: dict[str, Any]) -> bool:
    if chunk.get("error") is not None:
        return True
    # The platform's envelope form of an error: {"code": 50505, "message": "..."} (20000 means ok).
    code = chunk.get("code")
    return isinstance(code, int) and code not in ENVELOPE_OK_CODES and "message" in chunk


def _kind(value: object) -> str:
    """A JSON value's kind, in JSON's words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    return "a number" if isinstance(value, int | float) else type(value).__name__


def _chunk_problem(chunk: object, exc: BaseException) -> str:
    """What is wrong with a chunk :meth:`StreamState.feed` could not read (only on that error path)."""
    if not isinstance(chunk, dict):
        return f"{_kind(chunk)}, not a JSON object"
    choices = chunk.get("choices")
    if choices and not isinstance(choices, list):
        return f"'choices' is {_kind(choices)}, not an array"
    for i, choice in enumerate(choices or ()):
        if not isinstance(choice, dict):
            return f"choices[{i}] is {_kind(choice)}, not an object"
        delta = choice.get("delta")
        if delta and not isinstance(delta, dict):
            return f"choices[{i}].delta is {_kind(delta)}, not an object"
        content = delta.get("content") if isinstance(delta, dict) else None
        if content and not isinstance(content, str):
            return f"choices[{i}].delta.content is {_kind(content)}, not a string"
    usage = chunk.get("usage")
    if usage and not isinstance(usage, dict):
        return f"'usage' is {_kind(usage)}, not an object"
    return f"{type(exc).__name__}: {exc}"


class StreamState:
    """What has come out of one chat stream so far, fed one SSE event at a time.

    :meth:`feed` returns the text delta of an event (or None), records ``finish_reason`` and ``usage``,
    sets ``done`` at ``[DONE]``, and raises for an error event. :meth:`end_error` says, once the bytes
    have ended, whether the stream was complete.
    """

    __slots__ = ("chars", "done", "finish_reason", "model", "parts", "response", "usage")

    def __init__(self, model: str) -> None:
        self.model = model
        self.parts: list[str] = []
        self.chars = 0
        self.finish_reason: str | None = None
        self.usage: ChatUsage | None = None
        self.done = False
        self.response: httpx.Response | None = None

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def feed(self, data: str, event: str = "message") -> str | None:
        """One event's ``data``: its text delta (None for role-only, finish, usage and other chunks)."""
        if data == "[DONE]":
            self.done = True
            return None
        try:
            chunk = orjson.loads(data)
        except orjson.JSONDecodeError:
            if not data.strip():
                return None  # a blank data line: some servers' keep-alive
            if event == "error":
                raise _in_stream_error(data, self.model, self.chars, self.response) from None
            raise self._bad_chunk(data, "it is not JSON") from None
        # No isinstance checks on the way: a chunk of the wrong shape fails on a lookup (a list or a string
        # has no .get, an int no [0]), and the handler below says what was wrong. The valid path pays nothing.
        try:
            choices = chunk.get("choices")
            if choices:
                choice = choices[0]
                if choice.get("index", 0) != 0:
                    # With n > 1 a chunk may carry another choice first (or only): text is choice 0's.
                    choice = next((c for c in choices if c.get("index", 0) == 0), None)
                    if choice is None:
                        return None
                usage = chunk.get("usage")
                if usage:
                    self.usage = ChatUsage.from_wire(usage)
                finish = choice.get("finish_reason")
                if finish:
                    self.finish_reason = finish
                delta = choice.get("delta")
                content = delta.get("content") if delta else None
                if content:
                    self.chars += len(content)  # before the append: content without a length leaves no trace
                    self.parts.append(content)
                    return content  # type: ignore[no-any-return]
                return None
            if event == "error" or _is_error_payload(chunk):
                raise _in_stream_error(chunk, self.model, self.chars, self.response)
            usage = chunk.get("usage")
            if usage:
                self.usage = ChatUsage.from_wire(usage)
            return None
        except (AttributeError, TypeError, LookupError, ValueError) as exc:
            if event == "error":
                raise _in_stream_error(chunk, self.model, self.chars, self.response) from None
            raise self._bad_chunk(data, _chunk_problem(chunk, exc)) from None

    def _bad_chunk(self, data: str, problem: str) -> APIResponseValidationError:
        return APIResponseValidationError(
            f"the stream from {self.model} sent a malformed chunk ({problem}): {data[:200]!r}",
            body=data,
            response=self.response,
        )

    @property
    def complete(self) -> bool:
        """``[DONE]`` or a finish reason arrived: the answer is whole (some servers omit ``[DONE]``)."""
        return self.done or self.finish_reason is not None

    def end_error(self) -> StreamInterruptedError | None:
        """At the end of the bytes: the error for a stream that was cut short, or None."""
        if self.complete:
            return None
        return self.interrupted("ended without [DONE] or a finish reason")

    def interrupted(self, why: str | BaseException) -> StreamInterruptedError:
        """The error for a stream that stopped midway, holding the text that had arrived."""
        if isinstance(why, BaseException):
            why = f"{type(why).__name__}: {why}" if str(why) else type(why).__name__
        return StreamInterruptedError(
            f"the stream from {self.model} broke after {self.chars} characters ({len(self.parts)} deltas): "
            f"{why}; the partial text is in err.partial_text",
            partial_text=self.text,
            deltas=len(self.parts),
            model=self.model,
            request=self.response.request if self.response is not None else None,
            response=self.response,
        )


def completion_text(
    payload: object, model: str, response: httpx.Response | None = None
) -> tuple[str, str | None, ChatUsage | None]:
    """``(text, finish_reason, usage)`` of a non-streamed answer (``response``: the answer it came in,
    for the error's status and request id); its first choice's content."""
    choices = payload.get("choices") if isinstance(payload, dict) else None
    if not choices or not isinstance(choices, list) or not isinstance(choices[0], dict):
        raise APIResponseValidationError(
            f"the answer from {model} has no choices: {str(payload)[:200]}", body=payload, response=response
        )
    choice = next((c for c in choices if c.get("index", 0) == 0), choices[0])
    message = choice.get("message") or {}
    usage = payload.get("usage") if isinstance(payload, dict) else None
    return (
        message.get("content") or "",
        choice.get("finish_reason"),
        ChatUsage.from_wire(usage) if isinstance(usage, dict) else None,
    )
