"""Envelope mode: successes and errors in the platform's {code, message, status, data} form."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from finetune_sdk.emulator import Emulator
from tests.emulator.helpers import BASE, FAST, auth, create_job, dataset, upload


@pytest.fixture(scope="module")
def wrapped() -> Iterator[httpx.Client]:
    with (
        Emulator(envelope=True, time_scale=FAST) as emu,
        httpx.Client(base_url=emu.base_url, headers=auth(emu)) as client,
    ):
        yield client


def test_successes_are_wrapped(wrapped: httpx.Client) -> None:
    answer = upload(wrapped, dataset(3))
    assert answer.status_code == 200
    body = answer.json()
    assert body["code"] == 20000
    assert body["message"] == "Ok"
    assert body["status"] is True
    assert body["data"]["object"] == "file"
    job = create_job(wrapped, body["data"]["id"]).json()["data"]
    assert job["object"] == "fine_tuning.job"
    listed = wrapped.get("/fine_tuning/jobs").json()
    assert listed["data"]["data"][0]["id"] == job["id"]
    events = wrapped.get(f"/fine_tuning/jobs/{job['id']}/events").json()
    assert events["status"] is True
    chat = wrapped.post(
        "/chat/completions", json={"model": BASE, "messages": [{"role": "user", "content": "x"}]}
    )
    assert chat.json()["data"]["object"] == "chat.completion"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/files/file-nope", 404),
        ("POST", "/fine_tuning/jobs", 400),
        ("DELETE", "/fine_tuning/jobs", 405),
    ],
)
def test_errors_are_wrapped_with_the_real_http_status(
    wrapped: httpx.Client, method: str, path: str, status: int
) -> None:
    answer = wrapped.request(method, path, json={})
    assert answer.status_code == status
    body = answer.json()
    assert body["code"] == status * 100
    assert body["status"] is False
    assert body["message"]
    assert "error" not in body


def test_auth_errors_are_wrapped(wrapped: httpx.Client) -> None:
    answer = wrapped.get("/files", headers={"Authorization": "Bearer wrong"})
    assert answer.status_code == 401
    assert answer.json()["code"] == 40100


def test_streams_are_never_wrapped(wrapped: httpx.Client) -> None:
    body = {"model": BASE, "messages": [{"role": "user", "content": "x"}], "stream": True}
    with wrapped.stream("POST", "/chat/completions", json=body) as answer:
        lines = [line for line in answer.iter_lines() if line]
    assert json.loads(lines[0].removeprefix("data: "))["object"] == "chat.completion.chunk"
    assert lines[-1] == "data: [DONE]"


def test_envelope_chat_false_keeps_chat_plain() -> None:
    with (
        Emulator(envelope=True, envelope_chat=False) as emu,
        httpx.Client(base_url=emu.base_url, headers=auth(emu)) as client,
    ):
        chat = client.post(
            "/chat/completions", json={"model": BASE, "messages": [{"role": "user", "content": "x"}]}
        )
        assert chat.json()["object"] == "chat.completion"
        assert client.get("/files").json()["code"] == 20000
