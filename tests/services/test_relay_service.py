"""A relay service end to end: emulator <- SDK <- Starlette relay on 127.0.0.1 <- openai client / httpx-sse.

Every test runs against a relay holding an ``AsyncClient`` and one holding a sync ``Client`` (its calls in
worker threads), both served by uvicorn over real sockets. What reads the relay is what a browser's code or
an OpenAI-compatible consumer would use: the official ``openai`` client (sync and async) and httpx-sse.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest
from httpx_sse import connect_sse

from finetune_sdk import Client, FineTuneJob
from finetune_sdk.emulator import Emulator
from tests.e2e.conftest import write_dataset

from .relay_app import Kind, relay_app, served

pytestmark = pytest.mark.timeout(90)

BASE = "Qwen/Qwen2.5-7B-Instruct"
PROMPT = "词语3"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    # Replies in small pieces, a little apart, so that a stream is still running when a reader leaves it.
    with Emulator(time_scale=100, chunk_chars=4, chunk_delay=0.002, base_reply_chars=300) as running:
        yield running


@pytest.fixture(scope="module")
def tuned(emu: Emulator, tmp_path_factory: pytest.TempPathFactory) -> FineTuneJob:
    train = write_dataset(tmp_path_factory.mktemp("relay") / "train.jsonl")
    with Client(api_key=emu.api_key, base_url=emu.base_url) as client:
        job = client.jobs.create(model=BASE, training_file=train, suffix="relay")
        return client.jobs.wait(job, timeout=30, poll_interval=0.02)


@pytest.fixture(scope="module", params=["async", "sync"])
def relay(request: pytest.FixtureRequest, emu: Emulator) -> Iterator[str]:
    """The relay's address (``http://127.0.0.1:port``), holding the client kind of the parameter."""
    kind: Kind = request.param
    app = relay_app(kind, api_key=emu.api_key, base_url=emu.base_url, max_retry_wait=0.01)
    with served(app) as url:
        yield url


def direct(emu: Emulator, model: str, prompt: str) -> str:
    with Client(api_key=emu.api_key, base_url=emu.base_url) as client:
        return client.chat.complete(model, prompt).text


def test_official_client_reads_the_tuned_models_reply(relay: str, emu: Emulator, tuned: FineTuneJob) -> None:
    model = tuned.fine_tuned_model
    assert model is not None
    relayed = openai.OpenAI(base_url=f"{relay}/v1", api_key="browser-has-no-key", max_retries=0)
    with relayed:
        chunks = list(
            relayed.chat.completions.create(
                model=model, messages=[{"role": "user", "content": PROMPT}], stream=True
            )
        )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == direct(emu, model, PROMPT) == "第3句金句,一针见血。"
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1  # streamed, not whole
    assert {c.id for c in chunks} == {chunks[0].id} and chunks[0].id.startswith("chatcmpl-")
    assert {c.model for c in chunks} == {model}
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_async_official_client_reads_a_base_models_reply(relay: str, emu: Emulator) -> None:
    async def main() -> tuple[str, Any]:
        async with openai.AsyncOpenAI(base_url=f"{relay}/v1", api_key="unused", max_retries=0) as relayed:
            stream = await relayed.chat.completions.create(
                model=BASE, messages=[{"role": "user", "content": "Hello"}], stream=True
            )
            chunks = [c async for c in stream]
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices), chunks[-1].usage

    text, usage = asyncio.run(main())
    assert text == direct(emu, BASE, "Hello") and len(text) >= 300
    assert usage is not None and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_frames_on_the_wire(relay: str, emu: Emulator) -> None:
    with (
        httpx.Client(timeout=10) as http,
        connect_sse(
            http, "POST", f"{relay}/v1/chat/completions", json={"model": BASE, "messages": "Hi"}
        ) as source,
    ):
        response = source.response
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        data = [event.data for event in source.iter_sse()]
    assert data[-1] == "[DONE]"
    chunks = [orjson.loads(d) for d in data[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]) == direct(
        emu, BASE, "Hi"
    )


def test_unknown_model_is_a_404_answer_before_any_frame(relay: str, emu: Emulator) -> None:
    body = {"model": "ft:LoRA/nobody:nothing", "messages": [{"role": "user", "content": "Hi"}]}
    with (
        httpx.Client(timeout=10) as http,
        http.stream("POST", f"{relay}/v1/chat/completions", json=body) as answer,
    ):
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/json"
        raw = answer.read()
        error = orjson.loads(raw)["error"]
    assert emu.api_key.encode() not in raw  # the relay's own key never reaches its caller
    assert error["code"] == "model_not_found" and error["param"] == "model"
    assert "ft:LoRA/nobody:nothing" in error["message"]

    relayed = openai.OpenAI(base_url=f"{relay}/v1", api_key="unused", max_retries=0)
    with relayed, pytest.raises(openai.NotFoundError) as caught:
        relayed.chat.completions.create(
            model="ft:LoRA/nobody:nothing", messages=[{"role": "user", "content": "x"}]
        )
    assert caught.value.code == "model_not_found"


