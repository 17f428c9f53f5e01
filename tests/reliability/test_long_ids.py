"""An id too long to go in a URL is a typed error, never httpx's ``InvalidURL``: a caller's (``after=``
of 64 KiB, a job id of 64 KiB) is a ``ValueError`` before anything is sent; a server's (the last id of a
page, sent back as the next page's ``after``) an ``APIResponseValidationError``."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest

from finetune_sdk import APIResponseValidationError
from finetune_sdk.types import JobEvent

from .conftest import call
from .hostile import Conn, HostileServer, Request, job, json_answer

HUGE = "ftevent-" + "x" * (64 * 1024)


def event(event_id: str) -> dict[str, object]:
    return {
        "id": event_id,
        "object": "fine_tuning.job.event",
        "created_at": 1,
        "level": "info",
        "message": "m",
    }


def server_with_ids(event_id: str = "ftevent-1", job_id: str = "ftjob-1") -> HostileServer:
    """The first page of events (or jobs) ends at ``event_id`` (``job_id``) and says more follow; a
    page after anything is empty; the job has succeeded."""

    def handler(request: Request, conn: Conn) -> bool:
        path, _, query = request.path.partition("?")
        after = "after" in urllib.parse.parse_qs(query)
        if path.endswith("/events"):
            data = [] if after else [event("ftevent-0"), event(event_id)]
            return conn.send(json_answer(200, {"object": "list", "data": data, "has_more": not after}))
        if path.endswith("/fine_tuning/jobs"):
            data = [] if after else [job(id="ftjob-0"), job(id=job_id)]
            return conn.send(json_answer(200, {"object": "list", "data": data, "has_more": not after}))
        return conn.send(json_answer(200, job("succeeded", fine_tuned_model="ft:m")))

    return HostileServer(handler)


AFTER_CALLS: dict[str, Callable[[Any, Any], Any]] = {
    "events": lambda c, after: c.jobs.events("ftjob-1", after=after),
    "follow": lambda c, after: c.jobs.follow("ftjob-1", after=after, poll_interval=0.01),
    "list": lambda c, after: c.jobs.list(after=after),
}


@pytest.mark.parametrize(
    ("name", "given"),
    [("events", "id"), ("events", "event"), ("follow", "id"), ("follow", "event"), ("list", "id")],
)
def test_a_64_kib_after_is_a_value_error_before_anything_is_sent(mode: str, name: str, given: str) -> None:
    after: Any = HUGE if given == "id" else JobEvent(id=HUGE, created_at=1, message="m")
    with server_with_ids() as server:
        with pytest.raises(ValueError, match="65544 characters long") as info:
            call(mode, server.base_url, lambda c: AFTER_CALLS[name](c, after))
        assert server.requests == []
    assert not isinstance(info.value, APIResponseValidationError)


@pytest.mark.parametrize("call_name", ["retrieve", "cancel", "events"])
def test_a_64_kib_job_id_is_a_value_error_before_anything_is_sent(mode: str, call_name: str) -> None:
    with server_with_ids() as server:
        with pytest.raises(ValueError, match="characters long"):
            call(mode, server.base_url, lambda c: getattr(c.jobs, call_name)("ftjob-" + "x" * 65536))
        assert server.requests == []


@pytest.mark.parametrize("name", ["events", "follow", "list"])
def test_a_servers_id_too_long_to_page_after_is_a_typed_error(mode: str, name: str) -> None:
    long_id = "ft-" + "y" * 70_000
    ids = {"job_id": long_id} if name == "list" else {"event_id": long_id}
    with server_with_ids(**ids) as server, pytest.raises(APIResponseValidationError) as info:
        call(mode, server.base_url, lambda c: AFTER_CALLS[name](c, None))
    assert "70003 characters" in str(info.value)
    assert info.value.status_code == 200


@pytest.mark.parametrize("name", ["events", "list"])
def test_a_long_id_on_the_last_page_is_no_trouble(mode: str, name: str) -> None:
    """Nothing is asked after the last page: its ids may be as long as the server likes."""

    def handler(request: Request, conn: Conn) -> bool:
        item = event("ft-" + "z" * 70_000) if name == "events" else job(id="ft-" + "z" * 70_000)
        return conn.send(json_answer(200, {"object": "list", "data": [item], "has_more": False}))

    with HostileServer(handler) as server:
        found = call(mode, server.base_url, lambda c: AFTER_CALLS[name](c, None))
    items = list(found)  # a sync page is iterated here (its one page is read already)
    assert len(items) == 1 and len(items[0].id) == 70_003
