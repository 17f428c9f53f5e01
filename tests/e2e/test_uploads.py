"""Uploads from memory and from streams: bytes, BytesIO, open files, pipes, (filename, content) pairs.

Each test runs through Client and AsyncClient (asyncio, trio) against the emulator over sockets; what the
platform stored is read back from the emulator's own folder.
"""

from __future__ import annotations

import io
import itertools
import logging
import os
import tempfile
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from finetune_sdk import Dataset, DatasetValidationError, FileObject
from finetune_sdk.emulator import Emulator

from .conftest import example, make_api, write_dataset


class OneWay:
    """A stream that can only be read forward (like a socket or a request body)."""

    def __init__(self, data: bytes, block: int = 7000) -> None:
        self._data = io.BytesIO(data)
        self._block = block

    def read(self, size: int = -1) -> bytes:
        return self._data.read(self._block if size < 0 else min(size, self._block))


def stored(emu: Emulator, uploaded: FileObject) -> bytes:
    record = emu.state.get_file(uploaded.id)
    assert record is not None
    return record.path.read_bytes()


@pytest.fixture
def data(tmp_path: Path) -> bytes:
    return write_dataset(tmp_path / "source.jsonl", n=30).read_bytes()


def pipe_with(data: bytes) -> io.BufferedReader:
    """The read end of an OS pipe that a thread fills with ``data``: it cannot seek."""
    read_fd, write_fd = os.pipe()

    def fill() -> None:
        with open(write_fd, "wb") as out:
            out.write(data)

    threading.Thread(target=fill, daemon=True).start()
    return open(read_fd, "rb")


CASES = ["bytes", "bytearray", "memoryview", "BytesIO", "open file", "pair", "pipe", "one-way"]


def content_of(kind: str, data: bytes, path: Path) -> tuple[Any, str]:
    """An upload input of ``kind`` holding ``data``, and the filename the platform should record."""
    if kind == "bytes":
        return data, "upload.jsonl"
    if kind == "bytearray":
        return bytearray(data), "upload.jsonl"
    if kind == "memoryview":
        return memoryview(data), "upload.jsonl"
    if kind == "BytesIO":
        return io.BytesIO(data), "upload.jsonl"
    if kind == "open file":
        path.write_bytes(data)
        return path.open("rb"), path.name
    if kind == "pair":
        return ("pair.jsonl", io.BytesIO(data)), "pair.jsonl"
    if kind == "pipe":
        return pipe_with(data), "upload.jsonl"
    return OneWay(data), "upload.jsonl"


@pytest.mark.parametrize("kind", CASES)
def test_each_input_kind_arrives_whole_under_its_name(
    api: Any, emu: Emulator, data: bytes, tmp_path: Path, kind: str
) -> None:
    content, name = content_of(kind, data, tmp_path / "opened.jsonl")
    uploaded = api.files.upload(content)
    assert uploaded.filename == name
    assert uploaded.bytes == len(data)
    assert stored(emu, uploaded) == data
    if hasattr(content, "closed"):
        assert not content.closed  # the caller's stream is the caller's to close
        content.close()


@pytest.mark.parametrize("kind", CASES)
def test_filename_reaches_the_platform(
    api: Any, emu: Emulator, data: bytes, tmp_path: Path, kind: str
) -> None:
    content, _ = content_of(kind, data, tmp_path / "opened.jsonl")
    if kind == "pair":
        content = content[1]
    uploaded = api.files.upload(content, filename="critic-v2.jsonl")
    assert uploaded.filename == "critic-v2.jsonl"
    assert stored(emu, uploaded) == data


def test_a_path_and_a_dataset_take_a_filename(api: Any, emu: Emulator, tmp_path: Path) -> None:
    path = write_dataset(tmp_path / "local-name.jsonl", n=3)
    assert api.files.upload(path, filename="remote.jsonl").filename == "remote.jsonl"
    dataset = Dataset.from_records([example("早高峰", "挤进去的是身体,挤出来的是灵魂。")] * 3)
    assert api.files.upload(dataset).filename == "dataset.jsonl"
    named = api.files.upload(dataset, filename="commute.jsonl")
    assert named.filename == "commute.jsonl"
    assert Dataset.from_jsonl(emu.state.get_file(named.id).path) == dataset  # type: ignore[union-attr]
    with pytest.raises(ValueError, match=r"must end in \.jsonl, not 'commute\.txt'"):
        api.files.upload(dataset, filename="commute.txt")


def test_a_stream_is_sent_from_where_it_stood(api: Any, emu: Emulator, data: bytes) -> None:
    buffer = io.BytesIO(b"HEADER\n" + data)
    buffer.seek(len(b"HEADER\n"))
    uploaded = api.files.upload(buffer)
    assert stored(emu, uploaded) == data and uploaded.bytes == len(data)


def bad_bytes(data: bytes) -> bytes:
    return data + orjson.dumps({"messages": [{"role": "assistant", "content": "hi"}]}) + b"\n"


