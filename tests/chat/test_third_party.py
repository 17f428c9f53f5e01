"""Streams from any OpenAI-compatible server: quirks that must work, and failures that must be loud.

Served by a raw local HTTP server (``sse_server.RawServer``) so each quirk is byte-exact. Every test runs
through ``Client`` and through ``AsyncClient`` on asyncio and trio.
"""

from __future__ import annotations

import threading

import anyio
import pytest

from finetune_sdk import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    ChatUsage,
    Client,
    InternalServerError,
    NotFoundError,
    StreamInterruptedError,
)

from .conftest import KEY, run_chat
from .sse_server import RawServer, Reply, Request, chunk, json_reply, sse, standard_stream, usage_chunk

USAGE = ChatUsage(prompt_tokens=7, completion_tokens=3, total_tokens=10)


def serve(*bodies: bytes | Reply) -> RawServer:
    """A server answering each request with the next body (the last one repeats)."""
    replies = [b if isinstance(b, Reply) else Reply(parts=[b]) for b in bodies]

    def respond(request: Request) -> Reply:
        return replies.pop(0) if len(replies) > 1 else replies[0]

    return RawServer(respond)


QUIRKS = {
    "standard": (standard_stream(), "stop", USAGE),
    "crlf line endings": (
        sse(chunk("Hel"), chunk("lo"), chunk(" there", finish="stop"), usage_chunk(), "[DONE]", crlf=True),
        "stop",
        USAGE,
    ),
    "comments and keep-alive lines": (
        b": keep-alive\n\n\n"
        + sse(chunk(role="assistant"))
        + b": ping\n\n"
        + sse(chunk("Hel"), chunk("lo"))
        + b"\n\n: keep-alive\n\n"
        + sse(chunk(" there"), chunk(finish="stop"), "[DONE]"),
        "stop",
        None,
    ),
    "role-only chunk, null content, empty choices": (
        sse(
            chunk(role="assistant"),
            {
                **chunk(),
                "choices": [
                    {"index": 0, "delta": {"role": "assistant", "content": None}, "finish_reason": None}
                ],
            },
            {"id": "x", "object": "chat.completion.chunk", "choices": []},
            chunk("Hel"),
            chunk("lo"),
            chunk(" there"),
            chunk(finish="stop"),
            usage_chunk(),
            "[DONE]",
        ),
        "stop",
        USAGE,
    ),
    "no usage (stream_options not supported)": (standard_stream(usage=False), "stop", None),
    "[DONE] right after the finish chunk": (
        sse(chunk("Hel"), chunk("lo"), chunk(" there", finish="length"), "[DONE]"),
        "length",
        None,
    ),
    "finish reason but no [DONE]": (
        sse(chunk("Hel"), chunk("lo"), chunk(" there"), chunk(finish="stop")),
        "stop",
        None,
    ),
    "[DONE] but no finish reason": (sse(chunk("Hel"), chunk("lo"), chunk(" there"), "[DONE]"), None, None),
    "usage inside the finish chunk": (
        sse(
            chunk("Hel"),
            chunk("lo"),
            chunk(" there"),
            {**chunk(finish="stop"), "usage": usage_chunk()["usage"]},
            "[DONE]",
        ),
        "stop",
        USAGE,
    ),
    "several choices: text of index 0": (
        sse(
            chunk("Hel"),
            chunk("NOPE", index=1),
            {**chunk("lo"), "choices": [chunk("nope", index=1)["choices"][0], chunk("lo")["choices"][0]]},
            chunk(" there"),
            chunk(finish="stop", index=1),
            chunk(finish="stop"),
            "[DONE]",
        ),
        "stop",
        None,
    ),
    "event and id fields": (
        b"id: 1\nevent: message\n"
        + sse(chunk("Hel"))
        + b"id: 2\nretry: 100\n"
        + sse(chunk("lo"), chunk(" there", finish="stop"), "[DONE]"),
        "stop",
        None,
    ),
}


@pytest.mark.parametrize("case", list(QUIRKS))
def test_quirks_give_the_whole_text(mode: str, case: str) -> None:
    body, finish, usage = QUIRKS[case]
    with serve(body) as server:
        out = run_chat(mode, server.base_url)
    assert out.error is None
    assert out.deltas == ["Hel", "lo", " there"]
    assert out.text == "Hello there"
    assert out.finish_reason == finish
    assert out.usage == usage


def test_bytes_split_anywhere_even_inside_a_character(mode: str) -> None:
    body = sse(chunk("你好"), chunk("，世界"), chunk(finish="stop"), "[DONE]", crlf=True)
    pieces = [body[i : i + 3] for i in range(0, len(body), 3)]  # cuts lines, CRLFs and UTF-8 sequences
    with serve(Reply(parts=pieces)) as server:
        out = run_chat(mode, server.base_url)
    assert out.error is None
    assert out.text == "你好，世界"


