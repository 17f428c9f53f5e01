from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from finetune_sdk import Dataset, DatasetValidationError, FileObject, NotFoundError
from finetune_sdk.emulator import Emulator

from .conftest import example, write_dataset


def test_upload_list_retrieve_delete(api: Any, emu: Emulator, train_file: Path) -> None:
    uploaded = api.files.upload(train_file)
    assert isinstance(uploaded, FileObject)
    assert uploaded.id.startswith("file-")
    assert uploaded.filename == "train.jsonl"
    assert uploaded.bytes == train_file.stat().st_size
    assert uploaded.purpose == "fine-tune"
    assert uploaded.id in {f.id for f in api.files.list()}
    assert api.files.retrieve(uploaded.id) == uploaded
    deleted = api.files.delete(uploaded.id)
    assert deleted.deleted and deleted.id == uploaded.id
    with pytest.raises(NotFoundError):
        api.files.retrieve(uploaded.id)


def test_upload_reports_progress_to_the_last_byte(api: Any, tmp_path: Path) -> None:
    path = write_dataset(tmp_path / "big.jsonl", n=5000)
    seen: list[tuple[int, int]] = []
    api.files.upload(path, on_progress=lambda sent, total: seen.append((sent, total)), reuse=False)
    size = path.stat().st_size
    assert seen[-1] == (size, size)
    assert len(seen) > 1 and all(b[0] >= a[0] for a, b in itertools.pairwise(seen))


def test_bad_dataset_fails_before_upload_with_its_line(api: Any, emu: Emulator, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = write_dataset(tmp_path / "good.jsonl", n=3).read_text(encoding="utf-8")
    path.write_text(good + '{"messages": [{"role": "assistant", "content": "hi"}]}\n', encoding="utf-8")
    before = emu.state.counts()["files"]
    with pytest.raises(DatasetValidationError) as info:
        api.files.upload(path)
    (issue,) = info.value.report.errors
    assert issue.line == 4 and issue.code == "first_not_user"
    assert emu.state.counts()["files"] == before


def test_missing_path_is_file_not_found(api: Any, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.jsonl"):
        api.files.upload(tmp_path / "nope.jsonl")


def test_upload_a_dataset_object(api: Any) -> None:
    data = Dataset.from_records([example("早高峰", "挤进去的是身体,挤出来的是灵魂。")] * 3)
    uploaded = api.files.upload(data)
    assert uploaded.filename.endswith(".jsonl") and uploaded.bytes > 0
