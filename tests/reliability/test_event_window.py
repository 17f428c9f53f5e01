"""Reading a long job's events holds a fixed amount of memory: the ids remembered to recognise a repeat
are a window near the cursor (``SEEN_WINDOW``), not every id seen, for ``jobs.follow`` and for walking
``jobs.events`` alike. Repeats near the cursor are still dropped.

60 pages of 100 events with 4,000-character ids: kept whole, the ids alone are 24 MB. The memory held
while the last event is handed out is measured with tracemalloc (``pytest -s`` prints it).
"""

from __future__ import annotations

import gc
import tracemalloc
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest

from finetune_sdk import AsyncClient, Client
from finetune_sdk.types import JobEvent, Page

from .conftest import KEY
from .hostile import Conn, HostileServer, Request, job, json_answer

PAGES = 60
PER_PAGE = 100
ID_LENGTH = 4000
TOTAL = PAGES * PER_PAGE
#: The most the memory held may grow while following: the window of ids (1.6 MB), a page being read,
#: the client's own; every id kept would be 24 MB.
BOUND = 12 * 1024 * 1024


def event_id(number: int) -> str:
    head = f"ftevent-{number:06d}-"
    return head + "x" * (ID_LENGTH - len(head))


def number_of(event_id: str) -> int:
    return int(event_id.split("-")[1])


def pages() -> dict[int, bytes]:
    """Each page's answer, made before measuring: page ``n`` starts after event ``n * PER_PAGE - 1``."""
    made: dict[int, bytes] = {}
    for page in range(PAGES + 1):
        numbers = range(page * PER_PAGE, min(TOTAL, (page + 1) * PER_PAGE))
        data = [
            {
                "id": event_id(n),
                "object": "fine_tuning.job.event",
                "created_at": n,
                "level": "info",
                "message": "m",
            }
            for n in numbers
        ]
        made[page] = json_answer(200, {"object": "list", "data": data, "has_more": page < PAGES - 1})
    return made


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    answers = pages()
    finished = json_answer(200, job("succeeded", fine_tuned_model="ft:m"))

    def handler(request: Request, conn: Conn) -> bool:
        path, _, query = request.path.partition("?")
        if not path.endswith("/events"):
            return conn.send(finished)
        after = urllib.parse.parse_qs(query).get("after")
        page = 0 if not after else (number_of(after[0]) + 1) // PER_PAGE
        return conn.send(answers[min(page, PAGES)])

    with HostileServer(handler) as running:
        yield running


class Meter:
    """The memory held when the last event arrives, against what was held before the first."""

    def __init__(self) -> None:
        self.count = 0
        self.held = 0
        self.ids_in_order = True

    def see(self, event: JobEvent) -> None:
        self.ids_in_order &= number_of(event.id) == self.count
        self.count += 1
        if self.count == TOTAL:
            gc.collect()  # what is held, not what is garbage yet
            self.held = tracemalloc.get_traced_memory()[0] - self.start

    def __enter__(self) -> Meter:
        tracemalloc.start()
        self.start = tracemalloc.get_traced_memory()[0]
        return self

    def __exit__(self, *exc: object) -> None:
        tracemalloc.stop()


READERS: dict[str, Callable[[Any], Any]] = {
    "follow": lambda client: client.jobs.follow("ftjob-1", poll_interval=0.01),
    "events": lambda client: client.jobs.events("ftjob-1"),
}


def read_all(mode: str, base_url: str, reader: Callable[[Any], Any], meter: Meter) -> None:
    """Hand every event to ``meter`` as it comes, keeping none."""
    if mode == "sync":
        with Client(api_key=KEY, base_url=base_url, max_retries=0) as client:
            for event in reader(client):
                meter.see(event)
        return

    async def main() -> None:
        async with AsyncClient(api_key=KEY, base_url=base_url, max_retries=0) as client:
            async for event in reader(client):
                meter.see(event)

    anyio.run(main, backend=mode)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("reader", list(READERS))
def test_following_a_long_log_holds_a_bounded_amount_of_memory(
    mode: str, server: HostileServer, reader: str
) -> None:
    with Meter() as meter:
        read_all(mode, server.base_url, READERS[reader], meter)
    print(
        f"{mode} {reader}: {meter.count} events of {ID_LENGTH}-character ids, {meter.held / 1e6:.1f} MB held"
    )
    assert meter.count == TOTAL and meter.ids_in_order
    assert meter.held < BOUND, f"{meter.held / 1e6:.1f} MB held after {PAGES} pages"


def page_of(numbers: range | list[int]) -> Page[JobEvent]:
    data = [{"id": event_id(n), "created_at": n, "message": "m"} for n in numbers]
    return Page[JobEvent].model_validate({"object": "list", "data": data, "has_more": True})


def test_the_cursor_remembers_a_window_of_ids() -> None:
    from finetune_sdk._core.events import SEEN_WINDOW, EventCursor  # here: the test module reads any tree

    cursor = EventCursor()
    handed = 0
    for page in range(PAGES):
        handed += len(cursor.take(page_of(range(page * PER_PAGE, (page + 1) * PER_PAGE))))
        assert cursor.remembered <= SEEN_WINDOW
    assert handed == TOTAL
    assert cursor.after == event_id(TOTAL - 1)
    # A server repeating the last pages (one that ignores ``after``) hands out nothing twice.
    assert cursor.take(page_of(range(TOTAL - 2 * PER_PAGE, TOTAL))) == []
    fresh = cursor.take(page_of([TOTAL - 1, TOTAL, TOTAL + 1]))
    assert [number_of(event.id) for event in fresh] == [TOTAL, TOTAL + 1]
