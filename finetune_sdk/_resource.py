"""Resources (``client.files``, ``client.jobs`` ...) and how each of their calls is written once.

A call is written once, as a *builder*: a function of the client's settings and the call's arguments
that returns what to do, with no I/O. A flow (``_core.flow``) for a call that returns a value, a
:class:`Listing` for one that returns a page of a list, a :class:`Following` for one that yields items as
they come. A resource's table of calls (``_calls``) then makes the methods of its four classes from the
builders (the sync and the async resource, and their ``with_raw_response`` views)::

    def _retrieve(client: Settings, job: JobRef, **options: Unpack[RequestOptions]) -> Flow[FineTuneJob]:
        '''The job's current state.'''
        return request(job_spec(job, options), FineTuneJob)

    class _JobCalls:
        retrieve = runs(_retrieve)

    class Jobs(_JobCalls, SyncAPIResource): ...          # client.jobs.retrieve(job) -> FineTuneJob
    class AsyncJobs(_JobCalls, AsyncAPIResource): ...    # await client.jobs.retrieve(job)

so the sync and async methods have the same parameters, the same docstring and the same steps by
construction; only the driver differs (the client's ``run`` / ``get_page`` / ``iterate``, plain or
awaited). A builder is a module-level function named for its method with a leading underscore
(``_retrieve`` for ``retrieve``); the method takes its public name, parameters and docstring. A resource
reaches its client only through that door.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, Concatenate, Generic, Protocol, TypeVar, cast

from typing_extensions import ParamSpec

from ._core.config import ClientConfig
from ._core.flow import Flow
from ._core.pages import PageQuery
from ._core.retry import RetryPolicy
from .pagination import AsyncPaginator, SyncCursorPage

if TYPE_CHECKING:
    import pydantic

    from ._base_client import AsyncAPIClient, SyncAPIClient

__all__ = ["AsyncAPIResource", "Following", "Listing", "Settings", "SyncAPIResource", "named"]

P = ParamSpec("P")
T = TypeVar("T")
ModelT = TypeVar("ModelT", bound="pydantic.BaseModel")


class Settings(Protocol):
    """What a builder may read of the client: its settings and its retry policy (never its pool)."""

    @property
    def config(self) -> ClientConfig: ...

    @property
    def policy(self) -> RetryPolicy: ...


@dataclasses.dataclass(frozen=True)
class Listing(Generic[ModelT]):
    """A call that returns one page of a list: how to ask for it, and where it starts."""

    query: PageQuery[ModelT]
    after: str | None = None


@dataclasses.dataclass(frozen=True)
class Following(Generic[T]):
    """A call that yields ``T`` items as they come: the flow that emits them."""

    flow: Flow[None]
    item: type[T]


F = TypeVar("F", bound=Callable[..., Any])


def named(method: F, build: Callable[..., Any]) -> F:
    """``method`` with the public name, the docstring and the signature of the builder ``build`` (its
    first parameter, the client's settings, shown as ``self``)."""
    functools.update_wrapper(method, build)
    method.__name__ = method.__qualname__ = build.__name__.lstrip("_")
    # A call with wrong arguments fails inside the builder: its message then names the public method.
    build.__qualname__ = method.__name__
    signature = inspect.signature(build)
    first, *rest = signature.parameters.values()
    this = first.replace(name="self", annotation=inspect.Parameter.empty)
    vars(method)["__signature__"] = signature.replace(
        parameters=[this, *rest], return_annotation=inspect.Signature.empty
    )
    return method


class SyncAPIResource:
    """A group of endpoints on the synchronous client."""

    def __init__(self, client: SyncAPIClient) -> None:
        self._client = client


class SyncMethods(SyncAPIResource):
    """How a builder becomes a method of the sync resources. A namespace, never made: a subclass, so the
    methods it makes may reach a resource's client, which nothing outside the resources may touch."""

    @staticmethod
    def runs(build: Callable[Concatenate[Settings, P], Flow[T]]) -> Callable[Concatenate[Any, P], T]:
        """The method that runs the flow ``build`` returns and returns its result."""

        def method(self: SyncAPIResource, /, *args: P.args, **kwargs: P.kwargs) -> T:
            return self._client.run(build(self._client, *args, **kwargs))

        return named(method, build)

    @staticmethod
    def pages(
        build: Callable[Concatenate[Settings, P], Listing[ModelT]],
    ) -> Callable[Concatenate[Any, P], SyncCursorPage[ModelT]]:
        """The method that returns the first page of the listing ``build`` returns."""

        def method(self: SyncAPIResource, /, *args: P.args, **kwargs: P.kwargs) -> SyncCursorPage[ModelT]:
            listing = build(self._client, *args, **kwargs)
            return self._client.get_page(listing.query, after=listing.after)

        return named(method, build)

    @staticmethod
    def follows(
        build: Callable[Concatenate[Settings, P], Following[T]],
    ) -> Callable[Concatenate[Any, P], Iterator[T]]:
        """The method that yields what the flow ``build`` returns emits, as the loop asks for it."""

        def method(self: SyncAPIResource, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
            following = build(self._client, *args, **kwargs)
            return cast("Iterator[T]", self._client.iterate(following.flow))

        return named(method, build)


class AsyncAPIResource:
    """A group of endpoints on the asynchronous client."""

    def __init__(self, client: AsyncAPIClient) -> None:
        self._client = client


class AsyncMethods(AsyncAPIResource):
    """How a builder becomes a method of the async resources (see :class:`SyncMethods`)."""

    @staticmethod
    def runs(
        build: Callable[Concatenate[Settings, P], Flow[T]],
    ) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, T]]:
        """The coroutine method that runs the flow ``build`` returns and returns its result."""

        async def method(self: AsyncAPIResource, /, *args: P.args, **kwargs: P.kwargs) -> T:
            return await self._client.run(build(self._client, *args, **kwargs))

        return named(method, build)

    @staticmethod
    def pages(
        build: Callable[Concatenate[Settings, P], Listing[ModelT]],
    ) -> Callable[Concatenate[Any, P], AsyncPaginator[ModelT]]:
        """The method that returns an :class:`~finetune_sdk.AsyncPaginator` of the listing ``build``
        returns (``await`` it for the first page, ``async for`` for every item)."""

        def method(self: AsyncAPIResource, /, *args: P.args, **kwargs: P.kwargs) -> AsyncPaginator[ModelT]:
            listing = build(self._client, *args, **kwargs)  # bad arguments raise here, not when awaited
            return AsyncPaginator(lambda: self._client.get_page(listing.query, after=listing.after))

        return named(method, build)

    @staticmethod
    def follows(
        build: Callable[Concatenate[Settings, P], Following[T]],
    ) -> Callable[Concatenate[Any, P], AsyncIterator[T]]:
        """The method that yields, to ``async for``, what the flow ``build`` returns emits."""

        def method(self: AsyncAPIResource, /, *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
            following = build(self._client, *args, **kwargs)
            return cast("AsyncIterator[T]", self._client.iterate(following.flow))

        return named(method, build)
