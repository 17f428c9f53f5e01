"""Streamed chat replies: :class:`ChatStream` (sync) and :class:`AsyncChatStream` (async).

A stream is an iterator of text deltas. After the loop it holds the whole ``text``, the
``finish_reason``, the ``usage`` (prompt and completion tokens) the server reported, and the model's
``refusal`` if it refused instead of answering::

    stream = client.chat("Qwen/Qwen2.5-7B-Instruct", "Hello")
    for delta in stream:
        print(delta, end="", flush=True)
    print(stream.finish_reason, stream.usage)

The request goes out on the first iteration, or at once with ``stream.open()`` (``with`` opens it too).
The answer's raw bytes go to one :class:`~finetune_sdk.chat.state.StreamDecoder`, which decides what
each event means, so both classes behave alike and neither builds a model per chunk.

Opening a stream reads it up to its first text delta inside the client's retried attempt: a stream that
fails before any text (a break, an error event with a 429 or 5xx status or the overload code, an end
without ``[DONE]``) is retried like any other call. From the first delta on nothing is retried.

The connection is released as soon as the stream ends, fails, is closed, or (async) its task is
cancelled. Leaving a loop early with ``break`` closes a sync stream when it is dropped; for async code
use ``async with`` (or ``contextlib.aclosing``) to close it at once, though a dropped async stream is
also closed on the next turn of the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any, Final

import httpx
from typing_extensions import Self

from .._core.durations import Deadline
from .._core.limits import UndecodableBodyError
from .._core.wire import Answer
from .._transport.backend import enter_deadline, leave_deadline
from ..relay import SyncFrames, achat_frames, chat_frames
from .view import DRAIN_READS, DRAIN_SECONDS, StreamView, not_a_stream

__all__ = ["AsyncChatStream", "ChatStream"]

Opener = Callable[[Callable[[httpx.Response], bool]], Answer]
"""Sends the request with retries, running the given start on each attempt's open stream."""
AsyncOpener = Callable[[Callable[[httpx.Response], Awaitable[bool]]], Awaitable[Answer]]


class ChatStream(StreamView[Iterator[bytes]], Iterator[str]):
    """The text deltas of one chat reply, as they arrive; made by ``client.chat(model, messages)``.

    Use it as an iterator (``for delta in stream``), optionally inside ``with`` so that it is closed
    even when the loop is left early. Errors are the SDK's: a break midway is a
    :class:`~finetune_sdk.StreamInterruptedError` holding the partial text, an error event inside the
    stream an :class:`~finetune_sdk.APIStatusError`.
    """

    def __init__(self, model: str, opener: Opener) -> None:
        super().__init__(model)
        self._opener: Opener | None = opener

    def open(self) -> Self:
        """Send the request now and wait for the first text (with the client's retries), unless already
        sent; errors before the first text raise here."""
        if self._opener is not None:
            self._send()
        return self

    def _send(self) -> None:
        opener, self._opener = self._opener, None
        assert opener is not None
        try:
            answer = opener(self._start)
        except BaseException:
            self._closed = True
            raise
        if answer.payload is not True:  # the answer was read whole: JSON, not a stream
            self._closed = True
            raise not_a_stream(answer, self.model)

    def _start(self, response: httpx.Response) -> bool:
        """Run inside each attempt on the open stream: read up to the first text (or the end). A failure
        before any text raises here, where the client's retry policy sees it."""
        self._begin(response)
        self._raw = response.iter_raw()
        while not self._decoder.done and not self._first(self._pull()):
            pass
        return True

    def _pull(self) -> list[str] | None:
        """The deltas of the next raw chunk (within the idle limit); None at the end of the bytes."""
        assert self._raw is not None
        self._decoder.check()  # a failure held back behind text already handed out
        token = enter_deadline(self._idle)  # the attempt's deadline, if sooner, still applies
        try:
            if self._pieces is not None:  # the last chunk's decoded pieces first
                return self._deltas(None)
            raw = next(self._raw, None)
            return None if raw is None else self._deltas(raw)
        except (httpx.RequestError, UndecodableBodyError) as exc:
            raise self._broken(exc) from exc
        finally:
            leave_deadline(token)

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> str:
        index = self._index
        if index < len(self._pending):
            self._index = index + 1
            return self._pending[index]
        return self._next_chunk()

    def _next_chunk(self) -> str:
        if self._opener is not None:
            self._send()
            return next(self)
        decoder = self._decoder
        try:
            while self._raw is not None and not decoder.done:
                delta = self._next_of(self._pull())
                if delta is not None:
                    return delta
        except BaseException:
            self.close()
            raise
        self._drain()
        raise StopIteration

    def _drain(self) -> None:
        """After ``[DONE]``: read to the end of the body (normally nothing left), so that the
        connection goes back to the pool instead of being closed; then release it. A server that goes
        on sending is not waited for: past a few reads the connection is closed instead."""
        raw, self._raw = self._raw, None
        if raw is not None:
            token = enter_deadline(Deadline.after(DRAIN_SECONDS))
            try:
                with contextlib.suppress(httpx.RequestError):
                    for _ in itertools.islice(raw, DRAIN_READS):
                        pass
            finally:
                leave_deadline(token)
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
        self._raw = None
        self._pending, self._index = [], 0
        response = self._decoder.response
        if response is not None and not response.is_closed:
            response.close()

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # A loop left with `break` drops the stream: give its connection back at once.
        decoder = getattr(self, "_decoder", None)  # absent if __init__ failed
        response = decoder.response if decoder is not None else None
        if response is not None and not response.is_closed:
            with contextlib.suppress(Exception):
                response.close()

    def sse(self) -> SyncFrames:
        """The reply as OpenAI-shaped Server-Sent Events, for a web framework to send (bytes per frame):
        a ``chat.completion.chunk`` per delta, the finish and usage chunks, ``data: [DONE]``; a failure
        midway is an ``{"error": ...}`` frame. Open the stream first (``open()``) so that errors before any
        text raise while an error status can still be answered. The frames also iterate with ``async
        for`` (each read in a worker thread; the stream closed as soon as the loop ends or is
        cancelled), as async frameworks do. See :mod:`finetune_sdk.relay`."""
        return chat_frames(self)


