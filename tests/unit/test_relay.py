"""The relay's frames, sans I/O: OpenAI-shaped chat chunks, job-event frames, error bodies and statuses.

Frames are read back with httpx-sse (a real SSE parser, not a split on blank lines), so a frame that a
newline broke or that leaks into the next one fails here.
"""

from __future__ import annotations

import httpx
import orjson
import pytest
from httpx_sse import EventSource, ServerSentEvent
from hypothesis import given
from hypothesis import strategies as st

from finetune_sdk import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    AuthenticationError,
    ChatUsage,
    Dataset,
    DatasetValidationError,
    InternalServerError,
    JobEvent,
    NotFoundError,
    RateLimitError,
    StreamInterruptedError,
    UnprocessableEntityError,
)
from finetune_sdk.relay import (
    DONE,
    ChatFrames,
    error_body,
    error_status,
    job_event_frame,
    job_event_frames,
)


def parse(frames: list[bytes]) -> list[ServerSentEvent]:
    response = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=b"".join(frames))
    return list(EventSource(response).iter_sse())


def chat(deltas: list[str], finish: str | None = "stop", usage: ChatUsage | None = None) -> list[bytes]:
    frames = ChatFrames("ft:model", id="chatcmpl-7", created=1700000000)
    return [*(frames.delta(d) for d in deltas), *frames.end(finish, usage)]


def test_deltas_finish_usage_and_done_in_openai_shape() -> None:
    usage = ChatUsage(prompt_tokens=9, completion_tokens=3, total_tokens=12)
    events = parse(chat(["Hel", "lo"], "length", usage))
    assert [e.event for e in events] == ["message"] * 5  # no `event:` names, as OpenAI sends none
    chunks = [orjson.loads(e.data) for e in events[:-1]]
    assert events[-1].data == "[DONE]"
    for chunk in chunks:
        assert chunk["id"] == "chatcmpl-7"
        assert chunk["object"] == "chat.completion.chunk"
        assert chunk["created"] == 1700000000
        assert chunk["model"] == "ft:model"
    assert chunks[0]["choices"] == [
        {"index": 0, "delta": {"role": "assistant", "content": "Hel"}, "finish_reason": None}
    ]
    assert chunks[1] == {  # the frame sent per delta, in full
        "id": "chatcmpl-7",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "ft:model",
        "choices": [{"index": 0, "delta": {"content": "lo"}, "finish_reason": None}],
    }
    assert chunks[2]["choices"] == [{"index": 0, "delta": {}, "finish_reason": "length"}]
    assert chunks[3]["choices"] == []
    assert chunks[3]["usage"] == {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}


def test_no_usage_chunk_when_usage_is_unknown_and_stop_when_no_reason() -> None:
    events = parse(chat(["a"], finish=None))
    assert [e.data for e in events][-1] == "[DONE]"
    assert len(events) == 3
    assert orjson.loads(events[1].data)["choices"][0]["finish_reason"] == "stop"


def test_a_reply_without_text_still_says_the_role() -> None:
    events = parse(chat([]))
    assert orjson.loads(events[0].data)["choices"][0]["delta"] == {"role": "assistant", "content": ""}


def test_default_ids_are_fresh_and_shared_within_one_reply() -> None:
    one, two = ChatFrames("m"), ChatFrames("m")
    first = orjson.loads(parse([one.delta("x")])[0].data)
    again = orjson.loads(parse([one.delta("y")])[0].data)
    other = orjson.loads(parse([two.delta("x")])[0].data)
    assert first["id"].startswith("chatcmpl-") and first["id"] == again["id"] != other["id"]
    assert isinstance(first["created"], int) and first["created"] > 1_600_000_000


HOSTILE = [
    "line\nbreak",
    "\n\n",
    "crlf\r\n\r\nend",
    "lone\rcr",
    "data: [DONE]\n\n",
    "id: 7\nevent: error\n",
    "nul\0byte",
    "\u2028\u2029 separators",
    "中文，标点。",
    "emoji 🧪👩‍👩‍👧",
    '"quotes" and \\backslashes\\',
    " leading space",
]


