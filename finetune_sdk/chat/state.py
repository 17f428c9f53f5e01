"""A chat stream's state machine, sans I/O: the bytes of the answer in, text deltas out.

:class:`StreamDecoder` reads Server-Sent Events from the raw bytes (``\\r\\n``, ``\\r`` or ``\\n`` line
ends, ``data:`` lines joined, comments and other fields skipped), decodes each event's data and returns
its text delta; it records the finish reason, the usage and any refusal, notes ``[DONE]``, raises for an
error event and for a chunk it cannot read, and at the end of the bytes says whether the stream was
complete. So "what counts as a delta", "what is an error event" and "was this stream cut short?" are
answered once, here, for the sync and async streams alike.

The per-event path is kept tiny on purpose (the data sliced from the line as bytes, one
``orjson.loads``, a few dict lookups, no model per chunk): a service relaying hundreds of streams spends
its CPU here. No line (nor run of data lines) may pass the answer limit before it is whole.
"""

from __future__ import annotations

from typing import Any, Final, cast

import httpx
import orjson

from .._core.wire import ENVELOPE_OK_CODES, envelope_status, error_fields
from ..errors import (
    APIResponseValidationError,
    APIStatusError,
    ResponseTooLargeError,
    StreamInterruptedError,
    status_error_class,
)
from ..types.chat import ChatUsage

__all__ = ["StreamDecoder", "answer_error"]

_DONE: Final = b"[DONE]"
_BOM: Final = b"\xef\xbb\xbf"


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
    """What is wrong with a chunk the decoder could not read (only on that error path)."""
    if not isinstance(chunk, dict):
        return f"{_kind(chunk)}, not a JSON object"
    fields = cast("dict[str, object]", chunk)
    choices = fields.get("choices")
    if choices and not isinstance(choices, list):
        return f"'choices' is {_kind(choices)}, not an array"
    for i, choice in enumerate(cast("list[object]", choices or [])):
        if not isinstance(choice, dict):
            return f"choices[{i}] is {_kind(choice)}, not an object"
        delta = cast("dict[str, object]", choice).get("delta")
        if delta and not isinstance(delta, dict):
            return f"choices[{i}].delta is {_kind(delta)}, not an object"
        content = cast("dict[str, object]", delta).get("content") if isinstance(delta, dict) else None
        if content and not isinstance(content, str):
            return f"choices[{i}].delta.content is {_kind(content)}, not a string"
    usage = fields.get("usage")
    if usage and not isinstance(usage, dict):
        return f"'usage' is {_kind(usage)}, not an object"
    return f"{type(exc).__name__}: {exc}"


#: OpenAI's error ``type`` names, for an error that gives no status of its own.
_TYPE_STATUS: Final = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "rate_limit_error": 429,
    "rate_limit_exceeded": 429,
    "server_error": 500,
}


def _in_stream_status(payload: object) -> int:
    """The HTTP status an in-stream error stands for: its status or code, else its ``type`` (OpenAI's
    ``invalid_request_error`` is a 400); 500 (a server failure) when it names none."""
    if not isinstance(payload, dict):
        return 500
    fields = cast("dict[str, object]", payload)
    error = fields.get("error")
    detail = cast("dict[str, object]", error) if isinstance(error, dict) else {}
    for raw in (detail.get("status"), detail.get("code"), fields.get("code")):
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw if 400 <= raw < 600 else envelope_status(raw, 500)
    kind = detail.get("type")
    return _TYPE_STATUS.get(kind, 500) if isinstance(kind, str) else 500


def answer_error(payload: object, model: str, response: httpx.Response | None) -> APIStatusError | None:
    """The typed error for a non-streamed chat answer that is an error object under a success status
    (``{"error": {...}}`` and no choices), or None: it must not read as an empty reply."""
    if not isinstance(payload, dict):
        return None
    fields = cast("dict[str, object]", payload)
    if fields.get("error") is None or "choices" in fields:
        return None
    return _status_error(fields, f"the answer from {model} is an error", response)


def _status_error(payload: object, what: str, response: httpx.Response | None) -> APIStatusError:
    """The typed error of an error object inside an answer: ``what`` it is, then the server's message."""
    message, code = error_fields(payload)
    status = _in_stream_status(payload)
    return status_error_class(status)(
        f"{what}: {message or 'no message'}",
        status_code=status,
        code=code,
        body=payload,
        response=response,
        request=response.request if response is not None else None,
    )


def _is_error_payload(chunk: dict[str, Any]) -> bool:
    if chunk.get("error") is not None:
        return True
    # The platform's envelope form of an error: {"code": 50505, "message": "..."} (20000 means ok).
    code = chunk.get("code")
    return isinstance(code, int) and code not in ENVELOPE_OK_CODES and "message" in chunk


