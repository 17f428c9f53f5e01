"""The client core against a scripted peer: retries, idempotency keys, both answer forms, errors,
logging. Every scenario runs on the sync client and on the async one (asyncio and trio)."""

from __future__ import annotations

import io
import logging
import time

import httpx
import pytest

from finetune_sdk import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    UnprocessableEntityError,
    __version__,
)
from finetune_sdk._core.wire import RequestSpec

from ._mock import KEY, MODES, Script, json_response, run

OK = {"id": "file-1", "object": "file"}
GET = RequestSpec("GET", "files/file-1")
POST = RequestSpec("POST", "fine_tuning/jobs", json={"model": "m"})


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_success_sends_auth_agent_and_decodes(mode: str) -> None:
    script = Script([json_response(200, OK)])
    assert run(mode, script, GET) == OK
    (req,) = script.requests
    assert req.headers["authorization"] == f"Bearer {KEY}"
    assert req.headers["user-agent"].startswith(f"finetune-sdk/{__version__}")
    assert str(req.url) == "https://platform.test/v1/files/file-1"
    assert "idempotency-key" not in req.headers  # only POSTs carry one


@pytest.mark.parametrize("code", [408, 429, 500, 502, 503, 504])
def test_transient_status_is_retried_then_succeeds(mode: str, code: int) -> None:
    script = Script([json_response(code, {"error": {"message": "busy"}}), json_response(200, OK)])
    assert run(mode, script, GET) == OK
    assert len(script.requests) == 2


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (404, NotFoundError),
        (422, UnprocessableEntityError),
    ],
)
def test_final_status_is_raised_at_once(mode: str, code: int, cls: type[Exception]) -> None:
    body = {"error": {"message": "no such thing", "type": "invalid_request_error", "code": "nope"}}
    script = Script([json_response(code, body, {"x-request-id": "req_123"})])
    with pytest.raises(cls) as info:
        run(mode, script, GET)
    assert len(script.requests) == 1
    err = info.value
    assert err.status_code == code  # type: ignore[attr-defined]
    assert err.code == "nope"  # type: ignore[attr-defined]
    assert err.request_id == "req_123"  # type: ignore[attr-defined]
    assert "no such thing" in str(err) and "req_123" in str(err)


def test_retries_exhausted_carry_history(mode: str) -> None:
    script = Script([json_response(503, {"error": {"message": "down"}})])
    with pytest.raises(InternalServerError) as info:
        run(mode, script, GET, max_retries=2)
    assert len(script.requests) == 3
    assert info.value.attempts == 3
    assert len(info.value.retry_waits) == 2
    assert "after 3 attempts" in str(info.value)


def test_max_retries_zero_sends_once(mode: str) -> None:
    script = Script([json_response(503, {})])
    with pytest.raises(InternalServerError):
        run(mode, script, GET, max_retries=0)
    assert len(script.requests) == 1


def test_retry_after_is_honoured_up_to_the_cap_and_a_longer_one_ends_the_call(mode: str) -> None:
    script = Script([json_response(429, {}, {"retry-after": "0.2"}), json_response(200, OK)])
    run(mode, script, GET, max_retry_wait=0.2)
    assert len(script.requests) == 2
    # A server asking for longer than the client waits is not slept on: the error, with its
    # retry_after, is the caller's at once (this would otherwise hold the call for an hour).
    script2 = Script([json_response(429, {}, {"retry-after": "3600"}), json_response(200, OK)])
    started = time.monotonic()
    with pytest.raises(RateLimitError) as info:
        run(mode, script2, GET, max_retry_wait=0.01)
    assert time.monotonic() - started < 1.0
    assert len(script2.requests) == 1 and info.value.retry_after == 3600


def test_rate_limit_error_exposes_retry_after(mode: str) -> None:
    script = Script([json_response(429, {"error": {"message": "slow down"}}, {"retry-after": "0.01"})])
    with pytest.raises(RateLimitError) as info:
        run(mode, script, GET, max_retries=1)
    assert info.value.retry_after == 0.01
    assert info.value.retry_waits == (0.01,)
    # The advice names both ways to allow more retries: the client's and the command line's.
    assert "max_retries=" in str(info.value) and "--max-retries" in str(info.value)


def test_idempotency_key_is_the_same_on_every_retry_and_new_per_call(mode: str) -> None:
    script = Script([json_response(500, {}), json_response(502, {}), json_response(200, OK)])
    run(mode, script, POST)
    keys = {r.headers["idempotency-key"] for r in script.requests}
    assert len(script.requests) == 3 and len(keys) == 1
    again = Script([json_response(200, OK)])
    run(mode, again, POST)
    assert again.requests[0].headers["idempotency-key"] not in keys


