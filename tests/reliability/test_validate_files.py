"""The validator on odd inputs: special files are refused without blocking, a huge line is reported
without being held, validation is cancellable (sync and async, asyncio and trio), and bytes or file
objects are validated as a stream under the name the user gave."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import anyio
import pytest

from finetune_sdk import Dataset, NotARegularFileError
from finetune_sdk.data import _lines, validate_file
from finetune_sdk.data._lines import ValidationCancelledError

GOOD = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n'

posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and /dev/zero are POSIX")


def finishes(work: object, seconds: float = 5.0) -> BaseException | None:
    """Run ``work()`` in a thread; fail if it has not returned within ``seconds``; return what it raised."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            work()  # type: ignore[operator]
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "validation hung"
    return raised[0] if raised else None


@posix_only
def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "data.jsonl"
    os.mkfifo(fifo)
    raised = finishes(lambda: Dataset.validate_file(fifo))
    assert isinstance(raised, NotARegularFileError)
    assert "FIFO" in str(raised)
    assert str(fifo) in str(raised)
    assert isinstance(raised, OSError)


@posix_only
def test_a_symlink_to_dev_zero_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "zero.jsonl"
    link.symlink_to("/dev/zero")
    raised = finishes(lambda: Dataset.validate_file(link))
    assert isinstance(raised, NotARegularFileError)
    assert "character device" in str(raised)


def test_a_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "folder.jsonl"
    folder.mkdir()
    with pytest.raises(NotARegularFileError, match="is a folder"):
        Dataset.validate_file(folder)
    with pytest.raises(FileNotFoundError):
        Dataset.validate_file(tmp_path / "missing.jsonl")


