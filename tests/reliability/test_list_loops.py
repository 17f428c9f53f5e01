"""A server whose list cursor does not advance: the pager stops with a typed error, not a request loop.

Small raw servers on 127.0.0.1 answer every page with ``has_more: true``; each test is bounded by the
number of requests the server will answer (it refuses after a few) and by the suite's timeout.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from finetune_sdk import APIResponseValidationError, AsyncClient, Client
from tests.chat.sse_server import RawServer, Reply, Request, json_reply

KEY = "sk-loop-secret-key-1"
MAX_ANSWERS = 6
JOB = {"model": "m", "status": "running", "created_at": 1}


def bounded(pages: list[list[str]]) -> Any:
    """Answers the pages in turn, cycling, each with ``has_more: true``; a 500 after MAX_ANSWERS."""
    count = 0

    def respond(_: Request) -> Reply:
        nonlocal count
        count += 1
        if count > MAX_ANSWERS:
            return json_reply(400, {"error": {"message": "too many requests in a loop test"}})
        ids = pages[(count - 1) % len(pages)]
        return json_reply(200, {"data": [{**JOB, "id": i} for i in ids], "has_more": True})

    return respond


CASES = {
    "the same item every time": [["ftjob-1"]],
    "a page repeating after another": [["ftjob-1", "ftjob-2"], ["ftjob-3"], ["ftjob-1", "ftjob-2"]],
}


@pytest.mark.parametrize("pages", CASES.values(), ids=CASES.keys())
def test_sync_list_stops_with_a_typed_error(pages: list[list[str]]) -> None:
    with RawServer(bounded(pages)) as server, Client(api_key=KEY, base_url=server.base_url) as client:
        seen: list[str] = []
        with pytest.raises(APIResponseValidationError, match="does not advance"):
            seen.extend(job.id for job in client.jobs.list())
        assert len(server.requests) <= len(pages) + 1 < MAX_ANSWERS
        assert len(seen) == len(set(seen))  # nothing handed out twice before the error


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@pytest.mark.parametrize("pages", CASES.values(), ids=CASES.keys())
def test_async_list_stops_with_a_typed_error(pages: list[list[str]], backend: str) -> None:
    async def main(base_url: str) -> None:
        async with AsyncClient(api_key=KEY, base_url=base_url) as client:
            with pytest.raises(APIResponseValidationError, match="does not advance"):
                async for _ in client.jobs.list():
                    pass

    with RawServer(bounded(pages)) as server:
        anyio.run(main, server.base_url, backend=backend)
        assert len(server.requests) <= len(pages) + 1 < MAX_ANSWERS


def test_files_list_stops_too() -> None:
    def respond(_: Request) -> Reply:
        return json_reply(200, {"data": [{"id": "file-1"}], "has_more": True})

    with RawServer(respond) as server, Client(api_key=KEY, base_url=server.base_url) as client:
        with pytest.raises(APIResponseValidationError, match="file-1"):
            list(client.files.list())
        assert len(server.requests) == 2