def test_caller_chosen_idempotency_key_is_sent(mode: str) -> None:
    script = Script([json_response(200, OK)])
    run(mode, script, RequestSpec("POST", "fine_tuning/jobs", json={}, idempotency_key="mine-1"))
    assert script.requests[0].headers["idempotency-key"] == "mine-1"


def test_connection_errors_are_retried_then_raised(mode: str) -> None:
    script = Script([httpx.ConnectError("refused"), json_response(200, OK)])
    assert run(mode, script, GET) == OK
    script = Script([httpx.RemoteProtocolError("peer closed")])
    with pytest.raises(APIConnectionError) as info:
        run(mode, script, GET, max_retries=1)
    assert info.value.attempts == 2
    assert "RemoteProtocolError" in str(info.value)


def test_timeouts_become_api_timeout_error(mode: str) -> None:
    script = Script([httpx.ReadTimeout("slow")])
    with pytest.raises(APITimeoutError, match="timeout"):
        run(mode, script, GET, max_retries=0)


def test_envelope_success_is_unwrapped(mode: str) -> None:
    script = Script([json_response(200, {"code": 20000, "message": "Ok", "status": True, "data": OK})])
    assert run(mode, script, GET) == OK


def test_envelope_overload_under_200_is_retried(mode: str) -> None:
    overloaded = {"code": 50505, "message": "Model service overloaded, please retry"}
    script = Script([json_response(200, overloaded), json_response(200, OK)])
    assert run(mode, script, GET) == OK
    script = Script([json_response(200, overloaded)])
    with pytest.raises(InternalServerError) as info:
        run(mode, script, GET, max_retries=1)
    assert info.value.code == "50505" and info.value.status_code == 505
    assert "overloaded" in str(info.value)


def test_envelope_client_error_maps_to_its_class(mode: str) -> None:
    script = Script([json_response(200, {"code": 40401, "message": "job not found", "status": False})])
    with pytest.raises(NotFoundError, match="job not found"):
        run(mode, script, GET)
    assert len(script.requests) == 1


def test_plain_and_envelope_errors_decode_alike(mode: str) -> None:
    plain = Script([json_response(404, {"error": {"message": "gone", "code": "file_not_found"}})])
    env = Script([json_response(404, {"code": 40400, "message": "gone", "status": False})])
    with pytest.raises(NotFoundError) as a:
        run(mode, plain, GET)
    with pytest.raises(NotFoundError) as b:
        run(mode, env, GET)
    assert a.value.message == b.value.message


def test_non_json_success_is_a_response_validation_error(mode: str) -> None:
    script = Script([httpx.Response(200, text="<html>proxy</html>")])
    with pytest.raises(APIResponseValidationError, match="not JSON"):
        run(mode, script, GET)


def test_non_json_error_body_still_gives_typed_error(mode: str) -> None:
    script = Script([httpx.Response(502, text="Bad Gateway")])
    with pytest.raises(InternalServerError, match="Bad Gateway"):
        run(mode, script, GET, max_retries=0)


def test_file_body_is_rewound_on_retry(mode: str) -> None:
    data = b'{"messages": []}\n' * 1000
    stream = io.BytesIO(data)

    def files() -> dict[str, object]:
        stream.seek(0)
        return {"file": ("train.jsonl", stream, "application/jsonl")}

    spec = RequestSpec("POST", "files", files=files, data={"purpose": "fine-tune"})
    script = Script([json_response(503, {}), json_response(200, OK)])
    run(mode, script, spec)
    assert len(script.bodies) == 2
    boundaries = [r.headers["content-type"].split("boundary=")[1].encode() for r in script.requests]
    first, second = (b.replace(k, b"") for b, k in zip(script.bodies, boundaries, strict=True))
    assert first == second
    assert data in second


def test_logs_name_the_call_and_never_the_key(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="finetune_sdk")
    script = Script([json_response(503, {"error": {"message": "down"}}), json_response(200, OK)])
    run(mode, script, POST)
    text = caplog.text
    assert "POST /v1/fine_tuning/jobs -> 503 (attempt 1" in text
    assert "-> 200 (attempt 2" in text
    assert "retrying in" in text
    assert KEY not in text


def test_errors_never_contain_the_key(mode: str) -> None:
    script = Script([json_response(401, {"error": {"message": "bad key"}})])
    with pytest.raises(AuthenticationError) as info:
        run(mode, script, GET)
    err = info.value
    assert KEY not in str(err) and KEY not in repr(err) and KEY not in repr(err.body)
    assert "FINETUNE_API_KEY" in str(err)
