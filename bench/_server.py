"""Benchmarks' helper: an emulator in a child process, so its work and memory are not the client's."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx

KEY = "bench-key"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def emulator_process(**settings: object) -> Iterator[str]:
    """Run ``Emulator(**settings)`` in a child process; yield its base URL."""
    port = _free_port()
    args = ", ".join(f"{k}={v!r}" for k, v in {"port": port, "api_key": KEY, **settings}.items())
    code = f"from finetune_sdk.emulator import Emulator; Emulator({args}).run()"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}/files", headers={"Authorization": f"Bearer {KEY}"}, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield base
    finally:
        child.terminate()
        child.wait(10)
