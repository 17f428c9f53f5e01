"""The sans-I/O pieces: messages, request bodies, the stream's decoder (bytes in, deltas out), non-streamed
answers."""

from __future__ import annotations

import subprocess
import sys

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from finetune_sdk import (
    APIResponseValidationError,
    APIStatusError,
    ChatCompletion,
    ChatUsage,
    Conversation,
    Message,
    ResponseTooLargeError,
    StreamInterruptedError,
)
from finetune_sdk.chat.request import chat_body, normalize_messages
from finetune_sdk.chat.state import StreamDecoder


class StreamState(StreamDecoder):
    """The decoder fed one event at a time, as SSE bytes."""

    def feed_event(self, data: str, event: str = "message") -> str | None:
        head = f"event: {event}\n" if event != "message" else ""
        deltas = self.feed(f"{head}data: {data}\n\n".encode())
        assert len(deltas) <= 1
        return deltas[0] if deltas else None


def test_a_string_is_one_user_turn_and_system_prepends() -> None:
    assert normalize_messages("hi") == [{"role": "user", "content": "hi"}]
    assert normalize_messages("hi", "Be brief") == [
        {"role": "system", "content": "Be brief"},
        {"role": "user", "content": "hi"},
    ]


def test_dicts_and_message_objects_mix() -> None:
    got = normalize_messages(
        [{"role": "user", "content": "a", "name": "x"}, Message(role="assistant", content="b")]
    )
    assert got == [{"role": "user", "content": "a", "name": "x"}, {"role": "assistant", "content": "b"}]


def test_a_conversation_is_sent_without_its_final_reply() -> None:
    conv = Conversation(
        messages=[
            Message(role="system", content="S"),
            Message(role="user", content="Q"),
            Message(role="assistant", content="A"),
        ]
    )
    assert normalize_messages(conv) == [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}]
    with pytest.raises(ValueError, match="already start with a system message"):
        normalize_messages(conv, "other")


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        ([], ValueError),
        ([{"content": "no role"}], ValueError),
        ([42], TypeError),
        ({"role": "user", "content": "x"}, TypeError),
    ],
)
def test_bad_messages_are_refused_before_sending(messages: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        normalize_messages(messages)  # type: ignore[arg-type]


def test_body_refuses_keys_the_call_sets() -> None:
    with pytest.raises(TypeError):
        chat_body(
            "m", "hi", system=None, max_tokens=1, temperature=None, stream=True, extra={"stream": False}
        )


def test_non_streamed_body_has_no_stream_options() -> None:
    body = chat_body("m", "hi", system=None, max_tokens=10, temperature=0.0, stream=False, extra={})
    assert body == {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 10,
        "temperature": 0.0,
        "stream": False,
    }


def _chunk(content: str | None, finish: str | None = None) -> str:
    return orjson.dumps(
        {"choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}]}
    ).decode()


@given(st.lists(st.text(min_size=0, max_size=5), max_size=30))
def test_state_joins_exactly_the_non_empty_deltas(pieces: list[str]) -> None:
    state = StreamState("m")
    out = [state.feed_event(_chunk(p)) for p in pieces]
    assert [d for d in out if d is not None] == [p for p in pieces if p]
    assert state.text == "".join(pieces) and state.chars == len(state.text)
    assert state.end_error() is not None  # neither [DONE] nor a finish reason yet
    state.feed_event(_chunk(None, "stop"))
    assert state.end_error() is None and state.finish_reason == "stop"


def test_state_interrupted_error_holds_the_text() -> None:
    state = StreamState("tuned")
    state.feed_event(_chunk("ab"))
    state.feed_event(_chunk("c"))
    err = state.interrupted(ConnectionResetError("reset by peer"))
    assert isinstance(err, StreamInterruptedError)
    assert err.partial_text == "abc" and err.deltas == 2
    assert str(err).startswith(
        "the stream from tuned broke after 3 characters (2 deltas): ConnectionResetError"
    )


def test_state_usage_and_done() -> None:
    state = StreamState("m")
    state.feed_event('{"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2}}')
    assert state.usage == ChatUsage(5, 2, 7)
    assert state.feed_event("[DONE]") is None and state.done and state.end_error() is None
    assert state.feed_event("   ") is None  # a blank data line is a keep-alive


def test_non_json_array_chunk_is_a_validation_error() -> None:
    with pytest.raises(APIResponseValidationError):
        StreamState("m").feed_event("[1, 2]")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ('{"choices": ["x"]}', "choices[0] is a string, not an object"),
        ('{"choices": [{"delta": "x"}]}', "choices[0].delta is a string, not an object"),
        ('{"choices": [{"index": 0, "delta": {"content": 5}}]}', "choices[0].delta.content is a number"),
        ('{"choices": [{"delta": {"content": ["a"]}}]}', "choices[0].delta.content is an array"),
        ('{"choices": 5}', "'choices' is a number, not an array"),
        ('{"choices": {"a": 1}}', "'choices' is an object, not an array"),
        ('{"choices": [], "usage": 5}', "'usage' is a number, not an object"),
        ("[1]", "an array, not a JSON object"),
        ('"x"', "a string, not a JSON object"),
        ("5", "a number, not a JSON object"),
        ("null", "null, not a JSON object"),
        ("{not json", "it is not JSON"),
    ],
)
def test_malformed_chunks_are_validation_errors_naming_the_model(data: str, problem: str) -> None:
    state = StreamState("tuned-model")
    state.feed_event(_chunk("ab"))
    with pytest.raises(APIResponseValidationError) as info:
        state.feed_event(data)
    message = str(info.value)
    assert message.startswith("the stream from tuned-model sent a malformed chunk (")
    assert problem in message and repr(data) in message
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert state.text == "ab" and state.chars == 2  # nothing of the bad chunk was kept