class StreamDecoder:
    """What has come out of one chat stream so far, fed its raw (decoded) bytes chunk by chunk.

    :meth:`feed` returns the text deltas of the events the chunk completes; ``parts`` holds them all,
    ``finish_reason`` and ``usage`` what the server said, ``done`` whether ``[DONE]`` came, ``events``
    how many events were dispatched (keep-alive comments are not events). :meth:`end` takes what is left
    at the end of the bytes and says, with :meth:`end_error`, whether the stream was complete.
    """

    __slots__ = (
        "_buffer",
        "_data",
        "_error",
        "_event",
        "_lf_due",
        "_refusal",
        "_seen",
        "_stray",
        "chars",
        "done",
        "events",
        "finish_reason",
        "limit",
        "model",
        "parts",
        "response",
        "usage",
    )

    def __init__(
        self, model: str, response: httpx.Response | None = None, *, limit: int = 32 * 1024 * 1024
    ) -> None:
        self.model: str = model
        self.response: httpx.Response | None = response
        self.limit: int = limit
        self.parts: list[str] = []
        self.chars: int = 0
        self.finish_reason: str | None = None
        self.usage: ChatUsage | None = None
        self.done: bool = False
        self.events: int = 0
        # The start of a line not yet ended, in the pieces it came in: joined once, when its end comes,
        # so a long line costs one copy, not one per chunk.
        self._buffer: list[bytes] = []
        # Bytes fed in all: the whole stream is bounded by ``limit``, and so every line and event in it
        # (and the text kept, whatever the number of deltas).
        self._seen = 0
        self._data: list[bytes] = []
        self._event = b""
        self._error: Exception | None = None  # a failure found after text in the same chunk
        self._lf_due = False  # the last chunk ended with \r: a \n first in the next one is skipped
        self._refusal: list[str] = []  # a refusal comes in deltas of its own, beside the text
        # A JSON object sent as a bare line before any event: a server's error body under an event-stream
        # content type, whose message must not end as "the stream ended early".
        self._stray = b""

    @property
    def text(self) -> str:
        return "".join(self.parts)

    @property
    def refusal(self) -> str | None:
        """The refusal the model sent instead of text (its deltas joined), or None if it sent none."""
        return "".join(self._refusal) if self._refusal else None

    @property
    def complete(self) -> bool:
        """``[DONE]`` or a finish reason arrived: the answer is whole (some servers omit ``[DONE]``)."""
        return self.done or self.finish_reason is not None

    # -- bytes to events ---------------------------------------------------------------------------

    def check(self) -> None:
        """Raise the failure an earlier chunk held back: an error event (or a bad chunk) that came after
        text in the same chunk is raised once that text has been handed out, as if it came alone."""
        error, self._error = self._error, None
        if error is not None:
            raise error

    def feed(self, chunk: bytes) -> list[str]:
        """The text deltas of the events ``chunk`` completes (none once ``[DONE]`` has come)."""
        self.check()
        if self.done:
            return []  # what follows [DONE] is no part of the answer
        if not self._seen and chunk.startswith(_BOM):
            chunk = chunk[len(_BOM) :]  # the event stream format ignores one leading byte order mark
        self._seen += len(chunk)
        if self._seen > self.limit:
            raise self._too_large()
        if self._lf_due:
            # The chunk before ended with \r, which ended its line then: a \n here is the rest of \r\n.
            self._lf_due = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        carriage = b"\r" in chunk
        if not carriage and b"\n" not in chunk:  # no line ends here: keep it
            if chunk:
                self._buffer.append(chunk)
            return []
        if self._buffer:
            buffer = b"".join(self._buffer) + chunk  # the kept pieces hold no line end
            self._buffer.clear()
        else:
            buffer = chunk
        if carriage:
            # A \r ends its line at once, even last in the chunk (a \r-only stream is not an event late).
            self._lf_due = buffer.endswith(b"\r")
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buffer.split(b"\n")
        rest = lines.pop()
        if rest:
            self._buffer.append(rest)
        deltas: list[str] = []
        data = self._data
        for line in lines:
            if line:
                if line.startswith(b"data:"):
                    data.append(line[6:] if line[5:6] == b" " else line[5:])
                else:
                    self._other_line(line)
                continue
            if data:  # a blank line ends an event
                try:
                    delta = self._dispatch(data[0] if len(data) == 1 else b"\n".join(data))
                except Exception as exc:
                    if not deltas:
                        raise
                    self._error = exc  # the text before it goes out first
                    break
                data.clear()
                if delta is not None:
                    deltas.append(delta)
                if self.done:
                    break
            self._event = b""
        return deltas

    def _other_line(self, line: bytes) -> None:
        """A line that is no ``data:`` line (rare: off the per-delta path)."""
        if line.startswith(b"event:"):
            self._event = line[7:] if line[6:7] == b" " else line[6:]
        elif line[:1] == b"{" and not self.events and not self._stray:
            self._stray = line
        # comments (":") and other fields (id, retry) do not change a chat stream

    def end(self) -> list[str]:
        """The deltas of a last event whose blank line never came (its lines whole), at the end of the
        bytes; a line cut off midway is dropped, as the stream was."""
        self.check()
        deltas: list[str] = []
        if self._buffer and not self.events and not self._stray:
            rest = b"".join(self._buffer)
            if rest.startswith(b"{"):
                self._stray = rest  # the bare JSON body had no line end
        if self._data and not self.done:
            delta = self._dispatch(self._data[0] if len(self._data) == 1 else b"\n".join(self._data))
            if delta is not None:
                deltas.append(delta)
        self._data.clear()
        self._buffer.clear()
        return deltas

    def _too_large(self) -> ResponseTooLargeError:
        where = f" from {self.response.request.url.path}" if self.response is not None else ""
        return ResponseTooLargeError(
            f"the stream{where} sent more than {self.limit} bytes; stopped reading. "
            "Raise the limit with Client(max_answer_bytes=...) if it is expected.",
            limit=self.limit,
            response=self.response,
        )

    # -- one event ---------------------------------------------------------------------------------

    def _dispatch(self, data: bytes) -> str | None:
        """One event's data: its text delta (None for role-only, finish, usage and other chunks)."""
        self.events += 1
        if data.startswith(_DONE) and not data[len(_DONE) :].strip():  # "[DONE] " too
            self.done = True
            return None
        try:
            chunk = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            if not data.strip():
                return None  # a blank data line: some servers' keep-alive
            if self._event == b"error":
                raise self._in_stream_error(data.decode("utf-8", "replace")) from None
            raise self._bad_chunk(data, f"it is not JSON: {exc}") from None
        # No isinstance checks on the way: a chunk of the wrong shape fails on a lookup (a list or a string
        # has no .get, an int no [0]), and the handler below says what was wrong. The valid path pays nothing.
        try:
            choices = chunk.get("choices")
            if choices:
                usage = chunk.get("usage")
                if usage:
                    self.usage = ChatUsage.from_wire(usage)
                choice = choices[0]
                if choice.get("index", 0) != 0:
                    # With n > 1 a chunk may carry another choice first (or only): text is choice 0's
                    # (the usage, read above, counts them all).
                    choice = next((c for c in choices if c.get("index", 0) == 0), None)
                    if choice is None:
                        return None
                finish = choice.get("finish_reason")
                if finish:
                    if finish.__class__ is not str:
                        raise TypeError("a choice's finish_reason is not a string")
                    self.finish_reason = finish
                delta = choice.get("delta")
                content = delta.get("content") if delta else None
                if content:
                    if content.__class__ is not str:
                        raise TypeError("a delta's content is not a string")
                    self.chars += len(content)
                    self.parts.append(content)
                    return content
                # A refusal replaces the text: kept beside it, so that an empty reply is not all there is.
                refusal = delta.get("refusal") if delta else None
                if refusal:
                    if refusal.__class__ is not str:
                        raise TypeError("a delta's refusal is not a string")
                    self._refusal.append(refusal)
                return None
            if self._event == b"error" or _is_error_payload(chunk):
                raise self._in_stream_error(chunk)
            usage = chunk.get("usage")
            if usage:
                self.usage = ChatUsage.from_wire(usage)
            return None
        except (AttributeError, TypeError, LookupError, ValueError) as exc:
            if self._event == b"error":
                raise self._in_stream_error(chunk) from None
            raise self._bad_chunk(data, _chunk_problem(chunk, exc)) from None

    def _bad_chunk(self, data: bytes, problem: str) -> APIResponseValidationError:
        text = data.decode("utf-8", "replace")
        return APIResponseValidationError(
            f"the stream from {self.model} sent a malformed chunk ({problem}): {text[:200]!r}",
            body=text,
            response=self.response,
        )

    def _in_stream_error(self, payload: object) -> APIStatusError:
        """The typed error for an error event inside a stream (``{"error": {...}}`` or an error envelope).

        Its message says how much text had come first. Before any text it is retried like the same status
        answered outright (429, 5xx, the overload code); after text, never.
        """
        what = f"the stream from {self.model} reported an error after {self.chars} characters"
        return _status_error(payload, what, self.response)

    # -- the end -----------------------------------------------------------------------------------

    def end_error(self) -> Exception | None:
        """At the end of the bytes: the error for a stream that was cut short (or a failure held back),
        or None."""
        error, self._error = self._error, None
        if error is not None:
            return error
        if self.complete:
            return None
        if self._stray and not self.events:
            try:
                body = orjson.loads(self._stray)
            except orjson.JSONDecodeError:
                body = None
            if isinstance(body, dict):
                fields = cast("dict[str, Any]", body)
                if _is_error_payload(fields):
                    return self._in_stream_error(fields)
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
