"""An error answer with an endless body (megabytes of text, a gzip bomb, a chunked flood) is still the
error its status says: a 503 is retried, a 429 is a RateLimitError, a 400 a BadRequestError, and only the
start of the body is read. Each call runs through ``Client`` and ``AsyncClient`` on asyncio and trio."""

from __future__ import annotations

import pytest

from finetune_sdk import BadRequestError, FineTuneError, FineTuneJob, InternalServerError, RateLimitError
from finetune_sdk._transport.attempt import ERROR_BODY_LIMIT

from .conftest import call
from .hostile import Conn, HostileServer, Request, gzip_bomb, head, job, json_answer

PREFIX = b'{"error": {"message": "'
BODIES: dict[str, tuple[bytes, dict[str, str]]] = {
    "gzip bomb": (gzip_bomb(64 << 20, prefix=PREFIX), {"content_encoding": "gzip"}),
    "33 MiB with a length": (PREFIX + b"x" * (33 << 20), {}),
}


def flood(status: int, kind: str) -> tuple[bytes, bytes]:
    body, headers = BODIES[kind]
    return head(status, content_length=len(body), **headers), body


@pytest.mark.parametrize("kind", sorted(BODIES))
@pytest.mark.parametrize(("status", "error"), [(400, BadRequestError), (429, RateLimitError)])
def test_an_error_with_a_huge_body_keeps_its_status(
    mode: str, kind: str, status: int, error: type[FineTuneError]
) -> None:
    start, body = flood(status, kind)

    def handle(request: Request, conn: Conn) -> None:
        if conn.send(start):
            conn.send(body)

    with HostileServer(handle) as server, pytest.raises(error) as caught:
        call(mode, server.base_url, lambda c: c.jobs.retrieve("ftjob-1"))
    assert str(caught.value).startswith(f"Error {status}")
    assert len(str(caught.value)) < 2 * ERROR_BODY_LIMIT  # the body was cut, not read whole


def test_a_503_with_a_gzip_bomb_is_retried(mode: str) -> None:
    start, body = flood(503, "gzip bomb")
    answered: list[int] = []

    def handle(request: Request, conn: Conn) -> None:
        answered.append(1)
        if len(answered) == 1:
            if conn.send(start):
                conn.send(body)
        else:
            conn.send(json_answer(200, job()))

    with HostileServer(handle) as server:
        found = call(
            mode, server.base_url, lambda c: c.jobs.retrieve("ftjob-1"), max_retries=1, max_retry_wait=0.01
        )
    assert isinstance(found, FineTuneJob) and len(answered) == 2


def test_a_stream_refused_with_a_huge_429_is_a_rate_limit(mode: str) -> None:
    start, body = flood(429, "33 MiB with a length")

    def handle(request: Request, conn: Conn) -> None:
        if conn.send(start):
            conn.send(body)

    with HostileServer(handle) as server, pytest.raises(RateLimitError):
        call(mode, server.base_url, lambda c: c.chat("m", "hi"))


def test_an_error_body_under_the_cut_is_read_whole(mode: str) -> None:
    message = "m" * (ERROR_BODY_LIMIT // 2)

    def handle(request: Request, conn: Conn) -> None:
        conn.send(json_answer(500, {"error": {"message": message, "code": "boom"}}))

    with HostileServer(handle) as server, pytest.raises(InternalServerError) as caught:
        call(mode, server.base_url, lambda c: c.jobs.retrieve("ftjob-1"))
    assert caught.value.code == "boom" and message in str(caught.value)
