"""What validate_file says about a file in another format, every issue of a line, the ignored keys; and
the in-memory Dataset.from_sharegpt / from_alpaca / from_csv."""

from __future__ import annotations

import shutil
from pathlib import Path

import anyio
import orjson
import pytest

from finetune_sdk import Dataset, DatasetValidationError
from finetune_sdk.data.convert import Repairs

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "convert"


def copy(tmp_path: Path, sample: str, name: str) -> Path:
    return Path(shutil.copy(SAMPLES / sample, tmp_path / name))


@pytest.mark.parametrize(
    ("sample", "name", "code"),
    [
        ("sharegpt.json", "chats.json", "json_array"),
        ("alpaca.json", "alpaca.jsonl", "json_array"),
        ("sharegpt.jsonl", "chats.jsonl", "looks_like_sharegpt"),
        ("alpaca.jsonl", "alpaca.jsonl", "looks_like_alpaca"),
        ("chat.csv", "chat.csv", "csv_file"),
        ("chat.tsv", "chat.tsv", "csv_file"),
    ],
)
def test_another_format_gets_a_file_level_code_naming_the_command(
    tmp_path: Path, sample: str, name: str, code: str
) -> None:
    path = copy(tmp_path, sample, name)
    report = Dataset.validate_file(path)
    found = [e for e in report.errors if e.code == code]
    assert len(found) == 1
    assert found[0].line is None
    assert f"`finetune convert {path} -o " in found[0].message
    assert not report.ok


def test_the_array_code_names_the_records_inside(tmp_path: Path) -> None:
    report = Dataset.validate_file(copy(tmp_path, "sharegpt.json", "a.json"))
    assert (
        "JSON array of ShareGPT records" in next(e for e in report.errors if e.code == "json_array").message
    )


def test_a_platform_file_gets_no_format_code(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"messages": [{"role": "user", "content": "q"}]}\n', encoding="utf-8")
    report = Dataset.validate_file(path)
    assert [e.code for e in report.errors] == ["unpaired"]


def test_all_issues_lists_every_broken_rule_of_a_line(tmp_path: Path) -> None:
    path = tmp_path / "multi.jsonl"
    lines = [
        {
            "messages": [
                {"role": "User", "content": ""},
                {"role": "assistant", "content": 5},
                {"role": "user"},
            ]
        },
        {"messages": [{"role": "user", "content": " "}, {"role": "user", "content": "b"}]},
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]},
    ]
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")
    first = Dataset.validate_file(path)
    every = Dataset.validate_file(path, all_issues=True)
    assert [(e.line, e.code) for e in first.errors] == [(1, "invalid_role"), (2, "invalid_content")]
    assert [(e.line, e.code, e.index) for e in every.errors] == [
        (1, "invalid_role", 0),
        (1, "invalid_content", 0),
        (1, "invalid_content", 1),
        (1, "missing_field", 2),
        (2, "invalid_content", 0),
        (2, "not_alternating", 1),  # the order, though a content was bad too
    ]
    assert every.stats.examples == 1


def test_all_issues_in_async_too(tmp_path: Path) -> None:
    path = tmp_path / "multi.jsonl"
    path.write_bytes(orjson.dumps({"messages": [{"role": "x", "content": 1}]}) + b"\n")

    async def main() -> list[str]:
        report = await Dataset.avalidate_file(path, all_issues=True)
        return [e.code for e in report.errors]

    assert anyio.run(main) == ["invalid_role", "invalid_content"]


def test_weight_and_top_level_system_get_warnings_saying_what_is_lost(tmp_path: Path) -> None:
    path = tmp_path / "w.jsonl"
    lines = [
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "weight": 1}]},
        {
            "system": "Be brief.",
            "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "b"}],
        },
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "c", "weight": 0}]},
    ]
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")
    report = Dataset.validate_file(path)
    assert report.ok
    by_code = {w.code: w for w in report.warnings}
    assert by_code["ignored_weight"].line == 3
    assert "1 turn marked weight 0 (first at line 3) would be trained on" in by_code["ignored_weight"].message
    assert by_code["ignored_system"].line == 2
    assert "system prompt is lost" in by_code["ignored_system"].message


def test_from_sharegpt_alpaca_csv(tmp_path: Path) -> None:
    records = [{"conversations": [{"from": "human", "value": "你好"}, {"from": "gpt", "value": "你好！"}]}]
    assert Dataset.from_sharegpt(records)[0].messages[1].content == "你好！"
    alpaca = Dataset.from_alpaca([{"instruction": "Add", "input": "2 and 3", "output": "5"}])
    assert alpaca[0].messages[0].content == "Add\n2 and 3"
    csv = Dataset.from_csv(SAMPLES / "chat.tsv")
    assert len(csv) == 3
    path = tmp_path / "chats.json"
    path.write_bytes(
        orjson.dumps(
            [
                {
                    "conversations": [
                        {"from": "gpt", "value": "Hi!"},
                        {"from": "human", "value": "Hey"},
                        {"from": "gpt", "value": "Yes?"},
                    ]
                }
            ]
        )
    )
    assert [m.role for m in Dataset.from_sharegpt(path)[0].messages] == ["user", "assistant"]
    with pytest.raises(DatasetValidationError):
        Dataset.from_sharegpt(path, repairs=Repairs(drop_leading_assistant=False))


