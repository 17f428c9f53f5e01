"""Dataset.validate_file: every code from a file that triggers it, valid files, limits and edges."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_sdk.data import Dataset, ValidationIssue, ValidationReport

DATA = Path(__file__).parent.parent / "data" / "dataset"
VALID = sorted((DATA / "valid").glob("*.jsonl"))

OK_LINE = '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}'

# fixture name -> (code, index of the message to blame); the bad line is always line 2
LINE_CODES = {
    "invalid_encoding": ("invalid_encoding", None),
    "invalid_encoding_surrogate": ("invalid_encoding", None),
    "blank_line": ("blank_line", None),
    "blank_line_cr": ("blank_line", None),
    "invalid_json": ("invalid_json", None),
    "invalid_json_nan": ("invalid_json", None),
    "invalid_json_infinity": ("invalid_json", None),
    "not_an_object": ("not_an_object", None),
    "missing_messages": ("missing_messages", None),
    "messages_not_list": ("messages_not_list", None),
    "empty_messages": ("empty_messages", None),
    "invalid_message": ("invalid_message", 1),
    "missing_field": ("missing_field", 1),
    "invalid_role": ("invalid_role", 0),
    "invalid_role_not_string": ("invalid_role", 0),
    "invalid_content": ("invalid_content", 0),
    "invalid_content_blank": ("invalid_content", 1),
    "system_not_first": ("system_not_first", 1),
    "first_not_user": ("first_not_user", 1),
    "not_alternating": ("not_alternating", 1),
    "unpaired": ("unpaired", 2),
    "unpaired_no_pair": ("unpaired", None),
}


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_files_pass(path: Path) -> None:
    report = Dataset.validate_file(path)
    assert report.ok, str(report)
    assert report.errors == []
    assert report.stats.examples == 2
    assert report.lines == 2
    assert not report.truncated


@pytest.mark.parametrize(("name", "expected"), LINE_CODES.items(), ids=list(LINE_CODES))
def test_each_code_from_a_file(name: str, expected: tuple[str, int | None]) -> None:
    report = Dataset.validate_file(DATA / "invalid" / f"{name}.jsonl")
    assert not report.ok
    assert len(report.errors) == 1, str(report)
    issue = report.errors[0]
    assert (issue.line, issue.code, issue.index) == (2, *expected)
    assert issue.message
    assert report.stats.examples == 2  # the good lines around it still count
    assert report.lines == 3


def test_emulator_interface_max_errors_1() -> None:
    report = Dataset.validate_file(DATA / "invalid" / "invalid_role.jsonl", max_errors=1)
    assert isinstance(report, ValidationReport)
    assert report.ok is False
    [issue] = report.errors
    assert isinstance(issue, ValidationIssue)
    assert issue.line == 2
    assert issue.code == "invalid_role"
    assert isinstance(issue.message, str)
    assert issue.index == 0
    assert report.truncated  # line 3 was not read
    assert report.lines == 2


def test_blank_last_line() -> None:
    report = Dataset.validate_file(DATA / "invalid" / "blank_line_at_end.jsonl")
    assert [(e.line, e.code) for e in report.errors] == [(2, "blank_line")]


def test_empty_file() -> None:
    report = Dataset.validate_file(DATA / "invalid" / "empty_file.jsonl")
    assert [(e.line, e.code) for e in report.errors] == [(None, "empty_file")]
    assert report.stats.examples == 0


def test_only_blank_lines_is_also_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "blank.jsonl"
    path.write_bytes(b"\n \n")
    report = Dataset.validate_file(path)
    assert [(e.line, e.code) for e in report.errors] == [
        (1, "blank_line"),
        (2, "blank_line"),
        (None, "empty_file"),
    ]


def test_wrong_extension() -> None:
    report = Dataset.validate_file(DATA / "invalid" / "wrong_extension.json")
    assert [(e.line, e.code) for e in report.errors] == [(None, "wrong_extension")]
    assert report.stats.examples == 1  # the content is still checked


def test_filename_overrides_the_extension_check(tmp_path: Path) -> None:
    path = tmp_path / "upload-1234"
    path.write_text(OK_LINE + "\n")
    assert not Dataset.validate_file(path).ok
    assert Dataset.validate_file(path, filename="train.jsonl").ok


def test_missing_file_raises() -> None:
    with pytest.raises(FileNotFoundError):
        Dataset.validate_file(DATA / "no-such-file.jsonl")


def test_max_errors_stops_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("[]\n" * 10)
    report = Dataset.validate_file(path, max_errors=3)
    assert [e.line for e in report.errors] == [1, 2, 3]
    assert report.truncated
    assert "stopped early" in report.summary()
    full = Dataset.validate_file(path)
    assert len(full.errors) == 10
    assert not full.truncated


def test_max_errors_on_the_last_line_is_not_truncated(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(OK_LINE + "\n[]\n")
    report = Dataset.validate_file(path, max_errors=1)
    assert len(report.errors) == 1
    assert not report.truncated


def test_max_errors_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_errors"):
        Dataset.validate_file(DATA / "valid" / "crlf.jsonl", max_errors=0)


def test_line_numbers_across_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from finetune_sdk.data import _lines

    monkeypatch.setattr(_lines, "BLOCK_SIZE", 7)  # every line spans several blocks
    path = tmp_path / "d.jsonl"
    path.write_bytes(("\n".join([OK_LINE, OK_LINE, "[]", OK_LINE, "", OK_LINE])).encode())
    report = Dataset.validate_file(path)
    assert [(e.line, e.code) for e in report.errors] == [(3, "not_an_object"), (5, "blank_line")]
    assert report.stats.examples == 4
    assert report.lines == 6


def test_report_json_and_summary() -> None:
    report = Dataset.validate_file(DATA / "invalid" / "not_alternating.jsonl")
    data = json.loads(report.model_dump_json())
    assert data["ok"] is False
    assert data["errors"][0]["code"] == "not_alternating"
    assert data["path"].endswith("not_alternating.jsonl")
    assert "2: not_alternating: message 1 comes from user" in report.summary()
    assert str(report) == report.summary()
    assert ValidationReport.model_validate_json(report.model_dump_json()) == report


def test_unknown_keys_are_a_warning() -> None:
    report = Dataset.validate_file(DATA / "valid" / "extra_keys.jsonl")
    assert report.ok
    [warning] = report.warnings
    assert (warning.code, warning.line) == ("unknown_keys", 1)
    assert "1 example has other keys" in warning.message