def test_newlines_and_unicode_survive_the_framing() -> None:
    frames = chat(HOSTILE)
    for frame in frames:  # one data line per frame, whatever the text held
        assert frame.startswith(b"data: ") and frame.endswith(b"\n\n")
        assert frame.count(b"\n") == 2 and b"\r" not in frame
    events = parse(frames)
    got = [orjson.loads(e.data)["choices"][0]["delta"]["content"] for e in events[: len(HOSTILE)]]
    assert got == HOSTILE
    assert "中文" in frames[8].decode()  # UTF-8 as is, not \u escapes


@given(st.lists(st.text(min_size=1), max_size=8))
def test_any_text_comes_back_unchanged(deltas: list[str]) -> None:
    events = parse(chat(deltas))
    assert len(events) == len(deltas) + 2
    got = [orjson.loads(e.data)["choices"][0]["delta"]["content"] for e in events[: len(deltas)]]
    assert got == deltas


def test_error_after_text_is_an_openai_error_frame_then_done() -> None:
    frames = ChatFrames("ft:m", id="chatcmpl-1", created=1)
    exc = StreamInterruptedError(
        "the stream from ft:m broke after 5 characters (2 deltas): RemoteProtocolError; the partial text "
        "is in err.partial_text",
        partial_text="Hello",
        deltas=2,
        model="ft:m",
    )
    events = parse([frames.delta("Hel"), frames.delta("lo"), *frames.error(exc)])
    assert [orjson.loads(e.data)["choices"][0]["delta"]["content"] for e in events[:2]] == ["Hel", "lo"]
    assert orjson.loads(events[2].data) == {
        "error": {
            "message": "the stream from ft:m broke after 5 characters",
            "type": "server_error",
            "param": None,
            "code": "stream_interrupted",
        }
    }
    assert events[2].event == "message"
    assert events[3].data == "[DONE]"
    assert len(events) == 4


