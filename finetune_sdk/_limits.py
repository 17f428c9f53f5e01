"""Bounds on one attempt: a total deadline, a cap on the answer's size, a limit on idle streams.

httpx's timeouts limit each network operation, not a call: a server that sends one byte a second holds
a read timeout of 2 s off forever. Here every attempt gets a total deadline, enforced

* for the async client by an anyio cancel scope around the whole attempt (``fail_after``);
* for the sync client by the connection pool's network streams, which cap each read and write to the
  time left and fail once it is gone (with a transport whose pool this cannot reach, the deadline is
  checked between the chunks of an answer instead);

and an answer is read chunk by chunk (decoded) and refused as soon as it passes ``max_answer_bytes``,
never held whole first (``_attempt`` applies them to one attempt of a call).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import math
import time
import zlib
from collections.abc import Iterator
from typing import Final

import httpx

from .errors import APIResponseValidationError, APITimeoutError, ResponseTooLargeError

__all__ = [
    "DEFAULT_MAX_ANSWER_BYTES",
    "LIMITS_EXTENSION",
    "Deadline",
    "Limits",
    "aread_body",
    "current_deadline",
    "install_deadline",
    "leave",
    "limits_of",
    "read_body",
    "too_large",
]

#: The largest answer (after decompression) read by default: far above any real list or job.
DEFAULT_MAX_ANSWER_BYTES: Final = 32 * 1024 * 1024
#: The key under which a request carries its :class:`Limits` (httpx passes unknown extensions through).
LIMITS_EXTENSION: Final = "finetune_sdk.limits"


@dataclasses.dataclass(frozen=True)
class Limits:
    """The bounds of one attempt: ``deadline`` seconds in all (None: none), ``idle_timeout`` seconds
    at most between two events of a stream (None: none), ``max_answer_bytes`` per answer and per line
    (or event) of a stream."""

    deadline: float | None = None
    idle_timeout: float | None = None
    max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES


def limits_of(request: httpx.Request) -> Limits:
    """The limits the client attached to ``request`` (the defaults for a request made elsewhere)."""
    limits = request.extensions.get(LIMITS_EXTENSION)
    return limits if isinstance(limits, Limits) else Limits()


class Deadline:
    """A point on the monotonic clock (``at``; None is never) and what it is called in errors."""

    __slots__ = ("at", "seconds", "what")

    def __init__(self, at: float | None, seconds: float | None, what: str = "deadline") -> None:
        self.at = at
        self.seconds = seconds
        self.what = what

    @classmethod
    def after(cls, seconds: float | None, what: str = "deadline") -> Deadline:
        if seconds is None or math.isinf(seconds):
            return cls(None, None, what)
        return cls(time.monotonic() + seconds, seconds, what)

    def restart(self) -> None:
        """The same span again, from now (an idle limit after each event)."""
        if self.seconds is not None:
            self.at = time.monotonic() + self.seconds

    def left(self) -> float | None:
        return None if self.at is None else self.at - time.monotonic()

    def expired(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at

    def sooner(self, other: Deadline | None) -> Deadline:
        """Whichever of the two comes first."""
        if other is None or other.at is None:
            return self
        return other if self.at is None or other.at < self.at else self

    def error(self, request: httpx.Request) -> APITimeoutError:
        return APITimeoutError(
            f"{request.method} {request.url} took longer than its {self.what} of {self.seconds:g}s. "
            "Raise it with Client(deadline=..., idle_timeout=...) or client.with_options(...).",
            request=request,
        )

    @contextlib.contextmanager
    def scope(self) -> Iterator[None]:
        """Make this the deadline of the sync network reads and writes of the block (in this thread);
        an enclosing sooner deadline still applies."""
        token = self.enter()
        try:
            yield
        finally:
            _current.reset(token)

    def enter(self) -> contextvars.Token[Deadline | None]:
        """:meth:`scope` without a context manager, for a hot loop: reset with ``leave(token)``."""
        return _current.set(self.sooner(_current.get()))


def leave(token: contextvars.Token[Deadline | None]) -> None:
    _current.reset(token)


# The deadline of the sync I/O in progress in this thread (or task), read by the network streams.
_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "finetune_sdk_deadline", default=None
)


def current_deadline() -> Deadline | None:
    """The deadline of the sync I/O in progress here (None outside the SDK's calls)."""
    return _current.get()


def install_deadline(http: object) -> None:
    """Make a sync httpx client's connection pool honour the current deadline on every read and write.

    Outside the SDK's calls no deadline is set and the pool behaves as before, so a caller's own
    ``http_client`` gets it too, proxies included. httpx offers no public way to choose the pool's
    network backend; an async client, a custom transport or an unknown layout is left alone (the
    deadline is then checked between chunks only).
    """
    from ._deadline_io import install  # httpcore (and what it imports) only once a client is made

    install(http)


# -- reading an answer -----------------------------------------------------------------------------


def too_large(response: httpx.Response, limit: int, what: str = "answer") -> ResponseTooLargeError:
    request = response.request
    return ResponseTooLargeError(
        f"{request.method} {request.url.path} sent an {what} larger than {limit} bytes (decoded); "
        "stopped reading. Raise the limit with Client(max_answer_bytes=...) if it is expected.",
        limit=limit,
        response=response,
    )


def _keep(response: httpx.Response, parts: list[bytes]) -> bytes:
    content = b"".join(parts)
    # What Response.read() stores: error handling reads response.content and .text afterwards.
    response._content = content
    return content


#: How much a gzip answer is inflated at a time: httpx inflates each network read whole (a 64 KiB read
#: of a bomb is 64 MiB), so gzip, by far the commonest encoding, is inflated here in bounded steps.
INFLATE_STEP: Final = 256 * 1024


class _Pieces:
    """The decoded pieces of an answer, refused past the size limit; inflates gzip itself."""

    def __init__(self, response: httpx.Response, limits: Limits) -> None:
        self.response = response
        self.limit = limits.max_answer_bytes
        self.parts: list[bytes] = []
        self.size = 0
        encoding = response.headers.get("content-encoding", "").strip().lower()
        self.inflater = zlib.decompressobj(zlib.MAX_WBITS | 16) if encoding in ("gzip", "x-gzip") else None

    def add(self, data: bytes) -> None:
        if not data:
            return
        self.size += len(data)
        if self.size > self.limit:
            raise too_large(self.response, self.limit)
        self.parts.append(data)

    def add_raw(self, raw: bytes) -> None:
        inflater = self.inflater
        if inflater is None:
            self.add(raw)
            return
        try:
            self.add(inflater.decompress(raw, INFLATE_STEP))
            while inflater.unconsumed_tail:
                self.add(inflater.decompress(inflater.unconsumed_tail, INFLATE_STEP))
        except zlib.error as exc:
            raise self.undecodable(exc) from None

    def done(self) -> bytes:
        if self.inflater is not None:
            self.add(self.inflater.flush())
        return _keep(self.response, self.parts)

    def undecodable(self, exc: Exception) -> APIResponseValidationError:
        request = self.response.request
        return APIResponseValidationError(
            f"{request.method} {request.url.path} sent an answer that cannot be decoded: {exc}",
            response=self.response,
        )

    @property
    def raw(self) -> bool:
        """Whether to read the raw bytes (this inflates them) rather than httpx's decoded ones."""
        return self.inflater is not None


def read_body(response: httpx.Response, limits: Limits, deadline: Deadline) -> bytes:
    """Read the (decoded) body chunk by chunk, refusing it past the size limit or the deadline."""
    pieces = _Pieces(response, limits)
    try:
        for chunk in response.iter_raw() if pieces.raw else response.iter_bytes():
            pieces.add_raw(chunk)
            if deadline.expired():
                raise deadline.error(response.request)
    except httpx.DecodingError as exc:
        raise pieces.undecodable(exc) from None
    return pieces.done()


async def aread_body(response: httpx.Response, limits: Limits) -> bytes:
    """:func:`read_body` for the async client (whose deadline is a cancel scope around it)."""
    pieces = _Pieces(response, limits)
    try:
        async for chunk in response.aiter_raw() if pieces.raw else response.aiter_bytes():
            pieces.add_raw(chunk)
    except httpx.DecodingError as exc:
        raise pieces.undecodable(exc) from None
    return pieces.done()
