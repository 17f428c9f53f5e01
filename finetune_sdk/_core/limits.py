"""Bounds on one attempt, sans I/O: a total deadline, a cap on the answer's size, a limit on idle streams,
and the bounded decoding of compressed answers.

httpx's timeouts limit each network operation, not a call: a server that sends one byte a second holds
a read timeout of 2 s off forever. So every attempt carries :class:`Limits` (as a request extension,
read by the transport and the readers): a total ``deadline``, an ``idle_timeout`` between the events of
a stream, and ``max_answer_bytes`` for an answer (decoded) and for one line of a stream.

A compressed answer is decoded here, not by httpx, which inflates each network read whole (64 KiB of a
gzip bomb is 64 MiB) and every coding of a chain (``Content-Encoding: gzip, gzip``) one after the other:
:class:`BodyDecoder` inflates any chain of ``gzip``/``deflate`` codings in steps of ``INFLATE_STEP``, so
the size cap holds while decoding, whatever the headers say.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Iterator
from typing import Final

__all__ = [
    "ACCEPT_ENCODING",
    "DEFAULT_MAX_ANSWER_BYTES",
    "INFLATE_STEP",
    "LIMITS_EXTENSION",
    "MAX_CODINGS",
    "BodyDecoder",
    "Limits",
    "UndecodableBodyError",
]

#: The largest answer (after decompression) read by default: far above any real list or job.
DEFAULT_MAX_ANSWER_BYTES: Final = 32 * 1024 * 1024
#: The key under which a request carries its :class:`Limits` (httpx passes unknown extensions through).
LIMITS_EXTENSION: Final = "finetune_sdk.limits"
#: What the SDK asks servers for: the codings :class:`BodyDecoder` inflates itself.
ACCEPT_ENCODING: Final = "gzip, deflate"
#: How much is inflated at a time, per coding of a chain.
INFLATE_STEP: Final = 256 * 1024
#: The longest chain of codings decoded; a longer ``Content-Encoding`` is refused.
MAX_CODINGS: Final = 4


@dataclasses.dataclass(frozen=True)
class Limits:
    """The bounds of one attempt: ``deadline`` seconds in all (None: none), ``idle_timeout`` seconds
    at most between two events of a stream (None: none), ``max_answer_bytes`` per answer and per line
    (or event) of a stream."""

    deadline: float | None = None
    idle_timeout: float | None = None
    max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES


class UndecodableBodyError(ValueError):
    """A body whose ``Content-Encoding`` cannot be decoded: an unknown coding, too long a chain, or
    bytes that are not what the coding says."""


class _Inflater:
    """One ``gzip`` or ``deflate`` coding, inflated in bounded steps."""

    def __init__(self, coding: str) -> None:
        self._gzip = coding in ("gzip", "x-gzip")
        # deflate is zlib-wrapped by the standard, raw in some servers: try zlib, fall back to raw.
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16 if self._gzip else zlib.MAX_WBITS)
        self._first = not self._gzip
        # zlib's header is two bytes: from one alone neither zlib nor raw can be told (a raw body read a
        # byte at a time would fail at its second), so a deflate body's first byte waits for the next.
        self._head = b""

    def inflate(self, data: bytes) -> Iterator[bytes]:
        if self._first and len(self._head) + len(data) < 2:
            self._head += data
        else:
            data, self._head = self._head + data, b""
            yield from self._inflate(data)

    def _inflate(self, data: bytes) -> Iterator[bytes]:
        while True:
            zobj = self._zlib
            try:
                piece = zobj.decompress(data, INFLATE_STEP)
            except zlib.error:
                if not self._first:
                    raise
                zobj = self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                piece = zobj.decompress(data, INFLATE_STEP)
            self._first = False
            if piece:
                yield piece
            while zobj.unconsumed_tail:
                piece = zobj.decompress(zobj.unconsumed_tail, INFLATE_STEP)
                if piece:
                    yield piece
            # A gzip body may be several members one after another (RFC 1952): on to the next one
            # (zero bytes after the last, as some servers pad, are no member).
            if not (self._gzip and zobj.eof and zobj.unused_data.strip(b"\0")):
                return
            data = zobj.unused_data
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)

    def finish(self) -> Iterator[bytes]:
        if self._head:  # a deflate body of one byte
            head, self._head = self._head, b""
            yield from self._inflate(head)
        # Output zlib still holds once every input byte is in: drained in bounded steps too.
        while piece := self._zlib.decompress(b"", INFLATE_STEP):
            yield piece
        rest = self._zlib.flush()
        if rest:
            yield rest


class BodyDecoder:
    """Raw bytes in, as the server sent them; decoded bytes out, in pieces of at most ``INFLATE_STEP``.

    ``content_encoding`` is the answer's header: a chain of ``gzip`` / ``deflate`` codings (applied in
    the order listed, so decoded last to first), ``identity`` or nothing. Anything else raises
    :class:`UndecodableBodyError` at once.
    """

    __slots__ = ("_layers",)

    def __init__(self, content_encoding: str) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > MAX_CODINGS:
            raise UndecodableBodyError(
                f"Content-Encoding chains {len(codings)} codings (at most {MAX_CODINGS})"
            )
        unknown = [c for c in codings if c not in ("gzip", "x-gzip", "deflate")]
        if unknown:
            raise UndecodableBodyError(
                f"Content-Encoding {', '.join(unknown)} is not one the SDK asked for ({ACCEPT_ENCODING})"
            )
        self._layers = [_Inflater(c) for c in reversed(codings)]

    @property
    def identity(self) -> bool:
        """Whether the body is sent as it is (no coding to undo)."""
        return not self._layers

    def feed(self, raw: bytes) -> Iterator[bytes]:
        """The decoded pieces of ``raw``."""
        if not self._layers:
            if raw:
                yield raw
            return
        try:
            yield from self._through(0, raw)
        except zlib.error as exc:
            raise UndecodableBodyError(str(exc)) from None

    def finish(self) -> Iterator[bytes]:
        """What is left once every raw byte is in."""
        try:
            for index, layer in enumerate(self._layers):
                for piece in layer.finish():
                    yield from self._through(index + 1, piece)
        except zlib.error as exc:
            raise UndecodableBodyError(str(exc)) from None

    def _through(self, index: int, data: bytes) -> Iterator[bytes]:
        # Depth first: each piece goes through the inner codings before the next is inflated, so at
        # most one piece per coding is held at a time.
        if index == len(self._layers):
            yield data
            return
        for piece in self._layers[index].inflate(data):
            yield from self._through(index + 1, piece)
