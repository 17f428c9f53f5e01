"""How long after a job's end ``jobs.wait`` returns, on the testing emulator (``time_scale=100``).

The named baseline is the schedule the SDK had before (a first pause of 1 s, growing 1.5 times up to
15 s) against a server that hints nothing; measured in the same run against the same emulator, with
the default schedule without hints, with the server's hints, and with the testing helpers' pace. The
job's end is the emulator's own plan (the moment its status turns ``succeeded``). Goal: within ~50 ms.
It also prints how many polls each schedule makes for jobs of 10 s, 1 min, 10 min and 1 h.

    python bench/wait.py [--jobs 10]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import orjson

from finetune_sdk import Client, PollSchedule
from finetune_sdk._core.schedule import DEFAULT_SCHEDULE
from finetune_sdk.emulator import Emulator
from finetune_sdk.testing import POLL_INTERVAL

OLD = PollSchedule(first=1.0, growth=1.5, cap=15.0)


def latency(emu: Emulator, client: Client, path: Path) -> float:
    """Seconds from the job's end (by the emulator's plan and clock) to the return of ``wait``."""
    job = client.jobs.create(model="Qwen/Qwen2.5-7B-Instruct", training_file=path)
    record = emu.state.get_job(job.id)
    assert record is not None
    ends = record.created_clock + record.plan.finished_at / emu.settings.time_scale
    client.jobs.wait(job)
    return time.monotonic() - ends


def run(hints: bool, schedule: PollSchedule, path: Path, jobs: int) -> list[float]:
    with (
        Emulator(time_scale=100.0, poll_hints=hints) as emu,
        Client(api_key=emu.api_key, base_url=emu.base_url, poll_interval=schedule) as client,
    ):
        client.jobs.create(model="Qwen/Qwen2.5-7B-Instruct", training_file=path)  # warm up
        return [latency(emu, client, path) for _ in range(jobs)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10)
    opts = parser.parse_args()
    line = orjson.dumps(
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    )
    testing = PollSchedule.fixed(POLL_INTERVAL)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.jsonl"
        path.write_bytes((line + b"\n") * 20)
        cases = {
            "before: 1 s growing 1.5x, no hints (baseline)": (False, OLD),
            "default schedule, no hints": (False, DEFAULT_SCHEDULE),
            "default schedule, emulator hints": (True, DEFAULT_SCHEDULE),
            f"testing pace ({POLL_INTERVAL:g} s), emulator hints": (True, testing),
        }
        results = {name: run(hints, schedule, path, opts.jobs) for name, (hints, schedule) in cases.items()}
    base = statistics.median(next(iter(results.values())))
    print(f"wait latency after the job's end, time_scale=100, median of {opts.jobs} jobs:")
    for name, values in results.items():
        median = statistics.median(values)
        print(
            f"  {name:<48} {median * 1000:8.1f} ms  max {max(values) * 1000:7.1f} ms  {median / base:6.3f}x"
        )
    print("polls for a job of (look at start included):")
    for seconds, label in ((10, "10 s"), (60, "1 min"), (600, "10 min"), (3600, "1 h")):
        new, old = DEFAULT_SCHEDULE.polls_for(seconds), OLD.polls_for(seconds)
        print(f"  {label:>6}: default {new:4d}   before {old:4d}")


if __name__ == "__main__":
    main()
