"""Files as real exports make them: sheets with a title above the header, JSON arrays one per line, OpenAI's
older function-calling format, workbooks whose formulas were never computed. Each converts with written +
rejected = read, every change listed and every record left out kept with its reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from finetune_sdk import Dataset
from finetune_sdk.data.convert import ConversionReport, Repairs, convert_file


def lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(x) for x in path.read_bytes().splitlines()]


def convert(tmp_path: Path, src: Path, **options: Any) -> tuple[ConversionReport, list[dict[str, Any]]]:
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


# --- OpenAI's older function calling ---------------------------------------------------------------------

_WEATHER = {
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}
LEGACY = {
    "messages": [
        {"role": "user", "content": "巴黎天气怎么样？"},
        {"role": "assistant", "function_call": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
        {"role": "function", "name": "get_weather", "content": '{"temp": 20}'},
        {"role": "assistant", "content": "巴黎现在20°C。"},
    ],
    "functions": [_WEATHER],
}


def test_legacy_function_calls_are_rendered_as_tool_calls(tmp_path: Path) -> None:
    src = tmp_path / "legacy.jsonl"
    src.write_text(json.dumps(LEGACY) + "\n", "utf-8")
    report, written = convert(tmp_path, src)
    assert (report.written, report.source) == (1, "openai")
    roles = [m["role"] for m in written[0]["messages"]]
    assert roles == ["system", "user", "assistant", "user", "assistant"]
    system, _, call, result, answer = (m["content"] for m in written[0]["messages"])
    assert json.dumps({"type": "function", "function": _WEATHER}, ensure_ascii=False) in system
    assert call == '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
    assert result == '<tool_response>\n{"temp": 20}\n</tool_response>'
    assert answer == "巴黎现在20°C。"
    codes = report.change_counts
    for code in (
        "function_call",
        "functions_as_tools",
        "map_roles",
        "render_tool_calls",
        "render_tool_result",
    ):
        assert codes[code] == 1, code
    assert "message 1" in next(c.action for c in report.changes if c.code == "function_call")


def test_legacy_function_calls_follow_the_tools_choice(tmp_path: Path) -> None:
    src = tmp_path / "legacy.jsonl"
    src.write_text(json.dumps(LEGACY) + "\n", "utf-8")
    report, written = convert(tmp_path, src, repairs=Repairs(tools="drop"))
    assert contents(written[0]) == [("user", "巴黎天气怎么样？"), ("assistant", "巴黎现在20°C。")]
    assert report.change_counts["drop_tool_turn"] == 2
    assert "functions" in next(c.action for c in report.changes if c.code == "ignored_keys")
    report, written = convert(tmp_path, src, repairs=Repairs(tool_definitions="drop"))
    assert written[0]["messages"][0]["role"] == "user"
    assert report.change_counts["no_tool_definitions"] == 1


@pytest.mark.parametrize(
    ("change", "code"),
    [({"function_call": "get_weather"}, "invalid_tool_call"), ({"functions": {"a": 1}}, "invalid_tools")],
)
def test_broken_legacy_function_calls_are_rejected_with_the_reason(
    tmp_path: Path, change: dict[str, Any], code: str
) -> None:
    record = json.loads(json.dumps(LEGACY))
    if "function_call" in change:
        record["messages"][1]["function_call"] = change["function_call"]
    else:
        record.update(change)
    src = tmp_path / "legacy.jsonl"
    src.write_text(json.dumps(record) + "\n", "utf-8")
    report, _ = convert(tmp_path, src)
    assert [r.code for r in report.rejections] == [code]


# --- Excel formulas never computed -----------------------------------------------------------------------


def test_a_formula_without_a_saved_value_is_named_with_its_cell(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["问题", "答案", "备注"])
    sheet.append(["一加二？", "=1+2"])  # written by a library: no value is saved beside the formula
    sheet.append(["=A2", "三"])
    sheet.append(["会员有几种？", "三种", "=B4"])  # a formula in a column not read: the row is written
    styled = sheet.cell(row=5, column=2)
    sheet.cell(row=5, column=1, value="空的？")
    styled.number_format = "0.00"  # a cell with a style and no value: in the file, not a formula
    book.save(tmp_path / "formula.xlsx")
    report, written = convert(tmp_path, tmp_path / "formula.xlsx")
    assert [contents(w) for w in written] == [[("user", "会员有几种？"), ("assistant", "三种")]]
    reasons = {r.record: (r.code, r.reason) for r in report.rejections}
    assert reasons[2][0] == reasons[3][0] == "formula_without_value"
    assert reasons[2][1].startswith("cell B2 holds a formula (=1+2) with no saved value")
    assert "cell A3 holds a formula (=A2)" in reasons[3][1]
    assert "Excel or LibreOffice" in reasons[2][1]
    assert reasons[5][0] == "missing_field"  # an empty cell, said as before
    kept = {r["record"]: r for r in lines(tmp_path / "rejects.jsonl")}
    assert kept[2]["input"] == ["一加二？"]


def test_a_workbook_without_empty_cells_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    from finetune_sdk.data.convert import _columnar

    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["问题", "答案"], ["在吗？", "在的"], [None, None], ["运费多少", "十元"]):
        sheet.append(row)
    book.save(tmp_path / "plain.xlsx")
    opened: list[bool] = []
    real = _columnar.Formulas.of
    monkeypatch.setattr(_columnar.Formulas, "of", lambda *a: opened.append(True) or real(*a))
    report, _ = convert(tmp_path, tmp_path / "plain.xlsx")
    assert (report.written, report.blank, opened) == (2, 1, [])
