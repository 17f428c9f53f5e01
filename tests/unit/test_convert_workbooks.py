"""Workbooks as people leave them: a hidden sheet first, rows hidden by hand or by a filter, a question
merged over the rows of its answers. Nothing is read or left out without being listed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_sdk import Dataset
from finetune_sdk.data.convert import convert_file
from tests.unit._convert_help import convert

openpyxl = pytest.importorskip("openpyxl")


def prompts(written: list[dict[str, Any]]) -> list[str]:
    return [e["messages"][0]["content"] for e in written]


def test_a_hidden_first_sheet_is_skipped_for_the_first_visible_one(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    old = book.active
    old.title = "旧版"
    old.append(["问题", "答案"])
    old.append(["旧问题", "旧答案"])
    old.sheet_state = "hidden"
    new = book.create_sheet("新版")
    new.append(["问题", "答案"])
    new.append(["如何退货？", "在订单页点击“申请退货”。"])
    book.active = 1
    path = tmp_path / "知识库.xlsx"
    book.save(path)
    report, written = convert(tmp_path, path)
    assert prompts(written) == ["如何退货？"]
    assert "sheet '新版'" in report.detected
    (warning,) = report.warnings
    assert "the hidden '旧版' skipped" in warning


def test_a_workbook_whose_sheets_are_all_hidden_is_a_clear_error(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["问题", "答案"])
    book.create_sheet("其他").append(["问题", "答案"])
    book.active.sheet_state = "hidden"
    book.worksheets[1].sheet_state = "hidden"
    path = tmp_path / "hidden.xlsx"
    # openpyxl refuses to save a workbook with no visible sheet; Excel files like it exist (made by
    # scripts), so the sheet states are written into the saved file instead.
    book.worksheets[1].sheet_state = "visible"
    book.save(path)
    _hide_every_sheet(path)
    with pytest.raises(ValueError, match="every sheet of the workbook is hidden"):
        convert_file(path, tmp_path / "out.jsonl")


def _hide_every_sheet(path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    workbook = parts["xl/workbook.xml"].decode()
    parts["xl/workbook.xml"] = workbook.replace('state="visible"', 'state="hidden"').encode()
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)


def test_hidden_rows_are_read_and_listed(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["问题", "答案"])
    for number in range(1, 7):
        sheet.append([f"问题{number}", f"答案{number}"])
    for row in (3, 4, 6):  # as a filter leaves them: hidden, not deleted
        sheet.row_dimensions[row].hidden = True
    path = tmp_path / "filtered.xlsx"
    book.save(path)
    report, written = convert(tmp_path, path)
    assert len(written) == 6
    hidden = [c for c in report.changes if c.code == "hidden_row"]
    assert [c.record for c in hidden] == [3, 4, 6]
    assert hidden[0].action == "row 3 is hidden in the sheet: read like the others"
    (warning,) = [w for w in report.warnings if "hidden" in w]
    assert warning.startswith("3 hidden rows of the sheet (rows 3-4, 6) were read like the others")


def test_a_question_merged_over_two_answers_is_named_in_the_rejection(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["问题", "答案"])
    sheet.append(["怎么联系客服？", "拨打400电话。"])
    sheet.append([None, "或在App里点“在线客服”。"])
    sheet.merge_cells("A2:A3")
    sheet.append(["营业时间？", "9:00-21:00"])
    sheet.append(["以下为旧数据", None])
    sheet.merge_cells("A5:B5")  # a section title across the row: its answer cell reads empty
    sheet.append(["备注", "说明", "内部"])
    sheet.merge_cells("C6:D6")  # in columns not read: no warning of its own
    path = tmp_path / "merged.xlsx"
    book.save(path)
    report = convert_file(path, tmp_path / "out.jsonl")
    assert (report.read, report.written, report.rejected) == (5, 2, 3)
    assert [r.record for r in report.rejections] == [3, 5, 6]
    assert "merged_cell" in report.rejections[0].reason
    assert "B5 read empty: part of the merged cells A5:B5, whose value only A5 holds" in (
        report.rejections[1].reason
    )
    # A note right of the table, in a column with no header: the cell is named, and no CSV quoting advice.
    assert report.rejections[2].reason.startswith("the row has text in column C, which the header row")
    assert "delimiter" not in report.rejections[2].reason
    (warning,) = report.warnings
    assert "merged cells in the columns read (A2:A3, A5:B5)" in warning


def test_an_empty_answer_cell_is_named_as_empty_not_as_a_short_row(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["问题", "答案", "备注"])
    sheet.append(["如何开发票？", "在订单页申请。", "已审核"])
    sheet.append(["还没写答案的问题", None, None])
    path = tmp_path / "draft.xlsx"
    book.save(path)
    report = convert_file(path, tmp_path / "out.jsonl")
    (rejection,) = report.rejections
    assert rejection.record == 3
    assert rejection.code == "nothing_left"
    assert "cells" not in rejection.reason


def test_cells_as_text_are_listed_only_for_the_columns_read(tmp_path: Path) -> None:
    import datetime

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["问题", "答案", "日期", "满意度"])
    sheet.append(["退款多久到账？", "3-5个工作日。", datetime.date(2024, 5, 1), 0.95])
    sheet.append(["会员有几种？", 3, datetime.date(2024, 5, 2), 0.9])
    sheet["D2"].number_format = sheet["D3"].number_format = "0%"
    path = tmp_path / "kb.xlsx"
    book.save(path)
    report, written = convert(tmp_path, path)
    assert written[1]["messages"][1]["content"] == "3"
    listed = [(c.record, c.action) for c in report.changes if c.code == "cell_as_text"]
    assert listed == [(3, "int cells written as text")]  # the dates and the percentages were left out


def test_values_of_columns_left_out_are_not_listed_as_written(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    parquet = pytest.importorskip("pyarrow.parquet")
    table = pa.table({"问题": ["你好", "几点开门？"], "答案": ["你好！", "9"], "得分": [0.5, 0.75]})
    path = tmp_path / "pairs.parquet"
    parquet.write_table(table, path)
    report, written = convert(tmp_path, path)
    assert len(written) == 2
    assert "cell_as_text" not in report.change_counts


# An OLE2 compound file's header: what a legacy .xls and a password-protected .xlsx both start with.
_OLE_HEADER = bytes.fromhex("d0cf11e0a1b11ae1") + bytes(16) + bytes.fromhex("3e000300feff0900")


@pytest.mark.parametrize("name", ["客服问答.xls", "加密的.xlsx"])
def test_a_legacy_or_encrypted_workbook_is_named_with_what_to_do(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(_OLE_HEADER + bytes(4096))
    with pytest.raises(ValueError, match=r"Excel 97-2003 workbook \(\.xls\) or password-protected") as caught:
        convert_file(path, tmp_path / "out.jsonl")
    assert "save it as .xlsx without a password, or as CSV UTF-8" in str(caught.value)
    assert not (tmp_path / "out.jsonl").exists()
    (error,) = Dataset.validate_file(path).errors
    assert (error.code, error.line) == ("xls_file", None)


def test_a_merged_title_and_hidden_rows_above_the_header_are_not_warned_about(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["客服知识库（内部）", None])
    sheet.merge_cells("A1:B1")
    sheet.append(["导出人：张三", None])
    sheet.row_dimensions[2].hidden = True
    sheet.append(["问题", "答案"])
    sheet.append(["如何退货？", "在订单页申请。"])
    path = tmp_path / "titled.xlsx"
    book.save(path)
    report, written = convert(tmp_path, path)
    assert len(written) == 1
    assert report.change_counts["skip_title_rows"] == 1
    assert report.warnings == []


def test_a_sheet_of_notes_in_front_of_the_data_is_passed_over_and_said(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "说明"
    notes.append(["本表为客服问答数据，请勿外传。"])
    notes.append(["更新于2024年5月"])
    data = book.create_sheet("数据")
    data.append(["问题", "答案"])
    data.append(["如何开发票？", "在订单页申请。"])
    path = tmp_path / "with_notes.xlsx"
    book.save(path)
    report, written = convert(tmp_path, path)
    assert prompts(written) == ["如何开发票？"]
    assert "sheet '数据'" in report.detected
    (warning,) = report.warnings
    assert "the first whose header names prompt and response columns ('说明' has none)" in warning