def test_request_body_asks_for_usage_and_passes_extras(mode: str) -> None:
    with serve(standard_stream()) as server:
        run_chat(
            mode, server.base_url, "hi", system="Be brief", temperature=0.2, top_p=0.9, seed=3, stop=["\n"]
        )
        body = server.requests[0].body
        headers = server.requests[0].headers
    assert body == {
        "model": "m",
        "messages": [{"role": "system", "content": "Be brief"}, {"role": "user", "content": "hi"}],
        "max_tokens": 4096,
        "temperature": 0.2,
        "stream": True,
        "stream_options": {"include_usage": True},
        "top_p": 0.9,
        "seed": 3,
        "stop": ["\n"],
    }
    assert headers["accept"] == "text/event-stream"
    assert headers["authorization"] == f"Bearer {KEY}"


def test_stream_options_none_leaves_it_out(mode: str) -> None:
    with serve(standard_stream(usage=False)) as server:
        out = run_chat(mode, server.base_url, stream_options=None, max_tokens=None)
        body = server.requests[0].body
    assert "stream_options" not in body and "max_tokens" not in body
    assert out.usage is None and out.text == "Hello there"


def test_connection_is_reused_after_done(mode: str) -> None:
    with serve(standard_stream()) as server:
        for _ in range(3):
            assert run_chat(mode, server.base_url).text == "Hello there"
        # One client per run_chat: one connection each. Within a client, reuse is checked below.
        assert server.connections == 3


def test_one_client_reuses_its_connection_for_consecutive_streams() -> None:
    with serve(standard_stream()) as server, Client(api_key=KEY, base_url=server.base_url) as client:
        for _ in range(5):
            assert client.chat("m", "hi").open().read() == "Hello there"
        assert server.connections == 1


# -- failures ----------------------------------------------------------------------------------------


def test_break_midway_raises_with_the_partial_text(mode: str) -> None:
    body = sse(chunk("Hel"), chunk("lo"))
    with serve(Reply(parts=[body], abort=True)) as server:
        out = run_chat(mode, server.base_url, model="Qwen/Qwen2.5-7B-Instruct")
        sent = len(server.requests)
    err = out.error
    assert isinstance(err, StreamInterruptedError) and isinstance(err, APIConnectionError)
    assert err.partial_text == "Hello" == out.text
    assert err.deltas == 2 and err.model == "Qwen/Qwen2.5-7B-Instruct"
    assert "the stream from Qwen/Qwen2.5-7B-Instruct broke after 5 characters (2 deltas)" in str(err)
    assert "err.partial_text" in str(err)
    assert sent == 1  # never retried midway: text already handed out cannot be unsaid


def test_end_without_done_or_finish_is_an_error(mode: str) -> None:
    with serve(sse(chunk("Hel"), chunk("lo"))) as server:
        out = run_chat(mode, server.base_url)
    assert isinstance(out.error, StreamInterruptedError)
    assert "ended without [DONE] or a finish reason" in str(out.error)
    assert out.error.partial_text == "Hello"


@pytest.mark.parametrize(
    ("event", "cls", "status"),
    [
        (
            {"error": {"message": "boom: the model crashed", "type": "server_error", "code": None}},
            InternalServerError,
            500,
        ),
        ({"error": {"message": "boom: context too long", "code": 400}}, APIStatusError, 400),
        ({"code": 50505, "message": "boom: Model service overloaded"}, InternalServerError, 505),
    ],
)
def test_error_event_inside_the_stream(mode: str, event: object, cls: type[Exception], status: int) -> None:
    with serve(sse(chunk("Hel"), event), standard_stream()) as server:
        out = run_chat(mode, server.base_url)
        sent = len(server.requests)
    assert isinstance(out.error, cls) and isinstance(out.error, APIStatusError)
    assert out.error.status_code == status
    assert "boom" in str(out.error) and "after 3 characters" in str(out.error)
    assert out.deltas == ["Hel"]
    assert sent == 1  # after text, never retried


def test_error_event_type_with_plain_text(mode: str) -> None:
    with serve(b"event: error\ndata: upstream went away\n\n") as server:
        out = run_chat(mode, server.base_url)
    assert isinstance(out.error, APIStatusError)
    assert "upstream went away" in str(out.error)


def test_chunk_that_is_not_json(mode: str) -> None:
    with serve(sse(chunk("Hel"), "{not json")) as server:
        out = run_chat(mode, server.base_url)
    assert isinstance(out.error, APIResponseValidationError)
    assert "{not json" in str(out.error)


