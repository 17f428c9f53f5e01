"""A server that echoes the API key back in its answers: the key never reaches an error's message,
``str``, ``repr``, ``args``, ``body``, pickle or traceback, nor a log line. And every ``APIError`` made
from an answer carries its ``status_code`` and ``request_id``."""

from __future__ import annotations

import logging
import pickle
import traceback
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from finetune_sdk import (
    APIError,
    APIResponseValidationError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    StreamInterruptedError,
)

from .conftest import KEY, MODEL, call
from .hostile import Conn, HostileServer, Request, head, json_answer, sse_event, text_chunk

Answer = Callable[[str], bytes]
"""The raw answer, given the Authorization header the client sent."""


def every_rendering(exc: BaseException) -> list[str]:
    """Everything an error shows or carries, as text."""
    shown = [str(exc), repr(exc), repr(exc.args), "".join(traceback.format_exception(exc))]
    shown.append(repr(pickle.dumps(exc)))
    shown.append(repr(pickle.loads(pickle.dumps(exc)).__dict__))
    shown += [repr(value) for key, value in vars(exc).items() if key not in ("request", "response")]
    return shown


def keys_in(exc: BaseException) -> int:
    return sum(text.count(KEY) for text in every_rendering(exc))


def answering(answer: Answer) -> HostileServer:
    def handler(request: Request, conn: Conn) -> bool:
        return conn.send(answer(request.headers.get("authorization", "")))

    return HostileServer(handler)


ECHOES: dict[str, tuple[Answer, type[APIError], Callable[[Any], Any]]] = {
    "401 json": (
        lambda auth: json_answer(
            401,
            {"error": {"message": f"bad key: {auth}", "code": "invalid_api_key", "param": [auth, {auth: 1}]}},
            x_request_id="req-401",
        ),
        AuthenticationError,
        lambda c: c.jobs.retrieve("ftjob-1"),
    ),
    "400 text": (
        lambda auth: (
            head(400, "text/plain", content_length=len(auth), x_request_id="req-400") + auth.encode()
        ),
        BadRequestError,
        lambda c: c.files.list(),
    ),
    "200 not json": (
        lambda auth: (
            head(200, "application/json", content_length=len(auth), x_request_id="req-200") + auth.encode()
        ),
        APIResponseValidationError,
        lambda c: c.jobs.retrieve("ftjob-1"),
    ),
    "200 wrong shape": (
        lambda auth: json_answer(200, {"id": auth, "object": "fine_tuning.job"}, x_request_id="req-200"),
        APIResponseValidationError,
        lambda c: c.jobs.retrieve("ftjob-1"),
    ),
    "stream error event": (
        lambda auth: (
            head(200, "text/event-stream", connection="close", x_request_id="req-sse")
            + sse_event({"error": {"message": f"denied for {auth}", "code": "forbidden", "status": 403}})
        ),
        APIError,
        lambda c: c.chat(MODEL, "hi").read(),
    ),
    "stream bad chunk": (
        lambda auth: (
            head(200, "text/event-stream", connection="close", x_request_id="req-sse")
            + sse_event(f"not json {auth}")
        ),
        APIResponseValidationError,
        lambda c: c.chat(MODEL, "hi").read(),
    ),
}


@pytest.mark.parametrize("case", list(ECHOES))
def test_an_echoed_key_is_in_no_error(mode: str, case: str) -> None:
    answer, kind, action = ECHOES[case]
    with answering(answer) as server, pytest.raises(kind) as info:
        call(mode, server.base_url, action)
    assert keys_in(info.value) == 0, [t for t in every_rendering(info.value) if KEY in t][:1]
    assert "***" in str(info.value) or "***" in repr(getattr(info.value, "body", ""))
    # and it still says what the answer was
    assert info.value.status_code in (200, 400, 401, 403)
    assert info.value.request_id is not None and info.value.request_id.startswith("req-")


def test_an_echoed_key_is_in_no_retry_log_line(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="finetune_sdk")
    answer = lambda auth: json_answer(503, {"error": {"message": f"overloaded, {auth}"}})  # noqa: E731
    with answering(answer) as server, pytest.raises(InternalServerError) as info:
        call(mode, server.base_url, lambda c: c.files.list(), max_retries=2, max_retry_wait=0.01)
    assert info.value.attempts == 3
    assert "retrying in" in caplog.text
    assert KEY not in caplog.text
    assert keys_in(info.value) == 0


def test_a_broken_stream_carries_its_status_and_request_id(mode: str) -> None:
    def handler(request: Request, conn: Conn) -> None:
        conn.send(head(200, "text/event-stream", x_request_id="req-broken", transfer_encoding="chunked"))
        event = sse_event(text_chunk("Hel"))
        conn.send(f"{len(event):x}\r\n".encode() + event + b"\r\n")  # then hang up mid-body

    with HostileServer(handler) as server, pytest.raises(StreamInterruptedError) as info:
        call(mode, server.base_url, lambda c: c.chat(MODEL, "hi").read())
    assert info.value.partial_text == "Hel"
    assert (info.value.status_code, info.value.request_id) == (200, "req-broken")


def test_a_wrong_shape_carries_its_status_and_request_id(mode: str) -> None:
    body = {"id": "ftjob-1"}  # no model, status ...
    answer = json_answer(200, body, x_request_id="req-shape")
    with answering(lambda auth: answer) as server, pytest.raises(APIResponseValidationError) as info:
        call(mode, server.base_url, lambda c: c.jobs.retrieve("ftjob-1"))
    assert (info.value.status_code, info.value.request_id) == (200, "req-shape")
    assert info.value.body == body
    restored = pickle.loads(pickle.dumps(info.value))
    assert (restored.status_code, restored.request_id) == (200, "req-shape")


def test_a_json_answer_to_a_stream_carries_its_request_id(mode: str) -> None:
    payload = orjson.dumps({"id": "chatcmpl-1", "choices": []})
    answer = head(200, "application/json", content_length=len(payload), x_request_id="req-json") + payload
    with answering(lambda auth: answer) as server, pytest.raises(APIResponseValidationError) as info:
        call(mode, server.base_url, lambda c: c.chat(MODEL, "hi").read())
    assert (info.value.status_code, info.value.request_id) == (200, "req-json")


def test_a_completion_without_choices_is_read_and_carries_its_request_id(mode: str) -> None:
    answer = json_answer(200, {"id": "chatcmpl-1", "choices": []}, x_request_id="req-empty")
    with answering(lambda auth: answer) as server:
        completion = call(mode, server.base_url, lambda c: c.chat.complete(MODEL, "hi"))
    assert (completion.has_choices, completion.text, completion.request_id) == (False, "", "req-empty")


@pytest.mark.parametrize(
    "action",
    [lambda c: c.files.list(), lambda c: c.jobs.list(), lambda c: c.jobs.events("ftjob-1")],
    ids=["files.list", "jobs.list", "jobs.events"],
)
def test_a_malformed_page_carries_its_request_id(mode: str, action: Callable[[Any], Any]) -> None:
    answer = json_answer(200, {"object": "list", "data": "nope"}, x_request_id="req-page")
    with answering(lambda auth: answer) as server, pytest.raises(APIResponseValidationError) as info:
        call(mode, server.base_url, action)
    assert (info.value.status_code, info.value.request_id) == (200, "req-page")
