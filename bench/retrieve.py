"""How much ``client.jobs.retrieve`` costs over a raw ``httpx`` GET of the same URL.

Both run in the same process against the same emulator (in a child process), interleaved in rounds so
that drift on the machine hits both alike. The named baseline is a raw ``httpx.Client.get`` of the same
request (the same URL and headers: key, user agent, accept) plus ``orjson.loads`` of the body, with no
model, no retries; a bare GET with only the key is printed too. Goal: <= 1.15x.

    python bench/retrieve.py [--requests 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import KEY, emulator_process

from finetune_sdk import Client
from finetune_sdk._core.wire import RequestSpec, request_args


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    opts = parser.parse_args()
    line = orjson.dumps(
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    )
    with emulator_process(time_scale=1000.0) as base, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.jsonl"
        path.write_bytes((line + b"\n") * 20)
        with Client(api_key=KEY, base_url=base) as client, httpx.Client() as raw:
            job = client.jobs.create(model="Qwen/Qwen2.5-7B-Instruct", training_file=path)
            url = f"{base}/fine_tuning/jobs/{job.id}"
            spec = RequestSpec("GET", f"fine_tuning/jobs/{job.id}")
            same_headers = request_args(client.config, spec)["headers"]
            key_only = {"Authorization": f"Bearer {KEY}"}
            runs: dict[str, Callable[[], object]] = {
                "jobs.retrieve": lambda: client.jobs.retrieve(job.id),
                "raw httpx GET + orjson": lambda: orjson.loads(raw.get(url, headers=same_headers).content),
                "bare GET, key only": lambda: orjson.loads(raw.get(url, headers=key_only).content),
            }
            for fn in runs.values():  # warm up connections and code paths
                for _ in range(200):
                    fn()
            times: dict[str, list[float]] = {name: [] for name in runs}
            for _ in range(opts.rounds):
                for name, fn in runs.items():
                    start = time.perf_counter()
                    for _ in range(opts.requests):
                        fn()
                    times[name].append((time.perf_counter() - start) / opts.requests)
    us = {name: statistics.median(t) * 1e6 for name, t in times.items()}
    for name, value in us.items():
        print(f"{name + ':':26s}{value:8.1f} us/request (median of {opts.rounds} rounds)")
    sdk, raw_us, bare = us["jobs.retrieve"], us["raw httpx GET + orjson"], us["bare GET, key only"]
    print(f"ratio vs raw httpx GET of the same request: {sdk / raw_us:.3f}x (goal <= 1.15x)")
    print(f"ratio vs bare GET with only the key:        {sdk / bare:.3f}x")


if __name__ == "__main__":
    main()
