"""Fault soaks: the whole flow against an emulator failing 30% of requests in every way it knows.

Invariants, whatever the faults: each upload makes exactly one file and each create one job (lost
responses included), every job is waited to success, a followed event log equals the full log, and a
chat reply is either whole or raises StreamInterruptedError holding a true prefix of it, never a
silently short answer. Bounded in count and time; 127.0.0.1 only.
"""

from __future__ import annotations

import logging
from pathlib import Path

import anyio
import pytest

from finetune_sdk import AsyncClient, Client, JobStatus, StreamInterruptedError
from finetune_sdk.emulator import Emulator

from ..e2e.conftest import write_dataset

MODEL = "Qwen/Qwen2.5-7B-Instruct"
ALL_FAULTS = ("429", "500", "503", "50505", "drop", "lost_response", "stream_break")
RETRIES = {"max_retries": 12, "max_retry_wait": 0.01}


def soaked(seed: int) -> Emulator:
    return Emulator(time_scale=100, fault_rate=0.3, seed=seed, fault_kinds=ALL_FAULTS, chunk_chars=2)


@pytest.mark.parametrize("seed", [1, 2])
def test_sync_flow_under_faults(tmp_path: Path, seed: int, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="finetune_sdk")
    rounds = 6
    interrupted = 0
    with soaked(seed) as emu, Client(api_key=emu.api_key, base_url=emu.base_url, **RETRIES) as client:
        for i in range(rounds):
            path = write_dataset(tmp_path / f"t{i}.jsonl", n=10)
            job = client.jobs.create(model=MODEL, training_file=path, hyperparameters="fast")
            followed = list(client.jobs.follow(job, poll_interval=0.01))
            done = client.jobs.wait(job, poll_interval=0.01)
            assert done.status is JobStatus.SUCCEEDED
            assert [e.id for e in followed] == [e.id for e in client.jobs.events(job)]
            assert done.fine_tuned_model is not None
            whole = client.chat.complete(done.fine_tuned_model, "词语3").text
            try:
                streamed = client.chat(done.fine_tuned_model, "词语3").read()
            except StreamInterruptedError as err:
                interrupted += 1
                assert whole.startswith(err.partial_text) and len(err.partial_text) < len(whole)
            else:
                assert streamed == whole
        assert emu.state.counts() == {"files": 2 * rounds, "jobs": rounds}  # the local split: two files
    retried = caplog.text.count("retrying in")
    assert retried >= 5, f"the soak should have met faults, saw {retried} retries"
    print(f"seed {seed}: {retried} retries, {interrupted} interrupted streams")


@pytest.mark.anyio
async def test_async_concurrent_flows_under_faults(tmp_path: Path) -> None:
    flows = 12
    paths = [write_dataset(tmp_path / f"t{i}.jsonl", n=8) for i in range(flows)]
    with soaked(seed=7) as emu:
        async with AsyncClient(api_key=emu.api_key, base_url=emu.base_url, **RETRIES) as client:
            results: list[JobStatus] = []

            async def flow(path: Path) -> None:
                job = await client.jobs.create(model=MODEL, training_file=path, hyperparameters="fast")
                done = await client.jobs.wait(job, poll_interval=0.01)
                results.append(done.status)

            with anyio.fail_after(60):
                async with anyio.create_task_group() as tg:
                    for path in paths:
                        tg.start_soon(flow, path)
        assert results == [JobStatus.SUCCEEDED] * flows
        assert emu.state.counts() == {"files": 2 * flows, "jobs": flows}  # the local split: two files
