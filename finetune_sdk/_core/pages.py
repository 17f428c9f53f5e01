"""Paging through a list, sans I/O: how to ask for a page (:class:`PageQuery`), what its answer means,
and the flow that fetches one (:func:`page_flow`); the page objects users hold are ``pagination``'s.

What a page means (its items, whether and where to go on, a server whose cursor does not advance) is
decided here once; the page classes only ask for the next one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar, cast

import httpx

if TYPE_CHECKING:
    import pydantic

from ..errors import APIResponseValidationError
from .flow import Flow, send
from .ids import MAX_CURSOR_LENGTH, cursor_fits, request_id_of
from .options import apply_options
from .wire import RequestSpec, parse_model

__all__ = ["PAGE_MAX", "SEEN_WINDOW", "PageData", "PageQuery", "Walk", "check_limit", "page_flow"]

ModelT = TypeVar("ModelT", bound="pydantic.BaseModel")

#: The most items the platform returns in one page.
PAGE_MAX: Final = 100
#: How many of the latest ids a reader of a log remembers to recognise a repeat (a server that ignores
#: ``after`` repeats a page or a few; a window near the cursor is all it takes).
SEEN_WINDOW: Final = 4 * PAGE_MAX


def check_limit(limit: object) -> None:
    """``limit`` is a page size: a whole number from 0 to ``PAGE_MAX``, or None."""
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= PAGE_MAX
    ):
        raise ValueError(
            f"limit is the page size, a whole number from 1 to {PAGE_MAX} (or None), got {limit!r}"
        )


@dataclasses.dataclass(frozen=True)
class Walk:
    """What a chain of pages has seen on the way to one page: the cursors asked and (``dedupe``) the
    latest ids handed out, oldest first (at most ``SEEN_WINDOW``: a repeat only needs recognising near
    the cursor, and a long log must not be held whole). Immutable, so walking the same list twice starts
    afresh."""

    used: frozenset[str | None] = frozenset()
    seen: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class PageData(Generic[ModelT]):
    """One page as read: its items, whether more follow, where the next one starts, the request id of
    its answer, and the walk so far."""

    items: list[ModelT]
    has_more: bool
    next_after: str | None
    request_id: str | None
    walk: Walk


@dataclasses.dataclass(frozen=True)
class PageQuery(Generic[ModelT]):
    """How to ask for the pages of one listing, and what one page's answer means (no I/O).

    ``dedupe`` (for logs such as job events, where a server may repeat an item across pages): items
    already handed out are dropped and a page with nothing new ends the listing. Without it, a page
    whose cursor does not advance is an error rather than a request loop. ``keep`` (when given) drops
    the items it refuses: a filter the server may have ignored is applied on the client as well.
    """

    path: str
    item: type[ModelT]
    limit: int | None = None
    params: Mapping[str, object] = dataclasses.field(default_factory=dict[str, object])
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict[str, Any])
    dedupe: bool = False
    keep: Callable[[ModelT], bool] | None = None

    def __post_init__(self) -> None:
        check_limit(self.limit)

    def spec(self, after: str | None) -> RequestSpec | None:
        """The request for the page after ``after`` (None: the first); None when nothing is to be asked."""
        if self.limit == 0:
            return None
        params: dict[str, object] = {k: v for k, v in self.params.items() if v is not None}
        params["limit"] = PAGE_MAX if self.limit is None else self.limit
        if after is not None:
            if not cursor_fits(after):  # a caller's: a server's too long one was refused as it came
                raise ValueError(
                    f"after is {len(after)} characters long: too long to send as ?after= (at most "
                    f"{MAX_CURSOR_LENGTH} once URL-encoded); pass the id of an item of the list"
                )
            params["after"] = after
        return apply_options(RequestSpec("GET", self.path, params=params), self.options)

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
            known = frozenset(walk.seen)
            items = [item for item in items if _cursor_of(item, response) not in known]
            if not items:
                return items, False, after, walk
            last = _next_cursor(items[-1], self.path, response, has_more)
            seen = (*walk.seen, *(_cursor_of(item, response) for item in items))[-SEEN_WINDOW:]
            walk = Walk(walk.used, seen)
        else:
            last = _next_cursor(items[-1], self.path, response, has_more)
            used = walk.used | {after}
            if has_more and last in used:
                raise APIResponseValidationError(
                    f"GET {self.path} answered has_more=true with a page ending at {last!r} again: its "
                    "cursor does not advance, so paging stopped instead of asking forever",
                    body=payload,
                    response=response,
                )
            walk = Walk(used, walk.seen)
        if self.keep is not None:  # after the cursor is taken: the next page starts past what was dropped
            items = [item for item in items if self.keep(item)]
        return items, has_more, last, walk


def page_flow(query: PageQuery[ModelT], walk: Walk, after: str | None) -> Flow[PageData[ModelT]]:
    """Fetch the page after ``after`` (None: the first) of ``query``."""
    spec = query.spec(after)
    if spec is None:
        return PageData([], False, None, None, walk)
    answer = yield from send(spec)
    items, more, next_after, walk = query.read(walk, after, answer.payload, answer.response)
    return PageData(items, more, next_after, request_id_of(answer.response.headers), walk)


def _page_body(path: str, payload: object, response: httpx.Response | None) -> tuple[list[object], bool]:
    """``(data, has_more)`` of a list answer (read by hand: no model to build at import)."""
    answer: object = payload
    shown = str(answer)[:200]
    body = cast("dict[str, object]", payload) if isinstance(payload, dict) else {}
    data, has_more = body.get("data"), body.get("has_more", False)
    if not isinstance(data, list) or not isinstance(has_more, bool):
        raise APIResponseValidationError(
            f"GET {path} did not answer a list ({{data: [...], has_more}}): {shown}",
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


def _next_cursor(item: pydantic.BaseModel, path: str, response: httpx.Response | None, more: bool) -> str:
    """The id of a page's last item, to ask for the next page after it (when ``more`` follow): one too
    long to send back is refused here (rather than as a URL httpx cannot build)."""
    cursor = _cursor_of(item, response)
    if more and not cursor_fits(cursor):
        raise APIResponseValidationError(
            f"GET {path} sent a {type(item).__name__} id of {len(cursor)} characters, too long to page "
            f"after (at most {MAX_CURSOR_LENGTH} once URL-encoded); paging stopped",
            response=response,
        )
    return cursor
