"""The client surface against the emulator over real sockets: async callbacks (plain or coroutine
functions), the typed result of ``wait``, page objects of files and events, raw responses."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from finetune_sdk import (
    AsyncClient,
    Client,
    EventLevel,
    FineTuneJob,
    JobStatus,
    SucceededJob,
)
from finetune_sdk.emulator import Emulator
from finetune_sdk.pagination import AsyncCursorPage, SyncCursorPage
from finetune_sdk.types import JobHyperparameters

from .conftest import write_dataset

MODEL = "Qwen/Qwen2.5-7B-Instruct"
POLL = 0.02


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_async_callbacks_may_be_coroutine_functions(emu: Emulator, tmp_path: Path, backend: str) -> None:
    path = write_dataset(tmp_path / "train.jsonl")
    progress: list[tuple[int, int]] = []
    updates: list[JobStatus] = []
    plain_updates: list[str] = []

    async def on_progress(sent: int, total: int) -> None:
        await anyio.lowlevel.checkpoint()
        progress.append((sent, total))

    async def on_update(job: FineTuneJob) -> None:
        await anyio.lowlevel.checkpoint()
        updates.append(job.status)

    async def main() -> None:
        async with AsyncClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            uploaded = await client.files.upload(path, on_progress=on_progress, reuse=False)
            job = await client.jobs.create(model=MODEL, training_file=uploaded)
            done = await client.jobs.wait(job, poll_interval=POLL, on_update=on_update)
            assert isinstance(done, SucceededJob) and done.fine_tuned_model.strip()
            again = await client.jobs.create(model=MODEL, training_file=uploaded)
            await client.jobs.wait(
                again, poll_interval=POLL, on_update=lambda j: plain_updates.append(j.status)
            )
        await client.close()

    anyio.run(main, backend=backend)
    size = path.stat().st_size
    assert progress and progress[-1] == (size, size)
    assert [sent for sent, _ in progress] == sorted(sent for sent, _ in progress)
    assert updates and updates[-1] is JobStatus.SUCCEEDED
    assert plain_updates and plain_updates[-1] == "succeeded"


def test_wait_returns_a_succeeded_job_with_typed_fields(emu: Emulator, tmp_path: Path) -> None:
    path = write_dataset(tmp_path / "train.jsonl")
    with Client(api_key=emu.api_key, base_url=emu.base_url) as client:
        job = client.jobs.create(model=MODEL, training_file=path, hyperparameters="fast")
        raw = client.jobs.with_raw_response.wait(job, poll_interval=POLL)
        done = raw.parse()
        name: str = done.fine_tuned_model  # a str for type checkers, no assert needed
        assert name and done.status is JobStatus.SUCCEEDED and raw.status_code == 200
        assert done._request_id is not None and done._request_id == raw.request_id
        assert isinstance(done.hyperparameters, JobHyperparameters) and done.hyperparameters["n_epochs"] >= 1
        events = client.jobs.events(done, limit=2)
        assert isinstance(events, SyncCursorPage) and len(events.data) == 2 and events.has_more
        every = list(events)
        assert len(every) == len({e.id for e in every}) > 2
        assert all(isinstance(e.level, EventLevel) for e in every)
        followed = list(client.jobs.follow(done, poll_interval=POLL))
        assert [e.id for e in followed] == [e.id for e in every]


def test_jobs_and_files_list_as_pages_sync_and_async(emu: Emulator, tmp_path: Path) -> None:
    path = write_dataset(tmp_path / "train.jsonl")
    with Client(api_key=emu.api_key, base_url=emu.base_url) as client:
        uploaded = client.files.upload(path)
        made = [client.jobs.create(model=MODEL, training_file=uploaded).id for _ in range(3)]
        first = client.jobs.list(limit=2)
        assert [j.id for j in first.data] == made[:0:-1] and first.has_more
        after = client.jobs.list(limit=2, after=first.data[-1].id)
        assert after.data[0].id == made[0]
        files = client.files.list()  # the platform answers files in one page
        assert isinstance(files, SyncCursorPage) and uploaded.id in {f.id for f in files}

    async def main() -> list[str]:
        async with AsyncClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            page = await client.jobs.list(limit=1)
            assert isinstance(page, AsyncCursorPage) and [j.id for j in page.data] == made[-1:]
            nxt = await page.next_page()
            assert nxt is not None and [j.id for j in nxt.data] == made[-2:-1]
            assert uploaded.id in {f.id async for f in client.files.list()}
            return [j.id async for j in client.jobs.list(limit=2)]

    every = anyio.run(main)
    assert every[:3] == made[::-1] and len(every) == len(set(every))


def test_user_agent_and_headers_from_with_options(emu: Emulator) -> None:
    seen: list[Any] = []
    with Client(
        api_key=emu.api_key, base_url=emu.base_url, default_headers={"User-Agent": "app/1"}
    ) as client:
        fast = client.with_options(timeout=5, max_retries=0)
        assert fast.http_client is client.http_client and fast.max_retries == 0
        raw = fast.files.with_raw_response.list(limit=1)
        seen.append(raw.http_response.request.headers["user-agent"])
    assert seen[0].startswith("finetune-sdk/") and seen[0].endswith(" app/1")


def test_threads_share_a_with_options_client(emu: Emulator) -> None:
    errors: list[BaseException] = []
    with Client(api_key=emu.api_key, base_url=emu.base_url) as client:

        def work() -> None:
            try:
                client.with_options(timeout=5).files.list(limit=1)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert errors == []
