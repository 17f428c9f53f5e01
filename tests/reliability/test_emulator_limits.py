"""The emulator as a shared test server: bounded memory, a free event loop, clear refusals.

Each test is bounded in time and in count: a few connections, bodies generated as they are sent.
"""

from __future__ import annotations

import select
import socket
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from finetune_sdk.emulator import Emulator
from tests.emulator.helpers import dataset, exports_of, stop

ROOT = Path(__file__).resolve().parents[2]
MODEL = "Qwen/Qwen2.5-7B-Instruct"
MIB = 1024 * 1024

SEND_PROMPT = textwrap.dedent(
    """
    import sys, time, httpx
    url, key, size, model = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].encode()
    def body():
        yield b'{"model": "' + model + b'", "messages": [{"role": "user", "content": "'
        piece = b"a b c " * 10000
        for _ in range(size // len(piece)):
            yield piece
        yield b'"}]}'
    started = time.perf_counter()
    answer = httpx.post(url + "/chat/completions", content=body(), timeout=120,
                        headers={"Authorization": "Bearer " + key, "content-type": "application/json"})
    print(answer.status_code, round(time.perf_counter() - started, 3))
    """
)


def _poll_health(url: str, stopped: threading.Event, latencies: list[float]) -> None:
    with httpx.Client(timeout=10) as client:
        while not stopped.is_set():
            started = time.perf_counter()
            assert client.get(f"{url}/health").text == "ok"
            latencies.append(time.perf_counter() - started)
            stopped.wait(0.005)


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("size", "status"), [(7 * MIB + MIB // 2, 200), (40 * MIB, 413)])
def test_health_answers_at_once_while_a_large_prompt_is_digested(size: int, status: int) -> None:
    """A prompt just under the 8 MiB body cap is parsed and answered in a worker thread; a 40 MiB one is
    refused with a 413. The prompt is sent by another process (as on a shared server), while this one
    asks ``/health`` every 5 ms."""
    with Emulator() as emu:
        latencies: list[float] = []
        stopped = threading.Event()
        poller = threading.Thread(target=_poll_health, args=(emu.url, stopped, latencies))
        poller.start()
        try:
            sent = subprocess.run(
                [sys.executable, "-c", SEND_PROMPT, emu.base_url, emu.api_key, str(size), MODEL],
                capture_output=True, text=True, timeout=100, check=True,
            )  # fmt: skip
        finally:
            stopped.set()
            poller.join(10)
    answered, seconds = sent.stdout.split()
    assert int(answered) == status
    worst, median = max(latencies), statistics.median(latencies)
    print(
        f"\n/health while a {size / MIB:.1f} MiB prompt is digested ({seconds} s, {answered}): "
        f"{len(latencies)} answers, median {median * 1000:.1f} ms, worst {worst * 1000:.1f} ms"
    )
    assert len(latencies) >= 5
    # The issue asks for under 50 ms; the bound here is generous for a loaded, shared machine (before
    # the fix a 40 MB prompt held the loop for 7.7 s).
    assert worst < 0.5, f"/health took {worst * 1000:.0f} ms"


def test_a_body_over_the_cap_is_a_413_with_or_without_its_length() -> None:
    with Emulator(max_request_bytes=1000) as emu:
        headers = {"Authorization": f"Bearer {emu.api_key}", "content-type": "application/json"}
        big = b'{"model": "m", "messages": [{"role": "user", "content": "' + b"x" * 2000 + b'"}]}'
        with httpx.Client(base_url=emu.base_url, headers=headers) as client:
            for content in (big, iter([big[:600], big[600:]])):  # Content-Length, then chunked
                answer = client.post("/chat/completions", content=content)
                assert answer.status_code == 413
                assert answer.json()["error"]["code"] == "request_too_large"
                assert "1000 bytes" in answer.json()["error"]["message"]
            job = client.post("/fine_tuning/jobs", content=big)
            assert job.status_code == 413
            assert (
                client.post("/chat/completions", json={"model": MODEL, "messages": "hi"}).status_code == 400
            )


def _peak_mib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) // 1024


def _small_fields(total: int) -> Iterator[bytes]:
    piece = b"".join(
        b'--B\r\nContent-Disposition: form-data; name="f%d"\r\n\r\n%s\r\n' % (i, b"v" * 64)
        for i in range(500)
    )
    for _ in range(total // len(piece)):
        yield piece
    yield b"--B--\r\n"


@pytest.fixture
def emulator_process() -> Iterator[tuple[subprocess.Popen[str], str, str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "finetune_sdk.emulator", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        base_url, key = exports_of(process.stdout)
        yield process, base_url, key
    finally:
        stop(process)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak memory from /proc")
@pytest.mark.timeout(120)
def test_400_mib_of_small_form_fields_do_not_grow_memory(
    emulator_process: tuple[subprocess.Popen[str], str, str],
) -> None:
    """Before, 400 MiB of small fields took the emulator from 43 to 417 MB; now the 17th part is refused
    and the rest of the body is read and dropped (so the client gets its answer)."""
    process, base_url, key = emulator_process
    headers = {"Authorization": f"Bearer {key}", "content-type": "multipart/form-data; boundary=B"}
    before = _peak_mib(process.pid)
    started = time.monotonic()
    with httpx.Client(base_url=base_url, headers=headers, timeout=100) as client:
        answer = client.post("/files", content=_small_fields(400 * MIB))
        assert answer.status_code == 400
        assert "more than 16 form parts" in answer.json()["error"]["message"]
        big_field = (
            b'--B\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n' + b"x" * MIB + b"\r\n--B--\r\n"
        )
        answer = client.post("/files", content=big_field)
        assert answer.status_code == 413 and "purpose" in answer.json()["error"]["message"]
        assert client.get("/files").json()["data"] == []
    after = _peak_mib(process.pid)
    print(f"\n400 MiB of form fields in {time.monotonic() - started:.1f} s: peak RSS {before} -> {after} MiB")
    assert after - before < 32


@pytest.mark.parametrize(
    ("filename", "reason"),
    [
        ("a\x00b.jsonl", "control character (U+0000)"),  # httpx sends it as a%00b.jsonl
        ("line\nbreak.jsonl", "control character (U+000A)"),
        ("x" * 400 + ".jsonl", "406 bytes long"),
        ("é" * 130 + ".jsonl", "266 bytes long"),
        ("   ", "is empty"),
        ("..", "'..'"),
    ],
)
def test_a_bad_file_name_is_a_400_with_the_reason(filename: str, reason: str) -> None:
    with (
        Emulator() as emu,
        httpx.Client(base_url=emu.base_url, headers={"Authorization": f"Bearer {emu.api_key}"}) as client,
    ):
        answer = client.post("/files", files={"file": (filename, dataset(2))}, data={"purpose": "fine-tune"})
        assert answer.status_code == 400, answer.text
        error = answer.json()["error"]
        assert error["param"] == "file" and error["code"] == "invalid_file_name"
        assert reason in error["message"]
        assert emu.state.counts()["files"] == 0 and not any(emu.state.root.iterdir())


def _raw(emu: Emulator, head: bytes, body: bytes, *, close_early: bool = False) -> bytes:
    """Send a request over a raw socket; the answer's bytes (b"" if the connection just closed)."""
    with socket.create_connection((emu.host, emu.port), timeout=10) as sock:
        sock.sendall(head + body)
        if close_early:
            return b""
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks) and b'"}' in chunk:
                return b"".join(chunks)


def _upload_head(emu: Emulator, length: int) -> bytes:
    return (
        b"POST /v1/files HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Authorization: Bearer " + emu.api_key.encode() + b"\r\n"
        b"Content-Type: multipart/form-data; boundary=B\r\nContent-Length: %d\r\n\r\n" % length
    )


def _upload_body(filename: bytes, content: bytes, *, closed: bool = True) -> bytes:
    body = (
        b'--B\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n'
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n\r\n'
        + content + b"\r\n"
    )  # fmt: skip
    return body + (b"--B--\r\n" if closed else b"")


def test_a_file_name_that_is_not_utf8_or_holds_a_raw_nul_is_a_400_never_a_500() -> None:
    with Emulator() as emu:
        for name, reason in ((b"caf\xe9.jsonl", b"is not UTF-8"), (b"a\x00b.jsonl", b"U+0000")):
            body = _upload_body(name, dataset(2))
            answer = _raw(emu, _upload_head(emu, len(body)), body)
            assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
            assert reason in answer
        assert emu.state.counts()["files"] == 0


def test_a_multipart_body_without_its_closing_boundary_is_refused_not_stored() -> None:
    with Emulator() as emu:
        body = _upload_body(b"train.jsonl", dataset(20), closed=False)
        answer = _raw(emu, _upload_head(emu, len(body)), body)
        assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
        assert b"before its closing boundary" in answer
        whole = _upload_body(b"train.jsonl", dataset(20))
        _raw(emu, _upload_head(emu, len(whole)), whole[: len(whole) // 2], close_early=True)  # cut off
        deadline = time.monotonic() + 5
        while any(emu.state.root.iterdir()):  # the cut upload's folder is removed once the server sees it
            assert time.monotonic() < deadline, list(emu.state.root.iterdir())
            time.sleep(0.02)
        assert emu.state.counts()["files"] == 0
        ok = _raw(emu, _upload_head(emu, len(whole)), whole)
        assert ok.startswith(b"HTTP/1.1 200") and emu.state.counts()["files"] == 1


def _closed_within(sockets: list[socket.socket], seconds: float, drip: bytes = b"") -> float:
    """Keep dripping ``drip`` into every socket until the server closes them all; how long that took."""
    started = time.monotonic()
    open_ = list(sockets)
    while open_ and time.monotonic() - started < seconds:
        readable, _, _ = select.select(open_, [], [], 0.1)
        for sock in readable:
            try:
                closed = sock.recv(1024) == b""
            except ConnectionError:
                closed = True
            if closed:
                open_.remove(sock)
        for sock in open_:
            if drip:
                try:
                    sock.send(drip)
                except OSError:
                    open_.remove(sock)
    assert not open_, f"{len(open_)} of {len(sockets)} slow connections still open after {seconds} s"
    return time.monotonic() - started


@pytest.mark.timeout(60)
def test_slowloris_connections_are_closed_after_the_header_timeout() -> None:
    with Emulator(header_timeout=0.5) as emu:
        slow = []
        for i in range(50):
            sock = socket.create_connection((emu.host, emu.port), timeout=5)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n" if i % 2 else b"")  # half never speak
            slow.append(sock)
        took = _closed_within(slow, 5.0, drip=b"X-A: b\r\n")
        print(f"\n50 slowloris connections closed {took:.2f} s after opening (header timeout 0.5 s)")
        assert took >= 0.4  # not before the deadline
        for sock in slow:
            sock.close()
        # A kept-alive connection whose second request drips is closed too; the first was answered.
        with socket.create_connection((emu.host, emu.port), timeout=5) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(1024).startswith(b"HTTP/1.1 200")
            sock.sendall(b"GET /health HTTP/1.1\r\n")
            _closed_within([sock], 5.0, drip=b"X-A: b\r\n")
        # The deadline is on the head only: a body sent slowly, past the timeout, is still received.
        body = _upload_body(b"slow.jsonl", dataset(5))
        with socket.create_connection((emu.host, emu.port), timeout=10) as sock:
            sock.sendall(_upload_head(emu, len(body)))
            for start in range(0, len(body), len(body) // 4 + 1):
                sock.sendall(body[start : start + len(body) // 4 + 1])
                time.sleep(0.3)
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        assert httpx.get(f"{emu.url}/health").text == "ok"
