"""A server that drips its answer (headers, body or keep-alive comments) one byte at a time cannot hold a
call: every attempt ends by its deadline, an idle stream by its idle limit, a ``wait`` by its timeout.

Each drip would last ``MAX_DRIP`` (8 s) if the client let it; the client's limits here are 0.5 s, so a
call that ends within about a second shows the limit held. The figures are printed (``pytest -s``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from finetune_sdk import APITimeoutError, StreamInterruptedError, WaitTimeoutError

from .conftest import MODEL, call, timed
from .hostile import MAX_DRIP, Conn, HostileServer, Request, head, job, sse_event, text_chunk

LIMIT = 0.5
#: Time allowed beyond a limit: scheduling on a loaded machine, the last read's own slice.
SLACK = 1.0


def keep_alives() -> Iterator[bytes]:
    while True:
        yield b": keep-alive\n\n"


def drip_headers(request: Request, conn: Conn) -> None:
    conn.drip(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-padding: " + b"a" * 10_000)


def drip_body(request: Request, conn: Conn) -> None:
    body = b'{"id": "ftjob-1", "padding": "' + b"a" * 10_000 + b'"}'
    conn.send(head(content_length=len(body)))
    conn.drip(body)


def sse_keep_alive_only(request: Request, conn: Conn) -> None:
    conn.send(head(content_type="text/event-stream", connection="close"))
    conn.drip(keep_alives())


def sse_text_then_keep_alive(request: Request, conn: Conn) -> None:
    conn.send(head(content_type="text/event-stream", connection="close"))
    conn.send(sse_event(text_chunk("Hel")))
    conn.drip(keep_alives())


@pytest.mark.parametrize(
    ("handler", "action"),
    [
        (drip_headers, lambda c: c.jobs.retrieve("ftjob-1")),
        (drip_body, lambda c: c.jobs.retrieve("ftjob-1")),
        (drip_body, lambda c: c.files.list()),
        (sse_keep_alive_only, lambda c: c.chat(MODEL, "hi").read()),
    ],
    ids=["headers", "body", "list-body", "sse-keep-alive"],
)
def test_a_dripping_server_cannot_hold_an_attempt_past_its_deadline(
    mode: str, handler: Any, action: Any
) -> None:
    with HostileServer(handler) as server:
        took, raised = timed(lambda: call(mode, server.base_url, action, timeout=LIMIT))
    assert isinstance(raised, APITimeoutError), raised
    assert "deadline" in str(raised)
    assert took < LIMIT + SLACK, f"{handler.__name__}: {took:.2f}s against a {LIMIT}s timeout"
    print(f"{mode} {handler.__name__}: ended after {took:.2f}s (timeout {LIMIT}s, drip {MAX_DRIP}s)")


@pytest.mark.parametrize(
    ("handler", "action"),
    [
        (drip_body, lambda c: c.jobs.retrieve("ftjob-1", timeout=LIMIT)),
        (drip_body, lambda c: c.files.list(timeout=LIMIT)),
        (sse_keep_alive_only, lambda c: c.chat(MODEL, "hi", timeout=LIMIT).read()),
    ],
    ids=["retrieve", "list", "chat"],
)
def test_a_per_call_timeout_bounds_that_attempt_as_a_whole(mode: str, handler: Any, action: Any) -> None:
    """The client allows 30 s; the call's own ``timeout=`` is the deadline of its attempts."""
    with HostileServer(handler) as server:
        took, raised = timed(lambda: call(mode, server.base_url, action, timeout=30))
    assert isinstance(raised, APITimeoutError), raised
    assert "deadline" in str(raised)
    assert took < LIMIT + SLACK, f"{handler.__name__}: {took:.2f}s against a per-call {LIMIT}s timeout"


def test_an_idle_stream_ends_after_idle_timeout_with_its_partial_text(mode: str) -> None:
    with HostileServer(sse_text_then_keep_alive) as server:
        took, raised = timed(
            lambda: call(
                mode, server.base_url, lambda c: c.chat(MODEL, "hi").read(), timeout=5, idle_timeout=LIMIT
            )
        )
    assert isinstance(raised, StreamInterruptedError), raised
    assert raised.partial_text == "Hel"
    assert "idle_timeout" in str(raised)
    assert took < LIMIT + SLACK, f"idle stream held {took:.2f}s against idle_timeout={LIMIT}"
    print(f"{mode} idle stream: ended after {took:.2f}s (idle_timeout {LIMIT}s)")


def test_a_long_lively_stream_is_not_cut_by_the_deadline(mode: str) -> None:
    """The deadline covers a stream up to its first text; after that only idleness ends it."""
    words = [f"w{i} " for i in range(12)]

    def lively(request: Request, conn: Conn) -> None:
        conn.send(head(content_type="text/event-stream", connection="close"))
        pieces = [sse_event(text_chunk(w)) for w in words]
        pieces += [sse_event(text_chunk(finish="stop")), sse_event("[DONE]")]
        conn.drip(pieces, every=0.15)  # 2.1 s in all, far past the 1 s deadline

    with HostileServer(lively) as server:
        text = call(
            mode, server.base_url, lambda c: c.chat(MODEL, "hi").read(), deadline=1.0, idle_timeout=1.0
        )
    assert text == "".join(words)


def test_wait_ends_within_its_timeout_whatever_the_server_does(mode: str) -> None:
    wait_for = 1.0
    with HostileServer(drip_body) as server:
        took, raised = timed(
            lambda: call(
                mode,
                server.base_url,
                lambda c: c.jobs.wait("ftjob-1", timeout=wait_for, poll_interval=0.1),
                timeout=5,
                max_retries=2,
            )
        )
    assert isinstance(raised, WaitTimeoutError), raised
    assert took < wait_for + SLACK, f"wait(timeout={wait_for}) took {took:.2f}s"
    print(f"{mode} wait on a drip: ended after {took:.2f}s (wait timeout {wait_for}s)")


def test_a_slow_but_steady_answer_within_the_deadline_is_read(mode: str) -> None:
    body = orjson.dumps(job())

    def steady(request: Request, conn: Conn) -> None:
        conn.send(head(content_length=len(body)))
        conn.drip([body[:20], body[20:]], every=0.1)

    with HostileServer(steady) as server:
        found = call(mode, server.base_url, lambda c: c.jobs.retrieve("ftjob-1"), timeout=2)
    assert found.id == "ftjob-1"


def test_a_callers_own_sync_http_client_keeps_the_deadline_between_chunks_and_is_left_as_it_is() -> None:
    """A caller's own ``http_client`` is used as it is (its transport untouched); the deadline then holds
    between the chunks of an answer, which is what the public API allows (docs/requests.md)."""

    def slow_but_fine(request: Request, conn: Conn) -> None:
        body = orjson.dumps(job())
        conn.send(head(content_length=len(body)))
        conn.drip([body[:10], body[10:]], every=0.7)

    with HostileServer(drip_body) as server, HostileServer(slow_but_fine) as fine, httpx.Client() as http:
        took, raised = timed(
            lambda: call(
                "sync", server.base_url, lambda c: c.jobs.retrieve("ftjob-1"), timeout=LIMIT, http_client=http
            )
        )
        # Outside the SDK's calls the caller's client is as it was: no deadline of ours on its reads.
        assert http.get(f"{fine.base_url}/x", timeout=2).json()["id"] == "ftjob-1"
    assert isinstance(raised, APITimeoutError), raised
    assert took < LIMIT + SLACK