def test_from_sharegpt_raises_with_the_rejected_records(tmp_path: Path) -> None:
    with pytest.raises(DatasetValidationError) as caught:
        Dataset.from_sharegpt(SAMPLES / "sharegpt.json")
    assert [(e.line, e.code) for e in caught.value.report.errors] == [
        (6, "nothing_left"),
        (7, "unknown_role"),
    ]


# --- every format the converter reads has its hint ------------------------------------------------------

PAIR = {"messages": [{"role": "user", "content": "在吗？"}, {"role": "assistant", "content": "在的。"}]}


def _jsonl(n: int = 30) -> bytes:
    return b"".join(orjson.dumps(PAIR) + b"\n" for _ in range(n))


def _shapes(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    import bz2
    import gzip
    import lzma
    import zipfile

    made: dict[str, tuple[Path, str]] = {}
    for name, pack, word in (
        ("train.jsonl.gz", gzip.compress, "gzip"),
        ("train.jsonl.bz2", bz2.compress, "bz2"),
        ("train.jsonl.xz", lzma.compress, "xz"),
        ("train.jsonl", gzip.compress, "gzip"),  # by content, whatever the name
    ):
        path = tmp_path / name
        path.write_bytes(pack(_jsonl()))
        made[name] = (path, f"compressed_file:{word}")
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("train.jsonl", _jsonl())
    made["data.zip"] = (archive, "zip_file:ZIP")
    return made


def test_binary_and_compressed_files_are_named_as_what_they_are(tmp_path: Path) -> None:
    for name, (path, expected) in _shapes(tmp_path).items():
        code, word = expected.split(":")
        report = Dataset.validate_file(path)
        assert [e.code for e in report.errors] == [code], name
        assert word in report.errors[0].message
        assert report.lines == 0  # its bytes are not read as lines
        if code != "zip_file":
            assert "`finetune convert " in report.errors[0].message


def test_parquet_arrow_and_excel_hints(tmp_path: Path) -> None:
    pyarrow = pytest.importorskip("pyarrow")
    parquet = pytest.importorskip("pyarrow.parquet")
    feather = pytest.importorskip("pyarrow.feather")
    openpyxl = pytest.importorskip("openpyxl")
    table = pyarrow.Table.from_pylist([PAIR] * 3)
    parquet.write_table(table, tmp_path / "train.parquet")
    feather.write_feather(table, str(tmp_path / "train.feather"))
    book = openpyxl.Workbook()
    book.active.append(["问题", "答案"])
    book.save(tmp_path / "faq.xlsx")
    for name, code, extra in (
        ("train.parquet", "parquet_file", "[parquet]"),
        ("train.feather", "arrow_file", "[parquet]"),
        ("faq.xlsx", "xlsx_file", "[xlsx]"),
    ):
        report = Dataset.validate_file(tmp_path / name)
        assert [e.code for e in report.errors] == [code]
        assert extra in report.errors[0].message


def test_openai_tables_and_encodings_have_hints(tmp_path: Path) -> None:
    openai = tmp_path / "openai.jsonl"
    parts = {"role": "user", "content": [{"type": "text", "text": "你好"}]}
    openai.write_bytes(orjson.dumps({"messages": [parts, {"role": "assistant", "content": "您好"}]}) + b"\n")
    assert Dataset.validate_file(openai).errors[0].code == "looks_like_openai"
    table = tmp_path / "faq.jsonl"
    table.write_bytes(orjson.dumps({"问题": "在吗？", "答案": "在的。"}) + b"\n")
    assert Dataset.validate_file(table).errors[0].code == "looks_like_table"
    gbk = tmp_path / "gbk.jsonl"
    gbk.write_bytes(
        orjson.dumps(PAIR).decode().encode("gb18030") * 1 + b"\n" + _jsonl(5).decode().encode("gbk")
    )
    first = Dataset.validate_file(gbk).errors[0]
    assert first.code == "not_utf8"
    assert "--encoding gb18030" in first.message
    wide = tmp_path / "wide.jsonl"
    wide.write_bytes(_jsonl(3).decode().encode("utf-16"))
    # A byte order mark names UTF-16 for sure: convert reads it so, with no --encoding to give.
    hint = Dataset.validate_file(wide).errors[0]
    assert hint.code == "not_utf8"
    assert "UTF-16 text (its byte order mark says so)" in hint.message
    assert "--encoding" not in hint.message
    without_bom = tmp_path / "wide_le.jsonl"
    without_bom.write_bytes(_jsonl(3).decode().encode("utf-16-le"))
    assert "--encoding utf-16-le" in Dataset.validate_file(without_bom).errors[0].message


def test_a_broken_platform_line_is_not_taken_for_openai(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(orjson.dumps({"messages": [{"role": "user", "content": 5}]}) + b"\n")
    assert [e.code for e in Dataset.validate_file(path).errors] == ["invalid_content"]


def test_the_bytes_of_a_compressed_upload_are_named_too() -> None:
    import gzip

    report = Dataset.validate_file(gzip.compress(_jsonl(3)), filename="train.jsonl.gz")
    assert [e.code for e in report.errors] == ["compressed_file"]
    assert "gzip" in report.errors[0].message


def test_a_zstd_file_is_named_with_its_extra(tmp_path: Path) -> None:
    zstandard = pytest.importorskip("zstandard")
    path = tmp_path / "train.jsonl.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(_jsonl(3)))
    report = Dataset.validate_file(path)
    assert [e.code for e in report.errors] == ["compressed_file"]
    assert "zstd-compressed" in report.errors[0].message
    assert '"finetune-sdk[zstd]"' in report.errors[0].message
