"""One attempt of a call: send the request and read its answer within the attempt's limits.

The clients' retry loops (tenacity) repeat these; :mod:`._limits` says what the limits are. The sync and
async functions mirror each other; the async deadline is a cancel scope around the whole attempt.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from ._limits import Deadline, Limits, aread_body, limits_of, read_body
from ._wire import Answer, decode_answer, is_stream_answer, transport_error
from .errors import APIConnectionError

__all__ = ["asend_attempt", "send_attempt"]

OnAnswer = Callable[[httpx.Request, httpx.Response], None]


def send_attempt(
    http: httpx.Client,
    request: httpx.Request,
    *,
    stream: bool,
    start: Callable[[httpx.Response], Any] | None,
    on_answer: OnAnswer,
) -> Answer:
    """Send ``request`` once and read its answer, all within the attempt's deadline.

    A streamed answer is returned open, after ``start(response)`` read its beginning (inside the
    deadline too); any other answer is read within the size limit, closed, and decoded.
    """
    limits = limits_of(request)
    deadline = Deadline.after(limits.deadline)
    with deadline.scope():
        try:
            response = http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise _failed(exc, request, deadline) from exc
        on_answer(request, response)
        if stream and is_stream_answer(response):
            if start is None:
                return Answer(response, None)
            try:
                return Answer(response, start(response))
            except BaseException as exc:
                response.close()
                if isinstance(exc, APIConnectionError) and deadline.expired():
                    # A stream broken by the deadline: the same error as the async client's.
                    raise deadline.error(request) from exc
                raise
        try:
            read_body(response, limits, deadline)
        except httpx.TransportError as exc:
            raise _failed(exc, request, deadline) from exc
        finally:
            response.close()
    # Decoding inside the attempt lets an error envelope under HTTP 200 be retried like a 503.
    return Answer(response, decode_answer(response))


async def asend_attempt(
    http: httpx.AsyncClient,
    request: httpx.Request,
    *,
    stream: bool,
    start: Callable[[httpx.Response], Awaitable[Any]] | None,
    on_answer: OnAnswer,
) -> Answer:
    """:func:`send_attempt` for the async client: the deadline is a cancel scope around it all."""
    import anyio  # only the async client needs it: a sync client is made without importing it

    limits = limits_of(request)
    deadline = Deadline.after(limits.deadline)
    try:
        with anyio.fail_after(deadline.left()):
            return await _asend(
                http,
                request,
                stream=stream,
                start=start,
                on_answer=on_answer,
                limits=limits,
                deadline=deadline,
            )
    except TimeoutError:
        raise deadline.error(request) from None


async def _asend(
    http: httpx.AsyncClient,
    request: httpx.Request,
    *,
    stream: bool,
    start: Callable[[httpx.Response], Awaitable[Any]] | None,
    on_answer: OnAnswer,
    limits: Limits,
    deadline: Deadline,
) -> Answer:
    import anyio

    try:
        response = await http.send(request, stream=True)
    except httpx.TransportError as exc:
        raise _failed(exc, request, deadline) from exc
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
        await aread_body(response, limits)
    except httpx.TransportError as exc:
        raise _failed(exc, request, deadline) from exc
    finally:
        with anyio.CancelScope(shield=True):  # the deadline's cancellation must not skip the close
            await response.aclose()
    return Answer(response, decode_answer(response))


def _failed(exc: httpx.TransportError, request: httpx.Request, deadline: Deadline) -> Exception:
    if isinstance(exc, httpx.TimeoutException) and deadline.expired():
        return deadline.error(request)
    return transport_error(exc, request)
