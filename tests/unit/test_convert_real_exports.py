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
from finetune_sdk.data.convert import Repairs, convert_file
from tests.unit._convert_help import contents, convert, lines

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
    assert reasons[5][0] == "nothing_left"  # an empty answer cell, as in a CSV row "空的？,"
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


# --- A title above the header ----------------------------------------------------------------------------


def _titled_workbook(path: Path, *above: list[Any]) -> Path:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    for row in above:
        sheet.append(row)
    sheet.append(["问题", "答案", "备注"])
    sheet.append(["发票怎么开？", "在“我的订单”里点“申请发票”。"])
    sheet.append(["会员有几种？", "三种", "常见"])
    book.save(path)
    return path


def test_a_header_below_a_title_and_a_blank_row_is_found_and_the_rows_above_listed(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    src = _titled_workbook(tmp_path / "title.xlsx", ["客服问答导出 2024-03"], [])
    book = openpyxl.load_workbook(src)
    book.active.merge_cells("A1:C1")  # the title spread over the table, as exports do
    book.save(src)
    report, written = convert(tmp_path, src)
    assert [contents(w)[0] for w in written] == [("user", "发票怎么开？"), ("user", "会员有几种？")]
    assert (report.read, report.blank) == (2, 0)
    (skip,) = [c for c in report.changes if c.code == "skip_title_rows"]
    assert skip.record is None
    assert skip.action == "skipped rows 1-2, above the header (row 3): '客服问答导出 2024-03', (blank)"
    assert {c.record for c in report.changes if c.code == "ignored_columns"} == {5}  # rows keep their numbers


def test_a_csv_with_a_title_and_a_date_line_above_a_semicolon_header(tmp_path: Path) -> None:
    src = tmp_path / "faq.csv"
    src.write_text("客服问答导出\n导出日期 2024-03-01\n\n问题;答案\n在吗？;在的\n运费多少;十元\n", "utf-8")
    report, written = convert(tmp_path, src)
    assert contents(written[0]) == [("user", "在吗？"), ("assistant", "在的")]
    assert report.change_counts["skip_title_rows"] == 1
    assert "'客服问答导出', '导出日期 2024-03-01', (blank)" in report.changes[0].action


def test_a_long_title_row_is_shortened_in_the_change(tmp_path: Path) -> None:
    src = _titled_workbook(tmp_path / "t.xlsx", ["标题" * 50])
    report, _ = convert(tmp_path, src)
    action = next(c.action for c in report.changes if c.code == "skip_title_rows")
    assert action.endswith("...'") and len(action) < 120


def test_the_header_row_given_skips_what_is_above_it(tmp_path: Path) -> None:
    from finetune_sdk.data.convert import FieldMap

    # Two cells of text above the header: not clearly a title, so the header is not looked for there
    src = _titled_workbook(tmp_path / "t.xlsx", ["客服问答导出", "2024-03"], ["作者", "小王", "审核"])
    with pytest.raises(
        ValueError, match=r"row 3 \('问题', '答案', '备注'\) looks like the header.*--header-row 3"
    ):
        convert_file(src, tmp_path / "out.jsonl")
    report, _ = convert(tmp_path, src, fields=FieldMap(header_row=3))
    assert (report.read, report.written) == (2, 2)
    assert "rows 1-2, above the header (row 3): '客服问答导出 | 2024-03', '作者 | 小王 | 审核'" in (
        report.changes[0].action
    )
    report, _ = convert(tmp_path, src, fields=FieldMap(header_row=3, prompt="1", response="2"))
    assert report.written == 2  # by position too, the header row given is no example


def test_a_header_row_that_is_not_one_or_not_there_is_a_clear_error(tmp_path: Path) -> None:
    from finetune_sdk.data.convert import FieldMap

    src = _titled_workbook(tmp_path / "t.xlsx", ["客服问答导出"])
    with pytest.raises(
        ValueError, match=r"row 1, the header row given \(header_row=1\): its cells \('客服问答导出'\)"
    ):
        convert_file(src, tmp_path / "out.jsonl", fields=FieldMap(header_row=1))
    with pytest.raises(ValueError, match="has 4 rows: there is no header row 9"):
        convert_file(src, tmp_path / "out.jsonl", fields=FieldMap(header_row=9))
    with pytest.raises(ValueError, match=r"no column is named '客户说' in the first 10 rows.*--header-row N"):
        convert_file(src, tmp_path / "out.jsonl", fields=FieldMap(prompt="客户说", response="答案"))
    with pytest.raises(ValueError, match="header_row is a row number from 1, got 0"):
        convert_file(src, tmp_path / "out.jsonl", fields=FieldMap(header_row=0))
    records = tmp_path / "r.jsonl"
    records.write_text(json.dumps({"问题": "在吗？", "答案": "在的"}) + "\n", "utf-8")
    with pytest.raises(ValueError, match=r"is for CSV, TSV and Excel tables; .* holds JSON records"):
        convert_file(records, tmp_path / "out.jsonl", fields=FieldMap(header_row=2))


def test_a_table_without_a_header_anywhere_points_to_the_header_row(tmp_path: Path) -> None:
    src = tmp_path / "t.csv"
    src.write_text("客服问答导出\n在吗？\n运费多少\n", "utf-8")
    report, _ = convert(tmp_path, src)
    assert {r.code for r in report.rejections} == {"no_columns"}
    assert (
        "a header below a title, give its row: header_row=N (--header-row N)" in report.rejections[0].reason
    )


# --- JSON arrays one per line ----------------------------------------------------------------------------


def _sharegpt(i: int) -> dict[str, Any]:
    return {"conversations": [{"from": "human", "value": f"问题{i}"}, {"from": "gpt", "value": f"答案{i}"}]}


@pytest.mark.parametrize("source", ["auto", "sharegpt"])
def test_json_arrays_one_per_line_are_all_read_in_order(tmp_path: Path, source: str) -> None:
    src = tmp_path / "two.json"  # cat a.json b.json, each array written on one line
    src.write_text(
        json.dumps([_sharegpt(0)]) + "\n" + json.dumps([_sharegpt(1), _sharegpt(2)]) + "\n", "utf-8"
    )
    report, written = convert(tmp_path, src, source=source)
    assert (report.read, report.written) == (3, 3)
    assert [w["messages"][0]["content"] for w in written] == ["问题0", "问题1", "问题2"]
    assert report.change_counts["join_arrays"] == 1
    if source == "auto":
        assert report.detected.startswith("auto: JSON arrays, one per line, a 'conversations' key")


def test_a_line_that_is_not_an_array_of_records_is_rejected_with_its_line(tmp_path: Path) -> None:
    rows = [
        json.dumps([_sharegpt(0), 5]),
        json.dumps(_sharegpt(1)),  # an object on its own line
        "[]",
        "",
        "[{broken",
        json.dumps(["a", "b"]),
        json.dumps([_sharegpt(2)]),
    ]
    src = tmp_path / "mixed.json"
    src.write_text("\n".join(rows) + "\n", "utf-8")
    report, written = convert(tmp_path, src)
    assert [w["messages"][0]["content"] for w in written] == ["问题0", "问题2"]
    assert (report.read, report.blank) == (6, 2)
    found = {r.record: (r.code, r.reason) for r in report.rejections}
    assert found[2] == ("not_an_object", "the record is a JSON int, not an object (line 1, element 2)")
    assert found[3][0] == "not_an_array" and found[3][1].startswith("the line is a JSON object, not an array")
    assert found[3][1].endswith("(line 2)")
    assert found[6][0] == "invalid_json" and found[6][1].endswith("(line 5)")
    assert found[7][0] == "not_an_array" and "an array holding no object" in found[7][1]
    kept = {r["record"]: r["input"] for r in lines(tmp_path / "rejects.jsonl")}
    assert kept[3] == _sharegpt(1) and kept[6] == "[{broken" and kept[7] == ["a", "b"]


def test_validate_names_arrays_one_per_line_for_what_they_are(tmp_path: Path) -> None:
    src = tmp_path / "two.jsonl"
    src.write_text(json.dumps([_sharegpt(0)]) + "\n" + json.dumps([_sharegpt(1)]) + "\n", "utf-8")
    codes = {e.code: e.message for e in Dataset.validate_file(src).errors}
    assert "the file holds JSON arrays of ShareGPT records, one per line" in codes["json_array"]


def test_a_weight_on_a_user_message_is_listed_when_left_out(tmp_path: Path) -> None:
    src = tmp_path / "w.jsonl"
    record = {
        "messages": [{"role": "user", "content": "q", "weight": 0}, {"role": "assistant", "content": "a"}]
    }
    src.write_text(json.dumps(record) + "\n", "utf-8")
    report, written = convert(tmp_path, src)
    assert contents(written[0]) == [("user", "q"), ("assistant", "a")]
    assert [c.action for c in report.changes if c.code == "ignored_keys"] == [
        "left out the weight 0 of message 0 (user): only assistant turns are weighted"
    ]


def test_a_json_array_with_an_element_cut_short_keeps_the_elements_after_it(tmp_path: Path) -> None:
    turns = [[{"from": "human", "value": f"q{i}"}, {"from": "gpt", "value": f"a{i}"}] for i in range(5)]
    elements = [json.dumps({"conversations": t}) for t in turns]
    elements[2] = elements[2][:-5]  # cut inside its last string, as an interrupted export leaves it
    src = tmp_path / "cut.json"
    src.write_text("[\n" + ",\n".join(elements) + "\n]", encoding="utf-8")
    report = convert_file(src, tmp_path / "cut.jsonl")
    assert (report.read, report.written, len(report.rejections)) == (5, 4, 1)
    assert report.rejections[0].record == 3
    written = [orjson.loads(line) for line in (tmp_path / "cut.jsonl").read_bytes().splitlines()]
    assert [w["messages"][0]["content"] for w in written] == ["q0", "q1", "q3", "q4"]
