"""Chat arguments: checked before anything is sent, typo-proof for type checkers too; ``complete()``'s
result object; against a recording server and the emulator, sync and async."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from finetune_sdk import APIStatusError, AsyncClient, ChatCompletion, ChatUsage, Client
from finetune_sdk.emulator import Emulator
from tests.chat.sse_server import RawServer, Reply, Request, json_reply, standard_stream

KEY = "sk-chat-args-secret-1"
BASE = "Qwen/Qwen2.5-7B-Instruct"

BAD: dict[str, tuple[dict[str, Any], type[Exception], str]] = {
    "no model": ({"model": None}, ValueError, "model"),
    "empty model": ({"model": ""}, ValueError, "model"),
    "a message without content": ({"messages": [{"role": "user"}]}, ValueError, "content"),
    "an unknown role": ({"messages": [{"role": "wizard", "content": "hi"}]}, ValueError, "wizard"),
    "negative max_tokens": ({"max_tokens": -1}, ValueError, "max_tokens"),
    "a word for temperature": ({"temperature": "hot"}, TypeError, "temperature"),
    "temperature out of range": ({"temperature": 9}, ValueError, "temperature"),
    "a misspelt keyword": ({"temprature": 0.2}, TypeError, "temprature"),
    "stop not strings": ({"stop": [1]}, TypeError, "stop"),
}


def _never(_: Request) -> Reply:
    return Reply(status=200, parts=[standard_stream()])


@pytest.mark.parametrize(("kwargs", "error", "match"), BAD.values(), ids=BAD.keys())
@pytest.mark.parametrize("method", ["chat", "complete"])
def test_bad_arguments_fail_before_any_request(
    kwargs: dict[str, Any], error: type[Exception], match: str, method: str
) -> None:
    args = {"model": "m", "messages": "hi", **kwargs}
    with RawServer(_never) as server:
        with Client(api_key=KEY, base_url=server.base_url) as client, pytest.raises(error, match=match):
            client.chat(**args) if method == "chat" else client.chat.complete(**args)

        async def send(client: AsyncClient) -> None:
            if method == "chat":  # refused when the stream is made, before it is opened
                client.chat(**args)
            else:  # the coroutine checks when awaited, still before sending
                await client.chat.complete(**args)

        async def main() -> None:
            async with AsyncClient(api_key=KEY, base_url=server.base_url) as client:
                with pytest.raises(error, match=match):
                    await send(client)

        anyio.run(main)
        assert server.requests == []


def test_typed_keywords_reach_the_body() -> None:
    bodies: list[Any] = []

    def respond(request: Request) -> Reply:
        bodies.append(request.body)
        return Reply(status=200, parts=[standard_stream()])

    with RawServer(respond) as server, Client(api_key=KEY, base_url=server.base_url) as client:
        text = client.chat(
            "m",
            "hi",
            top_p=0.5,
            stop=["\n"],
            seed=7,
            presence_penalty=0.1,
            extra_body={"repetition_penalty": 1.1},
        ).read()
    assert text == "Hello there"
    body = bodies[0]
    assert (body["top_p"], body["stop"], body["seed"], body["presence_penalty"]) == (0.5, ["\n"], 7, 0.1)
    assert body["repetition_penalty"] == 1.1 and "temperature" not in body


def test_complete_returns_text_finish_reason_usage_and_request_id() -> None:
    answer = {
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "Hi!"}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }
    with (
        RawServer(lambda _: json_reply(200, answer, **{"x-request-id": "req-c"})) as server,
        Client(api_key=KEY, base_url=server.base_url) as client,
    ):
        result = client.chat.complete("m", "hi", max_tokens=5)
        raw = client.chat.with_raw_response.complete("m", "hi")
    assert result.text == "Hi!" and str(result) == "Hi!" and not isinstance(result, str)
    assert result.finish_reason == "stop" and result.request_id == "req-c"
    # A model like every answer: its fields survive JSON and pickling, which a str subclass lost.
    assert ChatCompletion.model_validate_json(result.model_dump_json()) == result
    assert pickle.loads(pickle.dumps(result)).usage == result.usage
    assert result.usage == ChatUsage(3, 2, 5)
    assert result.usage is not None and result.usage.model_dump() == {
        "prompt_tokens": 3,
        "completion_tokens": 2,
        "total_tokens": 5,
    }
    assert raw.status_code == 200 and raw.parse().text == "Hi!"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(time_scale=100, seed=0) as running:
        yield running


def test_complete_against_the_emulator_sync_and_async(emu: Emulator) -> None:
    with Client(api_key=emu.api_key, base_url=emu.base_url) as client:
        whole = client.chat.complete(BASE, "hello", max_tokens=50)
    assert whole.text and whole.finish_reason in ("stop", "length") and whole.request_id

    async def main() -> None:
        async with AsyncClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            result = await client.chat.complete(BASE, "hello", max_tokens=50, timeout=10)
            assert result.text and result.usage is not None and result.usage.total_tokens > 0
            await client.close()  # close() is a coroutine, like openai's

    anyio.run(main)


TYPO = """
from finetune_sdk import Client

