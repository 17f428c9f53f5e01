"""Bad settings and bad values: a clear typed error, and the key never repeated."""

from __future__ import annotations

import logging
import pickle
import traceback

import httpx
import pytest

from finetune_sdk import (
    APIConnectionError,
    AsyncClient,
    Client,
    ConfigurationError,
    NotFoundError,
    StreamInterruptedError,
    WaitTimeoutError,
)
from finetune_sdk._core.wire import RequestSpec

from ._mock import BASE, KEY, MODES, Script, json_response, run

OK = {"id": "file-1", "object": "file"}


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_key_read_from_a_file_is_stripped(mode: str) -> None:
    script = Script([json_response(200, OK)])
    run(mode, script, RequestSpec("GET", "files/file-1"), api_key=f"  {KEY}\n")
    assert script.requests[0].headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("bad", [f"{KEY}\x00x", f"{KEY}\nmore", f"{KEY}é"])
def test_unsendable_key_is_refused_without_repeating_it(bad: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Client(api_key=bad, base_url=BASE)
    assert KEY not in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"timeout": "30"}, "timeout"),
        ({"timeout": -1}, "timeout"),
        ({"max_retry_wait": float("nan")}, "max_retry_wait"),
        ({"max_retry_wait": "5"}, "max_retry_wait"),
        ({"http_client": httpx.AsyncClient()}, r"http_client must be an httpx\.Client"),
    ],
)
def test_bad_settings_fail_at_construction(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        Client(api_key=KEY, base_url=BASE, **kwargs)  # type: ignore[arg-type]


def test_async_client_wants_an_async_http_client() -> None:
    with pytest.raises(ConfigurationError, match=r"httpx\.AsyncClient"):
        AsyncClient(api_key=KEY, base_url=BASE, http_client=httpx.Client())  # type: ignore[arg-type]


def test_default_headers_of_any_case_are_replaced_not_doubled(mode: str) -> None:
    script = Script([json_response(200, OK)])
    headers = {"user-agent": "mine/1.0", "authorization": "Bearer other", "x-team": "search"}
    run(mode, script, RequestSpec("GET", "files/file-1"), default_headers=headers)
    sent = script.requests[0].headers
    assert sent.get_list("authorization") == [f"Bearer {KEY}"]
    assert len(sent.get_list("user-agent")) == 1 and sent["user-agent"].startswith("finetune-sdk/")
    assert sent["x-team"] == "search"


def test_unserialisable_body_is_a_value_error_and_keeps_the_key_out_of_locals(mode: str) -> None:
    spec = RequestSpec("POST", "fine_tuning/jobs", json={"metadata": {1, 2}})
    with pytest.raises(ValueError, match="JSON") as info:
        run(mode, Script([json_response(200, OK)]), spec)
    frames = traceback.TracebackException.from_exception(info.value, capture_locals=True).stack
    sdk_locals = [frame.locals for frame in frames if "finetune_sdk" in frame.filename]
    assert sdk_locals  # the error came through the SDK's own frames
    assert KEY not in repr(sdk_locals)


def test_a_request_httpx_refuses_to_send_is_not_retried(mode: str) -> None:
    script = Script([httpx.LocalProtocolError(f"Illegal header value b'Bearer {KEY}x'")])
    with pytest.raises(APIConnectionError) as info:
        run(mode, script, RequestSpec("GET", "files/file-1"))
    assert len(script.requests) == 1
    assert KEY not in str(info.value)


def test_errors_survive_pickling() -> None:
    errors: list[Exception] = [
        NotFoundError("gone", status_code=404, code="file_not_found", request_id="req_1"),
        StreamInterruptedError("broke", partial_text="abc", deltas=2, model="m"),
        WaitTimeoutError("late", job=None, job_id="ftjob-1", timeout=5.0),
    ]
    for err in errors:
        err.attempts = 3  # type: ignore[attr-defined]
        copy = pickle.loads(pickle.dumps(err))
        assert type(copy) is type(err) and str(copy) == str(err)
        assert copy.__dict__.keys() >= {"attempts"} or not hasattr(err, "attempts")


def test_retry_warnings_stay_silent_without_logging_configured(
    mode: str, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.getLogger("finetune_sdk").propagate = False  # as if the root logger had no handler
    try:
        run(mode, Script([json_response(503, {}), json_response(200, OK)]), RequestSpec("GET", "files/x"))
    finally:
        logging.getLogger("finetune_sdk").propagate = True
    assert "retrying" not in capsys.readouterr().err
