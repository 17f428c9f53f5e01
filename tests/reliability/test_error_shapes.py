"""Error bodies in the shapes servers other than the platform send: the server's own message reaches the
error, whatever the shape, and an error object answered under 200 is said to be one (not reported as a
job missing its fields). Each call runs through ``Client`` and ``AsyncClient`` on asyncio and trio."""

from __future__ import annotations

import pytest

from finetune_sdk import (
    APIResponseValidationError,
    APIStatusError,
    BadRequestError,
    FineTuneError,
    FineTuneJob,
)

from .conftest import call
from .hostile import Conn, HostileServer, Request, job, json_answer


def answering(status: int, body: object) -> HostileServer:
    def handle(request: Request, conn: Conn) -> None:
        conn.send(json_answer(status, body))

    return HostileServer(handle)


def failure(mode: str, status: int, body: object) -> BaseException:
    with answering(status, body) as server, pytest.raises(FineTuneError) as caught:
        call(mode, server.base_url, lambda c: c.jobs.retrieve("ftjob-1"))
    return caught.value


def test_a_gateways_list_of_errors_gives_its_first_message(mode: str) -> None:
    error = failure(
        mode, 400, {"errors": [{"message": "model is required", "code": "missing"}, {"message": "x"}]}
    )
    assert isinstance(error, BadRequestError)
    assert error.code == "missing" and "model is required" in str(error)


@pytest.mark.parametrize(
    "body",
    [
        {"error": {"message": "quota exhausted", "type": "insufficient_quota", "param": None, "code": None}},
        {"error": "quota exhausted"},
        {"errors": [{"message": "quota exhausted"}]},
    ],
    ids=["openai", "string", "list"],
)
def test_an_error_object_under_200_says_the_servers_message(mode: str, body: object) -> None:
    error = failure(mode, 200, body)
    assert isinstance(error, APIResponseValidationError) and not isinstance(error, APIStatusError)
    assert "is an error, not a FineTuneJob" in str(error) and "quota exhausted" in str(error)
    assert "Field required" not in str(error)


def test_a_failed_job_with_its_error_still_reads_as_a_job(mode: str) -> None:
    failed = job("failed", error={"code": "invalid_training_file", "message": "bad row 3", "param": None})
    with answering(200, failed) as server:
        found = call(mode, server.base_url, lambda c: c.jobs.retrieve("ftjob-1"))
    assert isinstance(found, FineTuneJob) and found.error is not None and found.error.message == "bad row 3"
