"""The same flows through ``Client`` and through ``AsyncClient`` on asyncio and on trio, each against a
fresh emulator with the same seed, give the same results (ids aside): the twins differ only in ``await``.

The sync and async scenarios below are written line for line alike, as a user would write them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import anyio

from finetune_sdk import AsyncClient, Client, FineTuneJob
from finetune_sdk.emulator import Emulator

from .conftest import write_dataset

MODEL = "Qwen/Qwen2.5-7B-Instruct"
_IDS = re.compile(r"\b(ftjob|file|ftevent|ftckpt|chatcmpl)-[0-9a-f]+")


def _plain(value: object) -> object:
    """``value`` with the emulator's random ids replaced by their kind."""
    if isinstance(value, str):
        return _IDS.sub(lambda m: m.group(1), value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _job(job: FineTuneJob) -> dict[str, Any]:
    keep = ("model", "status", "hyperparameters", "suffix", "seed", "trained_tokens", "fine_tuned_model")
    return {k: v for k, v in job.model_dump(mode="json").items() if k in keep}


def sync_flow(emu: Emulator, train: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with Client(api_key=emu.api_key, base_url=emu.base_url, poll_interval=0.02) as client:
        uploaded = client.files.upload(train)
        out["upload"] = (uploaded.filename, uploaded.bytes, uploaded.purpose)
        job = client.jobs.create(
            model=MODEL, training_file=uploaded, hyperparameters="fast", suffix="twin", seed=7
        )
        updates: list[FineTuneJob] = []
        done = client.jobs.wait(job, on_update=updates.append)
        out["steps"] = [u.step for u in updates if u.status == "running"]
        out["final"] = _job(done)
        out["events"] = [(e.level, e.message) for e in client.jobs.events(job)]
        out["followed"] = [(e.level, e.message) for e in client.jobs.follow(job)]
        out["listed"] = [j.suffix for j in client.jobs.list(suffix="twin")]
        out["files"] = [f.filename for f in client.files.list()]
        stream = client.chat(done.fine_tuned_model, "词语3")
        out["streamed"] = ("".join(stream), stream.finish_reason, stream.usage)
        whole = client.chat.complete(done.fine_tuned_model, "词语3")
        out["complete"] = (whole.text, whole.finish_reason, whole.usage)
    return out


async def async_flow(emu: Emulator, train: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    async with AsyncClient(api_key=emu.api_key, base_url=emu.base_url, poll_interval=0.02) as client:
        uploaded = await client.files.upload(train)
        out["upload"] = (uploaded.filename, uploaded.bytes, uploaded.purpose)
        job = await client.jobs.create(
            model=MODEL, training_file=uploaded, hyperparameters="fast", suffix="twin", seed=7
        )
        updates: list[FineTuneJob] = []
        done = await client.jobs.wait(job, on_update=updates.append)
        out["steps"] = [u.step for u in updates if u.status == "running"]
        out["final"] = _job(done)
        out["events"] = [(e.level, e.message) async for e in client.jobs.events(job)]
        out["followed"] = [(e.level, e.message) async for e in client.jobs.follow(job)]
        out["listed"] = [j.suffix async for j in client.jobs.list(suffix="twin")]
        out["files"] = [f.filename async for f in client.files.list()]
        stream = client.chat(done.fine_tuned_model, "词语3")
        out["streamed"] = ("".join([d async for d in stream]), stream.finish_reason, stream.usage)
        whole = await client.chat.complete(done.fine_tuned_model, "词语3")
        out["complete"] = (whole.text, whole.finish_reason, whole.usage)
    return out


def test_the_same_flows_give_the_same_results_sync_asyncio_and_trio(tmp_path: Path) -> None:
    train = write_dataset(tmp_path / "train.jsonl")
    results: dict[str, object] = {}
    for mode in ("sync", "asyncio", "trio"):
        with Emulator(time_scale=50.0, seed=11) as emu:
            if mode == "sync":
                found = sync_flow(emu, train)
            else:
                found = anyio.run(async_flow, emu, train, backend=mode)
        results[mode] = _plain(found)
    sync = results["sync"]
    assert isinstance(sync, dict)
    assert sync["final"]["status"] == "succeeded" and sync["streamed"][0] == sync["complete"][0]
    assert sync["events"] == sync["followed"] and sync["listed"] == ["twin"]
    assert sync["steps"] == sorted(sync["steps"]) and len(sync["steps"]) >= 2
    for mode in ("asyncio", "trio"):
        mine = results[mode]
        assert isinstance(mine, dict)
        for key in sync:
            if key == "steps":  # how many steps a wait sees depends on timing; none goes back
                assert mine[key] == sorted(mine[key]), mode
                continue
            assert mine[key] == sync[key], f"{mode}: {key}"
