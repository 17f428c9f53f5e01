"""Streamed chat replies: :class:`ChatStream` (sync) and :class:`AsyncChatStream` (async).

A stream is an iterator of text deltas. After the loop it holds the whole ``text``, the
``finish_reason`` and the ``usage`` (prompt and completion tokens) the server reported::

    stream = client.chat("Qwen/Qwen2.5-7B-Instruct", "Hello")
    for delta in stream:
        print(delta, end="", flush=True)
    print(stream.finish_reason, stream.usage)

The request goes out on the first iteration (or at once with ``client.chat_stream(...)``). Events are
parsed by httpx-sse and decoded with orjson into plain dicts, no model per chunk; what each event means
is decided by the shared :class:`~finetune_sdk._chat_wire.StreamState`, so both classes behave alike.

Opening a stream reads it up to its first text delta inside the client's retried attempt
(``_stream_started``): a stream that fails before any text (a break, an error event with a 429 or 5xx
status or the overload code, an end without ``[DONE]``) is retried like any other call. The first delta
is kept and handed out first; from then on nothing is retried.

The connection is released as soon as the stream ends, fails, is closed, or (async) its task is
cancelled. Leaving a loop early with ``break`` closes a sync stream when it is dropped; for async code
use ``async with`` (or ``contextlib.aclosing``) to close it at once, though a dropped async stream is
also closed on the next turn of the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any, Final

import anyio
import httpx
from httpx_sse import ServerSentEvent, SSEError
from typing_extensions import Self

from ._chat_wire import ChatUsage, StreamState
from ._sse import aiter_events, iter_events
from ._wire import Answer
from .errors import APIResponseValidationError

__all__ = ["AsyncChatStream", "ChatStream", "ChatUsage"]

# What a stream's start (run inside each retried attempt) hands over: the events, read up to and
# including the first one with text, and that text (None: the reply ended without any).
_Started = tuple[Iterator[ServerSentEvent], "str | None"]
_AsyncStarted = tuple[AsyncIterator[ServerSentEvent], "str | None"]
Opener = Callable[[Callable[[httpx.Response], _Started]], Answer]
"""Sends the request with retries, running the given start on each attempt's open stream."""
AsyncOpener = Callable[[Callable[[httpx.Response], Awaitable[_AsyncStarted]]], Awaitable[Answer]]


def _not_sse(error: SSEError, state: StreamState) -> APIResponseValidationError:
    return APIResponseValidationError(
        f"the answer from {state.model} is not an event stream: {error}",
        response=state.response,
    )


def _not_a_stream(answer: Answer, model: str) -> APIResponseValidationError:
    """A successful JSON answer to a streaming request (a server that ignores ``stream``)."""
    content_type = answer.response.headers.get("content-type", "none")
    return APIResponseValidationError(
        f"the answer from {model} is not an event stream: its content-type is {content_type!r}",
        body=answer.payload,
        response=answer.response,
    )


class _StreamView:
    """What both streams show: the model, and what has arrived so far. Never the key, nor the text."""

    _state: StreamState
    _closed: bool

    def __init__(self, model: str) -> None:
        self._state = StreamState(model)
        self._closed = False

    @property
    def model(self) -> str:
        """The model asked."""
        return self._state.model

    @property
    def text(self) -> str:
        """The text that has arrived so far; the whole reply once the stream is exhausted."""
        return self._state.text

    @property
    def finish_reason(self) -> str | None:
        """Why the model stopped (``"stop"``, ``"length"`` ...); None until the server says."""
        return self._state.finish_reason

    @property
    def usage(self) -> ChatUsage | None:
        """Token counts, once the server sent them (at the end; None if it does not report usage)."""
        return self._state.usage

    @property
    def deltas(self) -> int:
        """How many text pieces have arrived."""
        return len(self._state.parts)

    @property
    def response(self) -> httpx.Response | None:
        """The HTTP response, once the request was sent (for headers such as ``x-request-id``)."""
        return self._state.response

    @property
    def closed(self) -> bool:
        """Whether the stream has ended or been closed (its connection is released)."""
        return self._closed

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r})"