@posix_only
def test_the_cli_refuses_a_fifo_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "data.jsonl"
    os.mkfifo(fifo)
    good = tmp_path / "good.jsonl"
    good.write_bytes(GOOD)
    command = [sys.executable, "-m", "finetune_sdk.cli", "validate"]
    result = subprocess.run([*command, str(fifo)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "FIFO" in result.stderr
    both = subprocess.run([*command, str(good), str(fifo)], capture_output=True, text=True, timeout=60)
    assert both.returncode == 1
    assert "unreadable" in both.stdout
    assert "1 ok, 1 not" in both.stdout


def _write_long_line_file(path: Path, line_mb: int) -> None:
    with open(path, "wb") as out:
        out.write(GOOD)
        out.write(b'{"messages": [{"role": "user", "content": "')
        chunk = b"x" * (1 << 20)
        for _ in range(line_mb):
            out.write(chunk)
        out.write(b'"}]}\n')
        out.write(GOOD)


def test_a_huge_line_is_line_too_long_and_never_held_whole(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    _write_long_line_file(path, 24)
    tracemalloc.start()
    try:
        report = Dataset.validate_file(path, max_line_bytes=1 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [(e.line, e.code) for e in report.errors] == [(2, "line_too_long")]
    assert "max_line_bytes=1,048,576" in report.errors[0].message
    assert report.lines == 3
    assert report.stats.examples == 2  # the lines around it are still checked
    assert peak < 8 << 20, f"peak {peak / 2**20:.1f} MiB for a 24 MiB line"


@pytest.mark.parametrize("block", [7, 64, 1 << 20])
def test_the_line_limit_is_exact_whatever_the_block_size(monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    monkeypatch.setattr(_lines, "BLOCK_SIZE", block)
    size = len(GOOD) - 1
    data = GOOD * 3 + GOOD.rstrip(b"\n")  # the last line has no newline
    assert Dataset.validate_file(data, max_line_bytes=size).ok
    report = Dataset.validate_file(data, max_line_bytes=size - 1)
    assert [(e.line, e.code) for e in report.errors] == [(n, "line_too_long") for n in (1, 2, 3, 4)]


class Endless(io.RawIOBase):
    """A stream of valid lines that never ends, slowly: what a cancellation must stop."""

    def __init__(self, delay: float = 0.005) -> None:
        self.delay = delay
        self.reads = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        time.sleep(self.delay)
        self.reads += 1
        data = (GOOD * (len(buffer) // len(GOOD) + 1))[: len(buffer)]
        buffer[: len(data)] = data
        return len(data)


def test_a_set_cancel_event_stops_validation_between_blocks() -> None:
    stream = Endless()
    cancel = threading.Event()
    threading.Timer(0.1, cancel.set).start()
    raised = finishes(lambda: validate_file(stream, filename="x.jsonl", cancel=cancel))
    assert isinstance(raised, ValidationCancelledError)


def _assert_the_thread_stopped(stream: Endless) -> None:
    time.sleep(0.1)
    before = stream.reads
    time.sleep(0.2)
    assert stream.reads == before, "the validation thread kept reading after the cancel"


def test_avalidate_file_is_cancellable_on_asyncio() -> None:
    stream = Endless()

    async def main() -> float:
        task = asyncio.ensure_future(Dataset.avalidate_file(stream, filename="x.jsonl"))
        await asyncio.sleep(0.2)
        started = time.perf_counter()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.perf_counter() - started

    latency = asyncio.run(main())
    assert latency < 0.1
    _assert_the_thread_stopped(stream)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_avalidate_file_is_cancellable_on_any_anyio_backend(backend: str) -> None:
    stream = Endless()

    async def main() -> float:
        with anyio.move_on_after(0.2) as scope:
            await Dataset.avalidate_file(stream, filename="x.jsonl")
        assert scope.cancelled_caught
        return time.perf_counter() - scope.deadline

    latency = anyio.run(main, backend=backend)
    assert latency < 0.1
    _assert_the_thread_stopped(stream)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_avalidate_file_gives_the_same_report(backend: str, tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(GOOD * 5 + b"{oops\n")

    async def main() -> object:
        return await Dataset.avalidate_file(path)

    assert anyio.run(main, backend=backend) == Dataset.validate_file(path)


def test_bytes_and_file_objects_report_under_the_given_name(tmp_path: Path) -> None:
    data = GOOD * 2 + b"{oops\n"
    temp = tmp_path / "upload-3f9a.tmp"
    temp.write_bytes(data)
    for source in (data, bytearray(data), io.BytesIO(data), open(temp, "rb"), temp):  # noqa: SIM115
        report = Dataset.validate_file(source, filename="customer.jsonl")
        assert report.path == "customer.jsonl"
        assert "upload-3f9a" not in report.summary()
        assert "upload-3f9a" not in str(report)
        assert str(report).startswith("customer.jsonl: 1 error")
        assert [(e.line, e.code) for e in report.errors] == [(3, "invalid_json")]
        if hasattr(source, "close"):
            source.close()


def test_a_file_object_name_and_the_extension_check() -> None:
    with open(__file__, "rb") as file:  # a .py file: its own name is used, and checked
        report = Dataset.validate_file(file)
    assert report.path == __file__
    assert report.errors[0].code == "wrong_extension"
    named = Dataset.validate_file(GOOD, filename="notes.txt")
    assert [e.code for e in named.errors] == ["wrong_extension"]
    anonymous = Dataset.validate_file(GOOD)  # no name, nothing to check the extension of
    assert anonymous.ok
    assert anonymous.path == "<stream>"


def test_a_stream_is_validated_with_flat_memory() -> None:
    line = b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "%s"}]}\n' % (
        b"w" * 4000
    )

    class Lines(io.RawIOBase):
        def __init__(self, total: int) -> None:
            self.left = total

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            size = min(len(buffer), self.left) // len(line) * len(line)
            buffer[:size] = line * (size // len(line))
            self.left -= size
            return size

    lines = (48 << 20) // len(line)
    tracemalloc.start()
    try:
        report = Dataset.validate_file(Lines(lines * len(line)), filename="big.jsonl")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.ok
    assert report.stats.examples == lines
    assert peak < 12 << 20, f"peak {peak / 2**20:.1f} MiB for a 48 MiB stream"


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_cancelling_an_async_upload_stops_its_validation_at_once(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The upload validates before sending anything: a cancel during that ends the call within 0.1 s and
    the validation thread stops (no request is ever sent: the address has no server)."""
    from finetune_sdk import AsyncClient
    from finetune_sdk.data import _scan

    path = tmp_path / "train.jsonl"
    path.write_bytes(GOOD * 20_000)
    scanned = [0]
    check = _scan.check_chunk

    def slow_check(objs: list[object], lines: list[bytes]) -> object:  # a slow machine: ~64 ms a chunk
        scanned[0] += len(objs)
        time.sleep(0.001 * len(objs))
        return check(objs, lines)

    monkeypatch.setattr(_scan, "check_chunk", slow_check)

    async def main() -> float:
        async with AsyncClient(api_key="sk-test", base_url="http://127.0.0.1:9/v1") as client:
            with anyio.move_on_after(0.3) as scope:
                await client.files.upload(path)
            assert scope.cancelled_caught
            return time.perf_counter() - scope.deadline

    latency = anyio.run(main, backend=backend)
    assert latency < 0.1
    time.sleep(0.2)
    seen = scanned[0]
    time.sleep(0.3)
    assert scanned[0] == seen < 20_000  # stopped, part-way
