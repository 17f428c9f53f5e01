"""What only the async client can show: many waits at once, and cancellation by anyio cancel scopes."""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import pytest

from finetune_sdk import AsyncClient, FineTuneJob, JobStatus
from finetune_sdk.emulator import Emulator

from .conftest import POLL, write_dataset

pytestmark = pytest.mark.anyio
MODEL = "Qwen/Qwen2.5-7B-Instruct"


async def test_wait_on_100_jobs_at_once(emu: Emulator, tmp_path: Path) -> None:
    path = write_dataset(tmp_path / "t.jsonl", n=10)
    async with AsyncClient(api_key=emu.api_key, base_url=emu.base_url) as client:
        uploaded = await client.files.upload(path)
        jobs: list[FineTuneJob] = []

        async def create() -> None:
            jobs.append(
                await client.jobs.create(model=MODEL, training_file=uploaded.id, hyperparameters="fast")
            )

        async with anyio.create_task_group() as tg:
            for _ in range(100):
                tg.start_soon(create)
        results: dict[str, FineTuneJob] = {}

        async def wait(job: FineTuneJob) -> None:
            results[job.id] = await client.jobs.wait(job, poll_interval=0.1)

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                for job in jobs:
                    tg.start_soon(wait, job)
    assert len(results) == 100
    assert all(j.status is JobStatus.SUCCEEDED for j in results.values())


async def test_wait_is_cancelled_by_a_cancel_scope(emu: Emulator, tmp_path: Path) -> None:
    path = write_dataset(tmp_path / "long.jsonl", n=400)
    async with AsyncClient(api_key=emu.api_key, base_url=emu.base_url) as client:
        job = await client.jobs.create(
            model=MODEL, training_file=path, hyperparameters={"n_epochs": 10, "batch_size": 1}
        )
        started = time.monotonic()
        with anyio.move_on_after(0.3) as scope:
            await client.jobs.wait(job, poll_interval=POLL)
        assert scope.cancelled_caught
        assert time.monotonic() - started < 2.0
        # the job is untouched by the cancelled wait, and the client still works
        assert not (await client.jobs.retrieve(job)).is_final
        await client.jobs.cancel(job)


async def test_follow_events_can_be_left_early(emu: Emulator, tmp_path: Path) -> None:
    path = write_dataset(tmp_path / "t.jsonl", n=40)
    async with AsyncClient(api_key=emu.api_key, base_url=emu.base_url) as client:
        job = await client.jobs.create(model=MODEL, training_file=path)
        seen = []
        async for event in client.jobs.follow(job, poll_interval=POLL):
            seen.append(event)
            if len(seen) == 2:
                break
        assert len(seen) == 2
        done = await client.jobs.wait(job, poll_interval=POLL)
        assert done.status is JobStatus.SUCCEEDED
