"""What the sync and async chat streams share without I/O: the answer's state (one
:class:`~finetune_sdk.chat.state.StreamDecoder`), one attempt's reading set-up, the steps after each read,
and the figures read so far. The streams themselves are in :mod:`finetune_sdk.chat.stream`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Final, Generic, TypeVar

import httpx

from .._core.durations import Deadline
from .._core.limits import BodyDecoder, UndecodableBodyError
from .._core.wire import Answer
from .._transport.attempt import limits_of
from ..errors import APIResponseValidationError
from ..types.chat import ChatUsage
from .state import StreamDecoder

__all__ = ["DRAIN_READS", "DRAIN_SECONDS", "RawT", "StreamView", "not_a_stream"]

RawT = TypeVar("RawT", Iterator[bytes], AsyncIterator[bytes])


DRAIN_READS: Final = 4
"""The most reads of what follows ``[DONE]`` (normally none, or the body's last empty chunk) before the
connection is closed rather than kept: a server that goes on sending is not waited for."""

DRAIN_SECONDS: Final = 0.5
"""How long the end of the body after ``[DONE]`` is waited for (it normally comes with it) before the
connection is closed rather than kept: the answer is whole at ``[DONE]``, and a server that holds the
body open must not hold the caller."""

FEED_STEP: Final = 8 * 1024
"""The most bytes fed to the decoder at once: what may be parsed before the first delta in it is out."""


def _sliced(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """``pieces`` cut into slices of at most ``FEED_STEP`` bytes, each ending at a line end if one falls
    in it (so a line is rarely split across two)."""
    for piece in pieces:
        start, size = 0, len(piece)
        while size - start > FEED_STEP:
            cut = piece.rfind(b"\n", start, start + FEED_STEP) + 1 or start + FEED_STEP
            yield piece[start:cut]
            start = cut
        yield piece[start:] if start else piece


def not_a_stream(answer: Answer, model: str) -> APIResponseValidationError:
    """A successful answer to a streaming request that is not an event stream (a server that ignores
    ``stream``, or sends another content type)."""
    content_type = answer.response.headers.get("content-type", "none")
    return APIResponseValidationError(
        f"the answer from {model} is not an event stream: its content-type is {content_type!r}",
        body=answer.payload,
        response=answer.response,
    )


class StreamView(Generic[RawT]):
    """What both streams share and that does no I/O: the answer's state, one attempt's reading set-up,
    and what arrived so far. Never the key, nor the text, in its repr."""

    def __init__(self, model: str) -> None:
        self._decoder = StreamDecoder(model)
        self._raw: RawT | None = None  # the attempt's raw bytes
        self._pieces: Iterator[bytes] | None = None  # decoded pieces of a raw chunk not yet fed
        self._closed = False
        self._pending: list[str] = []
        self._index = 0
        self._idle = Deadline.after(None, "idle_timeout")
        self._body = BodyDecoder("")

    def _begin(self, response: httpx.Response) -> None:
        """Set up reading ``response`` (an attempt's open stream) from scratch: a failed attempt leaves
        nothing behind."""
        limits = limits_of(response.request)
        content_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
        if content_type != "text/event-stream":
            raise APIResponseValidationError(
                f"the answer from {self.model} is not an event stream: its content-type is {content_type!r}",
                response=response,
            )
        try:
            self._body = BodyDecoder(response.headers.get("content-encoding", ""))
        except UndecodableBodyError as exc:
            raise APIResponseValidationError(
                f"the stream from {self.model} cannot be decoded: {exc}", response=response
            ) from None
        self._decoder = StreamDecoder(self.model, response, limit=limits.max_answer_bytes)
        self._idle = Deadline.after(limits.idle_timeout, "idle_timeout")
        self._pending, self._index = [], 0
        self._pieces = None

    def _deltas(self, raw: bytes | None) -> list[str]:
        """The deltas of one raw chunk; ``None``: of the pieces of the last one still waiting.

        A chunk is fed a bounded piece at a time (decoded first, if compressed), and only up to the first
        piece that completes a delta, the rest waiting (``_pieces``): the first delta of a burst (a proxy
        that buffered the answer) is handed out without parsing the whole burst first, and a small chunk
        that inflates to millions of deltas never has them all in memory at once.
        """
        decoder = self._decoder
        events = decoder.events
        if raw is not None and len(raw) <= FEED_STEP and self._body.identity:
            deltas = decoder.feed(raw)  # the common case: a read of a few events, as they come
        else:
            if raw is not None:
                self._pieces = _sliced(self._body.feed(raw))
            deltas = []
            if self._pieces is not None:
                for piece in self._pieces:
                    deltas = decoder.feed(piece)
                    if deltas:
                        break
                else:
                    self._pieces = None
        if decoder.events != events:
            self._idle.restart()  # the idle limit counts from the last event, not the last byte
        return deltas

    def _first(self, deltas: list[str] | None) -> bool:
        """While opening: take what one read gave (None at the end of the bytes); True once the first
        text, or the end, is reached. An end before any text raises its error here, inside the attempt."""
        if deltas is None:
            self._pending = self._decoder.end()
            error = self._decoder.end_error() if not self._pending else None
            if error is not None:
                raise error
            return True
        if deltas:
            self._pending = deltas
            return True
        return False

    def _next_of(self, deltas: list[str] | None) -> str | None:
        """While iterating: the first of the deltas one read gave (None at the end of the bytes, where
        the decoder's last deltas or its error come out), keeping the rest; None if there is none yet."""
        if deltas is None:
            deltas = self._decoder.end()
            self._raw = None
            error = self._decoder.end_error()
            if error is not None and not deltas:
                raise error
        if not deltas:
            return None
        self._pending, self._index = deltas, 1
        return deltas[0]

    def _broken(self, exc: Exception) -> Exception:
        """The error for a read that failed: an idle stream, a lost connection, undecodable bytes."""
        if isinstance(exc, UndecodableBodyError):
            return APIResponseValidationError(
                f"the stream from {self.model} cannot be decoded: {exc}", response=self._decoder.response
            )
        if isinstance(exc, httpx.TimeoutException) and self._idle.expired():
            return self._decoder.interrupted(f"no event for {self._idle.seconds:g}s (idle_timeout)")
        return self._decoder.interrupted(exc)

    @property
    def model(self) -> str:
        """The model asked."""
        return self._decoder.model

    @property
    def text(self) -> str:
        """The text that has arrived so far; the whole reply once the stream is exhausted."""
        return self._decoder.text

    @property
    def finish_reason(self) -> str | None:
        """Why the model stopped (``"stop"``, ``"length"`` ...); None until the server says."""
        return self._decoder.finish_reason

    @property
    def refusal(self) -> str | None:
        """The model's refusal, if it refused instead of answering (``text`` is then empty); None
        otherwise. It is not among the deltas the stream yields."""
        return self._decoder.refusal

    @property
    def usage(self) -> ChatUsage | None:
        """Token counts, once the server sent them (at the end; None if it does not report usage)."""
        return self._decoder.usage

    @property
    def deltas(self) -> int:
        """How many text pieces have arrived."""
        return len(self._decoder.parts)

    @property
    def response(self) -> httpx.Response | None:
        """The HTTP response, once the request was sent (for headers such as ``x-request-id``)."""
        return self._decoder.response

    @property
    def closed(self) -> bool:
        """Whether the stream has ended or been closed (its connection is released)."""
        return self._closed

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r})"
