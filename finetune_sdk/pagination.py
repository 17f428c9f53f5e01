"""Page objects of list endpoints: :class:`SyncCursorPage`, :class:`AsyncCursorPage`, :class:`AsyncPaginator`.

Lists page with a cursor, as openai's do: ``limit`` is the page size and ``after`` the id of the item
to continue after. Iterating a page walks every item of it and of the pages after it, fetched as the
loop goes; ``.data``, ``.has_more``, ``.next_page()`` and ``.iter_pages()`` look at pages one by one::

    for job in client.jobs.list(limit=20):          # every job, 20 per request
        ...
    page = client.jobs.list(limit=5)                # one page
    print([j.id for j in page.data], page.has_more)

On the async client ``list()`` returns an :class:`AsyncPaginator`: ``await`` it for the first page, or
``async for`` over it for every item.

What a page means (its items, whether and where to go on, a server whose cursor does not advance) is
decided once, by the I/O-free :class:`PageQuery` and :class:`Walk`; the page classes only fetch.
"""

# pyright: reportUnnecessaryIsInstance=false, reportUnnecessaryComparison=false
from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar, cast

if TYPE_CHECKING:
    import httpx
    import pydantic

from ._options import apply_options
from ._wire import RequestSpec, parse_model
from .errors import APIResponseValidationError

__all__ = ["AsyncCursorPage", "AsyncPaginator", "PageQuery", "SyncCursorPage", "Walk"]

ModelT = TypeVar("ModelT", bound="pydantic.BaseModel")

#: The most items the platform returns in one page.
PAGE_MAX: Final = 100


def check_limit(limit: int | None) -> None:
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= PAGE_MAX
    ):
        raise ValueError(
            f"limit is the page size, a whole number from 1 to {PAGE_MAX} (or None), got {limit!r}"
        )


@dataclasses.dataclass(frozen=True)
class PageQuery(Generic[ModelT]):
    """How to ask for the pages of one listing, and what one page's answer means (no I/O).

    ``dedupe`` (for logs such as job events, where a server may repeat an item across pages): items
    already handed out are dropped and a page with nothing new ends the listing. Without it, a page
    whose cursor does not advance is an error rather than a request loop.
    """

    path: str
    item: type[ModelT]
    limit: int | None = None
    params: Mapping[str, object] = dataclasses.field(default_factory=dict[str, object])
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict[str, Any])
    dedupe: bool = False

    def __post_init__(self) -> None:
        check_limit(self.limit)

    def spec(self, after: str | None) -> RequestSpec | None:
        """The request for the page after ``after`` (None: the first); None when nothing is to be asked."""
        if self.limit == 0:
            return None
        params: dict[str, object] = {k: v for k, v in self.params.items() if v is not None}
        params["limit"] = PAGE_MAX if self.limit is None else self.limit
        if after is not None:
            params["after"] = after
        return apply_options(RequestSpec("GET", self.path, params=params), self.options)  # type: ignore[arg-type]

    def read(
        self, walk: Walk, after: str | None, payload: object, response: httpx.Response | None = None
    ) -> tuple[list[ModelT], bool, str | None, Walk]:
        """``(items, has_more, next_after, walk)`` of the answer to the page after ``after``; ``walk`` is
        what the next page of this chain has to know. ``response`` is the answer the page came in: an
        error about it carries its status and request id."""
        data, has_more = _page_body(self.path, payload, response)
        items = [parse_model(self.item, raw, response=response) for raw in data]
        if not items:  # a page that says "more" but brings nothing would be asked forever
            return items, False, after, walk
        if self.dedupe:
            items = [item for item in items if _cursor_of(item, response) not in walk.seen]
            if not items:
                return items, False, after, walk
        last = _cursor_of(items[-1], response)
        used = walk.used | {after}
        if has_more and last in used and not self.dedupe:
            raise APIResponseValidationError(
                f"GET {self.path} answered has_more=true with a page ending at {last!r} again: its cursor "
                "does not advance, so paging stopped instead of asking forever",
                body=payload,
                response=response,
            )
        seen = walk.seen | {_cursor_of(item, response) for item in items} if self.dedupe else walk.seen
        return items, has_more, last, Walk(used, seen)


def _page_body(path: str, payload: object, response: httpx.Response | None) -> tuple[list[object], bool]:
    """``(data, has_more)`` of a list answer (read by hand: no model to build at import)."""
    answer: object = payload
    body = cast("dict[str, object]", payload) if isinstance(payload, dict) else {}
    data, has_more = body.get("data"), body.get("has_more", False)
    if not isinstance(data, list) or not isinstance(has_more, bool):
        raise APIResponseValidationError(
            f"GET {path} did not answer a list ({{data: [...], has_more}}): {str(answer)[:200]}",
            body=answer,
            response=response,
        )
    return cast("list[object]", data), has_more


def _cursor_of(item: pydantic.BaseModel, response: httpx.Response | None = None) -> str:
    cursor = getattr(item, "id", None)
    if not isinstance(cursor, str):
        raise APIResponseValidationError(
            f"a listed {type(item).__name__} has no id to page after", response=response
        )
    return cursor


@dataclasses.dataclass(frozen=True)
class Walk:
    """What a chain of pages has seen on the way to one page: the cursors asked and (``dedupe``) the
    ids handed out. Immutable, so walking the same list twice starts afresh."""

    used: frozenset[str | None] = frozenset()
    seen: frozenset[str] = frozenset()


class _PageView(Generic[ModelT]):
    data: list[ModelT]
    """The items of this page."""
    has_more: bool
    """Whether a page follows this one."""
    request_id: str | None
    """The ``x-request-id`` of the answer this page came from."""

    def __init__(
        self, data: list[ModelT], has_more: bool, next_after: str | None, request_id: str | None
    ) -> None:
        self.data = data
        self.has_more = has_more
        self.request_id = request_id
        self._next_after = next_after

    @property
    def next_cursor(self) -> str | None:
        """The ``after`` of the next page, or None when this is the last."""
        return self._next_after if self.has_more else None

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(items={len(self.data)}, has_more={self.has_more})"


class SyncCursorPage(_PageView[ModelT]):
    """One page of a list; iterate it for every item from here to the end of the list."""

    def __init__(
        self,
        data: list[ModelT],
        has_more: bool,
        next_after: str | None,
        request_id: str | None,
        fetch: Callable[[str], SyncCursorPage[ModelT]],
    ) -> None:
        super().__init__(data, has_more, next_after, request_id)
        self._fetch = fetch

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


class AsyncCursorPage(_PageView[ModelT]):
    """One page of a list on the async client; ``async for`` over it for every item from here on."""

    def __init__(
        self,
        data: list[ModelT],
        has_more: bool,
        next_after: str | None,
        request_id: str | None,
        fetch: Callable[[str], Awaitable[AsyncCursorPage[ModelT]]],
    ) -> None:
        super().__init__(data, has_more, next_after, request_id)
        self._fetch = fetch

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


class AsyncPaginator(Generic[ModelT]):
    """What an async ``list()`` returns: ``await`` it for the first page, ``async for`` for every item."""

    def __init__(self, first: Callable[[], Awaitable[AsyncCursorPage[ModelT]]]) -> None:
        self._first = first

    def __await__(self) -> Generator[Any, None, AsyncCursorPage[ModelT]]:
        return self._first().__await__()

    async def __aiter__(self) -> AsyncIterator[ModelT]:
        page = await self._first()
        async for item in page:
            yield item
