"""Reading a job's events: where a reader is (:class:`EventCursor`) and one page of them (following
them live is :func:`~finetune_sdk._core.waiting.follow_flow`).

Events list oldest first and ``after=<id>`` pages forward, so the id of the last event handed out is a
reader's whole position. A server may repeat an event across pages (one that ignores ``after``); the
cursor recognises repeats among the ids near it (a bounded window, so a follow of a long job holds a
fixed amount of memory).
"""

from __future__ import annotations

import collections

from ..errors import APIResponseValidationError
from ..types import JobEvent, Page
from .ids import MAX_CURSOR_LENGTH, cursor_fits, path_segment, resource_id
from .pages import PAGE_MAX, SEEN_WINDOW
from .wire import Answer, RequestSpec, parse_model

__all__ = ["PAGE_MAX", "SEEN_WINDOW", "EventCursor", "events_spec", "job_path", "read_events"]


def job_path(job_id: str) -> str:
    """The job's URL path (its id checked, then escaped as one path segment)."""
    return f"fine_tuning/jobs/{path_segment(resource_id(job_id, 'job'))}"


class EventCursor:
    """Where a reader of a job's events is: each event is handed out once, in order."""

    __slots__ = ("_order", "_seen", "after")

    def __init__(self, after: str | None = None) -> None:
        self.after = None if after is None else resource_id(after, "job event")
        self._seen: set[str] = set()
        self._order: collections.deque[str] = collections.deque()

    def take(self, page: Page[JobEvent]) -> list[JobEvent]:
        """The events of ``page`` not handed out yet; the cursor moves to the page's last event."""
        fresh = [event for event in page.data if event.id not in self._seen]
        for event in fresh:
            self._seen.add(event.id)
            self._order.append(event.id)
            if len(self._order) > SEEN_WINDOW:
                self._seen.discard(self._order.popleft())
        if page.data:
            self.after = page.data[-1].id
        return fresh

    @property
    def remembered(self) -> int:
        """How many ids the cursor holds (at most ``SEEN_WINDOW``)."""
        return len(self._seen)


def events_spec(job_id: str, after: str | None, limit: int = PAGE_MAX) -> RequestSpec:
    params: dict[str, object] = {"limit": limit}
    if after is not None:
        params["after"] = after
    return RequestSpec("GET", f"{job_path(job_id)}/events", params=params)


def read_events(answer: Answer, cursor: EventCursor) -> tuple[list[JobEvent], bool]:
    """The new events of one page, and whether the server says more follow."""
    page = parse_model(Page[JobEvent], answer.payload, response=answer.response)
    if page.data and not cursor_fits(page.data[-1].id):
        # The next read sends it back as ``?after=``: refused here, not as a URL httpx cannot build.
        raise APIResponseValidationError(
            f"GET {answer.response.request.url.path} sent an event id of {len(page.data[-1].id)} "
            f"characters, too long to read on after (at most {MAX_CURSOR_LENGTH} once URL-encoded)",
            response=answer.response,
        )
    return cursor.take(page), page.has_more
