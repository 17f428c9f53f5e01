"""``client.checkpoints.list(job)``: a list endpoint added as one resource file and one types file,
served here by a small recording server on 127.0.0.1 (the platform's contract does not list it yet)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import anyio
import pytest

from finetune_sdk import AsyncClient, Checkpoint, Client
from tests.chat.sse_server import RawServer, Reply, Request, json_reply

KEY = "sk-checkpoint-secret-1"


def respond(request: Request) -> Reply:
    url = urlsplit(request.path)
    assert url.path == "/v1/fine_tuning/jobs/ftjob-1/checkpoints"
    steps = [30, 20, 10]
    q = parse_qs(url.query)
    start = [f"ckpt-{s}" for s in steps].index(q["after"][0]) + 1 if "after" in q else 0
    size = int(q["limit"][0])
    data = [
        {
            "id": f"ckpt-{s}",
            "step_number": s,
            "fine_tuned_model_checkpoint": f"m:ckpt-step-{s}",
            "metrics": {"step": s},
        }
        for s in steps[start : start + size]
    ]
    return json_reply(
        200, {"data": data, "has_more": start + size < len(steps)}, **{"x-request-id": f"r{start}"}
    )


def test_sync_checkpoints_page_and_walk() -> None:
    with RawServer(respond) as server, Client(api_key=KEY, base_url=server.base_url) as client:
        page = client.checkpoints.list("ftjob-1", limit=2)
        assert [c.step_number for c in page.data] == [30, 20] and page.has_more
        assert all(isinstance(c, Checkpoint) for c in page)
        assert [c.id for c in page] == ["ckpt-30", "ckpt-20", "ckpt-10"]
        raw = client.checkpoints.with_raw_response.list("ftjob-1", limit=1, after="ckpt-20")
        assert raw.request_id == "r2" and raw.parse().data[0].metrics is not None


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_async_checkpoints(backend: str) -> None:
    async def main(base_url: str) -> None:
        async with AsyncClient(api_key=KEY, base_url=base_url) as client:
            first = await client.checkpoints.list("ftjob-1", limit=1)
            assert [c.id for c in first.data] == ["ckpt-30"]
            assert [c.id async for c in client.checkpoints.list("ftjob-1", limit=2)] == [
                "ckpt-30",
                "ckpt-20",
                "ckpt-10",
            ]

    with RawServer(respond) as server:
        anyio.run(main, server.base_url, backend=backend)
