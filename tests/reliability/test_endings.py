"""What ends a wait and a follow, and what retries: a job with ``finished_at`` is over whatever its
status says (an unknown status is logged once); every 5xx but 501 and 505 is retried, the server's
``x-should-retry`` is honoured, ``Retry-After: 0`` backs off, and retries are INFO records."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from finetune_sdk import APIStatusError, InternalServerError, JobFailedError

from .conftest import call
from .hostile import Conn, HostileServer, Request, job, json_answer


def scripted(answers: list[bytes]) -> HostileServer:
    """Answers in order, the last one for ever after."""

    def handler(request: Request, conn: Conn) -> bool:
        return conn.send(answers.pop(0) if len(answers) > 1 else answers[0])

    return HostileServer(handler)


def events_page(*messages: str, has_more: bool = False) -> bytes:
    data = [
        {"id": f"ev-{m}", "object": "fine_tuning.job.event", "created_at": 1, "level": "info", "message": m}
        for m in messages
    ]
    return json_answer(200, {"object": "list", "data": data, "has_more": has_more})


def test_a_finished_job_with_an_unknown_status_ends_wait(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="finetune_sdk")
    paused = json_answer(200, job("paused"))
    expired = json_answer(200, job("expired", finished_at=1700000100))
    with scripted([paused, paused, paused, expired]) as server:
        with pytest.raises(JobFailedError) as info:
            call(mode, server.base_url, lambda c: c.jobs.wait("ftjob-1", timeout=10, poll_interval=0.01))
        assert len(server.requests) == 4
    assert "ended with status 'expired'" in str(info.value)
    assert info.value.job.status.value == "expired"
    # each unknown status is logged once, however many polls saw it
    unknown = [r for r in caplog.records if "does not know" in r.getMessage()]
    assert [r.args[1] for r in unknown if isinstance(r.args, tuple)] == ["paused", "expired"]


def test_a_finished_job_with_an_unknown_status_ends_a_follow(mode: str) -> None:
    answers = {
        "events": [events_page("started"), events_page()],
        "job": [json_answer(200, job("expired", finished_at=1700000100))],
    }

    def handler(request: Request, conn: Conn) -> bool:
        queue = answers["events" if request.path.split("?")[0].endswith("/events") else "job"]
        return conn.send(queue.pop(0) if len(queue) > 1 else queue[0])

    with HostileServer(handler) as server:
        events = call(
            mode, server.base_url, lambda c: c.jobs.follow("ftjob-1", poll_interval=0.01)
        )
        assert len(server.requests) < 10
    assert [e.message for e in events] == ["started"]


@pytest.mark.parametrize("status", [500, 502, 503, 504, 507, 520, 529, 599])
def test_every_passing_5xx_is_retried(mode: str, status: int) -> None:
    ok = json_answer(200, job())
    with scripted([json_answer(status, {"error": {"message": "down"}}), ok]) as server:
        found = call(
            mode, server.base_url, lambda c: c.jobs.retrieve("ftjob-1"), max_retries=1, max_retry_wait=0.01
        )
        assert len(server.requests) == 2
    assert found.id == "ftjob-1"


@pytest.mark.parametrize("status", [501, 505])
def test_a_5xx_another_attempt_cannot_change_is_not_retried(mode: str, status: int) -> None:
    with scripted([json_answer(status, {"error": {"message": "no"}})]) as server:
        with pytest.raises(InternalServerError):
            call(mode, server.base_url, lambda c: c.jobs.retrieve("ftjob-1"), max_retries=3)
        assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("status", "header", "attempts"),
    [(503, "false", 1), (400, "true", 3), (409, "TRUE", 3), (500, "maybe", 3)],
)
def test_the_servers_should_retry_header_is_honoured(
    mode: str, status: int, header: str, attempts: int
) -> None:
    answer = json_answer(status, {"error": {"message": "x"}}, x_should_retry=header)
    with scripted([answer]) as server:
        with pytest.raises(APIStatusError) as info:
            call(mode, server.base_url, lambda c: c.files.list(), max_retries=2, max_retry_wait=0.01)
        assert len(server.requests) == attempts
    assert info.value.attempts == attempts


def test_retry_after_zero_backs_off(mode: str) -> None:
    answer = json_answer(503, {"error": {"message": "busy"}}, retry_after=0)
    with scripted([answer]) as server:
        with pytest.raises(InternalServerError) as info:
            call(mode, server.base_url, lambda c: c.files.list(), max_retries=2)
        assert len(server.requests) == 3
    assert len(info.value.retry_waits) == 2
    assert all(wait >= 0.25 for wait in info.value.retry_waits), info.value.retry_waits


def test_a_single_520_does_not_end_wait(mode: str) -> None:
    done_job = job("succeeded", fine_tuned_model="ft:Qwen2.5-7B:x")  # a success names its model
    answers = [json_answer(520, {"error": {"message": "origin error"}}), json_answer(200, done_job)]
    with scripted(answers) as server:
        done = call(mode, server.base_url, lambda c: c.jobs.wait("ftjob-1", timeout=10, poll_interval=0.01))
        assert len(server.requests) == 2
    assert done.status.value == "succeeded"


def test_retries_are_info_records_not_warnings(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="finetune_sdk")
    answers = [json_answer(503, {"error": {"message": "busy"}}), json_answer(200, job())]
    with scripted(answers) as server:
        call(mode, server.base_url, lambda c: c.jobs.retrieve("ftjob-1"), max_retries=1, max_retry_wait=0.01)
    retries: list[Any] = [r for r in caplog.records if "retrying in" in r.getMessage()]
    assert len(retries) == 1
    assert retries[0].levelno == logging.INFO
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
