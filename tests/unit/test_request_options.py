"""Per-call options, raw responses, page objects and chat arguments, over real sockets on 127.0.0.1.

A small recording server (``tests.chat.sse_server.RawServer``) answers canned JSON and keeps every
request, so what reaches the wire is asserted as the server saw it; sync and async (asyncio, trio).
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import pytest

from finetune_sdk import APIResponseValidationError, APITimeoutError, AsyncClient, Client, FineTuneJob
from finetune_sdk.pagination import AsyncCursorPage, SyncCursorPage
from tests.chat.sse_server import RawServer, Reply, Request, json_reply

KEY = "sk-options-secret-key-1"
JOB = {"id": "ftjob-1", "model": "m", "status": "running", "created_at": 1}
MODES = ["sync", "asyncio", "trio"]


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def query(request: Request) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.path).query)


def jobs_server(request: Request) -> Reply:
    """Jobs ``ftjob-1`` .. ``ftjob-5``, newest first, paged by ``limit``/``after``; ``/slow`` is slow."""
    path = urlsplit(request.path).path
    if path.endswith("/slow"):
        return Reply(status=200, parts=[1.5, b"{}"], content_type="application/json")
    if path.endswith("/fine_tuning/jobs") and request.method == "GET":
        ids = [f"ftjob-{n}" for n in range(5, 0, -1)]
        q = query(request)
        start = ids.index(q["after"][0]) + 1 if "after" in q else 0
        size = int(q.get("limit", ["100"])[0])
        page = ids[start : start + size]
        data = [{**JOB, "id": i} for i in page]
        return json_reply(
            200, {"data": data, "has_more": start + size < len(ids)}, **{"x-request-id": f"req-{start}"}
        )
    return json_reply(200, JOB, **{"x-request-id": "req-job"})


def call(
    mode: str, respond: Callable[[Request], Reply], use: Callable[[Any], Any], **kw: Any
) -> tuple[Any, RawServer]:
    """``use(client)`` with a sync client, or awaited with an async one, against a recording server."""
    kw.setdefault("max_retry_wait", 0.01)
    with RawServer(respond) as server:
        if mode == "sync":
            with Client(api_key=KEY, base_url=server.base_url, **kw) as client:
                result = use(client)
                return (list(result) if isinstance(result, SyncCursorPage) else result), server

        async def main() -> Any:
            async with AsyncClient(api_key=KEY, base_url=server.base_url, **kw) as client:
                result = use(client)
                if hasattr(result, "__aiter__"):  # a paginator: every item
                    return [item async for item in result]
                return await result

        return anyio.run(main, backend=mode), server


# -- per-call options ---------------------------------------------------------------------------


def test_a_header_a_query_parameter_and_a_body_field_reach_the_wire(mode: str) -> None:
    def use(client: Any) -> Any:
        return client.jobs.cancel(
            "ftjob-1",
            extra_headers={"X-Trace": "t-1", "User-Agent": "mine/2.0"},
            extra_query={"verbose": "yes"},
            extra_body={"reason": "testing"},
            idempotency_key="key-123",
        )

    job, server = call(mode, jobs_server, use)
    assert isinstance(job, FineTuneJob)
    sent = server.requests[0]
    assert sent.method == "POST" and urlsplit(sent.path).path.endswith("/fine_tuning/jobs/ftjob-1/cancel")
    assert sent.headers["x-trace"] == "t-1"
    assert sent.headers["user-agent"].startswith("finetune-sdk/") and sent.headers["user-agent"].endswith(
        " mine/2.0"
    )
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["idempotency-key"] == "key-123"
    assert query(sent) == {"verbose": ["yes"]}
    assert sent.body == {"reason": "testing"}


def test_a_per_call_timeout_reaches_the_wire(mode: str) -> None:
    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        call(mode, jobs_server, lambda c: c.jobs.retrieve("slow", timeout=0.2), max_retries=0)
    assert time.monotonic() - started < 1.4  # the server answers after 1.5 s


def test_extra_body_merges_into_a_create(mode: str) -> None:
    def use(client: Any) -> Any:
        return client.jobs.create(model="m", training_file="file-1", extra_body={"priority": 3})

    _, server = call(mode, jobs_server, use)
    body = server.requests[0].body
    assert body["priority"] == 3 and body["training_file"] == "file-1"
    assert server.requests[0].headers["idempotency-key"].startswith("finetune-sdk-")


def test_a_misspelt_option_is_a_type_error_before_sending(mode: str) -> None:
    with pytest.raises(TypeError, match="timeot"):
        call(mode, jobs_server, lambda c: c.jobs.retrieve("ftjob-1", timeot=1))
    with pytest.raises(TypeError, match="idempotency_key"):  # only calls that create take one
        call(mode, jobs_server, lambda c: c.jobs.retrieve("ftjob-1", idempotency_key="k"))


# -- raw responses and request ids --------------------------------------------------------------


def test_raw_response_has_status_headers_request_id_and_parses(mode: str) -> None:
    raw, server = call(mode, jobs_server, lambda c: c.jobs.with_raw_response.retrieve("ftjob-1"))
    assert raw.status_code == 200
    assert raw.headers["content-type"] == "application/json"
    assert raw.request_id == "req-job"
    assert raw.retries_taken == 0
    assert isinstance(raw.elapsed, datetime.timedelta) and raw.elapsed.total_seconds() >= 0
    job = raw.parse()
    assert isinstance(job, FineTuneJob) and job.id == "ftjob-1" and job._request_id == "req-job"
    assert len(server.requests) == 1


def test_raw_response_counts_retries(mode: str) -> None:
    answers = [json_reply(503, {"error": {"message": "busy"}}), json_reply(200, JOB)]

    def respond(_: Request) -> Reply:
        return answers.pop(0) if len(answers) > 1 else answers[0]

    raw, server = call(mode, respond, lambda c: c.jobs.with_raw_response.retrieve("ftjob-1"))
    assert raw.retries_taken == 1 and len(server.requests) == 2


def test_every_returned_model_carries_its_request_id(mode: str) -> None:
    job, _ = call(mode, jobs_server, lambda c: c.jobs.retrieve("ftjob-1"))
    assert job._request_id == "req-job"
    assert job == FineTuneJob.model_validate(JOB)  # the id does not change equality


# -- pages --------------------------------------------------------------------------------------


def test_list_limit_is_the_page_size_and_iteration_walks_every_page(mode: str) -> None:
    jobs, server = call(mode, jobs_server, lambda c: c.jobs.list(limit=2))
    assert [j.id for j in jobs] == ["ftjob-5", "ftjob-4", "ftjob-3", "ftjob-2", "ftjob-1"]
    assert [query(r).get("after") for r in server.requests] == [None, ["ftjob-4"], ["ftjob-2"]]
    assert all(query(r)["limit"] == ["2"] for r in server.requests)


def test_sync_page_data_has_more_next_page_and_iter_pages() -> None:
    with RawServer(jobs_server) as server, Client(api_key=KEY, base_url=server.base_url) as client:
        page = client.jobs.list(limit=2)
        assert isinstance(page, SyncCursorPage)
        assert [j.id for j in page.data] == ["ftjob-5", "ftjob-4"] and page.has_more
        assert page.request_id == "req-0" and page.data[0]._request_id == "req-0"
        second = page.next_page()
        assert second is not None and [j.id for j in second.data] == ["ftjob-3", "ftjob-2"]
        assert [len(p.data) for p in page.iter_pages()] == [2, 2, 1]
        last = client.jobs.list(limit=2, after="ftjob-2")
        assert [j.id for j in last.data] == ["ftjob-1"] and not last.has_more and last.next_page() is None
        assert [j.id for j in page] == [j.id for j in page]  # a list can be walked twice
        assert len(server.requests) == 9  # a walk fetches the pages after the one it starts from


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_async_list_is_awaited_for_a_page_and_iterated_for_all(backend: str) -> None:
    async def main(base_url: str) -> None:
        async with AsyncClient(api_key=KEY, base_url=base_url) as client:
            page = await client.jobs.list(limit=3)
            assert isinstance(page, AsyncCursorPage)
            assert [j.id for j in page.data] == ["ftjob-5", "ftjob-4", "ftjob-3"] and page.has_more
            following = await page.next_page()
            assert following is not None and [j.id for j in following.data] == ["ftjob-2", "ftjob-1"]
            assert [len(p.data) async for p in page.iter_pages()] == [3, 2]
            assert [j.id async for j in client.jobs.list(limit=4)] == [f"ftjob-{n}" for n in range(5, 0, -1)]
            raw = await client.jobs.with_raw_response.list(limit=1)
            assert raw.request_id == "req-0" and [j.id for j in raw.parse().data] == ["ftjob-5"]

    with RawServer(jobs_server) as server:
        anyio.run(main, server.base_url, backend=backend)


def test_limit_outside_a_page_size_is_refused_before_sending(mode: str) -> None:
    with pytest.raises(ValueError, match="page size"):
        call(mode, jobs_server, lambda c: c.jobs.list(limit=101))
    with pytest.raises(ValueError, match="page size"):
        call(mode, jobs_server, lambda c: c.files.list(limit=-1))


def test_a_page_without_ids_is_a_validation_error(mode: str) -> None:
    def respond(_: Request) -> Reply:
        return json_reply(200, {"data": [{"model": "m"}], "has_more": True})

    with pytest.raises(APIResponseValidationError):
        call(mode, respond, lambda c: c.jobs.list())


def test_create_keywords_are_checked_like_a_python_call(mode: str) -> None:
    with pytest.raises(TypeError, match="sufix"):
        call(mode, jobs_server, lambda c: c.jobs.create(model="m", training_file="file-1", sufix="x"))
    with pytest.raises(TypeError, match="training_file"):
        call(mode, jobs_server, lambda c: c.jobs.create(model="m"))
