"""Answers are bounded while they are read: a gzip bomb, an endless JSON body or an endless stream line
raises ``ResponseTooLargeError`` at ``max_answer_bytes`` (decoded), with memory that stays flat."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from finetune_sdk import APIResponseValidationError, ResponseTooLargeError

from .conftest import MODEL, call
from .hostile import Conn, HostileServer, Request, gzip_bomb, head

MB = 1 << 20


def bomb_server(inflated: int) -> HostileServer:
    body = gzip_bomb(inflated)

    def handler(request: Request, conn: Conn) -> None:
        conn.send(head(content_length=len(body), content_encoding="gzip", x_request_id="req-bomb") + body)

    return HostileServer(handler)


def test_a_gzip_bomb_stops_at_the_limit(mode: str) -> None:
    with bomb_server(64 * MB) as server, pytest.raises(ResponseTooLargeError) as info:
        call(mode, server.base_url, lambda c: c.jobs.retrieve("ftjob-1"), max_answer_bytes=MB)
    assert info.value.limit == MB
    assert info.value.request_id == "req-bomb" and info.value.status_code == 200
    assert "max_answer_bytes" in str(info.value)


def test_the_default_limit_is_32_mib(mode: str) -> None:
    with bomb_server(40 * MB) as server, pytest.raises(ResponseTooLargeError) as info:
        call(mode, server.base_url, lambda c: c.files.list())
    assert info.value.limit == 32 * MB


def test_an_answer_under_the_limit_is_read(mode: str) -> None:
    # Not JSON (zeros after a prefix), but read whole: the limit did not stop it.
    with bomb_server(2 * MB) as server, pytest.raises(APIResponseValidationError, match="not JSON") as info:
        call(mode, server.base_url, lambda c: c.jobs.retrieve("ftjob-1"), max_answer_bytes=3 * MB)
    assert not isinstance(info.value, ResponseTooLargeError)


@pytest.mark.parametrize("newline", [False, True], ids=["one-line", "many-data-lines"])
def test_an_endless_stream_line_stops_at_the_limit(mode: str, newline: bool) -> None:
    def handler(request: Request, conn: Conn) -> None:
        conn.send(head(content_type="text/event-stream", connection="close"))
        piece = b"data: xxxxxxxx\n" if newline else b"x" * 4096
        if not newline:
            conn.send(b"data: ")
        for _ in range(2 * MB // len(piece)):
            if not conn.send(piece):
                return

    with HostileServer(handler) as server, pytest.raises(ResponseTooLargeError):
        call(mode, server.base_url, lambda c: c.chat(MODEL, "hi").read(), max_answer_bytes=MB)


BOMB_SCRIPT = textwrap.dedent(
    """
    import sys
    from finetune_sdk import Client, ResponseTooLargeError
    from tests.reliability.hostile import HostileServer, head, gzip_bomb

    def peak_mib():  # this process's own peak (ru_maxrss would include the parent's, across exec)
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1]) // 1024

    body = gzip_bomb(int(sys.argv[1]))
    def handler(request, conn):
        conn.send(head(content_length=len(body), content_encoding="gzip") + body)
    with HostileServer(handler) as server, Client(api_key="k", base_url=server.base_url) as client:
        before = peak_mib()
        try:
            client.jobs.retrieve("ftjob-1")
        except ResponseTooLargeError:
            pass
        after = peak_mib()
    print(before, after, len(body) // 1024)
    """
)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak from /proc")
@pytest.mark.timeout(120)
def test_memory_stays_flat_under_a_gzip_bomb() -> None:
    """A 1 GiB gzip bomb (1 MiB on the wire) read with the default 32 MiB limit, in a process of its own
    so that its peak resident memory is its own."""
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", BOMB_SCRIPT, str(1024 * MB)],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=110,
        check=True,
    ).stdout.split()
    before, after, wire = map(int, out)
    print(f"gzip bomb: 1024 MiB inflated, {wire} KiB on the wire; peak RSS {before} MiB -> {after} MiB")
    # The limit (32 MiB) plus a few inflation steps; reading it whole would take over 1 GiB.
    assert after - before < 64, f"peak RSS grew by {after - before} MiB under a 1 GiB bomb"
