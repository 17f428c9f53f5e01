"""Helpers of the emulator's tests: datasets, uploads, jobs, waiting."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from typing import IO, Any

import httpx

from finetune_sdk.emulator import Emulator

BASE = "Qwen/Qwen2.5-7B-Instruct"
MakeClient = Callable[[Emulator], httpx.Client]
FAST = 100.0
"""time_scale of most tests: a 30-example job takes ~0.02 s."""


def example(user: str, assistant: str, system: str | None = None) -> dict[str, Any]:
    messages = [{"role": "system", "content": system}] if system else []
    messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    return {"messages": messages}


def jsonl(examples: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in examples).encode()


def dataset(n: int = 30) -> bytes:
    return jsonl(
        [
            example(f"问题{i}：怎么修改收货地址？", f"亲～第{i}步：打开订单，点“修改地址”哦！")
            for i in range(n)
        ]
    )


def auth(emu: Emulator) -> dict[str, str]:
    return {"Authorization": f"Bearer {emu.api_key}"}


def upload(client: httpx.Client, content: bytes, name: str = "train.jsonl", **headers: str) -> httpx.Response:
    return client.post(
        "/files", files={"file": (name, content)}, data={"purpose": "fine-tune"}, headers=headers
    )


def create_job(client: httpx.Client, file_id: str, **body: Any) -> httpx.Response:
    return client.post("/fine_tuning/jobs", json={"model": BASE, "training_file": file_id, **body})


def wait(client: httpx.Client, job_id: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get(f"/fine_tuning/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.01)


def tuned(client: httpx.Client, content: bytes | None = None, **body: Any) -> dict[str, Any]:
    """Upload a dataset, run a job to its end, return the finished job."""
    file_id = upload(client, content or dataset()).json()["id"]
    return wait(client, create_job(client, file_id, **body).json()["id"])


def exports_of(stdout: IO[str]) -> tuple[str, str]:
    """Read a foreground emulator's stdout up to its two ``export`` lines; wait until it answers;
    return ``(base_url, key)``."""
    exports: dict[str, str] = {}
    while len(exports) < 2:
        line = stdout.readline().strip()
        assert line, "the emulator stopped before printing its address"
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            exports[name] = value
    base_url, key = exports["FINETUNE_BASE_URL"], exports["FINETUNE_API_KEY"]
    deadline = time.monotonic() + 10
    while True:
        try:
            answer = httpx.get(f"{base_url}/files", headers={"Authorization": f"Bearer {key}"})
        except httpx.ConnectError:
            assert time.monotonic() < deadline, "the emulator never answered"
            time.sleep(0.05)
        else:
            assert answer.status_code == 200
            return base_url, key


def stop(process: subprocess.Popen[str]) -> None:
    """Kill ``process`` if it still runs, and close its pipes."""
    if process.poll() is None:
        process.kill()
        process.wait()
    for stream in (process.stdout, process.stderr):
        if stream:
            stream.close()