def test_the_whole_stream_is_bounded_however_small_its_events() -> None:
    state = StreamState("m", limit=4096)
    event = f"data: {_chunk('x')}\n\n".encode()
    fits = 4096 // len(event)
    for _ in range(fits):
        state.feed(event)
    assert state.text == "x" * fits
    with pytest.raises(ResponseTooLargeError, match="more than 4096 bytes"):
        state.feed(event)


def test_an_error_event_with_non_object_json_is_an_error_event() -> None:
    with pytest.raises(APIStatusError) as info:
        StreamState("m").feed_event('"upstream overloaded"', "error")
    assert info.value.status_code == 500 and "upstream overloaded" in str(info.value)


def test_a_completion_reads_its_first_choice() -> None:
    payload = {
        "choices": [
            {"index": 1, "message": {"content": "other"}, "finish_reason": "stop"},
            {"index": 0, "message": {"role": "assistant", "content": "hello"}, "finish_reason": "length"},
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    }
    completion = ChatCompletion.model_validate(payload)
    assert (completion.text, completion.finish_reason, completion.usage) == (
        "hello",
        "length",
        ChatUsage(3, 1, 4),
    )
    assert str(completion) == "hello"
    empty_content = ChatCompletion.model_validate({"choices": [{"message": {"content": None}}]})
    assert (empty_content.text, empty_content.finish_reason, empty_content.usage) == ("", None, None)
    no_choice = ChatCompletion.model_validate({"object": "chat.completion", "choices": []})
    assert not no_choice.has_choices and no_choice.choice is None and no_choice.text == ""


def test_importing_the_sdk_does_not_import_openai() -> None:
    code = "import sys, finetune_sdk; assert 'openai' not in sys.modules, 'openai was imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def _event(text: str, end: bytes = b"\n") -> bytes:
    return b"data: " + orjson.dumps({"choices": [{"index": 0, "delta": {"content": text}}]}) + end + end


def test_nothing_after_done_is_read_in_later_pieces_of_the_same_read() -> None:
    state = StreamDecoder("m")
    assert state.feed(_event("Hi") + b"data: [DONE]\n\n") == ["Hi"]
    assert state.feed(_event("AFTER")) == []  # the next slice of the same burst
    assert state.feed(b'data: {"error": {"message": "late"}}\n\n') == []
    assert state.text == "Hi" and state.done and state.end_error() is None


def test_a_byte_order_mark_before_the_first_event_is_ignored() -> None:
    state = StreamDecoder("m")
    assert state.feed(b"\xef\xbb\xbf" + _event("Hello")) == ["Hello"]


def test_a_carriage_return_ends_its_line_at_once() -> None:
    # \r-only: the delta is out as soon as its blank line is in, not one event late.
    state = StreamDecoder("m")
    assert state.feed(_event("one", b"\r")) == ["one"]
    # A \n starting the next chunk is the rest of a \r\n: no extra blank line, no lost event.
    assert state.feed(b"\n" + _event("two", b"\r\n")) == ["two"]
    # Cut between the \r and the \n of the last \r\n: the \r already ends the blank line...
    assert state.feed(_event("three", b"\r\n")[:-1]) == ["three"]
    assert state.feed(b"\n") == []  # ...and its \n is skipped, no second blank line
    assert state.text == "onetwothree"


def test_done_with_white_space_after_it_ends_the_stream() -> None:
    state = StreamDecoder("m")
    state.feed(_event("Hi") + b"data: [DONE] \n\n")
    assert state.done and state.end_error() is None


def test_an_error_event_of_openais_invalid_request_type_is_a_400() -> None:
    error = {"message": "maximum context length", "type": "invalid_request_error", "code": "context_length"}
    with pytest.raises(APIStatusError) as info:
        StreamState("m").feed_event(orjson.dumps({"error": error}).decode())
    assert info.value.status_code == 400 and type(info.value).__name__ == "BadRequestError"


def test_a_chunk_that_is_not_json_says_why() -> None:
    with pytest.raises(APIResponseValidationError, match=r"it is not JSON: .*surrogate"):
        StreamState("m").feed_event('{"choices": [{"delta": {"content": "\\ud83d"}}]}')
