"""One attempt of a call: send the request and read its answer within the attempt's limits.

The client's retry loop repeats these. An answer is read within its size limit and decoded (a chain of
gzip/deflate codings inflated in bounded steps, see :class:`~finetune_sdk._core.limits.BodyDecoder`); a
stream is returned open once ``start`` has read its beginning. The whole attempt ends by its deadline:
every network read and write of the SDK's own transport is bounded by it, the async attempt is also a
cancel scope, and the sync reader checks it between chunks (which is all a caller's own ``http_client``
allows).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

import httpx

from .._core.durations import Deadline
from .._core.limits import LIMITS_EXTENSION, BodyDecoder, Limits, UndecodableBodyError
from .._core.wire import Answer, decode_answer, is_stream_answer, transport_error
from ..errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    ConfigurationError,
    ResponseTooLargeError,
)
from .backend import enter_deadline, leave_deadline

__all__ = ["asend_attempt", "deadline_error", "limits_of", "send_attempt", "too_large"]

OnAnswer = Callable[[httpx.Request, httpx.Response], None]
_DEFAULT_LIMITS: Final = Limits()
# Headers that describe the body as sent, not as decoded: a decoded answer drops them.
_ENCODING_HEADERS: Final = frozenset({"content-encoding", "content-length", "transfer-encoding"})
# What asyncio, anyio and trio say when connections made on one event loop are used from another.
_OTHER_LOOP: Final = (
    "event loop is closed",
    "no running event loop",
    "different loop",
    "different event loop",
    "must be called from async context",
)


def limits_of(request: httpx.Request) -> Limits:
    """The limits the client attached to ``request`` (the defaults for a request made elsewhere)."""
    limits = request.extensions.get(LIMITS_EXTENSION)
    return limits if isinstance(limits, Limits) else _DEFAULT_LIMITS


def deadline_error(deadline: Deadline, request: httpx.Request) -> APITimeoutError:
    return APITimeoutError(
        f"{request.method} {request.url} took longer than its {deadline.what} of {deadline.seconds:g}s. "
        "Raise it with Client(deadline=..., idle_timeout=...) or client.with_options(...).",
        request=request,
    )


def too_large(response: httpx.Response, limit: int, what: str = "answer") -> ResponseTooLargeError:
    request = response.request
    return ResponseTooLargeError(
        f"{request.method} {request.url.path} sent an {what} larger than {limit} bytes (decoded); "
        "stopped reading. Raise the limit with Client(max_answer_bytes=...) if it is expected.",
        limit=limit,
        response=response,
    )


def _undecodable(response: httpx.Response, why: object) -> APIResponseValidationError:
    request = response.request
    return APIResponseValidationError(
        f"{request.method} {request.url.path} sent an answer that cannot be decoded: {why}", response=response
    )


#: The most of an error answer's body that is read: its message is at the start, and a server that
#: answers a 503 or a 429 with megabytes (or a gzip bomb) must still be seen as a 503 or a 429.
ERROR_BODY_LIMIT: Final = 64 * 1024


class _Body:
    """The decoded body of an answer as it is read, refused past the size limit (sans I/O); an error
    answer's body is cut at ``ERROR_BODY_LIMIT`` instead (``full`` then), so its status stands."""

    __slots__ = ("_decoder", "_error", "_limit", "_parts", "_response", "_size", "full")

    def __init__(self, response: httpx.Response, limits: Limits) -> None:
        self._response = response
        self._error = not 200 <= response.status_code < 300
        self._limit = (
            min(limits.max_answer_bytes, ERROR_BODY_LIMIT) if self._error else limits.max_answer_bytes
        )
        self._parts: list[bytes] = []
        self._size = 0
        self.full = False
        try:
            self._decoder = BodyDecoder(response.headers.get("content-encoding", ""))
        except UndecodableBodyError as exc:
            raise _undecodable(response, exc) from None

    def read_whole(self, bounded: bool) -> bool:
        """Whether httpx may read the body in one go: sent as it is, with a length within the limit
        (which the connection holds it to), through a transport that bounds each read by the deadline
        (``bounded``: the SDK's own); or already read, by a transport that answers from memory."""
        if self._response.is_stream_consumed:
            if len(self._response.content) > self._limit:
                raise too_large(self._response, self._limit)
            return True
        length = self._response.headers.get("content-length", "")
        if not self._decoder.identity or not length.isdigit():
            return False
        if int(length) > self._limit:
            if self._error:
                return False  # read in pieces, up to the limit
            raise too_large(self._response, self._limit)
        return bounded

    def _add(self, piece: bytes) -> None:
        self._size += len(piece)
        if self._size > self._limit:
            if not self._error:
                raise too_large(self._response, self._limit)
            piece = piece[: len(piece) - (self._size - self._limit)]
            self.full = True
        self._parts.append(piece)

    def feed(self, raw: bytes) -> None:
        """Take one raw read; once ``full``, the caller stops reading."""
        try:
            for piece in self._decoder.feed(raw):
                self._add(piece)
                if self.full:
                    return
        except UndecodableBodyError as exc:
            raise _undecodable(self._response, exc) from None

    def answer(self) -> httpx.Response:
        """The answer with its decoded body, readable as ``.content`` / ``.text`` / ``.json()``."""
        try:
            if not self.full:
                for piece in self._decoder.finish():
                    self._add(piece)
        except UndecodableBodyError as exc:
            raise _undecodable(self._response, exc) from None
        response = self._response
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _ENCODING_HEADERS]
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=b"".join(self._parts),
            request=response.request,
            extensions=response.extensions,
        )