client = Client()
client.chat("m", "hi", temprature=0.2)
client.chat.complete("m", "hi", max_tokens="many")
client.jobs.retrieve("ftjob-1", timeot=3)
"""


def test_a_misspelt_keyword_is_a_type_checker_error(tmp_path: Path) -> None:
    from mypy import api

    snippet = tmp_path / "typo.py"
    snippet.write_text(TYPO)
    out, _, status = api.run(["--strict", "--follow-imports=silent", str(snippet)])
    assert status == 1
    assert 'Unexpected keyword argument "temprature"' in out
    assert 'Unexpected keyword argument "timeot"' in out
    assert '"max_tokens"' in out and "incompatible type" in out


@pytest.mark.parametrize("mode", ["sync", "asyncio", "trio"])
def test_the_first_delta_of_a_burst_comes_before_the_burst_is_parsed(mode: str) -> None:
    # A proxy that buffers the answer sends it in one burst: the first delta is handed out after a
    # bounded slice is parsed, not after every event of the read (a read is up to 64 KiB, ~600 events).
    from tests.chat.sse_server import chunk, sse

    burst = sse(*(chunk("w") for _ in range(3000)), chunk(finish="stop"), "[DONE]")
    with RawServer(lambda _: Reply(status=200, parts=[burst])) as server:
        if mode == "sync":
            with Client(api_key=KEY, base_url=server.base_url) as client:
                stream = client.chat("m", "hi")
                first, parsed = next(stream), stream.deltas
                rest = stream.read()
        else:

            async def main() -> tuple[str, int, str]:
                async with AsyncClient(api_key=KEY, base_url=server.base_url) as client:
                    stream = client.chat("m", "hi")
                    first = await stream.__anext__()
                    parsed = stream.deltas
                    return first, parsed, await stream.read()

            first, parsed, rest = anyio.run(main, backend=mode)
    assert first == "w" and parsed < 200
    assert rest == "w" * 3000  # nothing lost: read() gives the whole reply


def _read_all(mode: str, base_url: str) -> str:
    """The whole text of one chat stream, through the sync client or an async one on ``mode``."""
    if mode == "sync":
        with Client(api_key=KEY, base_url=base_url) as client:
            return client.chat("m", "hi").read()

    async def main() -> str:
        async with AsyncClient(api_key=KEY, base_url=base_url) as client:
            return await client.chat("m", "hi").read()

    return anyio.run(main, backend=mode)


@pytest.mark.parametrize("mode", ["sync", "asyncio", "trio"])
def test_nothing_after_done_is_text_even_in_one_burst(mode: str) -> None:
    # More than 8 KiB in one read: the slice after the one holding [DONE] is not read as the answer.
    from tests.chat.sse_server import chunk, sse

    padding = b": " + b"x" * 9000 + b"\n\n"  # a long comment: what follows is in a later slice
    burst = sse(*(chunk("w") for _ in range(200)), chunk(finish="stop"), "[DONE]") + padding
    burst += sse(chunk("AFTER"))
    with RawServer(lambda _: Reply(status=200, parts=[burst])) as server:
        assert _read_all(mode, server.base_url) == "w" * 200


@pytest.mark.parametrize("mode", ["sync", "asyncio", "trio"])
def test_a_server_holding_the_body_open_after_done_does_not_hold_the_caller(mode: str) -> None:
    import threading
    import time

    from tests.chat.sse_server import chunk, sse

    released = threading.Event()  # the server holds the body open until this is set (or 10 s pass)
    body = sse(chunk("Hi"), chunk(finish="stop"), "[DONE]")
    with RawServer(lambda _: Reply(status=200, parts=[body, released, sse(chunk("late"))])) as server:
        started = time.monotonic()
        try:
            text = _read_all(mode, server.base_url)
        finally:
            released.set()
        waited = time.monotonic() - started
    assert text == "Hi"
    assert waited < 5, f"read() waited {waited:.1f} s for a body the answer did not need"


@pytest.mark.parametrize("mode", ["sync", "asyncio", "trio"])
def test_a_gzip_stream_of_several_members_is_read_whole(mode: str) -> None:
    import gzip

    from tests.chat.sse_server import chunk, sse

    # RFC 1952: a gzip body may be several members one after another; each is the stream's next part.
    body = gzip.compress(sse(chunk("Hello"))) + gzip.compress(
        sse(chunk(" world"), chunk(finish="stop"), "[DONE]")
    )
    reply = Reply(status=200, parts=[body], headers={"content-encoding": "gzip"})
    with RawServer(lambda _: reply) as server:
        assert _read_all(mode, server.base_url) == "Hello world"


def test_complete_raises_for_an_error_object_under_a_success_status() -> None:
    error = {"error": {"message": "model melted", "type": "server_error", "code": "melted"}}
    with (
        RawServer(lambda _: json_reply(200, error)) as server,
        Client(api_key=KEY, base_url=server.base_url, max_retries=0) as client,
        pytest.raises(APIStatusError, match="the answer from m is an error: model melted") as info,
    ):
        client.chat.complete("m", "hi")
    assert info.value.status_code == 500 and info.value.code == "melted"
