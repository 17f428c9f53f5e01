"""Raw responses: ``client.jobs.with_raw_response.retrieve(job_id)`` returns an :class:`APIResponse`.

Every logical call (its retries included) ends in one :class:`Sent` that the base client hands to
:func:`record`. A raw-response wrapper runs the ordinary method while collecting what it sent, and
returns the last answer together with the method's result, so each resource method exists once and its
raw twin is one line.
"""

from __future__ import annotations

import contextvars
import dataclasses
import datetime
import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Concatenate, Generic, TypeVar

import httpx
from typing_extensions import ParamSpec

from ._core.ids import request_id_of as _header_request_id
from .errors import APIResponseValidationError

__all__ = [
    "APIResponse",
    "AsyncRawResponseView",
    "RawResponseView",
    "Sent",
    "SyncRawResponseView",
    "async_raw",
    "async_raw_method",
    "raw",
    "raw_method",
    "record",
    "request_id_of",
]

T = TypeVar("T")
S = TypeVar("S")
P = ParamSpec("P")


def request_id_of(response: httpx.Response) -> str | None:
    """The platform's id of this request (``x-request-id``), to quote when asking for help."""
    return _header_request_id(response.headers)


@dataclasses.dataclass(frozen=True)
class Sent:
    """How one logical call went: its last answer, how many retries it took and how long in all."""

    response: httpx.Response
    retries_taken: int
    elapsed: float


# The calls of the running raw-response wrapper (a list per wrapper call; None outside one).
_collecting: contextvars.ContextVar[list[Sent] | None] = contextvars.ContextVar(
    "finetune_sdk_raw", default=None
)


def record(sent: Sent) -> None:
    """Called by the base client after every logical call; kept only inside a raw-response wrapper."""
    calls = _collecting.get()
    if calls is not None:
        calls.append(sent)


class APIResponse(Generic[T]):
    """The HTTP answer of a call and what it parses to (:meth:`parse`).

    For a method that sends several requests (an upload before a create, the polls of ``wait``) it is
    the answer of the last one.
    """

    def __init__(self, sent: Sent, parsed: T) -> None:
        self._sent = sent
        self._parsed = parsed

    @property
    def http_response(self) -> httpx.Response:
        """The ``httpx.Response`` itself (its body already read, except for a stream)."""
        return self._sent.response

    @property
    def status_code(self) -> int:
        return self._sent.response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self._sent.response.headers

    @property
    def request_id(self) -> str | None:
        """The ``x-request-id`` the platform answered with."""
        return request_id_of(self._sent.response)

    @property
    def elapsed(self) -> datetime.timedelta:
        """Time from the first attempt's start to the last answer, retries and their pauses included."""
        return datetime.timedelta(seconds=self._sent.elapsed)

    @property
    def retries_taken(self) -> int:
        """How many times the call was tried again (0: the first attempt answered)."""
        return self._sent.retries_taken

    @property
    def url(self) -> httpx.URL:
        return self._sent.response.request.url

    @property
    def method(self) -> str:
        return self._sent.response.request.method

    def parse(self) -> T:
        """What the ordinary method returns (a model, a page ...)."""
        return self._parsed

    def __repr__(self) -> str:
        return f"<APIResponse [{self.status_code}] {self.method} {self.url.path}>"


def _last(calls: list[Sent], name: str) -> Sent:
    if not calls:
        raise APIResponseValidationError(f"{name} sent no request, so there is no raw response to show")
    return calls[-1]


def raw(method: Callable[P, T]) -> Callable[P, APIResponse[T]]:
    """The raw-response twin of a sync resource method."""

    @functools.wraps(method)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> APIResponse[T]:
        calls: list[Sent] = []
        token = _collecting.set(calls)
        try:
            parsed = method(*args, **kwargs)
        finally:
            _collecting.reset(token)
        return APIResponse(_last(calls, method.__name__), parsed)

    return wrapped


def async_raw(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[APIResponse[T]]]:
    """The raw-response twin of an async resource method (or one returning an awaitable page)."""

    @functools.wraps(method)
    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> APIResponse[T]:
        calls: list[Sent] = []
        token = _collecting.set(calls)
        try:
            parsed = await method(*args, **kwargs)
        finally:
            _collecting.reset(token)
        return APIResponse(_last(calls, method.__name__), parsed)

    return wrapped


class RawResponseView:
    """The base of a resource's ``with_raw_response`` view: the resource's methods, each returning an
    :class:`APIResponse`. A view lists them as ``create = raw_method(Jobs.create)`` (or
    :func:`async_raw_method`), or shares the resource's table of calls (``_calls.Call``): each keeps
    the resource method's exact parameters (so a misspelt keyword is a type error there too)."""

    def __init__(self, resource: object) -> None:
        self._resource = resource


class SyncRawResponseView(RawResponseView):
    """The ``with_raw_response`` view of a resource of the sync client."""


class AsyncRawResponseView(RawResponseView):
    """The ``with_raw_response`` view of a resource of the async client (its methods are awaited)."""


def raw_method(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[Any, P], APIResponse[T]]:
    """The raw-response twin of the sync resource ``method``, for a view."""
    name = method.__name__

    def call(view: Any, /, *args: P.args, **kwargs: P.kwargs) -> APIResponse[T]:
        return raw(getattr(view._resource, name))(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"``{name}``, returning its :class:`~finetune_sdk.APIResponse` (status, headers ...)."
    return call


def async_raw_method(
    method: Callable[Concatenate[S, P], Awaitable[T]],
) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, APIResponse[T]]]:
    """The raw-response twin of the async resource ``method``, for a view."""
    name = method.__name__

    async def call(view: Any, /, *args: P.args, **kwargs: P.kwargs) -> APIResponse[T]:
        return await async_raw(getattr(view._resource, name))(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"``{name}``, returning its :class:`~finetune_sdk.APIResponse` (status, headers ...)."
    return call
