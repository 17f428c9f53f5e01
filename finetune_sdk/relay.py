"""Relays: chat streams and job events as OpenAI-shaped Server-Sent Events, for a browser.

The frames are made without I/O: :class:`ChatFrames`, :func:`job_event_frame` and :func:`error_body`
turn what the SDK read (text deltas, the finish reason, usage, an error, job events) into the bytes of
SSE frames, for a web framework to send. :func:`chat_frames` / :func:`achat_frames` (what the streams'
``sse()`` methods return) and :func:`job_event_frames` / :func:`ajob_event_frames` are the thin sync and
async loops that pull from an SDK iterator and frame each item; :class:`SyncFrames` lets an async
framework drive a sync one from worker threads.

A chat relay speaks the OpenAI streaming format, so the official ``openai`` client (pointed at the relay)
and any code written for OpenAI read it unchanged::

    data: {"id":"chatcmpl-…","object":"chat.completion.chunk","created":…,"model":"…",
           "choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}

    data: {…,"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}

    data: {…,"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}

    data: [DONE]

(each ``data:`` is one line; the first is wrapped here to fit the page). A failure after text has gone
out cannot change the answer's status any more: it becomes one frame ``data: {"error": {"message",
"type", "param", "code"}}`` (what OpenAI sends, and what its client raises as ``APIError``), followed
by ``[DONE]``. Chat frames carry no ``event:`` name, as OpenAI's do not.

Job events go out one frame each, with the event's id as the SSE ``id:``, so that a browser's
``EventSource`` sends it back as ``Last-Event-ID`` when it reconnects::

    id: ftevent-…
    event: fine_tuning.job.event
    data: {"id":"ftevent-…","object":"fine_tuning.job.event","created_at":…,"level":"info","message":"…"}

and an ``event: done`` frame once the job has ended and its last events are out. A follow that fails
ends with an ``event: relay.error`` frame (not ``error``, which an ``EventSource`` would mix up with its
own connection errors).

Every value is JSON-encoded (orjson): a newline inside a delta or a message is ``\\n`` in the JSON, so
it cannot end a frame early. The ``id:`` and ``event:`` lines take no such escape, so a value holding a
line break is refused (:class:`ValueError`) rather than sent as a frame that another one could be
smuggled into.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any, Final, Protocol, cast

import orjson

from ._core.checks import is_dataset_error
from ._core.wire import error_fields
from .errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    StreamInterruptedError,
)
from .types import JobEvent
from .types.chat import ChatUsage

__all__ = [
    "DONE",
    "SSE_HEADERS",
    "AsyncChatSource",
    "ChatFrames",
    "ChatSource",
    "RelayedError",
    "SyncFrames",
    "achat_frames",
    "ajob_event_frames",
    "chat_frames",
    "error_body",
    "error_status",
    "job_event_frame",
    "job_event_frames",
]

DONE: Final = b"data: [DONE]\n\n"
"""The last frame of a chat relay."""

JOB_EVENTS_DONE: Final = b"event: done\ndata: [DONE]\n\n"
"""The last frame of a job-events relay: the job has ended and its last events are out."""

SSE_HEADERS: Final = {"cache-control": "no-cache", "x-accel-buffering": "no"}
"""Headers for an SSE answer: no caching, and no buffering in a proxy (nginx) in front of the service."""

# Upstream statuses that are the caller's doing and keep their meaning for the relay's own caller; any
# other failure of the platform (its 401 is the service's key, its 5xx its own trouble) is a bad gateway.
_PASSED_STATUSES: Final = frozenset({400, 404, 409, 413, 422, 429})


class _Reply(Protocol):
    @property
    def model(self) -> str: ...
    @property
    def finish_reason(self) -> str | None: ...
    @property
    def usage(self) -> ChatUsage | None: ...


class ChatSource(_Reply, Protocol):
    """What a chat relay reads: a :class:`~finetune_sdk.ChatStream` (its deltas, then its finish
    reason and usage)."""

    def __iter__(self) -> Iterator[str]: ...
    def close(self) -> None: ...


class AsyncChatSource(_Reply, Protocol):
    """What an async chat relay reads: an :class:`~finetune_sdk.AsyncChatStream`."""

    def __aiter__(self) -> AsyncIterator[str]: ...
    async def aclose(self) -> None: ...


def _frame(data: bytes) -> bytes:
    return b"data: " + data + b"\n\n"


def _line_value(field: str, value: str) -> bytes:
    """A value for an ``id:`` or ``event:`` line, which SSE cannot escape."""
    if "\n" in value or "\r" in value or "\0" in value:
        raise ValueError(f"an SSE {field} cannot hold a line break or NUL: {value!r}")
    return value.encode()


#: What a relay turns into an error answer: the SDK's errors, and the ``ValueError``/``TypeError`` the
#: SDK raises for arguments it refuses before sending anything (no messages, a message without a role).
#: (A :class:`~finetune_sdk.DatasetValidationError` is a ``ValueError``.)
RelayedError = APIError | ValueError | TypeError


# Failures to reach the platform or read it, most specific first: the code, and all the relay's caller
# is told. The SDK's own message (the platform's address, advice on the client's settings) is for the
# service's log.
_FAILURES: Final = (
    (APITimeoutError, "timeout", "the platform did not answer in time"),
    (APIConnectionError, "connection_error", "the platform could not be reached"),
    (APIResponseValidationError, "invalid_response", "the platform's answer could not be read"),
)


def _described(exc: RelayedError) -> tuple[str, str, str | None, str | None]:
    """``(message, type, param, code)`` of the error object for ``exc``."""
    if isinstance(exc, APIStatusError):  # the platform's own words, type and param when it gave them
        message, _ = error_fields(exc.body)
        raw: object = exc.body
        body = cast("dict[str, object]", raw) if isinstance(raw, dict) else {}
        found = body.get("error")
        error = cast("dict[str, object]", found) if isinstance(found, dict) else {}
        kind, param = error.get("type"), error.get("param")
        if not (isinstance(kind, str) and kind):
            kind = "invalid_request_error" if exc.status_code < 500 else "server_error"
        return message or exc.message, kind, param if isinstance(param, str) else None, exc.code
    if isinstance(exc, StreamInterruptedError):
        # Its own message points at ``err.partial_text``, which means nothing on the other side.
        broke = f"the stream from {exc.model} broke after {len(exc.partial_text)} characters"
        return broke, "server_error", None, "stream_interrupted"
    if isinstance(exc, APIError):
        for cls, code, message in _FAILURES:
            if isinstance(exc, cls):
                return message, "server_error", None, code
        return "the request to the platform failed", "server_error", None, None
    return str(exc), "invalid_request_error", None, None


def error_body(exc: RelayedError) -> dict[str, Any]:
    """The OpenAI-shaped error object for ``exc``: ``{"error": {"message", "type", "param", "code"}}``.

    The same body serves an error answer sent before streaming (with :func:`error_status`) and an error
    frame inside a stream. For an error answer of the platform, ``message``, ``type`` and ``param`` are
    the platform's; a failure to reach the platform says only that (its address and the SDK's advice stay
    in the exception, for the service's log); a ``ValueError``/``TypeError`` (arguments the SDK refused
    before sending) is an ``invalid_request_error`` with its message; a
    :class:`~finetune_sdk.DatasetValidationError` (a file that breaks the platform's rules) is
    ``invalid_dataset`` with its ``report`` (errors with line numbers, under the name the user gave).
    Never the API key.
    """
    if is_dataset_error(exc):  # the file's own problems, line by line, under its name
        report = exc.report.model_dump(mode="json")
        return {
            "error": {
                "message": str(exc),
                "type": "invalid_request_error",
                "param": "file",
                "code": "invalid_dataset",
                "report": report,
            }
        }
    message, kind, param, code = _described(exc)
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def error_status(exc: RelayedError) -> int:
    """The HTTP status a relay answers with for ``exc``, raised before any byte was sent.

    An unknown model stays a 404, a refused request a 400 or 422 and a rate limit a 429; a dataset that
    breaks the platform's rules is a 422; other arguments the SDK refused are a 400; a timeout is a 504
    and any other failure of the platform (its 401 is about the service's own key) a 502.
    """
    if is_dataset_error(exc):
        return 422
    if isinstance(exc, APIStatusError):
        return exc.status_code if exc.status_code in _PASSED_STATUSES else 502
    if isinstance(exc, APIError):
        return 504 if isinstance(exc, APITimeoutError) else 502
    return 400


class ChatFrames:
    """The frames of one relayed chat reply; every chunk carries the same ``id``, ``created`` and ``model``.

    ``id`` defaults to a fresh ``chatcmpl-…`` and ``created`` to now (Unix seconds).
    """

    __slots__ = ("_around", "_head", "_started")

    def __init__(self, model: str, *, id: str | None = None, created: int | None = None) -> None:
        head = {
            "id": id if id is not None else f"chatcmpl-{secrets.token_hex(12)}",
            "object": "chat.completion.chunk",
            "created": created if created is not None else int(time.time()),
            "model": model,
        }
        # The shared head is encoded once; each chunk appends its own choices after it. A text delta,
        # the frame sent hundreds of times a reply, is the encoded text between two fixed halves.
        self._head = b"data: " + orjson.dumps(head)[:-1] + b","
        self._around = (
            self._head + b'"choices":[{"index":0,"delta":{"content":',
            b'},"finish_reason":null}]}\n\n',
        )
        self._started = False

    def _chunk(self, rest: dict[str, Any]) -> bytes:
        return self._head + orjson.dumps(rest)[1:] + b"\n\n"

    def delta(self, text: str) -> bytes:
        """A chunk with one text delta (the first one also says ``"role": "assistant"``)."""
        if not self._started:
            self._started = True
            delta = {"role": "assistant", "content": text}
            return self._chunk({"choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
        before, after = self._around
        return before + orjson.dumps(text) + after

    def finish(self, reason: str | None) -> bytes:
        """The last content chunk: an empty delta with the finish reason (``"stop"`` when the server
        ended the stream without naming one)."""
        delta: dict[str, str] = {} if self._started else {"role": "assistant", "content": ""}
        self._started = True
        return self._chunk({"choices": [{"index": 0, "delta": delta, "finish_reason": reason or "stop"}]})

    def usage(self, usage: ChatUsage) -> bytes:
        """The usage chunk: no choices, the token counts."""
        counts = {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
        }
        return self._chunk({"choices": [], "usage": counts})

    def end(self, finish_reason: str | None, usage: ChatUsage | None) -> Iterator[bytes]:
        """The frames after the last delta: the finish chunk, the usage chunk if known, ``[DONE]``."""
        yield self.finish(finish_reason)
        if usage is not None:
            yield self.usage(usage)
        yield DONE

    @staticmethod
    def error(exc: APIError) -> Iterator[bytes]:
        """The frames of a failed stream: the error object (see :func:`error_body`), then ``[DONE]``."""
        yield _frame(orjson.dumps(error_body(exc)))
        yield DONE


class SyncFrames(Iterator[bytes]):
    """The frames of a sync source (a :class:`~finetune_sdk.chat.ChatStream`, a sync events iterator),
    readable both ways.

    ``for frame in frames`` reads them in this thread. ``async for frame in frames`` reads each one in a
    worker thread (anyio: asyncio or trio) and closes the source as soon as that loop ends, fails or is
    cancelled. Async web frameworks (Starlette, FastAPI) take the async way when it is offered, so a
    relay built on a sync ``Client`` gives its upstream connection back the moment the browser leaves,
    instead of whenever the abandoned iterator is collected.
    """

    __slots__ = ("_frames",)

    def __init__(self, frames: Iterator[bytes]) -> None:
        self._frames = frames

    def __next__(self) -> bytes:
        return next(self._frames)

    def close(self) -> None:
        """Stop early: the source is closed (a chat stream releases its connection)."""
        close = getattr(self._frames, "close", None)
        if close is not None:
            close()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        import anyio.to_thread  # only for async loops: sync relays never import it here

        try:
            while (frame := await anyio.to_thread.run_sync(next, self._frames, None)) is not None:
                yield frame
        finally:
            # A worker's `next` cannot be interrupted, so a cancelled loop gets here once it has returned:
            # the generator is idle and can be closed.
            self.close()


def _chat_frames(stream: ChatSource) -> Iterator[bytes]:
    frames = ChatFrames(stream.model)
    try:
        try:
            for delta in stream:
                yield frames.delta(delta)
        except APIError as exc:
            yield from frames.error(exc)
            return
        yield from frames.end(stream.finish_reason, stream.usage)
    finally:
        stream.close()


def chat_frames(stream: ChatSource) -> SyncFrames:
    """The frames of a sync chat stream (what :meth:`ChatStream.sse` returns): one per text delta, then
    the finish, usage and ``[DONE]`` frames, or an error frame if the stream fails.

    Leaving the frames early (``close()``, or an ``async for`` that is cancelled because the browser went
    away) closes the stream and its connection.
    """
    return SyncFrames(_chat_frames(stream))


async def achat_frames(stream: AsyncChatSource) -> AsyncIterator[bytes]:
    """:func:`chat_frames` for an :class:`~finetune_sdk.chat.AsyncChatStream`; a cancelled relay closes
    the stream too."""
    frames = ChatFrames(stream.model)
    try:
        try:
            async for delta in stream:
                yield frames.delta(delta)
        except APIError as exc:
            for frame in frames.error(exc):
                yield frame
            return
        for frame in frames.end(stream.finish_reason, stream.usage):
            yield frame
    finally:
        await stream.aclose()


def job_event_frame(event: JobEvent) -> bytes:
    """One job event as a frame: ``id:`` (for ``Last-Event-ID``), ``event:`` and the event as JSON
    (its ``data`` with the keys the server sent, not every known key as null)."""
    body = event.model_dump(mode="json")
    if event.data is not None:
        body["data"] = event.data.model_dump(mode="json", exclude_unset=True)
    return (
        b"id: "
        + _line_value("id", event.id)
        + b"\nevent: "
        + _line_value("event name", event.object)
        + b"\n"
        + _frame(orjson.dumps(body))
    )


def _job_error_frame(exc: APIError) -> bytes:
    # No `done` frame after it: a browser's EventSource reconnects with Last-Event-ID, and the relay can
    # then answer with a status of its own (which ends the reconnecting) or go on where it stopped.
    return b"event: relay.error\n" + _frame(orjson.dumps(error_body(exc)))


def _job_event_frames(events: Iterable[JobEvent]) -> Iterator[bytes]:
    try:
        for event in events:
            yield job_event_frame(event)
    except APIError as exc:
        yield _job_error_frame(exc)
        return
    yield JOB_EVENTS_DONE


def job_event_frames(events: Iterable[JobEvent]) -> SyncFrames:
    """Frames for ``client.jobs.follow(job)``: one per event, then ``event: done``.

    An SDK error while following (the client's retries and the follow's own patience exhausted) becomes
    an ``event: relay.error`` frame holding :func:`error_body`, and the frames end there. Read with ``async
    for`` (as async frameworks do), each poll runs in a worker thread; see :class:`SyncFrames`.
    """
    return SyncFrames(_job_event_frames(events))


async def ajob_event_frames(events: AsyncIterable[JobEvent]) -> AsyncIterator[bytes]:
    """:func:`job_event_frames` for ``AsyncClient.jobs.events(...)``."""
    try:
        async for event in events:
            yield job_event_frame(event)
    except APIError as exc:
        yield _job_error_frame(exc)
        return
    yield JOB_EVENTS_DONE
