"""The files people export: Parquet and Arrow (a Hugging Face ``datasets`` export), compressed JSON and
CSV, Excel workbooks, CSV in GBK, Big5 and UTF-16, tables with Chinese or full-width headers, OpenAI chat
JSON Lines with images and weight-0 turns. Built from hand-written customer-service dialogues; each
converts with written + rejected = read and nothing lost silently."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from finetune_sdk.data.convert import FieldMap, Repairs, convert_file
from tests.unit._convert_help import contents, convert

PAIRS: list[list[str]] = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "convert" / "support_pairs.json").read_text("utf-8")
)


def chat(q: str, a: str, system: str | None = None) -> dict[str, Any]:
    messages = [{"role": "system", "content": system}] if system else []
    return {"messages": [*messages, {"role": "user", "content": q}, {"role": "assistant", "content": a}]}


# --- Parquet and Arrow ----------------------------------------------------------------------------------


def _hf_records() -> list[dict[str, Any]]:
    records = [chat(q, a) | {"source": "zendesk"} for q, a in PAIRS]
    records.append({"messages": [{"role": "narrator", "content": "旁白"}], "source": "odd"})
    records.append(
        {"messages": [{"role": "user", "content": "在吗？"}, {"role": "assistant", "content": " "}]}
    )
    return records


def test_a_hugging_face_parquet_export_with_a_messages_column(tmp_path: Path) -> None:
    pyarrow = pytest.importorskip("pyarrow")
    parquet = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "train-00000-of-00001.parquet"
    parquet.write_table(pyarrow.Table.from_pylist(_hf_records()), path, row_group_size=4)
    report, written = convert(tmp_path, path)
    assert report.source == "jsonl"
    assert "Parquet" in report.detected
    assert (report.read, report.written, report.rejected) == (12, 10, 2)
    assert report.rejection_counts == {"unknown_role": 1, "nothing_left": 1}
    assert contents(written[0]) == [("user", PAIRS[0][0]), ("assistant", PAIRS[0][1])]
    assert "source" in next(c.action for c in report.changes if c.code == "ignored_keys")


def test_an_arrow_feather_file_and_a_parquet_table_of_columns(tmp_path: Path) -> None:
    pyarrow = pytest.importorskip("pyarrow")
    feather = pytest.importorskip("pyarrow.feather")
    parquet = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "export.feather"
    feather.write_feather(pyarrow.Table.from_pylist([chat(q, a) for q, a in PAIRS]), str(path))
    report, written = convert(tmp_path, path)
    assert (report.read, report.written) == (10, 10)
    table = tmp_path / "faq.parquet"
    rows = [{"问题": q, "答案": a, "点赞": n} for n, (q, a) in enumerate(PAIRS)]
    parquet.write_table(pyarrow.Table.from_pylist(rows), table)
    report, written = convert(tmp_path, table)
    assert report.source == "table"
    assert (report.read, report.written) == (10, 10)
    assert "prompt='问题'" in report.detected
    assert contents(written[2]) == [("user", PAIRS[2][0]), ("assistant", PAIRS[2][1])]


def test_a_parquet_file_without_pyarrow_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    from finetune_sdk.data.convert import _columnar

    path = tmp_path / "x.parquet"
    path.write_bytes(b"PAR1" + b"\0" * 16 + b"PAR1")
    real = importlib.import_module

    def missing(name: str, package: str | None = None) -> Any:
        if name.startswith("pyarrow"):
            raise ImportError(name)
        return real(name, package)

    monkeypatch.setattr(_columnar.importlib, "import_module", missing)
    with pytest.raises(ImportError, match=r'pip install "finetune-sdk\[parquet\]"'):
        convert_file(path, tmp_path / "out.jsonl")
    assert not (tmp_path / "out.jsonl").exists()


# --- compressed files ------------------------------------------------------------------------------------


def _sharegpt_lines() -> bytes:
    records = [
        {"conversations": [{"from": "human", "value": q}, {"from": "gpt", "value": a}]} for q, a in PAIRS
    ]
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


@pytest.mark.parametrize(
    ("name", "pack"),
    [
        ("train.jsonl.gz", gzip.compress),
        ("train.jsonl.bz2", bz2.compress),
        ("train.jsonl.xz", lzma.compress),
        ("train.bin", gzip.compress),  # by content alone
    ],
)
def test_compressed_json_lines_are_read_as_what_they_hold(tmp_path: Path, name: str, pack: Any) -> None:
    path = tmp_path / name
    path.write_bytes(pack(_sharegpt_lines()))
    report, written = convert(tmp_path, path)
    assert report.source == "sharegpt"
    assert "compressed" in report.detected
    assert (report.read, report.written) == (10, 10)
    assert contents(written[4]) == [("user", PAIRS[4][0]), ("assistant", PAIRS[4][1])]


def test_zstd_and_a_compressed_csv(tmp_path: Path) -> None:
    zstandard = pytest.importorskip("zstandard")
    path = tmp_path / "train.jsonl.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(_sharegpt_lines()))
    report, _ = convert(tmp_path, path)
    assert (report.read, report.written) == (10, 10)
    table = tmp_path / "faq.csv.gz"
    body = "问题,答案\n" + "".join(f'"{q}","{a}"\n' for q, a in (p for p in PAIRS if '"' not in p[1]))
    table.write_bytes(gzip.compress(body.encode("utf-8")))
    report, _ = convert(tmp_path, table)
    assert report.source == "csv"
    assert report.written == report.read == 9


def test_a_compressed_parquet_file(tmp_path: Path) -> None:
    pyarrow = pytest.importorskip("pyarrow")
    parquet = pytest.importorskip("pyarrow.parquet")
    plain = tmp_path / "plain.parquet"
    parquet.write_table(pyarrow.Table.from_pylist([chat(q, a) for q, a in PAIRS]), plain)
    path = tmp_path / "train.parquet.gz"
    path.write_bytes(gzip.compress(plain.read_bytes()))
    report, _ = convert(tmp_path, path)
    assert "gzip-compressed Parquet" in report.detected
    assert report.written == 10


# --- Excel -----------------------------------------------------------------------------------------------


def test_an_excel_workbook_with_chinese_headers_numbers_and_a_blank_row(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "客服问答"
    sheet.append(["问题", "答案", "备注"])
    for q, a in PAIRS[:6]:
        sheet.append([q, a, None])
    sheet.append([])
    sheet.append(["一共有几种会员？", 3, "数字"])
    sheet.append(["只有问题没有答案", None, None])
    book.create_sheet("草稿").append(["ignored"])
    path = tmp_path / "运营问答.xlsx"
    book.save(path)
    report, written = convert(tmp_path, path)
    assert report.source == "table"
    assert "sheet '客服问答'" in report.detected
    assert (report.read, report.written, report.rejected, report.blank) == (8, 7, 1, 1)
    assert contents(written[6]) == [("user", "一共有几种会员？"), ("assistant", "3")]
    assert report.change_counts["cell_as_text"] == 1
    assert report.change_counts["ignored_columns"] == 1  # 备注 named where it held text
    assert any("the first visible one" in w for w in report.warnings)
    assert all(PAIRS[0][0] != "问题" for _ in written)  # the header row is no example
    assert contents(written[0])[0] == ("user", PAIRS[0][0])


# --- encodings -------------------------------------------------------------------------------------------


def _table(pairs: list[list[str]], header: str = "问题,答案") -> str:
    return header + "\n" + "".join(f'"{q}","{a}"\n' for q, a in pairs if '"' not in q + a)


def test_a_gbk_csv_from_excel_is_named_and_read_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "客服.csv"
    path.write_bytes(_table(PAIRS).encode("gbk"))
    with pytest.raises(ValueError, match=r"line 1 of .* is not valid UTF-8: it looks like GB18030") as caught:
        convert_file(path, tmp_path / "out.jsonl")
    assert "--encoding gb" in str(caught.value)
    assert not (tmp_path / "out.jsonl").exists()  # never converted with a guess
    report, written = convert(tmp_path, path, encoding="gbk")
    assert (report.read, report.written) == (9, 9)
    assert contents(written[0]) == [("user", PAIRS[0][0]), ("assistant", PAIRS[0][1])]
    assert "encoding" in report.change_counts


def test_big5_and_utf16_tables(tmp_path: Path) -> None:
    traditional = [
        ["我的訂單還沒發貨，怎麼辦？", "請提供訂單號，我幫您查詢物流狀態。"],
        ["退貨運費誰承擔？", "商品品質問題由我們承擔運費。"],
    ]
    big5 = tmp_path / "faq_tw.csv"
    big5.write_bytes(_table(traditional * 4, "問題,答案").encode("big5"))
    with pytest.raises(ValueError, match=r"Big5") as caught:
        convert_file(big5, tmp_path / "out.jsonl")
    assert "--encoding big5" in str(caught.value)
    wide = tmp_path / "unicode.txt"
    wide.write_bytes(_table(PAIRS).replace(",", "\t").encode("utf-16"))
    # Excel's "Unicode Text": UTF-16 with its byte order mark, read as such without being told.
    by_mark, _ = convert(tmp_path, wide, source="csv")
    assert by_mark.change_counts["encoding"] == 1
    report, written = convert(tmp_path, wide, source="csv", encoding="utf-16")
    assert (report.read, report.written) == (9, 9) == (by_mark.read, by_mark.written)
    assert contents(written[1])[0] == ("user", PAIRS[2][0])  # PAIRS[1] holds a quote: not in the table


def test_json_lines_that_are_not_utf8_are_rejected_and_the_encoding_named(tmp_path: Path) -> None:
    path = tmp_path / "gbk.jsonl"
    body = b"".join(json.dumps(chat(q, a), ensure_ascii=False).encode("gb18030") + b"\n" for q, a in PAIRS)
    path.write_bytes(body)
    report, _ = convert(tmp_path, path, source="jsonl")
    assert report.rejection_counts.get("invalid_encoding", 0) >= 5
    assert any("GB18030" in p and "--encoding gb18030" in p for p in report.problems)
    report, _ = convert(tmp_path, path, encoding="gb18030")
    assert (report.read, report.written) == (10, 10)


def test_json_lines_not_utf8_with_no_format_named_say_the_encoding_not_the_format(tmp_path: Path) -> None:
    # Detection parses nothing when no line decodes (every record holds Chinese): the error names the
    # likely encoding and the option, rather than "cannot tell the format".
    path = tmp_path / "gbk.jsonl"
    chinese = [(q, a) for q, a in PAIRS if not (q + a).isascii()]
    assert len(chinese) >= 3
    body = b"".join(json.dumps(chat(q, a), ensure_ascii=False).encode("gb18030") + b"\n" for q, a in chinese)
    path.write_bytes(body)
    with pytest.raises(ValueError, match=r"line 1 of .* is not valid UTF-8: .*--encoding gb18030") as caught:
        convert(tmp_path, path)
    assert "cannot tell the format" not in str(caught.value)
    assert not list(tmp_path.glob("*.converted*"))  # nothing written


# --- headers ---------------------------------------------------------------------------------------------


def test_chinese_headers_are_never_trained_on(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text(_table(PAIRS, "问题,答案,备注"), encoding="utf-8-sig")
    report, written = convert(tmp_path, path)
    assert report.written == report.read == len([p for p in PAIRS if '"' not in p[0] + p[1]])
    assert all(m["content"] not in ("问题", "答案") for e in written for m in e["messages"])
    assert "prompt='问题'" in report.detected


@pytest.mark.parametrize(
    "header",
    [
        "提问,回答",
        "指令,输出",
        "Question,Answer",
        "ＰＲＯＭＰＴ,ＲＥＳＰＯＮＳＥ",
        "system_prompt,Instruction,Output",
        "输入,输出",
    ],
)
def test_known_headers_in_any_case_and_width(tmp_path: Path, header: str) -> None:
    path = tmp_path / "t.csv"
    extra = "你是客服。," if header.count(",") == 2 else ""
    path.write_text(header + "\n" + f"{extra}你好,您好！\n", encoding="utf-8")
    report, written = convert(tmp_path, path)
    assert (report.read, report.written) == (1, 1)
    assert contents(written[0])[-2:] == [("user", "你好"), ("assistant", "您好！")]


def test_unsure_headers_ask_for_the_mapping(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("问题,提问,答案\n甲,乙,丙\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"2 prompt columns .*--columns prompt="):
        convert_file(path, tmp_path / "out.jsonl")
    path.write_text(_table(PAIRS[:4], "问题,客服回复"), encoding="utf-8")
    with pytest.raises(ValueError, match=r"names no response column"):
        convert_file(path, tmp_path / "out.jsonl")
    report, _ = convert(tmp_path, path, fields=FieldMap(response="客服回复"))
    assert (report.read, report.written) == (3, 3)
    report, _ = convert(tmp_path, path, fields=FieldMap(prompt="1", response="2"))
    assert (report.read, report.written) == (3, 3)  # a header that names a column is still a header


def test_json_records_with_chinese_keys_are_a_table(tmp_path: Path) -> None:
    path = tmp_path / "faq.jsonl"
    path.write_bytes(
        b"".join(orjson.dumps({"问题": q, "答案": a, "id": n}) + b"\n" for n, (q, a) in enumerate(PAIRS))
    )
    report, written = convert(tmp_path, path)
    assert report.source == "table"
    assert (report.read, report.written) == (10, 10)
    assert contents(written[9]) == [("user", PAIRS[9][0]), ("assistant", PAIRS[9][1])]


# --- OpenAI chat: images and weight 0 ---------------------------------------------------------------------


def _openai_records() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for n, (q, a) in enumerate(PAIRS):  # an earlier answer masked, the last one trained (OpenAI's usual use)
        records.append(
            {
                "messages": [
                    {"role": "system", "content": "你是网店客服。"},
                    {"role": "user", "content": "你好"},
                    {"role": "assistant", "content": f"您好，我是客服{n}号。", "weight": 0},
                    {"role": "user", "content": q},
                    {"role": "assistant", "content": a, "weight": 1},
                ]
            }
        )
    image = {"type": "image_url", "image_url": {"url": "https://example.com/box.jpg"}}
    records.append(
        {
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "包装破了，能换吗？"}, image]},
                {"role": "assistant", "content": "可以换新，请在订单里申请售后并上传照片。"},
            ]
        }
    )
    records.append(
        {"messages": [{"role": "user", "content": [image]}, {"role": "assistant", "content": "收到图片。"}]}
    )
    return records


def test_weight_zero_turns_keep_the_example(tmp_path: Path) -> None:
    path = tmp_path / "openai.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in _openai_records()[:10]))
    report, written = convert(tmp_path, path)
    assert (report.read, report.written) == (10, 10)  # none lost (the earlier "cut" lost them all)
    assert contents(written[0]) == [
        ("system", "你是网店客服。"),
        ("user", f"你好\n{PAIRS[0][0]}"),
        ("assistant", PAIRS[0][1]),
    ]
    assert all("客服0号" not in m["content"] for m in written[0]["messages"])  # never trained on
    assert report.change_counts["drop_masked"] == 10
    report, _ = convert(tmp_path, path, repairs=Repairs(masked="cut"))
    assert (report.written, report.rejection_counts) == (0, {"nothing_left": 10})
    report, _ = convert(tmp_path, path, repairs=Repairs(masked="reject"))
    assert report.rejection_counts == {"masked_turn": 10}


def test_image_parts_reject_or_drop_keeping_the_text(tmp_path: Path) -> None:
    path = tmp_path / "vision.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in _openai_records()[10:]))
    report, _ = convert(tmp_path, path)
    assert report.rejection_counts == {"non_text_part": 2}
    assert "--images drop" in report.rejections[0].reason
    report, written = convert(tmp_path, path, repairs=Repairs(images="drop"))
    assert (report.read, report.written, report.rejected) == (2, 1, 1)
    assert contents(written[0])[0] == ("user", "包装破了，能换吗？")
    assert "dropped 1 image_url part, kept its text" in next(
        c.action for c in report.changes if c.code == "drop_media_parts"
    )
    assert report.rejection_counts == {"nothing_left": 1}  # an image alone leaves no question


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('prompt,response\nq1,a1\nq2,"unclosed quote\nq3,a3\nq4,a4\n', "row 3 (from line 3)"),
        ('prompt,response\nq1,"Hi" he said\nq2,a2\n', "row 2 (from line 2)"),
        ('prompt,response\nq1,"starts quoted\nq2,a2\nq3,"x"\nq4,a4\n', "row 2 (from line 2)"),
    ],
    ids=["unclosed at the end", "text after a closing quote", "unclosed in the middle"],
)
def test_a_csv_with_bad_quoting_stops_and_names_the_row(tmp_path: Path, text: str, where: str) -> None:
    # Read leniently, such a file ran rows together into one cell, or dropped quotes, with nothing said.
    path = tmp_path / "faq.csv"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    with pytest.raises(ValueError, match=re.escape(where) + ".*quote"):
        convert_file(path, out)
    assert not out.exists()


def test_excel_cells_are_written_as_the_sheet_shows_them(tmp_path: Path) -> None:
    # Percentages, thousands, dates and long ID numbers: the text the sheet shows, no digit made up
    # (str(int(1.10105199003071e17)) would end in ...008).
    import datetime

    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["问题", "答案"])
    cells: list[tuple[str, object, str | None, str]] = [
        ("发货日期？", datetime.datetime(2024, 3, 5), "yyyy-mm-dd", "2024-03-05"),
        ("几点开门？", datetime.time(9, 30), "h:mm", "09:30"),
        ("折扣？", 0.15, "0%", "15%"),
        ("价格？", 1234.5, "#,##0.00", "1,234.50"),
        ("身份证号？", 110105199003071000.0, "0", "110105199003071000"),
        ("大数字？", 1.23456789012345e20, None, "123456789012345000000"),
        ("几件？", 3.0, None, "3"),
    ]
    for row, (question, value, number_format, _) in enumerate(cells, 2):
        sheet.append([question, value])
        if number_format is not None:
            sheet.cell(row=row, column=2).number_format = number_format
    path = tmp_path / "values.xlsx"
    book.save(path)
    report, written = convert(tmp_path, path)
    assert [contents(e)[1][1] for e in written] == [text for *_, text in cells]
    assert report.change_counts["cell_as_text"] == len(cells)  # each one listed


def test_a_compressed_workbook_is_read_and_a_broken_one_is_a_clear_error(tmp_path: Path) -> None:
    import gzip
    import zipfile

    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.append(["问题", "答案"])
    book.active.append(["在吗？", "在的"])
    plain = tmp_path / "faq.xlsx"
    book.save(plain)
    packed = tmp_path / "faq.xlsx.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    report, written = convert(tmp_path, packed)
    assert (report.read, report.written) == (1, 1) and contents(written[0])[1] == ("assistant", "在的")
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    with pytest.raises(ValueError, match=r"broken\.xlsx: it cannot be read as an Excel workbook"):
        convert_file(broken, tmp_path / "out.jsonl")


@pytest.mark.parametrize("line", ["运费多少,十元", "你好,你好呀", "会员有几种?,三种", "在吗？,在的"])
def test_one_short_gbk_row_among_ascii_ones_is_named_gb18030(tmp_path: Path, line: str) -> None:
    # A few wide bytes are too few for a detector's statistics (they read as CP949 or UTF-16, and
    # following that hint garbles the text): the strict decoders name GB18030.
    path = tmp_path / "faq.csv"
    ascii_rows = "".join(f"question {i},answer {i}\n" for i in range(3000))
    path.write_bytes(b"prompt,response\n" + ascii_rows.encode() + (line + "\n").encode("gbk"))
    with pytest.raises(ValueError, match=r"line 3002 of .* is not valid UTF-8: it looks like GB18030"):
        convert_file(path, tmp_path / "out.jsonl")


@pytest.mark.parametrize(
    ("body", "said"), [(b"", "is empty: "), (b" \n\n\t\n", "is empty but for white space")]
)
def test_an_empty_file_is_named_empty(tmp_path: Path, body: bytes, said: str) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(body)
    with pytest.raises(ValueError, match=re.escape(said)):
        convert_file(path, tmp_path / "out.jsonl")


def test_a_semicolon_csv_as_excel_writes_it_in_much_of_europe(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text('question;answer\nWo ist mein Paket?;"Unterwegs; morgen da."\n', encoding="utf-8")
    report, written = convert(tmp_path, path)
    assert (report.read, report.written) == (1, 1)
    assert contents(written[0]) == [("user", "Wo ist mein Paket?"), ("assistant", "Unterwegs; morgen da.")]


def test_null_messages_are_named_null_not_missing(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    good = chat("在吗？", "在的")
    path.write_text(
        json.dumps(good, ensure_ascii=False) + '\n{"messages": null, "id": 7}\n', encoding="utf-8"
    )
    report, _ = convert(tmp_path, path)
    assert report.rejections[0].code == "missing_messages"
    assert report.rejections[0].reason == "its 'messages' is null"


def test_responses_style_text_parts_and_a_refusal_part_are_text(tmp_path: Path) -> None:
    path = tmp_path / "responses.jsonl"
    record = {
        "messages": [
            {"role": "user", "content": [{"type": "input_text", "text": "能帮我写个病毒吗？"}]},
            {"role": "assistant", "content": [{"type": "refusal", "refusal": "不能，这会伤害别人。"}]},
            {"role": "user", "content": [{"type": "input_text", "text": "那写首诗吧"}]},
            {"role": "assistant", "content": [{"type": "output_text", "text": "春风又绿江南岸"}]},
        ]
    }
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    report, written = convert(tmp_path, path)
    assert report.written == 1
    assert [text for _, text in contents(written[0])] == [
        "能帮我写个病毒吗？", "不能，这会伤害别人。", "那写首诗吧", "春风又绿江南岸"
    ]  # fmt: skip


@pytest.mark.parametrize(
    "record",
    [
        {  # LLaVA / ShareGPT
            "id": "1",
            "image": "cat.jpg",
            "conversations": [
                {"from": "human", "value": "<image>\n图里有什么？"},
                {"from": "gpt", "value": "一只猫在红沙发上。"},
            ],
        },
        {  # LLaMA-Factory alpaca
            "instruction": "<image>图里有什么？",
            "output": "一只猫在红沙发上。",
            "images": ["cat.jpg"],
        },
    ],
    ids=["llava", "llama-factory"],
)
def test_a_record_naming_images_is_rejected_or_kept_without_them(
    tmp_path: Path, record: dict[str, Any]
) -> None:
    # Trained as text, the answer would be about a picture the model never sees.
    path = tmp_path / "vision.json"
    path.write_text(json.dumps([record], ensure_ascii=False), encoding="utf-8")
    report, written = convert(tmp_path, path)
    assert (report.written, report.rejection_counts) == (0, {"non_text_part": 1})
    assert "--images drop" in report.rejections[0].reason
    report, written = convert(tmp_path, path, repairs=Repairs(images="drop"))
    assert contents(written[0]) == [("user", "图里有什么？"), ("assistant", "一只猫在红沙发上。")]
    assert report.change_counts["drop_media_parts"] == 1