def _not_found() -> NotFoundError:
    body = {
        "error": {
            "message": "model: 'ft:x' does not exist",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }
    return NotFoundError(
        "model: 'ft:x' does not exist", status_code=404, code="model_not_found", body=body, request_id="r1"
    )


def test_error_body_keeps_the_platforms_type_param_and_code() -> None:
    assert error_body(_not_found()) == {
        "error": {
            "message": "model: 'ft:x' does not exist",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }
    assert error_status(_not_found()) == 404


IRE = "invalid_request_error"
SE = "server_error"
UNREACHABLE = "the platform could not be reached"
LATE = "the platform did not answer in time"
UNREADABLE = "the platform's answer could not be read"


@pytest.mark.parametrize(
    ("exc", "status", "kind", "code", "message"),
    [
        (UnprocessableEntityError("bad", status_code=422, code="invalid"), 422, IRE, "invalid", "bad"),
        (RateLimitError("slow", status_code=429, code="rate_limit"), 429, IRE, "rate_limit", "slow"),
        (AuthenticationError("key", status_code=401, code="bad_key"), 502, IRE, "bad_key", "key"),
        (InternalServerError("boom", status_code=500), 502, SE, None, "boom"),
        (APITimeoutError("Request timed out."), 504, SE, "timeout", LATE),
        (APIConnectionError("POST http://10.0.0.7/v1 failed"), 502, SE, "connection_error", UNREACHABLE),
        (APIResponseValidationError("not JSON"), 502, SE, "invalid_response", UNREADABLE),
        (APIError("GET http://10.0.0.7/v1 failed"), 502, SE, None, "the request to the platform failed"),
        (ValueError("messages is empty"), 400, IRE, None, "messages is empty"),
        (TypeError("a message is a dict, not int"), 400, IRE, None, "a message is a dict, not int"),
    ],
)
def test_error_status_and_body_for_each_kind(
    exc: APIError | ValueError | TypeError, status: int, kind: str, code: str | None, message: str
) -> None:
    assert error_status(exc) == status
    assert error_body(exc) == {"error": {"message": message, "type": kind, "param": None, "code": code}}


def test_the_platforms_message_not_the_sdks_advice() -> None:
    # The SDK's message adds advice for whoever configured the client; the relay's caller gets the
    # platform's words, without the decorations of str() (status, request id, retry history) either.
    exc = _not_found()
    exc.message += ". Check the model name: the base models are ..."
    exc.attempts = 3
    exc.retry_waits = (0.5, 1.0)
    assert error_body(exc)["error"]["message"] == "model: 'ft:x' does not exist"
    envelope = {"code": 50505, "message": "busy"}
    overloaded = InternalServerError("x", status_code=505, code="50505", body=envelope)
    assert error_body(overloaded)["error"]["message"] == "busy"


def event(**kw: object) -> JobEvent:
    raw = {"id": "ftevent-1", "created_at": 1700000000, "level": "info", "message": "Training started", **kw}
    return JobEvent.model_validate(raw)


def test_job_event_frame_has_id_event_and_json_data() -> None:
    frame = job_event_frame(event(data={"step": 3, "train_loss": 1.25}))
    assert frame.startswith(b"id: ftevent-1\nevent: fine_tuning.job.event\ndata: ")
    (parsed,) = parse([frame])
    assert parsed.id == "ftevent-1"
    assert parsed.event == "fine_tuning.job.event"
    data = orjson.loads(parsed.data)
    assert data["message"] == "Training started"
    assert data["data"]["step"] == 3 and data["data"]["train_loss"] == 1.25
    assert JobEvent.model_validate(data) == event(data={"step": 3, "train_loss": 1.25})


@pytest.mark.parametrize(
    "sent", [{}, {"step": 3, "train_loss": 1.25}, {"step": 1, "custom": {"a": [1, 2]}}, None]
)
def test_job_event_data_is_relayed_with_the_keys_the_server_sent(sent: object) -> None:
    (parsed,) = parse([job_event_frame(event(data=sent))])
    assert orjson.loads(parsed.data)["data"] == sent


def test_job_event_message_with_newlines_stays_one_frame() -> None:
    frames = [
        job_event_frame(event(message="line one\nline two\r\n\nthree")),
        job_event_frame(event(id="e2")),
    ]
    parsed = parse(frames)
    assert [p.id for p in parsed] == ["ftevent-1", "e2"]
    assert orjson.loads(parsed[0].data)["message"] == "line one\nline two\r\n\nthree"


@pytest.mark.parametrize("bad", ["e1\ndata: forged", "e1\r", "e\0"])
def test_an_id_that_sse_cannot_carry_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="SSE id cannot hold a line break"):
        job_event_frame(event(id=bad))


def test_job_event_frames_end_with_done_and_errors_end_without_it() -> None:
    events = parse(list(job_event_frames([event(id="a"), event(id="b")])))
    assert [(e.event, e.id) for e in events[:2]] == [
        ("fine_tuning.job.event", "a"),
        ("fine_tuning.job.event", "b"),
    ]
    assert (events[2].event, events[2].data) == ("done", "[DONE]")

    def failing() -> object:
        yield event(id="a")
        raise APIConnectionError("Connection error.")

    got = parse(list(job_event_frames(failing())))  # type: ignore[arg-type]
    assert [e.event for e in got] == ["fine_tuning.job.event", "relay.error"]
    assert got[1].id == "a"  # an error frame does not move the reader's Last-Event-ID
    assert orjson.loads(got[1].data)["error"]["code"] == "connection_error"


def test_done_is_the_openai_terminator() -> None:
    assert DONE == b"data: [DONE]\n\n"


def test_a_dataset_that_breaks_the_rules_is_a_422_with_its_report() -> None:
    bad = b'{"messages": [{"role": "user", "content": "hi"}]}\n{"messages": 5}\n'
    report = Dataset.validate_file(bad, filename="support.jsonl")
    with pytest.raises(DatasetValidationError) as raised:
        report.raise_for_errors()
    assert error_status(raised.value) == 422
    error = error_body(raised.value)["error"]
    assert error["code"] == "invalid_dataset" and error["param"] == "file"
    assert error["report"]["path"] == "support.jsonl"
    assert [issue["line"] for issue in error["report"]["errors"]] == [1, 2]
    assert "support.jsonl" in error["message"]