class ChatStream(_StreamView, Iterator[str]):
    """The text deltas of one chat reply, as they arrive; made by ``Client.chat`` / ``chat_stream``.

    Use it as an iterator (``for delta in stream``), optionally inside ``with`` so that it is closed
    even when the loop is left early. Errors are the SDK's: a break midway is a
    :class:`~finetune_sdk.StreamInterruptedError` holding the partial text, an error event inside the
    stream an :class:`~finetune_sdk.APIStatusError`.
    """

    def __init__(self, model: str, opener: Opener) -> None:
        super().__init__(model)
        self._opener: Opener | None = opener
        self._events: Iterator[ServerSentEvent] | None = None
        self._started: _Started | None = None

    def open(self) -> Self:
        """Send the request now and wait for the first text (with the client's retries), unless already
        sent; errors before the first text raise here."""
        if self._opener is not None:
            self._started = self._send()
        return self

    def _send(self) -> _Started:
        opener, self._opener = self._opener, None
        assert opener is not None
        try:
            answer = opener(self._start)
        except BaseException:
            self._closed = True
            raise
        if type(answer.payload) is not tuple:  # the answer was read whole: JSON, not a stream
            self._closed = True
            self._state.response = answer.response
            raise _not_a_stream(answer, self.model)
        return answer.payload

    def _start(self, response: httpx.Response) -> _Started:
        """Run inside each attempt on the open stream: read up to the first text (or the end).

        A failure before any text raises here, where the client's retry policy sees it (and closes the
        response); a fresh :class:`StreamState` per attempt forgets what a failed attempt had read.
        """
        self._state = state = StreamState(self._state.model)
        state.response = response
        events = iter_events(response)  # bounded: line size, idle time
        feed = state.feed
        try:
            for sse in events:
                delta = feed(sse.data, sse.event)
                if delta is not None or state.done:
                    return events, delta
        except SSEError as exc:  # before RequestError: httpx-sse derives it from TransportError
            raise _not_sse(exc, state) from None
        except httpx.RequestError as exc:
            raise state.interrupted(exc) from exc
        error = state.end_error()
        if error is not None:
            raise error
        return events, None

    def __iter__(self) -> Self:
        return self

    def _first(self) -> str:
        """The first delta, which :meth:`_start` read (sending the request first if not yet sent)."""
        started, self._started = self._started, None
        if started is None:
            if self._opener is None:  # closed, or over
                raise StopIteration
            started = self._send()
        events, first = started
        if first is None:  # a whole reply without text
            self._drain(events)
            raise StopIteration
        self._events = events
        return first

    def __next__(self) -> str:
        events = self._events
        if events is None:
            return self._first()
        state = self._state
        feed = state.feed
        try:
            for sse in events:
                delta = feed(sse.data, sse.event)
                if delta is not None:
                    return delta
                if state.done:
                    break
            else:
                self.close()
                error = state.end_error()
                if error is not None:
                    raise error
                raise StopIteration
        except SSEError as exc:  # before RequestError: httpx-sse derives it from TransportError
            self.close()
            raise _not_sse(exc, state) from None
        except httpx.RequestError as exc:
            self.close()
            raise state.interrupted(exc) from exc
        except BaseException:
            self.close()
            raise
        self._drain(events)
        raise StopIteration

    def _drain(self, events: Iterator[ServerSentEvent]) -> None:
        """After ``[DONE]``: read to the end of the body (normally nothing left), so that the
        connection goes back to the pool instead of being closed; then release it."""
        with contextlib.suppress(httpx.RequestError, SSEError):
            for _ in events:
                pass
        self.close()

    def read(self) -> str:
        """Consume the rest of the stream and return the whole text."""
        for _ in self:
            pass
        return self.text

    def close(self) -> None:
        """Release the connection now; the iteration ends. Safe to call more than once."""
        self._closed = True
        self._opener = None
        self._events = None
        self._started = None
        response = self._state.response
        if response is not None and not response.is_closed:
            response.close()

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # A loop left with `break` drops the stream: give its connection back at once.
        state = getattr(self, "_state", None)  # absent if __init__ failed
        response = state.response if state is not None else None
        if response is not None and not response.is_closed:
            with contextlib.suppress(Exception):
                response.close()

    def sse(self) -> Iterator[bytes]:
        """The reply as OpenAI-shaped Server-Sent Events, for a web framework to send (bytes per frame):
        a ``chat.completion.chunk`` per delta, the finish and usage chunks, ``data: [DONE]``; a failure
        midway is an ``{"error": ...}`` frame. Open the stream first (``chat_stream``, ``open()``) so that
        errors before any text raise while an error status can still be answered. The frames also iterate
        with ``async for`` (each read in a worker thread; the stream closed as soon as the loop ends or
        is cancelled), as async frameworks do. See :mod:`finetune_sdk.relay`."""
        from .relay import chat_frames

        return chat_frames(self)


# Tasks closing dropped async streams; held here so that asyncio does not collect them half-way.
_closing: Final[set[asyncio.Task[None]]] = set()


async def _aclose_quietly(events: AsyncIterator[ServerSentEvent] | None, response: httpx.Response) -> None:
    with contextlib.suppress(Exception):
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
        await response.aclose()


