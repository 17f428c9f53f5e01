"""Where the features of uploads, events and waits meet the resource layer: per-call options, raw
responses, page objects and async progress callbacks, against the emulator over sockets."""

from __future__ import annotations

import io
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from finetune_sdk import AsyncClient, Client, PollSchedule
from finetune_sdk.emulator import Emulator
from finetune_sdk.pagination import AsyncCursorPage, SyncCursorPage

from .conftest import POLL, write_dataset

MODEL = "Qwen/Qwen2.5-7B-Instruct"


def _stored(emu: Emulator, file_id: str) -> bytes:
    record = emu.state.get_file(file_id)
    assert record is not None
    return record.path.read_bytes()


def test_an_upload_from_memory_takes_options_and_has_a_raw_response(emu: Emulator, tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "t.jsonl").read_bytes()
    progress: list[tuple[int, int]] = []
    with Client(api_key=emu.api_key, base_url=emu.base_url) as client:
        raw = client.files.with_raw_response.upload(
            io.BytesIO(data),
            filename="memory.jsonl",
            on_progress=lambda sent, total: progress.append((sent, total)),
            extra_headers={"X-Trace": "upload-1"},
            idempotency_key="layout-upload-1",
        )
        uploaded = raw.parse()
        assert raw.status_code == 200 and uploaded.filename == "memory.jsonl"
        assert uploaded._request_id == raw.request_id is not None
        assert _stored(emu, uploaded.id) == data
        assert progress[-1] == (len(data), len(data))
        again = client.files.upload(data, idempotency_key="layout-upload-1")
        assert again.id == uploaded.id  # the same key makes nothing new, whatever the input's kind


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_an_async_upload_of_a_stream_awaits_a_coroutine_progress_callback(
    backend: str, emu: Emulator, tmp_path: Path
) -> None:
    data = write_dataset(tmp_path / "t.jsonl", n=200).read_bytes()
    seen: list[tuple[int, int]] = []

    async def on_progress(sent: int, total: int) -> None:
        await anyio.lowlevel.checkpoint()
        seen.append((sent, total))

    async def main() -> str:
        async with AsyncClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            stream = io.BytesIO(b"ignored" + data)
            stream.seek(len(b"ignored"))  # the upload starts where the stream stands
            uploaded = await client.files.upload(stream, on_progress=on_progress, timeout=30, reuse=False)
            assert not stream.closed  # a stream given is left open
            return uploaded.id

    file_id = anyio.run(main, backend=backend)
    assert _stored(emu, file_id) == data
    assert seen and seen[-1] == (len(data), len(data))
    assert [sent for sent, _ in seen] == sorted(sent for sent, _ in seen)


def test_events_after_an_event_are_a_page_sync_and_async(emu: Emulator, train_file: Path) -> None:
    with Client(api_key=emu.api_key, base_url=emu.base_url) as client:
        job = client.jobs.wait(client.jobs.create(model=MODEL, training_file=train_file), poll_interval=POLL)
        log = list(client.jobs.events(job))
        page = client.jobs.events(job, after=log[0], limit=2)
        assert isinstance(page, SyncCursorPage) and page.data == log[1:3] and page.has_more
        assert list(page) == log[1:]

    async def main() -> None:
        async with AsyncClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            first = await client.jobs.events(job.id, after=log[1], limit=2)
            assert isinstance(first, AsyncCursorPage) and first.data == log[2:4]
            assert [e async for e in client.jobs.events(job.id, after=log[1].id)] == log[2:]
            with pytest.raises(ValueError, match="not a job event id"):
                client.jobs.events(job.id, after="a/b")

    anyio.run(main)


def test_a_copy_with_other_options_keeps_or_replaces_the_poll_schedule(emu: Emulator) -> None:
    schedule = PollSchedule(first=0.5, growth=1.5, cap=4.0)
    with Client(api_key=emu.api_key, base_url=emu.base_url, poll_interval=schedule) as client:
        assert client.with_options(max_retries=0)._config.poll == schedule
        assert client.with_options(poll_interval=0.25)._config.poll == PollSchedule.fixed(0.25)
        assert client.with_options(poll_interval=schedule).with_options(timeout=2)._config.poll == schedule


def test_wait_all_returns_succeeded_jobs_carrying_their_request_ids(emu: Emulator, train_file: Path) -> None:
    with Client(api_key=emu.api_key, base_url=emu.base_url) as client:
        jobs = [client.jobs.create(model=MODEL, training_file=train_file) for _ in range(2)]
        outcomes = client.jobs.wait_all(jobs, poll_interval=POLL)
    assert [o.job_id for o in outcomes] == [j.id for j in jobs]
    for outcome in outcomes:
        done = outcome.result()
        assert done.fine_tuned_model and done._request_id is not None
