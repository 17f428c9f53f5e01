"""/v1/chat/completions with plain httpx and with the official openai client, streaming and not."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import openai
import pytest

from finetune_sdk.emulator import Emulator
from tests.emulator.helpers import BASE, MakeClient, example, jsonl, tuned

TRAINING = jsonl(
    [
        example("怎么修改收货地址？", "亲～打开订单，点“修改地址”就好啦！", system="客服"),
        example("多久发货？", "亲～下单后48小时内发货哦！", system="客服"),
        example("可以开发票吗？", "亲～可以的，在订单页申请电子发票哦！", system="客服"),
        example("How do I reset my password?", "Hi! Click 'Forgot password' on the login page :)"),
    ]
)


def chat(client: httpx.Client, model: str, content: str, **extra: Any) -> httpx.Response:
    return client.post(
        "/chat/completions",
        json={"model": model, "messages": [{"role": "user", "content": content}], **extra},
    )


def sse(client: httpx.Client, body: dict[str, Any]) -> list[Any]:
    """The data lines of a streamed answer, decoded (``[DONE]`` kept as a string)."""
    with client.stream("POST", "/chat/completions", json={**body, "stream": True}) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        lines = [line.removeprefix("data: ") for line in answer.iter_lines() if line]
    return [line if line == "[DONE]" else json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def tuned_model(emu: Emulator) -> str:
    with httpx.Client(base_url=emu.base_url, headers={"Authorization": f"Bearer {emu.api_key}"}) as client:
        job = tuned(client, TRAINING, suffix="cs")
    assert job["status"] == "succeeded"
    return str(job["fine_tuned_model"])


def test_base_model_answers_plainly_and_deterministically(client: httpx.Client) -> None:
    first = chat(client, BASE, "怎么修改收货地址？").json()
    assert first["object"] == "chat.completion"
    assert first["id"].startswith("chatcmpl-")
    assert first["model"] == BASE
    choice = first["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert choice["finish_reason"] == "stop"
    assert "怎么修改收货地址" in choice["message"]["content"]
    assert "亲～" not in choice["message"]["content"]  # no tuned style
    again = chat(client, BASE, "怎么修改收货地址？").json()
    assert again["choices"][0]["message"]["content"] == choice["message"]["content"]
    usage = first["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_tuned_model_answers_with_the_nearest_training_reply(client: httpx.Client, tuned_model: str) -> None:
    assert tuned_model.startswith(f"ft:LoRA/{BASE}:emulator-org:cs:")
    reply = chat(client, tuned_model, "请问多久能发货").json()["choices"][0]["message"]["content"]
    assert reply == "亲～下单后48小时内发货哦！"
    english = chat(client, tuned_model, "I forgot my password, how to reset?").json()
    assert english["choices"][0]["message"]["content"].startswith("Hi! Click")


def test_a_long_system_prompt_costs_more_prompt_tokens(client: httpx.Client) -> None:
    def prompt_tokens(system: str) -> int:
        body = {
            "model": BASE,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": "发货？"}],
        }
        return int(client.post("/chat/completions", json=body).json()["usage"]["prompt_tokens"])

    assert prompt_tokens("你是客服。" * 100) > prompt_tokens("你是客服。") + 400


def test_max_tokens_truncates_with_finish_reason_length(client: httpx.Client) -> None:
    answer = chat(client, BASE, "hello", max_tokens=3).json()
    assert answer["choices"][0]["finish_reason"] == "length"
    assert answer["usage"]["completion_tokens"] <= 3
    chunks = sse(client, {"model": BASE, "messages": [{"role": "user", "content": "hello"}], "max_tokens": 3})
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"


def test_stream_shapes_with_usage(client: httpx.Client, tuned_model: str) -> None:
    body = {
        "model": tuned_model,
        "messages": [{"role": "user", "content": "怎么改地址"}],
        "stream_options": {"include_usage": True},
    }
    events = sse(client, body)
    assert events[-1] == "[DONE]"
    first, *deltas, finish, usage, _ = events
    assert first["object"] == "chat.completion.chunk"
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert all(0 < len(d["choices"][0]["delta"]["content"]) <= 4 for d in deltas)
    assert (
        "".join(d["choices"][0]["delta"]["content"] for d in deltas) == "亲～打开订单，点“修改地址”就好啦！"
    )
    assert finish["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}
    assert usage["choices"] == []
    assert usage["usage"]["completion_tokens"] > 0
    assert len({e["id"] for e in events[:-1]}) == 1
    without_usage = sse(client, {**body, "stream_options": None})
    assert without_usage[-2]["choices"][0]["finish_reason"] == "stop"


def test_tuned_model_is_404_until_its_job_succeeds(make_client: MakeClient) -> None:
    with Emulator(time_scale=1) as slow:
        client = make_client(slow)
        file_id = client.post(
            "/files", files={"file": ("t.jsonl", TRAINING)}, data={"purpose": "fine-tune"}
        ).json()["id"]
        job = client.post("/fine_tuning/jobs", json={"model": BASE, "training_file": file_id}).json()
        name = f"ft:LoRA/{BASE}:emulator-org:ft:{job['id']}"
        answer = chat(client, name, "hi")
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "model_not_found"


def test_unknown_model_and_bad_bodies(client: httpx.Client) -> None:
    unknown = chat(client, "gpt-nope", "hi")
    assert unknown.status_code == 404
    assert unknown.json()["error"] == {
        "message": unknown.json()["error"]["message"],
        "type": "not_found_error",
        "code": "model_not_found",
        "param": "model",
    }
    for body, field in [
        ({"model": BASE, "messages": []}, "messages"),
        ({"model": BASE}, "messages"),
        ({"messages": [{"role": "user", "content": "x"}]}, "model"),
        ({"model": BASE, "messages": [{"role": "robot", "content": "x"}]}, "messages.0.role"),
        ({"model": BASE, "messages": [{"role": "user", "content": "x"}], "max_tokens": 0}, "max_tokens"),
    ]:
        answer = client.post("/chat/completions", json=body)
        assert answer.status_code == 400, body
        assert answer.json()["error"]["param"] == field
        assert field in answer.json()["error"]["message"]


def test_deltas_arrive_incrementally(make_client: MakeClient) -> None:
    with Emulator(chunk_delay=0.01) as paced:
        client = make_client(paced)
        body = {"model": BASE, "messages": [{"role": "user", "content": "hello"}], "stream": True}
        arrivals: list[float] = []
        with client.stream("POST", "/chat/completions", json=body) as answer:
            for line in answer.iter_lines():
                if line.startswith("data: {"):
                    arrivals.append(time.perf_counter())
        assert len(arrivals) > 10
        assert arrivals[-1] - arrivals[1] > 0.05  # the first delta came well before the last


def test_base_reply_chars_makes_long_streams(make_client: MakeClient) -> None:
    with Emulator(base_reply_chars=1000) as bench:
        events = sse(make_client(bench), {"model": BASE, "messages": [{"role": "user", "content": "x"}]})
        assert len(events) >= 200


def test_the_openai_client_chats_streaming_and_not(emu: Emulator, tuned_model: str) -> None:
    with openai.OpenAI(base_url=emu.base_url, api_key=emu.api_key, max_retries=0) as client:
        answer = client.chat.completions.create(
            model=tuned_model, messages=[{"role": "user", "content": "能开发票吗"}]
        )
        assert answer.choices[0].message.content == "亲～可以的，在订单页申请电子发票哦！"
        assert answer.usage is not None
        stream = client.chat.completions.create(
            model=BASE,
            messages=[{"role": "user", "content": "hello"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        pieces = list(stream)
        text = "".join(c.choices[0].delta.content or "" for c in pieces if c.choices)
        assert text == chat_text(emu, BASE, "hello")
        assert pieces[-1].usage is not None
        with pytest.raises(openai.NotFoundError):
            client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])
    with (
        openai.OpenAI(base_url=emu.base_url, api_key="wrong", max_retries=0) as bad,
        pytest.raises(openai.AuthenticationError),
    ):
        bad.chat.completions.create(model=BASE, messages=[{"role": "user", "content": "x"}])


def chat_text(emu: Emulator, model: str, content: str) -> str:
    with httpx.Client(base_url=emu.base_url, headers={"Authorization": f"Bearer {emu.api_key}"}) as client:
        return str(chat(client, model, content).json()["choices"][0]["message"]["content"])


def test_the_async_openai_client_streams(emu: Emulator) -> None:
    import asyncio

    async def run() -> str:
        async with openai.AsyncOpenAI(base_url=emu.base_url, api_key=emu.api_key) as client:
            stream = await client.chat.completions.create(
                model=BASE, messages=[{"role": "user", "content": "hi"}], stream=True
            )
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    assert asyncio.run(run()) == chat_text(emu, BASE, "hi")