def _close_later(events: AsyncIterator[ServerSentEvent] | None, response: httpx.Response) -> None:
    """Close a dropped async stream's response on the running event loop (asyncio or trio), if any.

    ``__del__`` cannot await, so the close is scheduled as a task; it runs at the loop's next turn,
    before a request waiting for the freed connection could time out.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not on asyncio: maybe trio, which is only imported if in use
        trio = sys.modules.get("trio")
        if trio is not None:
            with contextlib.suppress(RuntimeError):
                trio.lowlevel.spawn_system_task(_aclose_quietly, events, response)
        return
    task = loop.create_task(_aclose_quietly(events, response))
    _closing.add(task)
    task.add_done_callback(_closing.discard)


class AsyncChatStream(_StreamView, AsyncIterator[str]):
    """The async twin of :class:`ChatStream`: ``async for delta in stream``.

    ``AsyncClient.chat(...)`` returns one without awaiting (the request goes out on the first
    iteration); ``await AsyncClient.chat_stream(...)`` sends it first. It closes itself when exhausted,
    on any error and when its task is cancelled. To leave a loop early use ``async with stream:`` (or
    ``contextlib.aclosing``); a stream simply dropped after ``break`` is closed on the loop's next turn.
    """

    def __init__(self, model: str, opener: AsyncOpener) -> None:
        super().__init__(model)
        self._opener: AsyncOpener | None = opener
        self._events: AsyncIterator[ServerSentEvent] | None = None
        self._started: _AsyncStarted | None = None

    async def open(self) -> Self:
        """Send the request now and wait for the first text (with the client's retries), unless already
        sent; errors before the first text raise here."""
        if self._opener is not None:
            self._started = await self._send()
        return self

    async def _send(self) -> _AsyncStarted:
        opener, self._opener = self._opener, None
        assert opener is not None
        try:
            answer = await opener(self._start)
        except BaseException:
            self._closed = True
            raise
        if type(answer.payload) is not tuple:  # the answer was read whole: JSON, not a stream
            self._closed = True
            self._state.response = answer.response
            raise _not_a_stream(answer, self.model)
        return answer.payload

    async def _start(self, response: httpx.Response) -> _AsyncStarted:
        """See :meth:`ChatStream._start`; on failure it also closes the event iterator it opened."""
        self._state = state = StreamState(self._state.model)
        state.response = response
        events = aiter_events(response)  # bounded: line size, idle time
        feed = state.feed
        try:
            try:
                async for sse in events:
                    delta = feed(sse.data, sse.event)
                    if delta is not None or state.done:
                        return events, delta
            except SSEError as exc:  # before RequestError: httpx-sse derives it from TransportError
                raise _not_sse(exc, state) from None
            except httpx.RequestError as exc:
                raise state.interrupted(exc) from exc
            error = state.end_error()
            if error is not None:
                raise error
        except BaseException:
            with anyio.CancelScope(shield=True):
                await _aclose_quietly(events, response)
            raise
        return events, None

    def __aiter__(self) -> Self:
        return self

    async def _first(self) -> str:
        """See :meth:`ChatStream._first`."""
        started, self._started = self._started, None
        if started is None:
            if self._opener is None:  # closed, or over
                raise StopAsyncIteration
            started = await self._send()
        events, first = started
        if first is None:  # a whole reply without text
            await self._drain(events)
            raise StopAsyncIteration
        self._events = events
        return first

    async def __anext__(self) -> str:
        events = self._events
        if events is None:
            return await self._first()
        state = self._state
        feed = state.feed
        try:
            async for sse in events:
                delta = feed(sse.data, sse.event)
                if delta is not None:
                    return delta
                if state.done:
                    break
            else:
                await self.aclose()
                error = state.end_error()
                if error is not None:
                    raise error
                raise StopAsyncIteration
        except SSEError as exc:  # before RequestError: httpx-sse derives it from TransportError
            await self.aclose()
            raise _not_sse(exc, state) from None
        except httpx.RequestError as exc:
            await self.aclose()
            raise state.interrupted(exc) from exc
        except BaseException:
            await self.aclose()  # shielded: runs even when the task is being cancelled
            raise
        await self._drain(events)
        raise StopAsyncIteration

    async def _drain(self, events: AsyncIterator[ServerSentEvent]) -> None:
        """See :meth:`ChatStream._drain`."""
        with contextlib.suppress(httpx.RequestError, SSEError):
            async for _ in events:
                pass
        await self.aclose()

    async def read(self) -> str:
        """Consume the rest of the stream and return the whole text."""
        async for _ in self:
            pass
        return self.text

    async def aclose(self) -> None:
        """Release the connection now; the iteration ends. Safe to call more than once, and while
        the task is being cancelled."""
        self._closed = True
        self._opener = None
        events, self._events = self._events, None
        if events is None and self._started is not None:
            events = self._started[0]
        self._started = None
        response = self._state.response
        if response is not None and not response.is_closed:
            with anyio.CancelScope(shield=True):
                await _aclose_quietly(events, response)

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __del__(self, _close_later: Any = _close_later) -> None:
        # ``async for ... break`` drops the stream without closing it: close it on the loop.
        state = getattr(self, "_state", None)
        response = state.response if state is not None else None
        if response is not None and not response.is_closed:
            started = getattr(self, "_started", None)
            events = self._events if started is None else started[0]
            with contextlib.suppress(Exception):
                _close_later(events, response)

    def sse(self) -> AsyncIterator[bytes]:
        """:meth:`ChatStream.sse` for ``async for``: the reply as OpenAI-shaped SSE frames; a cancelled
        relay closes the stream."""
        from .relay import achat_frames

        return achat_frames(self)