def test_messages_the_sdk_refuses_are_a_400(relay: str) -> None:
    with httpx.Client(timeout=10) as http:
        answer = http.post(f"{relay}/v1/chat/completions", json={"model": BASE, "messages": []})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "messages is empty: give at least one user message"


def test_a_break_after_text_reaches_the_reader_as_an_error(emu: Emulator) -> None:
    # Every upstream stream drops its connection halfway: after text, the relay can only send an error frame.
    with Emulator(
        fault_rate=1.0, fault_kinds=("stream_break",), fault_paths=("/v1/chat",), base_reply_chars=200
    ) as broken:
        kinds: tuple[Kind, ...] = ("async", "sync")
        for kind in kinds:
            app = relay_app(kind, api_key=broken.api_key, base_url=broken.base_url, max_retries=0)
            with (
                served(app) as url,
                openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0) as relayed,
            ):
                got: list[str] = []
                stream = relayed.chat.completions.create(
                    model=BASE, messages=[{"role": "user", "content": "Hello"}], stream=True
                )
                with pytest.raises(openai.APIError) as caught:
                    got.extend(c.choices[0].delta.content or "" for c in stream if c.choices)
                assert len("".join(got)) >= 40, kind  # the text before the break did get through
                assert "broke after" in caught.value.message
                assert caught.value.body == {
                    "message": caught.value.message,
                    "type": "server_error",
                    "param": None,
                    "code": "stream_interrupted",
                }


def test_a_reader_leaving_early_gives_the_upstream_connection_back(emu: Emulator) -> None:
    # The relay's client has ONE connection to the platform: a stream left open would starve the next.
    body = {"model": BASE, "messages": "Tell me a long story"}
    kinds: tuple[Kind, ...] = ("async", "sync")
    for kind in kinds:
        app = relay_app(kind, connections=1, api_key=emu.api_key, base_url=emu.base_url, max_retries=0)
        with served(app) as url, httpx.Client(timeout=10) as http:
            for _ in range(3):
                with http.stream("POST", f"{url}/v1/chat/completions", json=body) as answer:
                    assert answer.status_code == 200
                    first = next(answer.iter_lines())
                    assert first.startswith("data: {")
                # Left after one frame; the next ones must still get the upstream connection.
            whole = http.post(f"{url}/v1/chat/completions", json=body)
            assert whole.status_code == 200 and whole.text.endswith("data: [DONE]\n\n"), kind


def test_job_events_are_frames_with_ids(relay: str, emu: Emulator, tuned: FineTuneJob) -> None:
    with Client(api_key=emu.api_key, base_url=emu.base_url) as client:
        expected = [e.id for e in client.jobs.events(tuned.id)]
    with (
        httpx.Client(timeout=10) as http,
        connect_sse(http, "GET", f"{relay}/jobs/{tuned.id}/events") as source,
    ):
        assert source.response.status_code == 200
        events = list(source.iter_sse())
    assert [e.id for e in events[:-1]] == expected and len(expected) > 3
    assert {e.event for e in events[:-1]} == {"fine_tuning.job.event"}
    assert [orjson.loads(e.data)["id"] for e in events[:-1]] == expected
    assert (events[-1].event, events[-1].data) == ("done", "[DONE]")


def test_a_job_followed_live_through_the_relay(relay: str, emu: Emulator, tmp_path: Path) -> None:
    train = write_dataset(tmp_path / "train.jsonl")
    with Client(api_key=emu.api_key, base_url=emu.base_url) as client:
        job = client.jobs.create(model=BASE, training_file=train)
        with (
            httpx.Client(timeout=30) as http,
            connect_sse(http, "GET", f"{relay}/jobs/{job.id}/events") as source,
        ):
            events = list(source.iter_sse())
        assert client.jobs.retrieve(job).status.is_final  # the frames ended once the job had
        expected = [e.id for e in client.jobs.events(job)]
    assert [e.id for e in events[:-1]] == expected
    messages = [orjson.loads(e.data)["message"] for e in events[:-1]]
    assert any("succeeded" in m.lower() for m in messages), messages
    assert events[-1].event == "done"


def test_unknown_job_is_a_404_answer(relay: str) -> None:
    with httpx.Client(timeout=10) as http:
        answer = http.get(f"{relay}/jobs/ftjob-nothing/events")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["error"]["message"]
