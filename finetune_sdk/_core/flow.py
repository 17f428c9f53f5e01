"""Multi-step flows written once: generators that say what to do and are told what happened.

A flow (``create``, ``wait``, following events, a page of a list) is a generator. It yields an
*effect* — :class:`Send` a request, :class:`Sleep`, :class:`Call` a function, :class:`Emit` items to the
caller — and the client that drives it performs the effect and sends the result back in (or throws the
exception in, so the flow can handle it or clean up). The sync client drives flows with plain calls and
``time.sleep``, the async client with ``await`` and ``anyio.sleep``; the flow itself does no I/O and is
the same for both, as httpx's ``Auth.auth_flow`` is for its sync and async clients::

    def retrieve_twice(spec: RequestSpec) -> Flow[Answer]:
        first = yield from send(spec)
        yield Sleep(1.0)
        return (yield from send(spec))

``client.run(flow)`` returns what the flow returns; ``client.iterate(flow)`` yields what it emits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Generator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, Union

import httpx

from .wire import Answer, RequestSpec, parse_model

if TYPE_CHECKING:
    import pydantic

__all__ = [
    "Call",
    "Effect",
    "Emit",
    "Flow",
    "Open",
    "Send",
    "Sleep",
    "call",
    "open_stream",
    "request",
    "send",
]

T = TypeVar("T")
ModelT = TypeVar("ModelT", bound="pydantic.BaseModel")


@dataclasses.dataclass(frozen=True, slots=True)
class Send:
    """Send ``spec`` with the client's retries; the flow gets the :class:`Answer`, or the ``APIError``
    thrown in. ``shielded``: the request is sent even while the caller is being cancelled (a cleanup
    that must not be skipped, such as deleting a file a failed create uploaded)."""

    spec: RequestSpec
    shielded: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class Open:
    """Send the streaming ``spec`` with the client's retries, running ``start`` on each attempt's open
    stream (the sync client calls it, the async client awaits it); the flow gets the :class:`Answer`."""

    spec: RequestSpec
    start: Callable[[httpx.Response], Any]


@dataclasses.dataclass(frozen=True, slots=True)
class Sleep:
    """Pause for ``seconds``."""

    seconds: float


@dataclasses.dataclass(frozen=True, slots=True)
class Call:
    """Call ``function(*args)`` and give the flow its result. The async client awaits a result that is
    awaitable (a caller's coroutine callback), runs a ``blocking`` function (file I/O) in a worker
    thread, off the event loop, and awaits ``awaitable(*args)`` instead when one is given (work that
    has an async form of its own, cancellable at once)."""

    function: Callable[..., Any]
    args: tuple[Any, ...] = ()
    blocking: bool = False
    awaitable: Callable[..., Awaitable[Any]] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Emit:
    """Hand ``items`` to the caller of ``client.iterate(flow)``, in order."""

    items: Sequence[Any]


Effect = Union[Send, Open, Sleep, Call, Emit]  # noqa: UP007 - a runtime alias, valid on 3.10
#: A flow that returns a ``T``.
Flow = Generator[Effect, Any, T]


def send(spec: RequestSpec, *, shielded: bool = False) -> Flow[Answer]:
    """``answer = yield from send(spec)``: the typed form of yielding :class:`Send`."""
    answer: Answer = yield Send(spec, shielded)
    return answer


def request(spec: RequestSpec, model: type[ModelT]) -> Flow[ModelT]:
    """The answer to ``spec``, as ``model`` (carrying the request id)."""
    answer = yield from send(spec)
    return parse_model(model, answer.payload, response=answer.response)


def open_stream(spec: RequestSpec, start: Callable[[httpx.Response], Any]) -> Flow[Answer]:
    """``answer = yield from open_stream(spec, start)``: the typed form of yielding :class:`Open`."""
    answer: Answer = yield Open(spec, start)
    return answer


def call(function: Callable[..., T], *args: Any, blocking: bool = False) -> Flow[T]:
    """``result = yield from call(f, x)``: the typed form of yielding :class:`Call`."""
    result: T = yield Call(function, args, blocking)
    return result
