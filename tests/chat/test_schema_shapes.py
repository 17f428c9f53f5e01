"""Streamed and whole chat answers in shapes OpenAI's schema allows and the emulator never sends: a
refusal instead of text, tool-call deltas, a finish reason of the wrong kind. Nothing is dropped silently
and nothing of the wrong type is handed on. Each stream runs through ``Client`` and ``AsyncClient`` on
asyncio and trio."""

from __future__ import annotations

from typing import Any

import pytest

from finetune_sdk import (
    APIResponseValidationError,
    BadRequestError,
    ChatUsage,
    Client,
    StreamInterruptedError,
)

from .conftest import KEY, run_chat
from .sse_server import RawServer, Reply, Request, chunk, json_reply, sse


def serve(body: bytes | Reply) -> RawServer:
    reply = body if isinstance(body, Reply) else Reply(parts=[body])

    def respond(request: Request) -> Reply:
        return reply

    return RawServer(respond)


def test_a_streamed_refusal_is_kept_beside_the_empty_text(mode: str) -> None:
    body = sse(
        chunk(role="assistant", content=None, refusal=""),
        chunk(refusal="I can't "),
        chunk(refusal="help with that."),
        chunk(finish="stop"),
        "[DONE]",
    )
    with serve(body) as server:
        outcome = run_chat(mode, server.base_url)
    assert outcome.error is None
    assert (outcome.deltas, outcome.text, outcome.finish_reason) == ([], "", "stop")
    assert outcome.refusal == "I can't help with that."


def test_a_stream_with_text_has_no_refusal(mode: str) -> None:
    body = sse(chunk(role="assistant", refusal=None), chunk("Hi"), chunk(finish="stop"), "[DONE]")
    with serve(body) as server:
        outcome = run_chat(mode, server.base_url)
    assert outcome.error is None
    assert (outcome.text, outcome.refusal) == ("Hi", None)


def test_tool_call_deltas_leave_the_text_empty_and_say_why(mode: str) -> None:
    call = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}}
    body = sse(
        chunk(role="assistant", tool_calls=[call]),
        chunk(tool_calls=[{"index": 0, "function": {"arguments": "{}"}}]),
        chunk(finish="tool_calls"),
        "[DONE]",
    )
    with serve(body) as server:
        outcome = run_chat(mode, server.base_url)
    assert outcome.error is None
    assert (outcome.text, outcome.finish_reason, outcome.refusal) == ("", "tool_calls", None)


WRONG_KINDS: list[tuple[dict[str, Any], str]] = [
    ({"choices": [{"index": 0, "delta": {}, "finish_reason": 5}]}, "finish_reason"),
    (chunk(refusal=["no"]), "refusal"),
]


@pytest.mark.parametrize(
    ("event", "what"),
    WRONG_KINDS,
    ids=["finish_reason a number", "refusal a list"],
)
def test_a_field_of_the_wrong_kind_is_a_malformed_chunk(mode: str, event: object, what: str) -> None:
    with serve(sse(chunk("Hi"), event, "[DONE]")) as server:
        outcome = run_chat(mode, server.base_url)
    assert isinstance(outcome.error, APIResponseValidationError)
    assert "malformed chunk" in str(outcome.error) and what in str(outcome.error)
    assert outcome.finish_reason is None  # the number was not kept as a reason


def _whole(**message: object) -> Reply:
    return json_reply(
        200,
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1700000000.5,  # the schema says integer; some servers send fractions
            "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}],
        },
    )


def test_a_whole_answer_says_its_refusal_and_reads_a_float_timestamp() -> None:
    with (
        serve(_whole(content=None, refusal="No.")) as server,
        Client(api_key=KEY, base_url=server.base_url) as c,
    ):
        reply = c.chat.complete("m", "hi")
    assert (reply.text, reply.refusal, reply.created) == ("", "No.", 1700000000)


@pytest.mark.parametrize("end", [b"\n", b""], ids=["line", "no line end"])
def test_a_bare_json_error_under_an_event_stream_type_says_its_message(mode: str, end: bytes) -> None:
    body = b'{"error": {"message": "model overloaded", "type": "invalid_request_error"}}' + end
    with serve(body) as server:
        outcome = run_chat(mode, server.base_url)
    assert isinstance(outcome.error, BadRequestError)
    assert "model overloaded" in str(outcome.error) and outcome.deltas == []


def test_a_bare_json_line_that_is_no_error_is_still_a_stream_cut_short(mode: str) -> None:
    with serve(b'{"hello": "world"}\n') as server:
        outcome = run_chat(mode, server.base_url)
    assert isinstance(outcome.error, StreamInterruptedError)


def test_usage_on_a_chunk_of_another_choice_is_kept(mode: str) -> None:
    # n=2 (through extra_body): the last chunk carries choice 1's finish and the usage of both.
    last = chunk(finish="stop", index=1) | {
        "usage": {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}
    }
    body = sse(chunk("a", index=0), chunk("b", index=1), chunk(finish="stop", index=0), last, "[DONE]")
    with serve(body) as server:
        outcome = run_chat(mode, server.base_url, extra_body={"n": 2})
    assert outcome.error is None and outcome.text == "a"
    assert outcome.usage is not None and outcome.usage.total_tokens == 9


@pytest.mark.parametrize("count", [1.5, True, "7"], ids=["fraction", "boolean", "string"])
def test_a_usage_count_that_is_no_whole_number_is_a_malformed_chunk(mode: str, count: object) -> None:
    usage: dict[str, Any] = {"choices": [], "usage": {"prompt_tokens": count, "completion_tokens": 2}}
    with serve(sse(chunk("Hi", finish="stop"), usage, "[DONE]")) as server:
        outcome = run_chat(mode, server.base_url)
    assert isinstance(outcome.error, APIResponseValidationError) and "prompt_tokens" in str(outcome.error)
    assert outcome.usage is None  # nothing rounded into place


def test_whole_float_counts_and_a_missing_total_read_as_counts(mode: str) -> None:
    usage: dict[str, Any] = {"choices": [], "usage": {"prompt_tokens": 5.0, "completion_tokens": None}}
    with serve(sse(chunk("Hi", finish="stop"), usage, "[DONE]")) as server:
        outcome = run_chat(mode, server.base_url)
    assert outcome.error is None and outcome.usage == ChatUsage(
        prompt_tokens=5, completion_tokens=0, total_tokens=5
    )