def _misused(
    exc: RuntimeError, http: httpx.Client | httpx.AsyncClient, request: httpx.Request
) -> ConfigurationError | None:
    """The SDK's error for a ``RuntimeError`` about how a pool is used (a closed one, or one of another
    event loop), saying what to do; None for any other."""
    call = f"{request.method} {request.url.path}"
    if http.is_closed:
        return ConfigurationError(
            f"{call} cannot be sent: the client's connection pool is closed (the client, or the "
            "http_client it was given, was closed). Close a client only once done with it, or make a new one."
        )
    if isinstance(http, httpx.AsyncClient) and any(words in str(exc).lower() for words in _OTHER_LOOP):
        return ConfigurationError(
            f"{call} cannot be sent: the httpx.AsyncClient given as http_client holds connections of "
            f"another event loop ({exc}). Make it inside the loop that uses it (one per asyncio.run or "
            "anyio.run), or leave http_client out: the SDK's own pool follows the event loop."
        )
    return None


def _failed(exc: httpx.TransportError, request: httpx.Request, deadline: Deadline) -> APIError:
    if isinstance(exc, httpx.TimeoutException) and deadline.expired():
        return deadline_error(deadline, request)
    return transport_error(exc, request)


def _send_error(
    exc: httpx.TransportError | RuntimeError,
    http: httpx.Client | httpx.AsyncClient,
    request: httpx.Request,
    deadline: Deadline,
) -> APIError | ConfigurationError | None:
    """The SDK's error for what sending raised: a transport failure, or a ``RuntimeError`` about how
    the pool is used; None for any other ``RuntimeError`` (raised as it is)."""
    if isinstance(exc, httpx.TransportError):
        return _failed(exc, request, deadline)
    return _misused(exc, http, request)


def send_attempt(
    http: httpx.Client,
    request: httpx.Request,
    *,
    stream: bool,
    start: Callable[[httpx.Response], Any] | None,
    on_answer: OnAnswer,
    bounded: bool = True,
) -> Answer:
    """Send ``request`` once and read its answer, all within the attempt's deadline (``bounded``: the
    transport bounds each read by it; else it is checked between the chunks of the answer).

    A streamed answer is returned open, after ``start(response)`` read its beginning (inside the
    deadline too); any other answer is read within the size limit, closed, and decoded.
    """
    limits = limits_of(request)
    deadline = Deadline.after(limits.deadline)
    token = enter_deadline(deadline)
    try:
        try:
            response = http.send(request, stream=True)
        except (httpx.TransportError, RuntimeError) as exc:
            error = _send_error(exc, http, request, deadline)
            if error is None:
                raise
            raise error from exc
        on_answer(request, response)
        if stream and is_stream_answer(response):
            if start is None:
                return Answer(response, None)
            try:
                return Answer(response, start(response))
            except BaseException as exc:
                response.close()
                if isinstance(exc, APIConnectionError) and deadline.expired():
                    raise deadline_error(deadline, request) from exc
                raise
        try:
            body = _Body(response, limits)
            if body.read_whole(bounded):
                response.read()
                answer = response
            else:
                for raw in response.iter_raw():
                    body.feed(raw)
                    if body.full:
                        break
                    if deadline.expired():  # a caller's own transport does not bound each read
                        raise deadline_error(deadline, request)
                answer = body.answer()
        except httpx.TransportError as exc:
            raise _failed(exc, request, deadline) from exc
        finally:
            response.close()
    finally:
        leave_deadline(token)
    # Decoding inside the attempt lets an error envelope under HTTP 200 be retried like a 503.
    return Answer(answer, decode_answer(answer))


async def asend_attempt(
    http: httpx.AsyncClient,
    request: httpx.Request,
    *,
    stream: bool,
    start: Callable[[httpx.Response], Awaitable[Any]] | None,
    on_answer: OnAnswer,
    bounded: bool = True,
) -> Answer:
    """:func:`send_attempt` for the async client; the deadline is also a cancel scope around it all."""
    import anyio  # only the async client needs it: a sync client is made without importing it

    limits = limits_of(request)
    deadline = Deadline.after(limits.deadline)
    token = enter_deadline(deadline)
    try:
        with anyio.fail_after(deadline.left()):
            return await _asend(
                http, request, stream=stream, start=start, on_answer=on_answer, limits=limits, bounded=bounded
            )
    except TimeoutError:
        raise deadline_error(deadline, request) from None
    except (httpx.TransportError, RuntimeError) as exc:
        error = _send_error(exc, http, request, deadline)
        if error is None:
            raise
        raise error from exc
    finally:
        leave_deadline(token)


async def _asend(
    http: httpx.AsyncClient,
    request: httpx.Request,
    *,
    stream: bool,
    start: Callable[[httpx.Response], Awaitable[Any]] | None,
    on_answer: OnAnswer,
    limits: Limits,
    bounded: bool,
) -> Answer:
    import anyio

    response = await http.send(request, stream=True)
    on_answer(request, response)
    if stream and is_stream_answer(response):
        if start is None:
            return Answer(response, None)
        try:
            return Answer(response, await start(response))
        except BaseException:
            with anyio.CancelScope(shield=True):
                await response.aclose()
            raise
    try:
        body = _Body(response, limits)
        if body.read_whole(bounded):
            await response.aread()
            answer = response
        else:
            async for raw in response.aiter_raw():
                body.feed(raw)
                if body.full:
                    break
            answer = body.answer()
    finally:
        with anyio.CancelScope(shield=True):  # the deadline's cancellation must not skip the close
            await response.aclose()
    return Answer(answer, decode_answer(answer))
