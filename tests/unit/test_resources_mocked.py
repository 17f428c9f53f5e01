"""Resource behaviour that needs a misbehaving peer: lost answers, slow answers, odd pages."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest

from finetune_sdk import AsyncClient, Client, InternalServerError, WaitTimeoutError

from ._mock import BASE, KEY, MODES, Script, json_response

RUNNING = {"id": "ftjob-1", "model": "m", "status": "running", "created_at": 0}


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def call(mode: str, script: Script, use: Callable[[Any], Any], **kw: Any) -> Any:
    """``use(client)`` on a sync client, or awaited on an async one, against ``script``."""
    kw.setdefault("max_retry_wait", 0.01)
    if mode == "sync":
        with Client(
            api_key=KEY,
            base_url=BASE,
            http_client=httpx.Client(transport=httpx.MockTransport(script.handle)),
            **kw,
        ) as client:
            return use(client)

    async def main() -> Any:
        http = httpx.AsyncClient(transport=httpx.MockTransport(script.ahandle))
        async with AsyncClient(api_key=KEY, base_url=BASE, http_client=http, **kw) as client:
            result = use(client)
            if hasattr(result, "__aiter__"):
                return [item async for item in result]
            return await result

    return anyio.run(main, backend=mode)


def test_a_delete_whose_answer_was_lost_counts_as_deleted(mode: str) -> None:
    script = Script(
        [httpx.RemoteProtocolError("peer closed"), json_response(404, {"error": {"code": "file_not_found"}})]
    )
    deleted = call(mode, script, lambda c: c.files.delete("file-1"))
    assert deleted.deleted and deleted.id == "file-1"
    assert len(script.requests) == 2


def test_a_first_attempt_404_on_delete_is_still_an_error(mode: str) -> None:
    from finetune_sdk import NotFoundError

    script = Script([json_response(404, {"error": {"code": "file_not_found", "message": "no such file"}})])
    with pytest.raises(NotFoundError):
        call(mode, script, lambda c: c.files.delete("file-1"))


def test_a_wait_ends_at_once_on_a_retry_after_longer_than_it_has_left(mode: str) -> None:
    script = Script([json_response(503, {"error": {"message": "busy"}}, {"retry-after": "3"})])
    started = time.monotonic()
    with pytest.raises(InternalServerError) as info:
        call(
            mode, script, lambda c: c.jobs.wait("ftjob-1", timeout=0.5, poll_interval=0.05), max_retry_wait=60
        )
    assert time.monotonic() - started < 0.5
    assert info.value.retry_after == 3 and len(script.requests) == 1


def test_a_wait_honours_retry_afters_that_fit_in_its_time_then_ends_with_the_error(mode: str) -> None:
    script = Script([json_response(503, {"error": {"message": "busy"}}, {"retry-after": "0.1"})])
    started = time.monotonic()
    with pytest.raises(InternalServerError) as info:
        call(
            mode, script, lambda c: c.jobs.wait("ftjob-1", timeout=0.5, poll_interval=0.05), max_retry_wait=60
        )
    assert time.monotonic() - started < 1.0
    assert info.value.retry_after == 0.1 and len(script.requests) >= 2


def test_wait_keeps_to_its_timeout_despite_a_slow_answer(mode: str) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        timeout = request.extensions["timeout"]["read"]
        assert timeout is not None and timeout <= 0.5  # each poll's timeout is capped to the time left
        raise httpx.ReadTimeout("slow", request=request)

    started = time.monotonic()
    with pytest.raises(WaitTimeoutError):
        call(mode, Script([slow]), lambda c: c.jobs.wait("ftjob-1", timeout=0.5, poll_interval=0.05))
    assert time.monotonic() - started < 1.5


def test_list_stops_at_a_page_that_says_more_but_brings_nothing(mode: str) -> None:
    script = Script(
        [
            json_response(200, {"data": [RUNNING], "has_more": True}),
            json_response(200, {"data": [], "has_more": True}),
        ]
    )
    jobs = call(mode, script, lambda c: c.jobs.list())
    assert [j.id for j in jobs] == ["ftjob-1"] and len(script.requests) == 2


def test_events_stop_at_a_page_with_nothing_new(mode: str) -> None:
    event = {"id": "ev-1", "created_at": 0, "message": "hello"}
    script = Script([json_response(200, {"data": [event], "has_more": True})])  # a server ignoring `after`
    events = call(mode, script, lambda c: c.jobs.events("ftjob-1"))
    assert [e.id for e in events] == ["ev-1"] and len(script.requests) == 2


def test_files_list_follows_pages(mode: str) -> None:
    first = {"data": [{"id": "file-1"}], "has_more": True}
    script = Script(
        [json_response(200, first), json_response(200, {"data": [{"id": "file-2"}], "has_more": False})]
    )
    files = call(mode, script, lambda c: c.files.list(purpose="fine-tune"))
    assert [f.id for f in files] == ["file-1", "file-2"]
    assert script.requests[1].url.params["after"] == "file-1"
    assert script.requests[1].url.params["purpose"] == "fine-tune"


def _job(id_: str, created_at: int, **fields: Any) -> dict[str, Any]:
    return {"id": id_, "model": "m", "status": "succeeded", "created_at": created_at, **fields}


# A server that ignores every filter: it answers all its jobs, whatever the query.
_ALL_JOBS = [
    _job("ftjob-a", 100, model="Qwen/Qwen2.5-7B-Instruct", suffix="x", metadata={"team": "a"}),
    _job("ftjob-b", 200, status="running", suffix="y"),
    _job("ftjob-c", 300, metadata={"team": "b"}),
]


@pytest.mark.parametrize(
    ("filters", "kept"),
    [
        ({"status": "running"}, ["ftjob-b"]),
        ({"model": "Qwen/Qwen2.5-7B-Instruct"}, ["ftjob-a"]),
        ({"suffix": "y"}, ["ftjob-b"]),
        ({"metadata": {"team": "b"}}, ["ftjob-c"]),
        ({"created_after": 200}, ["ftjob-b", "ftjob-c"]),  # inclusive
        ({"created_before": 200}, ["ftjob-a"]),  # exclusive, as the wire contract says
        ({"created_after": 100.5, "created_before": 300}, ["ftjob-b"]),
    ],
)
def test_each_list_filter_holds_against_a_server_that_ignores_it(
    mode: str, filters: dict[str, Any], kept: list[str]
) -> None:
    script = Script([json_response(200, {"object": "list", "data": _ALL_JOBS, "has_more": False})])
    found = call(mode, script, lambda c: c.jobs.list(**filters))
    assert [job.id for job in found] == kept
    sent = script.requests[0].url.params
    for name, value in filters.items():  # and each was asked of the server
        if name == "metadata":
            assert all(sent[f"metadata[{k}]"] == v for k, v in value.items())
        else:
            assert sent[name] == str(value if name in ("status", "model", "suffix") else math.ceil(value))
