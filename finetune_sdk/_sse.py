"""Server-sent events read within bounds: no line (or event) longer than the answer limit, and no more
than ``idle_timeout`` seconds between two events.

httpx-sse buffers a line until its end, however long, and waits for the next event however slowly its
bytes (or keep-alive comments, which are not events) trickle in. These readers parse the same format
with httpx-sse's event decoder, line by line from the decoded text, and raise ``httpx.ReadTimeout``
for an idle stream (so a chat stream treats it as a broken connection: retried before the first text,
a ``StreamInterruptedError`` with the partial text after it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import anyio
import httpx
from httpx_sse import ServerSentEvent, SSEError
from httpx_sse._decoders import SSEDecoder

from ._limits import Deadline, Limits, leave, limits_of, too_large

__all__ = ["aiter_events", "iter_events"]


def _check_content_type(response: httpx.Response) -> None:
    content_type = response.headers.get("content-type", "").partition(";")[0]
    if "text/event-stream" not in content_type:
        raise SSEError(
            f"Expected response header Content-Type to contain 'text/event-stream', got {content_type!r}"
        )


class _EventReader:
    """Sans-I/O: decoded text in, events out. Splits SSE lines (``\\r\\n``, ``\\r`` or ``\\n``),
    refusing any line, or run of lines without an event, longer than the answer limit before it is
    whole; keeps the idle deadline (restarted once each event has been handed out)."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._limits: Limits = limits_of(response.request)
        self._decoder = SSEDecoder()
        self._buffer = ""
        self._pending = 0  # characters since the last event
        self.idle = Deadline.after(self._limits.idle_timeout, "idle_timeout")

    def feed(self, text: str) -> list[ServerSentEvent]:
        self._pending += len(text)
        text = self._buffer + text
        # A trailing \r may be the first half of \r\n: keep it for the next chunk.
        held = "\r" if text.endswith("\r") else ""
        lines = text[: len(text) - len(held)].replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._buffer = lines.pop() + held
        if self._pending > self._limits.max_answer_bytes:
            raise too_large(self._response, self._limits.max_answer_bytes, "event stream line")
        return self._decode(lines)

    def end(self) -> list[ServerSentEvent]:
        rest, self._buffer = self._buffer, ""
        return self._decode([rest.rstrip("\r")] if rest else [])

    def _decode(self, lines: list[str]) -> list[ServerSentEvent]:
        events = [sse for sse in map(self._decoder.decode, lines) if sse is not None]
        if events:
            self._pending = len(self._buffer)
        return events

    def handed_out(self) -> None:
        self.idle.restart()

    def idle_error(self) -> httpx.ReadTimeout:
        return httpx.ReadTimeout(
            f"no event for {self.idle.seconds:g}s (idle_timeout)", request=self._response.request
        )


def iter_events(response: httpx.Response) -> Iterator[ServerSentEvent]:
    """The events of a sync stream, within the request's :class:`~finetune_sdk._limits.Limits`."""
    _check_content_type(response)
    reader = _EventReader(response)
    chunks = response.iter_text()
    while True:
        # The deadline is set around each read only: a generator must not leave it set between yields.
        token = reader.idle.enter()  # the attempt's deadline, if sooner, still applies
        try:
            text = next(chunks, None)
        except httpx.TimeoutException:
            if reader.idle.expired():
                raise reader.idle_error() from None
            raise
        finally:
            leave(token)
        if text is None:
            break
        for sse in reader.feed(text):
            yield sse
            reader.handed_out()
        if reader.idle.expired():
            raise reader.idle_error()
    yield from reader.end()


async def aiter_events(response: httpx.Response) -> AsyncIterator[ServerSentEvent]:
    """:func:`iter_events` for the async client (the idle limit is a cancel scope around each read)."""
    _check_content_type(response)
    reader = _EventReader(response)
    chunks = response.aiter_text()
    try:
        while True:
            try:
                with anyio.fail_after(reader.idle.left()):
                    text = await chunks.__anext__()
            except StopAsyncIteration:
                break
            except TimeoutError:
                raise reader.idle_error() from None
            for sse in reader.feed(text):
                yield sse
                reader.handed_out()
        for sse in reader.end():
            yield sse
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]