@pytest.mark.parametrize("kind", CASES)
def test_bad_data_in_memory_names_the_given_file(
    api: Any, emu: Emulator, data: bytes, tmp_path: Path, kind: str
) -> None:
    content, _ = content_of(kind, bad_bytes(data), tmp_path / "opened.jsonl")
    if kind == "pair":
        content = content[1]
    before = emu.state.counts()["files"]
    with pytest.raises(DatasetValidationError) as info:
        api.files.upload(content, filename="support.jsonl")
    report = info.value.report
    assert report.path == "support.jsonl"
    ((issue),) = report.errors
    assert issue.line == 31 and issue.code == "first_not_user"
    text = str(info.value)
    assert "support.jsonl: 1 error" in text and "31: first_not_user" in text
    assert tempfile.gettempdir() not in text + report.summary() + report.model_dump_json()
    assert emu.state.counts()["files"] == before  # nothing was sent


def test_an_unnamed_stream_is_reported_under_its_own_name(api: Any, data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "opened.jsonl"
    path.write_bytes(bad_bytes(data))
    with path.open("rb") as file, pytest.raises(DatasetValidationError) as info:
        api.files.upload(file)
    assert info.value.report.path == str(path)
    with pytest.raises(DatasetValidationError) as info:
        api.files.upload(bad_bytes(data))
    assert info.value.report.path == "upload.jsonl"


def test_the_extension_checked_is_the_given_name(api: Any, data: bytes) -> None:
    with pytest.raises(DatasetValidationError) as info:
        api.files.upload(data, filename="notes.txt")
    assert [e.code for e in info.value.report.errors] == ["wrong_extension"]
    assert info.value.report.path == "notes.txt"


def test_validate_false_sends_what_it_is_given(api: Any, emu: Emulator, data: bytes) -> None:
    uploaded = api.files.upload(io.BytesIO(bad_bytes(data)), validate=False)
    assert stored(emu, uploaded) == bad_bytes(data)


def test_progress_covers_every_byte_of_a_stream(api: Any, tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "big.jsonl", n=5000).read_bytes()
    for content in (io.BytesIO(data), OneWay(data)):
        seen: list[tuple[int, int]] = []
        api.files.upload(
            content, on_progress=lambda sent, total, seen=seen: seen.append((sent, total)), reuse=False
        )
        assert seen[-1] == (len(data), len(data))  # validation reported no progress: nothing was sent
        assert len(seen) > 1 and all(b[0] >= a[0] for a, b in itertools.pairwise(seen))


def test_what_is_not_an_upload_is_a_clear_error(api: Any, data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(data)
    with path.open("r", encoding="utf-8") as text, pytest.raises(TypeError, match="binary mode"):
        api.files.upload(text)
    with pytest.raises(TypeError, match="binary mode"):
        api.files.upload(io.StringIO(data.decode()))
    with pytest.raises(TypeError, match="got int"):
        api.files.upload(42)
    with pytest.raises(TypeError, match=r"\(filename, bytes_or_binary_file\)"):
        api.files.upload((io.BytesIO(data), "a.jsonl"))
    with pytest.raises(ValueError, match="two names for one upload"):
        api.files.upload(("a.jsonl", data), filename="b.jsonl")
    with pytest.raises(ValueError, match="filename must be a non-empty string"):
        api.files.upload(data, filename=" ")


# -- retries: a fault on the upload, then the whole body again ---------------------------------------------

FAULTS = ("500", "503", "drop", "lost_response")


@pytest.fixture
def faulty() -> Iterator[Emulator]:
    # Seed 9 draws, upload attempt by attempt: drop, 503, ok; lost_response (the file is made), ok; ...
    with Emulator(fault_rate=0.5, seed=9, fault_kinds=FAULTS, fault_paths=("/v1/files",)) as running:
        yield running


@pytest.mark.parametrize("kind", ["bytes", "BytesIO", "pair", "pipe", "one-way", "open file"])
def test_a_retried_upload_sends_every_byte_again_once(
    mode: str, faulty: Emulator, data: bytes, tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="finetune_sdk")
    rounds = 3
    for api in make_api(mode, faulty, max_retries=20, max_retry_wait=0.01):
        for i in range(rounds):
            content, name = content_of(kind, data, tmp_path / f"opened{i}.jsonl")
            seen: list[int] = []
            uploaded = api.files.upload(
                content, on_progress=lambda sent, _, seen=seen: seen.append(sent), reuse=False
            )
            assert uploaded.filename == name and stored(faulty, uploaded) == data
            assert seen[-1] == len(data)
    assert faulty.state.counts()["files"] == rounds  # the lost answer made no second file
    assert caplog.text.count("retrying in") >= 3, (
        "the uploads should have met a drop, a 503 and a lost answer"
    )


# -- memory stays flat for a large stream ------------------------------------------------------------------


def test_a_large_one_way_stream_is_validated_and_sent_in_blocks(emu: Emulator) -> None:
    line = orjson.dumps(example("词语" * 50, "金句" * 200)) + b"\n"
    data = line * (24 * 1024 * 1024 // len(line))  # 24 MiB
    tracemalloc.start()
    try:
        stream = OneWay(data, block=256 * 1024)
        base, _ = tracemalloc.get_traced_memory()
        for api in make_api("sync", emu):
            uploaded = api.files.upload(stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert uploaded.bytes == len(data)
    assert peak - base < 8 * 1024 * 1024, f"peak {(peak - base) / 2**20:.1f} MiB for a 24 MiB upload"
