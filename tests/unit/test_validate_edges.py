"""validate_file on edges the data side must hold: the same report whatever the number of worker
processes when ``max_errors`` cuts the reading short, and second passes that skip lines too long to hold."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from finetune_sdk import Dataset
from finetune_sdk.data import _validate

OK = json.dumps({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]})
EXTRA = json.dumps(
    {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], "k": 1}
)


@pytest.mark.parametrize("max_errors", [1, 2, 3])
@pytest.mark.parametrize("workers", [2, 3, 6])
def test_a_truncated_report_is_the_same_with_worker_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, max_errors: int, workers: int
) -> None:
    monkeypatch.setattr(_validate, "MIN_BYTES_PER_WORKER", 1)
    path = tmp_path / "cut.jsonl"
    path.write_text("\n".join([OK, OK, "", EXTRA, "", OK, "{", OK]) + "\n")
    one = Dataset.validate_file(path, workers=1, max_errors=max_errors)
    many = Dataset.validate_file(path, workers=workers, max_errors=max_errors)
    assert one.truncated
    assert many.model_dump() == one.model_dump()


def test_the_cut_report_counts_only_the_lines_before_the_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_validate, "MIN_BYTES_PER_WORKER", 1)
    path = tmp_path / "cut.jsonl"
    path.write_text("\n".join([OK, OK, "", EXTRA, "", OK]) + "\n")
    report = Dataset.validate_file(path, workers=3, max_errors=2)
    assert (report.lines, report.stats.examples, report.stats.duplicate_examples) == (5, 3, 2)


def test_second_passes_skip_lines_over_the_limit(tmp_path: Path) -> None:
    long = json.dumps(
        {
            "messages": [{"role": "user", "content": "x" * 500}, {"role": "bot", "content": "y"}],
            "system": "s",
        }
    )
    path = tmp_path / "long.jsonl"
    path.write_text("\n".join([EXTRA, long, json.dumps({"messages": [], "system": "s"})]) + "\n")
    report = Dataset.validate_file(path, max_line_bytes=200, all_issues=True)
    assert [e.code for e in report.errors if e.line == 2] == ["line_too_long"]
    assert [e.line for e in report.errors] == [2, 3, 3]  # every issue of line 3
    system = next(w for w in report.warnings if w.code == "ignored_system")
    assert system.line == 3  # the long line was not read again
    assert system.message.startswith("1 example has")


class _Trickle(io.RawIOBase):
    """A stream that hands out one byte per read, as a slow pipe may."""

    def __init__(self, data: bytes) -> None:
        self.inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self.inner.read(1)


def test_a_bom_read_one_byte_at_a_time_is_still_a_bom() -> None:
    line = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n'
    trickled = Dataset.validate_file(_Trickle(b"\xef\xbb\xbf" + line * 2), filename="a.jsonl")  # type: ignore[arg-type]
    whole = Dataset.validate_file(b"\xef\xbb\xbf" + line * 2, filename="a.jsonl")
    assert trickled.ok and whole.ok
    assert trickled.errors == whole.errors == []
    assert trickled.stats is not None and trickled.stats.examples == 2
