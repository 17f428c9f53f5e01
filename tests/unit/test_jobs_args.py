from __future__ import annotations

from pathlib import Path

import pytest

from finetune_sdk import Dataset
from finetune_sdk._core.create import _to_upload
from finetune_sdk._core.create import job_id_of as _job_id


def test_file_ids_and_paths_are_told_apart(tmp_path: Path) -> None:
    assert _to_upload("file-abc123") is None
    assert _to_upload("train.jsonl") == "train.jsonl"
    assert _to_upload("data/train.txt") == "data/train.txt"
    existing = tmp_path / "notes"
    existing.write_text("x")
    assert _to_upload(str(existing)) == str(existing)
    assert _to_upload(tmp_path / "t.jsonl") == tmp_path / "t.jsonl"
    data = Dataset.from_records(
        [{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}]
    )
    assert _to_upload(data) is data


@pytest.mark.parametrize("bad", ["", "a/b", "..", "x?y", "a#b", "a b"])
def test_bad_job_ids(bad: str) -> None:
    with pytest.raises(ValueError, match="job id"):
        _job_id(bad)


def test_a_job_id_must_be_a_string() -> None:
    with pytest.raises(TypeError, match="job id must be a string"):
        _job_id(42)  # type: ignore[arg-type]
