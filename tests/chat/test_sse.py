"""``stream.sse()`` on real streams: what an OpenAI-compatible server sent, relayed as OpenAI-shaped frames.

Served byte-exact by the raw local server (``sse_server.RawServer``); each test runs through
``ChatStream.sse()`` and through ``AsyncChatStream.sse()`` on asyncio and trio.
"""

from __future__ import annotations

import contextlib
from typing import Any

import anyio
import httpx
import orjson
import pytest
from httpx_sse import EventSource

from finetune_sdk import AsyncClient, Client
from finetune_sdk.relay import SyncFrames

from .conftest import KEY
from .sse_server import Part, RawServer, Reply, Request, chunk, json_reply, sse, standard_stream

pytestmark = pytest.mark.timeout(60)


def serve(reply: Reply) -> RawServer:
    def respond(request: Request) -> Reply:
        return reply

    return RawServer(respond)


def relay(mode: str, base_url: str, *, opened: bool = True) -> list[bytes]:
    """Every frame of ``sse()`` on one chat (opened first unless ``opened=False``)."""
    options: dict[str, Any] = {"api_key": KEY, "base_url": base_url, "max_retries": 0}
    if mode == "sync":
        with Client(**options) as client:
            stream = client.chat("m", "hi").open() if opened else client.chat("m", "hi")
            return list(stream.sse())

    async def main() -> list[bytes]:
        async with AsyncClient(**options) as client:
            stream = await client.chat("m", "hi").open() if opened else client.chat("m", "hi")
            return [frame async for frame in stream.sse()]

    return anyio.run(main, backend=mode)


def decode(frames: list[bytes]) -> list[Any]:
    """The frames' data, read back by httpx-sse: JSON objects, and the string ``"[DONE]"``."""
    response = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=b"".join(frames))
    out: list[Any] = []
    for event in EventSource(response).iter_sse():
        assert event.event == "message"
        out.append(event.data if event.data == "[DONE]" else orjson.loads(event.data))
    return out


def texts(chunks: list[Any]) -> list[str]:
    return [c["choices"][0]["delta"]["content"] for c in chunks if isinstance(c, dict) and c.get("choices")
            and c["choices"][0]["delta"].get("content")]  # fmt: skip


def test_a_whole_stream_is_relayed_with_finish_usage_and_done(mode: str) -> None:
    with serve(Reply(parts=[standard_stream(("Hel", "lo\n", "\nthere"))])) as server:
        got = decode(relay(mode, server.base_url))
    assert texts(got) == ["Hel", "lo\n", "\nthere"]
    assert got[0]["choices"][0]["delta"]["role"] == "assistant"
    assert len({c["id"] for c in got[:-1]}) == 1 and got[0]["model"] == "m"
    assert got[-3]["choices"][0]["finish_reason"] == "stop"
    assert got[-2]["usage"] == {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    assert got[-1] == "[DONE]"
    assert len(got) == 6


def test_an_error_event_after_text_is_an_error_frame(mode: str) -> None:
    error = {"error": {"message": "the model crashed", "type": "server_error", "code": "internal_error"}}
    body = sse(chunk(role="assistant", content=""), chunk("Hel"), chunk("lo"), error)
    with serve(Reply(parts=[body])) as server:
        got = decode(relay(mode, server.base_url))
    assert texts(got) == ["Hel", "lo"]
    assert got[2] == {
        "error": {
            "message": "the model crashed",
            "type": "server_error",
            "param": None,
            "code": "internal_error",
        }
    }
    assert got[3:] == ["[DONE]"]


def test_a_break_after_text_is_a_stream_interrupted_frame(mode: str) -> None:
    body = sse(chunk(role="assistant", content=""), chunk("Hel"), chunk("lo"))
    with serve(Reply(parts=[body], abort=True)) as server:
        got = decode(relay(mode, server.base_url))
    assert texts(got) == ["Hel", "lo"]
    assert got[2]["error"]["code"] == "stream_interrupted"
    assert got[2]["error"]["message"] == "the stream from m broke after 5 characters"
    assert got[3:] == ["[DONE]"]


def test_a_stream_not_opened_first_relays_its_failure_as_a_frame(mode: str) -> None:
    reply = json_reply(404, {"error": {"message": "model: 'm' does not exist", "code": "model_not_found"}})
    with serve(reply) as server:
        got = decode(relay(mode, server.base_url, opened=False))
    assert got[0]["error"]["code"] == "model_not_found"
    assert got[0]["error"]["type"] == "invalid_request_error"
    assert got[1:] == ["[DONE]"]


def test_leaving_the_frames_early_closes_the_stream(mode: str) -> None:
    with serve(Reply(parts=[standard_stream(("a", "b", "c", "d"))])) as server:
        options: dict[str, Any] = {"api_key": KEY, "base_url": server.base_url}
        if mode == "sync":
            with Client(**options) as client:
                stream = client.chat("m", "hi").open()
                frames = stream.sse()
                assert isinstance(frames, SyncFrames)
                first = next(frames)
                frames.close()  # what a sync server does when the browser goes away
                assert stream.closed and stream.response is not None and stream.response.is_closed
        else:

            async def main() -> bytes:
                async with AsyncClient(**options) as client:
                    stream = await client.chat("m", "hi").open()
                    frames = stream.sse()
                    async with contextlib.aclosing(frames):  # type: ignore[type-var]
                        head = await frames.__anext__()
                    assert stream.closed and stream.response is not None and stream.response.is_closed
                    return head

            first = anyio.run(main, backend=mode)
    assert texts(decode([first])) == ["a"]


@pytest.mark.anyio
async def test_a_sync_streams_frames_read_with_async_for(anyio_backend: str) -> None:
    # What an async framework does with a sync Client's relay: every frame, read in worker threads.
    with (
        serve(Reply(parts=[standard_stream(("Hel", "lo"))])) as server,
        Client(api_key=KEY, base_url=server.base_url) as client,
    ):
        stream = client.chat("m", "hi").open()
        got = decode([frame async for frame in stream.sse()])  # type: ignore[attr-defined]
        assert stream.closed
    assert texts(got) == ["Hel", "lo"] and got[-1] == "[DONE]"


@pytest.mark.anyio
async def test_a_cancelled_async_for_closes_the_sync_stream(anyio_backend: str) -> None:
    # The browser goes away mid-reply: the framework cancels the loop, and the upstream connection is
    # released at once, not whenever the abandoned iterator is collected.
    body: list[Part] = [sse(chunk(role="assistant", content=""), chunk("a")), 0.05, sse(chunk("b")), 0.05,
                        sse(chunk(finish="stop"), "[DONE]")]  # fmt: skip
    with serve(Reply(parts=body)) as server, Client(api_key=KEY, base_url=server.base_url) as client:
        stream = client.chat("m", "hi").open()
        frames: list[bytes] = []
        with anyio.CancelScope() as scope:
            async for frame in stream.sse():  # type: ignore[attr-defined]
                frames.append(frame)
                scope.cancel()
        assert scope.cancelled_caught
        assert len(frames) == 1
        assert stream.closed and stream.response is not None and stream.response.is_closed