def test_answer_that_is_not_an_event_stream(mode: str) -> None:
    with serve(Reply(parts=[b"hello"], content_type="text/plain")) as server:
        out = run_chat(mode, server.base_url)
    assert isinstance(out.error, APIResponseValidationError)
    assert "not an event stream" in str(out.error)


@pytest.mark.parametrize(("status", "cls"), [(404, NotFoundError), (401, AuthenticationError)])
def test_error_answers_before_the_stream(mode: str, status: int, cls: type[Exception]) -> None:
    error = {"error": {"message": "nope", "type": "invalid_request_error", "code": "model_not_found"}}
    with serve(json_reply(status, error)) as server:
        out = run_chat(mode, server.base_url)
        sent = len(server.requests)
    assert isinstance(out.error, cls)
    assert sent == 1 and out.deltas == []


@pytest.mark.parametrize(
    "first",
    [
        json_reply(429, {"error": {"message": "slow down"}}, **{"retry-after": "0"}),
        json_reply(503, {"error": {"message": "busy"}}),
        json_reply(200, {"code": 50505, "message": "Model service overloaded"}),
    ],
    ids=["429", "503", "envelope-50505"],
)
def test_failures_before_the_first_delta_are_retried(mode: str, first: Reply) -> None:
    with serve(first, standard_stream()) as server:
        out = run_chat(mode, server.base_url)
        sent = len(server.requests)
    assert out.error is None and out.text == "Hello there"
    assert sent == 2


def test_deltas_arrive_before_the_rest_is_sent(mode: str) -> None:
    """The server holds back the rest of the stream until the client has seen the first delta."""
    gate = threading.Event()
    reply = Reply(parts=[sse(chunk("Hel")), gate, sse(chunk("lo"), chunk(" there", finish="stop"), "[DONE]")])
    with serve(reply) as server:
        if mode == "sync":
            with Client(api_key=KEY, base_url=server.base_url) as client:
                for _ in client.chat("m", "hi"):
                    gate.set()
        else:

            async def main() -> None:
                async with AsyncClient(api_key=KEY, base_url=server.base_url) as client:
                    async for _ in client.chat("m", "hi"):
                        gate.set()

            anyio.run(main, backend=mode)
    assert reply.waited == [True]


# -- a stream that fails before its first text is retried; after it, never ------------------------------

ROLE_ONLY = sse(chunk(role="assistant", content=""))

BEFORE_THE_FIRST_TEXT = {
    "break before any byte": Reply(parts=[], abort=True),
    "break after the role chunk": Reply(parts=[ROLE_ONLY], abort=True),
    "overload envelope event": Reply(
        parts=[ROLE_ONLY + sse({"code": 50505, "message": "Model service overloaded"})]
    ),
    "error event, no status (500)": Reply(
        parts=[sse({"error": {"message": "boom", "type": "server_error"}})]
    ),
    "error event, 429": Reply(parts=[ROLE_ONLY + sse({"error": {"message": "slow down", "code": 429}})]),
    "error event, status 503": Reply(parts=[sse({"error": {"message": "busy", "status": 503}})]),
    "event: error with plain text": Reply(parts=[b"event: error\ndata: upstream went away\n\n"]),
    "end without [DONE], a finish reason or text": Reply(parts=[ROLE_ONLY]),
}


@pytest.mark.parametrize("case", list(BEFORE_THE_FIRST_TEXT))
def test_stream_failing_before_the_first_text_is_retried(mode: str, case: str) -> None:
    with serve(BEFORE_THE_FIRST_TEXT[case], standard_stream()) as server:
        out = run_chat(mode, server.base_url)
        sent = len(server.requests)
    assert out.error is None, out.error
    assert out.deltas == ["Hel", "lo", " there"] and out.text == "Hello there"
    assert out.finish_reason == "stop" and out.usage == USAGE
    assert sent == 2
    assert server.requests[0].headers["idempotency-key"] == server.requests[1].headers["idempotency-key"]


def test_retries_before_the_first_text_run_out(mode: str) -> None:
    with serve(Reply(parts=[ROLE_ONLY], abort=True)) as server:
        out = run_chat(mode, server.base_url, client_kw={"max_retries": 2})
        sent = len(server.requests)
    err = out.error
    assert isinstance(err, StreamInterruptedError)
    assert err.partial_text == "" and err.deltas == 0 and err.attempts == 3
    assert "broke after 0 characters" in str(err) and "after 3 attempts" in str(err)
    assert sent == 3 and out.deltas == []


