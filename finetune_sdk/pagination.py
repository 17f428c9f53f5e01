"""Page objects of list endpoints: :class:`SyncCursorPage`, :class:`AsyncCursorPage`, :class:`AsyncPaginator`.

Lists page with a cursor, as openai's do: ``limit`` is the page size and ``after`` the id of the item
to continue after. Iterating a page walks every item of it and of the pages after it, fetched as the
loop goes; ``.data``, ``.has_more``, ``.next_page()`` and ``.iter_pages()`` look at pages one by one::

    for job in client.jobs.list(limit=20):          # every job, 20 per request
        ...
    page = client.jobs.list(limit=5)                # one page
    print([j.id for j in page.data], page.has_more)

On the async client ``list()`` returns an :class:`AsyncPaginator`: ``await`` it for the first page, or
``async for`` over it for every item; it is a coroutine too, so ``asyncio.run(client.files.list())``
works.

What a page means (its items, whether and where to go on, a server whose cursor does not advance) is
decided once, in ``_core.pages``; the page classes only ask for the next one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Generator, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    import pydantic

__all__ = ["AsyncCursorPage", "AsyncPaginator", "SyncCursorPage"]

ModelT = TypeVar("ModelT", bound="pydantic.BaseModel")
FetchT = TypeVar("FetchT")


class _PageView(Generic[ModelT, FetchT]):
    data: list[ModelT]
    """The items of this page."""
    has_more: bool
    """Whether a page follows this one."""
    request_id: str | None
    """The ``x-request-id`` of the answer this page came from."""

    def __init__(
        self,
        data: list[ModelT],
        has_more: bool,
        next_after: str | None,
        request_id: str | None,
        fetch: FetchT,
    ) -> None:
        self.data = data
        self.has_more = has_more
        self.request_id = request_id
        self._next_after = next_after
        self._fetch = fetch  # the page after a cursor: a call, or a coroutine function on the async client

    @property
    def next_cursor(self) -> str | None:
        """The ``after`` of the next page, or None when this is the last."""
        return self._next_after if self.has_more else None

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(items={len(self.data)}, has_more={self.has_more})"


class SyncCursorPage(_PageView[ModelT, Callable[[str], "SyncCursorPage[ModelT]"]]):
    """One page of a list; iterate it for every item from here to the end of the list."""

    def next_page(self) -> SyncCursorPage[ModelT] | None:
        """The page after this one (one request), or None when this is the last."""
        cursor = self.next_cursor
        return None if cursor is None else self._fetch(cursor)

    def iter_pages(self) -> Iterator[SyncCursorPage[ModelT]]:
        """This page and every page after it, each fetched when the loop reaches it."""
        page: SyncCursorPage[ModelT] | None = self
        while page is not None:
            yield page
            page = page.next_page()

    def __iter__(self) -> Iterator[ModelT]:
        for page in self.iter_pages():
            yield from page.data


class AsyncCursorPage(_PageView[ModelT, Callable[[str], Awaitable["AsyncCursorPage[ModelT]"]]]):
    """One page of a list on the async client; ``async for`` over it for every item from here on."""

    async def next_page(self) -> AsyncCursorPage[ModelT] | None:
        """The page after this one (one request), or None when this is the last."""
        cursor = self.next_cursor
        return None if cursor is None else await self._fetch(cursor)

    async def iter_pages(self) -> AsyncIterator[AsyncCursorPage[ModelT]]:
        """This page and every page after it, each fetched when the loop reaches it."""
        page: AsyncCursorPage[ModelT] | None = self
        while page is not None:
            yield page
            page = await page.next_page()

    async def __aiter__(self) -> AsyncIterator[ModelT]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item


class AsyncPaginator(Coroutine[Any, Any, AsyncCursorPage[ModelT]], Generic[ModelT]):
    """What an async ``list()`` returns: ``await`` it for the first page, ``async for`` for every item.

    It is a coroutine as well (made on first use), so the first page can be run like any coroutine:
    ``asyncio.run(client.files.list())``, ``anyio`` task groups, ``asyncio.gather``.
    """

    def __init__(self, first: Callable[[], Coroutine[Any, Any, AsyncCursorPage[ModelT]]]) -> None:
        self._first = first
        self._coroutine: Coroutine[Any, Any, AsyncCursorPage[ModelT]] | None = None

    def _started(self) -> Coroutine[Any, Any, AsyncCursorPage[ModelT]]:
        if self._coroutine is None:
            self._coroutine = self._first()
        return self._coroutine

    def __await__(self) -> Generator[Any, None, AsyncCursorPage[ModelT]]:
        return self._started().__await__()

    def send(self, value: Any) -> Any:
        return self._started().send(value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        return self._started().throw(typ, val, tb)

    def close(self) -> None:
        if self._coroutine is not None:
            self._coroutine.close()

    async def __aiter__(self) -> AsyncIterator[ModelT]:
        page = await self._first()
        async for item in page:
            yield item
