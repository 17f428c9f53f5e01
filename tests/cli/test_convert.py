"""``finetune convert``: the real entry point in a subprocess, on the hand-written samples."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from finetune_sdk import Dataset
from tests.cli.conftest import Run

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "convert"


def test_convert_counts_changes_by_code_lists_rejects_and_writes_a_valid_file(
    offline: Run, tmp_path: Path
) -> None:
    src = SAMPLES / "sharegpt.json"
    out, rejects, changes = tmp_path / "train.jsonl", tmp_path / "rejects.jsonl", tmp_path / "changes.jsonl"
    result = offline(
        "convert", str(src), "-o", str(out), "--rejects", str(rejects), "--changes", str(changes)
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith(f"{src}:7: rejected: unknown_role: ") for line in lines)
    assert (
        f"{src} (sharegpt: auto: a JSON array, a 'conversations' key in the first records): read 7 records, "
        "wrote 5, rejected 2 (nothing_left 1, unknown_role 1)" in lines
    )
    assert "  map_roles: 5 changes" in lines  # one line per code, not one per record
    assert not any(": map_roles: " in line for line in lines)
    logged = [orjson.loads(x) for x in changes.read_bytes().splitlines()]
    assert {
        "record": 2,
        "code": "drop_leading_assistant",
        "action": "removed message 0: an assistant turn before any user turn",
    } in logged
    assert sum(1 for c in logged if c["code"] == "map_roles") == 5
    assert (
        lines[-1] == f"wrote 5 examples to {out}, 2 rejects to {rejects}, {len(logged)} changes to {changes}"
    )
    assert Dataset.validate_file(out).ok
    assert [orjson.loads(x)["record"] for x in rejects.read_bytes().splitlines()] == [6, 7]


def test_quiet_prints_one_line(offline: Run, tmp_path: Path) -> None:
    result = offline("convert", str(SAMPLES / "sharegpt.json"), "-o", str(tmp_path / "t.jsonl"), "-q")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1
    assert "read 7 records, wrote 5, rejected 2" in result.stdout


def test_an_output_not_ending_in_jsonl_is_refused_before_any_work(offline: Run, tmp_path: Path) -> None:
    result = offline("convert", str(SAMPLES / "sharegpt.json"), "-o", str(tmp_path / "out.json"))
    assert result.returncode == 2
    assert "does not end in .jsonl" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_same_file_twice_is_a_usage_error(offline: Run, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = offline("convert", str(SAMPLES / "sharegpt.json"), "-o", str(out), "--rejects", str(out))
    assert result.returncode == 2
    assert "are one file" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_convert_from_and_repair_switches(offline: Run, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = offline(
        "convert",
        str(SAMPLES / "openai.jsonl"),
        "-o",
        str(out),
        "--from",
        "openai",
        "--masked",
        "reject",
        "--tools",
        "drop",
        "--no-repair",
        "join_parts",
    )
    assert result.returncode == 0, result.stderr
    assert ":3: rejected: masked_turn: " in result.stdout
    assert ":1: rejected: content_parts: " in result.stdout
    assert "<tool_call>" not in out.read_text(encoding="utf-8")


def test_dry_run_shows_records_and_writes_nothing(offline: Run, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = offline("convert", str(SAMPLES / "guide.jsonl"), "-o", str(out), "--dry-run", "--show", "1")
    assert result.returncode == 0, result.stderr
    assert "--- record 1: trim" in result.stdout
    assert "--- record 2" not in result.stdout
    every = offline("convert", str(SAMPLES / "sharegpt.json"), "--dry-run", "--show", "7")
    shown = [line for line in every.stdout.splitlines() if line.startswith("--- record ")]
    assert len(shown) == 7  # whatever their state: changed, unchanged or rejected
    assert shown[5].startswith("--- record 6: rejected: nothing_left: ")
    assert '"content": "Hello"' in result.stdout
    assert "would write 4" in result.stdout
    assert not out.exists()


def test_json_report_and_the_identity(offline: Run, tmp_path: Path) -> None:
    result = offline("convert", str(SAMPLES / "chat.csv"), "-o", str(tmp_path / "o.jsonl"), "--json")
    report = orjson.loads(result.stdout)
    assert report["source"] == "csv"
    assert report["written"] + report["rejected"] == report["read"] == 4
    assert report["balanced"] is True


def test_no_output_and_nothing_converted_exit_1(offline: Run, tmp_path: Path) -> None:
    missing = offline("convert", str(SAMPLES / "guide.jsonl"))
    assert missing.returncode == 1
    assert "error: give the file to write with -o" in missing.stderr
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    nothing = offline("convert", str(empty), "-o", str(tmp_path / "o.jsonl"), "--from", "jsonl")
    assert nothing.returncode == 1
    assert "read 0 records, wrote 0" in nothing.stdout


def test_validate_names_the_format_and_all_issues(offline: Run, tmp_path: Path) -> None:
    chats = tmp_path / "chats.jsonl"
    chats.write_bytes((SAMPLES / "sharegpt.jsonl").read_bytes())
    result = offline("validate", str(chats))
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        f"{chats}: looks_like_sharegpt: the file looks like ShareGPT data, not the platform's messages "
        f"format: convert it with `finetune convert {chats} -o {tmp_path / 'chats'}.converted.jsonl`"
    )
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(orjson.dumps({"messages": [{"role": "User", "content": ""}]}) + b"\n")
    first, every = offline("validate", str(bad)), offline("validate", str(bad), "--all-issues")
    assert [line.split(": ")[1] for line in first.stdout.splitlines()[:1]] == ["invalid_role"]
    assert [line.split(": ")[1] for line in every.stdout.splitlines()[:2]] == [
        "invalid_role",
        "invalid_content",
    ]


def test_columns_fields_roles_and_encoding_on_the_command_line(offline: Run, tmp_path: Path) -> None:
    table = tmp_path / "客服.csv"
    table.write_bytes("编号,客户说,客服答\n1,在吗？,在的，请问有什么可以帮您？\n".encode("gbk"))
    out = tmp_path / "t.jsonl"
    guessed = offline("convert", str(table), "-o", str(out))
    assert guessed.returncode == 1
    assert "--encoding gb18030" in guessed.stderr
    result = offline(
        "convert",
        str(table),
        "-o",
        str(out),
        "--encoding",
        "gbk",
        "--columns",
        "prompt=客户说,response=客服答",
    )
    assert result.returncode == 0, result.stderr
    assert orjson.loads(out.read_bytes())["messages"][0] == {"role": "user", "content": "在吗？"}
    dialog = tmp_path / "dialog.jsonl"
    dialog.write_text(
        '{"dialog": [{"speaker": "Kunde", "text": "Wo ist mein Paket?"}, '
        '{"speaker": "Bot", "text": "Morgen."}]}\n',
        encoding="utf-8",
    )
    result = offline(
        "convert", str(dialog), "-o", str(out), "--from", "openai", "--field", "messages=dialog",
        "--field", "role=speaker", "--field", "content=text", "--role", "Kunde=user",
        "--role", "Bot=assistant",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert orjson.loads(out.read_bytes())["messages"][1] == {"role": "assistant", "content": "Morgen."}
    bad = offline("convert", str(dialog), "-o", str(out), "--columns", "answer=x")
    assert bad.returncode == 2
    assert "'answer' is none of prompt, response, system, input" in bad.stderr


def test_masked_help_docs_and_code_say_the_same(offline: Run) -> None:
    from finetune_sdk.data.convert import Repairs
    from finetune_sdk.data.convert._repairs import MASKED_RULES

    docs = (Path(__file__).resolve().parents[2] / "docs" / "datasets.md").read_text(encoding="utf-8")
    help_text = " ".join(offline("convert", "--help").stdout.split())
    for rule in MASKED_RULES.values():
        assert rule in help_text
        assert rule in " ".join(docs.split())
        assert rule in " ".join((Repairs.__doc__ or "").split())


def test_validate_prints_the_format_first_and_only_a_few_line_errors(offline: Run, tmp_path: Path) -> None:
    array = tmp_path / "chats.json"
    rows = [
        {"conversations": [{"from": "human", "value": f"问题{i}"}, {"from": "gpt", "value": "答案"}]}
        for i in range(120)
    ]
    array.write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")
    result = offline("validate", str(array))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{array}: json_array: the file is one JSON array of ShareGPT records")
    assert "`finetune convert " in lines[0]
    assert len(lines) <= 10  # was 114: 99 invalid_json lines and a block of zero statistics
    assert sum(": invalid_json: " in line for line in lines) == 5
    assert "more line errors" in lines[-2]
    assert not any(line.startswith("examples: ") for line in lines)
    every = offline("validate", str(array), "--all-issues")
    assert sum(": invalid_json: " in line for line in every.stdout.splitlines()) > 90


@pytest.mark.parametrize("command", ["stats", "split", "dedupe"])
def test_other_data_commands_print_a_json_array_as_briefly_as_validate(
    offline: Run, tmp_path: Path, command: str
) -> None:
    array = tmp_path / "chats.json"
    rows = [
        {"conversations": [{"from": "human", "value": f"问{i}"}, {"from": "gpt", "value": "答"}]}
        for i in range(60)
    ]
    array.write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")
    result = offline(command, str(array))
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert "json_array" in lines[0] and "`finetune convert " in lines[0]  # the way forward comes first
    assert len(lines) <= 10 and sum(": invalid_json: " in line for line in lines) == 5


def test_images_drop_on_the_command_line(offline: Run, tmp_path: Path) -> None:
    src = tmp_path / "vision.jsonl"
    image = {"type": "image_url", "image_url": {"url": "https://example.com/box.jpg"}}
    parts = [{"type": "text", "text": "包装破了，能换吗？"}, image]
    src.write_bytes(
        orjson.dumps(
            {"messages": [{"role": "user", "content": parts}, {"role": "assistant", "content": "可以。"}]}
        )
        + b"\n"
    )
    out = tmp_path / "out.jsonl"
    rejected = offline("convert", str(src), "-o", str(out))
    assert rejected.returncode == 1
    assert "--images drop" in rejected.stdout
    kept = offline("convert", str(src), "-o", str(out), "--images", "drop")
    assert kept.returncode == 0, kept.stderr
    assert "  drop_media_parts: 1 change" in kept.stdout.splitlines()
    assert orjson.loads(out.read_bytes())["messages"][0] == {"role": "user", "content": "包装破了，能换吗？"}


def test_convert_header_row_skips_the_title_rows(offline: Run, tmp_path: Path) -> None:
    src = tmp_path / "faq.csv"
    src.write_text("客服问答导出,2024-03\n作者,小王\n问题,答案\n在吗？,在的\n", "utf-8")
    out = tmp_path / "train.jsonl"
    result = offline("convert", str(src), "-o", str(out))
    assert result.returncode == 1 and "--header-row 3" in result.stderr, result.stderr
    result = offline("convert", str(src), "-o", str(out), "--header-row", "3")
    assert result.returncode == 0, result.stderr
    assert "  skip_title_rows: 1 change" in result.stdout.splitlines()
    assert [m["content"] for m in orjson.loads(out.read_bytes())["messages"]] == ["在吗？", "在的"]
