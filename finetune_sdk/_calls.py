"""A resource's table of calls, written once for the four classes that have its methods: the sync and
the async resource and their ``with_raw_response`` views::

    class _JobCalls:
        retrieve = runs(_retrieve)
        list = pages(_list)

    class Jobs(_JobCalls, SyncAPIResource): ...
    class AsyncJobs(_JobCalls, AsyncAPIResource): ...
    class JobsWithRawResponse(_JobCalls, SyncRawResponseView): ...
    class AsyncJobsWithRawResponse(_JobCalls, AsyncRawResponseView): ...

Type checkers see each method with the builder's parameters and the return of its class's kind
(``FineTuneJob``, a coroutine of it, an ``APIResponse`` of it ...).
"""

from __future__ import annotations

import types
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Concatenate, Generic, TypeVar, cast, overload

from typing_extensions import ParamSpec

from ._core.flow import Flow
from ._resource import AsyncAPIResource, AsyncMethods, Listing, Settings, SyncAPIResource, SyncMethods
from ._response import APIResponse, AsyncRawResponseView, SyncRawResponseView, async_raw_method, raw_method
from .pagination import AsyncCursorPage, AsyncPaginator, SyncCursorPage

if TYPE_CHECKING:
    import pydantic

__all__ = ["Call", "pages", "runs"]

P = ParamSpec("P")
T = TypeVar("T")
S = TypeVar("S")
A = TypeVar("A")
SR = TypeVar("SR")
AR = TypeVar("AR")
ModelT = TypeVar("ModelT", bound="pydantic.BaseModel")


class Call(Generic[P, S, A, SR, AR]):
    """One method of a resource, for the four classes that have it: the sync resource (returning ``S``),
    the async one (``A``) and their ``with_raw_response`` views (``SR``, ``AR``), which all inherit it
    from the resource's table of calls. Each class reads the method made for its kind, a plain function
    as if written in its own body; the choice is made once per class."""

    def __init__(
        self,
        sync: Callable[Concatenate[Any, P], S],
        async_: Callable[Concatenate[Any, P], A],
        sync_raw: Callable[Concatenate[Any, P], SR],
        async_raw: Callable[Concatenate[Any, P], AR],
    ) -> None:
        self._kinds: tuple[tuple[type, Callable[..., Any]], ...] = (
            (SyncAPIResource, sync),
            (AsyncAPIResource, async_),
            (SyncRawResponseView, sync_raw),
            (AsyncRawResponseView, async_raw),
        )
        self._chosen: dict[type, Callable[..., Any]] = {}

    def _for(self, owner: type) -> Callable[..., Any]:
        try:
            return self._chosen[owner]
        except KeyError:
            pass
        for kind, method in self._kinds:
            if issubclass(owner, kind):
                self._chosen[owner] = method
                return method
        raise TypeError(f"{owner.__name__} is neither a resource nor a raw-response view")

    @overload
    def __get__(self, instance: None, owner: type[SyncAPIResource]) -> Callable[Concatenate[Any, P], S]: ...
    @overload
    def __get__(self, instance: None, owner: type[AsyncAPIResource]) -> Callable[Concatenate[Any, P], A]: ...
    @overload
    def __get__(
        self, instance: None, owner: type[SyncRawResponseView]
    ) -> Callable[Concatenate[Any, P], SR]: ...
    @overload
    def __get__(
        self, instance: None, owner: type[AsyncRawResponseView]
    ) -> Callable[Concatenate[Any, P], AR]: ...
    @overload
    def __get__(self, instance: SyncAPIResource, owner: object = None) -> Callable[P, S]: ...
    @overload
    def __get__(self, instance: AsyncAPIResource, owner: object = None) -> Callable[P, A]: ...
    @overload
    def __get__(self, instance: SyncRawResponseView, owner: object = None) -> Callable[P, SR]: ...
    @overload
    def __get__(self, instance: AsyncRawResponseView, owner: object = None) -> Callable[P, AR]: ...
    def __get__(self, instance: object, owner: object = None) -> Callable[..., Any]:
        if instance is None:
            return self._for(cast("type", owner))
        return types.MethodType(self._for(type(instance)), instance)


def runs(
    build: Callable[Concatenate[Settings, P], Flow[T]],
) -> Call[P, T, Coroutine[Any, Any, T], APIResponse[T], Coroutine[Any, Any, APIResponse[T]]]:
    """The call that runs the flow ``build`` returns and returns its result (awaited on the async
    client)."""
    sync, async_ = SyncMethods.runs(build), AsyncMethods.runs(build)
    return Call(sync, async_, raw_method(sync), async_raw_method(async_))


def pages(
    build: Callable[Concatenate[Settings, P], Listing[ModelT]],
) -> Call[
    P,
    SyncCursorPage[ModelT],
    AsyncPaginator[ModelT],
    APIResponse[SyncCursorPage[ModelT]],
    Coroutine[Any, Any, APIResponse[AsyncCursorPage[ModelT]]],
]:
    """The call that returns the first page of the listing ``build`` returns (an
    :class:`~finetune_sdk.AsyncPaginator` of it on the async client)."""
    sync, async_ = SyncMethods.pages(build), AsyncMethods.pages(build)
    return Call(sync, async_, raw_method(sync), async_raw_method(async_))
