"""What the converter's tests share: a conversion checked for nothing lost, and its written examples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from finetune_sdk import Dataset
from finetune_sdk.data.convert import ConversionReport, convert_file


def lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(x) for x in path.read_bytes().splitlines()]


def convert(tmp_path: Path, src: Path, **options: Any) -> tuple[ConversionReport, list[dict[str, Any]]]:
    """Convert ``src`` in ``tmp_path``: every record written or rejected (and kept), every example written
    valid; the report and the examples written."""
    out = tmp_path / "out.jsonl"
    rejects = tmp_path / "rejects.jsonl"
    report = convert_file(src, out, rejects=rejects, **options)
    assert report.written + report.rejected == report.read
    written = lines(out)
    assert len(written) == report.written
    assert len(lines(rejects)) == report.rejected
    if written:
        assert Dataset.validate_file(out).ok
    return report, written


def contents(example: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in example["messages"]]