@pytest.mark.parametrize(
    ("first", "cls"),
    [
        (sse({"error": {"message": "context too long", "code": 400}}), BadRequestError),
        (sse({"choices": ["x"]}), APIResponseValidationError),
        (Reply(parts=[b"hello"], content_type="text/plain"), APIResponseValidationError),
    ],
    ids=["error event 400", "malformed chunk", "not an event stream"],
)
def test_final_failures_before_the_first_text_are_not_retried(
    mode: str, first: bytes | Reply, cls: type[Exception]
) -> None:
    with serve(first, standard_stream()) as server:
        out = run_chat(mode, server.base_url)
        sent = len(server.requests)
    assert isinstance(out.error, cls)
    assert sent == 1 and out.deltas == []


def test_break_right_after_the_first_text_is_not_retried(mode: str) -> None:
    with serve(Reply(parts=[ROLE_ONLY + sse(chunk("Hel"))], abort=True), standard_stream()) as server:
        out = run_chat(mode, server.base_url)
        sent = len(server.requests)
    assert isinstance(out.error, StreamInterruptedError)
    assert out.error.partial_text == "Hel" and out.deltas == ["Hel"]
    assert sent == 1


def test_a_reply_without_text_ends_cleanly_and_frees_the_connection() -> None:
    empty = sse(chunk(role="assistant", content=""), chunk(finish="stop"), usage_chunk(), "[DONE]")
    with serve(empty) as server, Client(api_key=KEY, base_url=server.base_url) as client:
        for _ in range(3):
            stream = client.chat("m", "hi")
            assert list(stream) == [] and stream.text == "" and stream.closed
            assert stream.finish_reason == "stop" and stream.usage == USAGE
        assert server.connections == 1 and len(server.requests) == 3


def test_a_json_answer_to_a_stream_request_is_not_a_stream(mode: str) -> None:
    completion = {"choices": [{"index": 0, "message": {"content": "hi"}, "finish_reason": "stop"}]}
    with serve(json_reply(200, completion)) as server:
        out = run_chat(mode, server.base_url)
    assert isinstance(out.error, APIResponseValidationError)
    assert "not an event stream" in str(out.error) and "application/json" in str(out.error)


def test_an_opened_stream_returns_at_the_first_text_and_replays_it(mode: str) -> None:
    """``open()`` waits for the first delta (retrying a failed start), not for the rest."""
    gate = threading.Event()
    reply = Reply(
        parts=[
            ROLE_ONLY + sse(chunk("Hel")),
            gate,
            sse(chunk("lo"), chunk(" there", finish="stop"), "[DONE]"),
        ]
    )
    with serve(Reply(parts=[ROLE_ONLY], abort=True), reply) as server:
        if mode == "sync":
            with Client(api_key=KEY, base_url=server.base_url, max_retry_wait=0.01) as client:
                stream = client.chat("m", "hi").open()
                assert stream.text == "Hel" and not stream.closed
                gate.set()
                deltas = list(stream)
        else:

            async def main() -> list[str]:
                async with AsyncClient(api_key=KEY, base_url=server.base_url, max_retry_wait=0.01) as client:
                    stream = await client.chat("m", "hi").open()
                    assert stream.text == "Hel" and not stream.closed
                    gate.set()
                    return [d async for d in stream]

            deltas = anyio.run(main, backend=mode)
        sent = len(server.requests)
    assert deltas == ["Hel", "lo", " there"]
    assert reply.waited == [True] and sent == 2


def test_malformed_chunk_midway_is_a_validation_error(mode: str) -> None:
    with serve(sse(chunk("Hel"), {"choices": [{"delta": "x"}]})) as server:
        out = run_chat(mode, server.base_url, model="tuned-model")
    assert isinstance(out.error, APIResponseValidationError)
    assert "the stream from tuned-model sent a malformed chunk" in str(out.error)
    assert "choices[0].delta is a string, not an object" in str(out.error)
    assert out.deltas == ["Hel"]


def test_a_server_refusing_stream_options_is_asked_again_without_it(mode: str) -> None:
    def respond(request: Request) -> Reply:
        if "stream_options" in request.body:
            message = "Unrecognized request argument supplied: stream_options"
            return json_reply(400, {"error": {"message": message, "type": "invalid_request_error"}})
        return Reply(parts=[standard_stream(usage=False)])

    with RawServer(respond) as server:
        out = run_chat(mode, server.base_url)
        bodies = [r.body for r in server.requests]
    assert out.error is None and out.text == "Hello there" and out.usage is None
    assert len(bodies) == 2 and "stream_options" in bodies[0] and "stream_options" not in bodies[1]


def test_other_bad_requests_are_not_sent_again(mode: str) -> None:
    with serve(json_reply(400, {"error": {"message": "messages: too long"}})) as server:
        out = run_chat(mode, server.base_url)
        sent = len(server.requests)
    assert isinstance(out.error, BadRequestError) and sent == 1
