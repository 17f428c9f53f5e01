"""aconvert_file: the same report as convert_file under asyncio and trio; cancelling leaves nothing."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import anyio
import orjson
import pytest

from finetune_sdk.data.convert import aconvert_file, convert_file

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "convert"


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_the_async_twin_gives_the_same_report_and_file(tmp_path: Path, backend: str) -> None:
    sync = convert_file(SAMPLES / "openai.jsonl", tmp_path / "sync.jsonl", rejects=tmp_path / "r1.jsonl")

    async def main() -> None:
        done = await aconvert_file(
            SAMPLES / "openai.jsonl", tmp_path / "async.jsonl", rejects=tmp_path / "r2.jsonl"
        )
        assert done.model_dump(exclude={"output", "rejects_path"}) == sync.model_dump(
            exclude={"output", "rejects_path"}
        )

    anyio.run(main, backend=backend)
    assert (tmp_path / "async.jsonl").read_bytes() == (tmp_path / "sync.jsonl").read_bytes()
    assert (tmp_path / "r2.jsonl").read_bytes() == (tmp_path / "r1.jsonl").read_bytes()


def test_cancelling_stops_the_thread_and_leaves_no_file(tmp_path: Path) -> None:
    src = tmp_path / "big.jsonl"
    line = orjson.dumps(
        {"conversations": [{"from": "human", "value": "q " * 50}, {"from": "gpt", "value": "a"}]}
    )
    src.write_bytes((line + b"\n") * 200_000)
    out = tmp_path / "out.jsonl"
    started = threading.Event()

    async def main() -> None:
        with anyio.move_on_after(0.3):
            await aconvert_file(src, out, on_change=lambda _: started.set())

    anyio.run(main)
    assert started.is_set()  # it was converting when it was cancelled
    deadline = time.monotonic() + 10
    while any(p.name.endswith(".part") for p in tmp_path.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.jsonl"]


def test_a_set_cancel_event_stops_the_sync_call_too(tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(InterruptedError, match="cancelled"):
        convert_file(SAMPLES / "guide.jsonl", tmp_path / "out.jsonl", cancel=cancel)
    assert list(tmp_path.iterdir()) == []
