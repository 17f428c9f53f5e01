"""Only a 2xx answer is a success: a job body under HTTP 600, 999 or a 3xx (the SDK follows no redirect)
is an ``APIStatusError`` carrying the status (``InternalServerError`` from 500 up, as openai's client
has it), raised after one attempt (none of these is worth another)."""

from __future__ import annotations

import pytest

from finetune_sdk import APIStatusError

from .conftest import MODEL, call
from .hostile import Conn, HostileServer, Request, job, json_answer

STATUSES = [300, 301, 302, 307, 399, 600, 601, 999]


def answering(status: int) -> HostileServer:
    def handler(request: Request, conn: Conn) -> bool:
        headers = {"location": "http://127.0.0.1:9/elsewhere"} if 300 <= status < 400 else {}
        return conn.send(json_answer(status, job(), **headers))

    return HostileServer(handler)


@pytest.mark.parametrize("status", STATUSES)
def test_a_job_under_a_status_outside_2xx_is_an_error(mode: str, status: int) -> None:
    with answering(status) as server, pytest.raises(APIStatusError) as info:
        call(mode, server.base_url, lambda c: c.jobs.retrieve("ftjob-1"), max_retries=2)
    assert info.value.status_code == status
    assert len(server.requests) == 1  # not retried, and no redirect followed


@pytest.mark.parametrize("status", [302, 600])
def test_a_chat_stream_under_a_status_outside_2xx_is_an_error(mode: str, status: int) -> None:
    with answering(status) as server, pytest.raises(APIStatusError) as info:
        call(mode, server.base_url, lambda c: c.chat(MODEL, "hi").read())
    assert info.value.status_code == status


@pytest.mark.parametrize("status", [200, 201, 203, 299])
def test_every_2xx_is_a_success(mode: str, status: int) -> None:
    with answering(status) as server:
        found = call(mode, server.base_url, lambda c: c.jobs.retrieve("ftjob-1"))
    assert found.id == "ftjob-1"