# Tasks closing dropped async streams; held here so that asyncio does not collect them half-way.
_closing: Final[set[asyncio.Task[None]]] = set()


async def _aclose_quietly(raw: AsyncIterator[bytes] | None, response: httpx.Response) -> None:
    with contextlib.suppress(Exception):
        aclose = getattr(raw, "aclose", None)
        if aclose is not None:
            await aclose()
        await response.aclose()


def _close_later(raw: AsyncIterator[bytes] | None, response: httpx.Response) -> None:
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
                trio.lowlevel.spawn_system_task(_aclose_quietly, raw, response)
        return
    task = loop.create_task(_aclose_quietly(raw, response))
    _closing.add(task)
    task.add_done_callback(_closing.discard)


class AsyncChatStream(StreamView[AsyncIterator[bytes]], AsyncIterator[str]):
    """The async twin of :class:`ChatStream`: ``async for delta in stream``.

    ``AsyncClient.chat(...)`` returns one without awaiting (the request goes out on the first
    iteration); ``await stream.open()`` sends it first. It closes itself when exhausted, on any error and
    when its task is cancelled. To leave a loop early use ``async with stream:`` (or
    ``contextlib.aclosing``); a stream simply dropped after ``break`` is closed on the loop's next turn.
    """

    def __init__(self, model: str, opener: AsyncOpener) -> None:
        super().__init__(model)
        self._opener: AsyncOpener | None = opener

    async def open(self) -> Self:
        """Send the request now and wait for the first text (with the client's retries), unless already
        sent; errors before the first text raise here."""
        if self._opener is not None:
            await self._send()
        return self

    async def _send(self) -> None:
        opener, self._opener = self._opener, None
        assert opener is not None
        try:
            answer = await opener(self._start)
        except BaseException:
            self._closed = True
            raise
        if answer.payload is not True:  # the answer was read whole: JSON, not a stream
            self._closed = True
            raise not_a_stream(answer, self.model)

    async def _start(self, response: httpx.Response) -> bool:
        """See :meth:`ChatStream._start`."""
        self._begin(response)
        self._raw = response.aiter_raw()
        while not self._decoder.done and not self._first(await self._pull()):
            pass
        return True

    async def _pull(self) -> list[str] | None:
        """The deltas of the next raw chunk (within the idle limit); None at the end of the bytes."""
        assert self._raw is not None
        self._decoder.check()  # a failure held back behind text already handed out
        token = enter_deadline(self._idle)  # the attempt's deadline, if sooner, still applies
        try:
            if self._pieces is not None:  # the last chunk's decoded pieces first
                return self._deltas(None)
            raw = await anext(self._raw, None)
            return None if raw is None else self._deltas(raw)
        except (httpx.RequestError, UndecodableBodyError) as exc:
            raise self._broken(exc) from exc
        finally:
            leave_deadline(token)

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> str:
        index = self._index
        if index < len(self._pending):
            self._index = index + 1
            return self._pending[index]
        return await self._next_chunk()

    async def _next_chunk(self) -> str:
        if self._opener is not None:
            await self._send()
            return await self.__anext__()
        decoder = self._decoder
        try:
            while self._raw is not None and not decoder.done:
                delta = self._next_of(await self._pull())
                if delta is not None:
                    return delta
        except BaseException:
            await self.aclose()  # shielded: runs even when the task is being cancelled
            raise
        await self._drain()
        raise StopAsyncIteration

    async def _drain(self) -> None:
        """See :meth:`ChatStream._drain`."""
        raw, self._raw = self._raw, None
        if raw is not None:
            token = enter_deadline(Deadline.after(DRAIN_SECONDS))
            try:
                with contextlib.suppress(httpx.RequestError):
                    reads = 0
                    async for _ in raw:
                        reads += 1
                        if reads >= DRAIN_READS:
                            break
            finally:
                leave_deadline(token)
        await self.aclose()

    async def read(self) -> str:
        """Consume the rest of the stream and return the whole text."""
        async for _ in self:
            pass
        return self.text

    async def aclose(self) -> None:
        """Release the connection now; the iteration ends. Safe to call more than once, and while
        the task is being cancelled."""
        import anyio

        self._closed = True
        self._opener = None
        raw, self._raw = self._raw, None
        self._pending, self._index = [], 0
        response = self._decoder.response
        if response is not None and not response.is_closed:
            with anyio.CancelScope(shield=True):
                await _aclose_quietly(raw, response)

    async def close(self) -> None:
        """The same as :meth:`aclose` (the name openai's async streams use)."""
        await self.aclose()

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __del__(self, _close_later: Any = _close_later) -> None:
        # ``async for ... break`` drops the stream without closing it: close it on the loop.
        decoder = getattr(self, "_decoder", None)
        response = decoder.response if decoder is not None else None
        if response is not None and not response.is_closed:
            with contextlib.suppress(Exception):
                _close_later(getattr(self, "_raw", None), response)

    def sse(self) -> AsyncIterator[bytes]:
        """:meth:`ChatStream.sse` for ``async for``: the reply as OpenAI-shaped SSE frames; a cancelled
        relay closes the stream."""
        return achat_frames(self)
