"""convert_file on the hand-written samples of every format: what is written, what is rejected and why,
and that written + rejected = read with every output example valid."""

from __future__ import annotations

import contextlib
import csv
import io
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest

from finetune_sdk import Dataset, OutputConflictError
from finetune_sdk.data.convert import ConversionReport, FieldMap, Repairs, convert_file

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "convert"

#: sample -> (source detected, read, written, rejected codes by record)
EXPECTED: dict[str, tuple[str, int, int, dict[int, str]]] = {
    "sharegpt.json": ("sharegpt", 7, 5, {6: "nothing_left", 7: "unknown_role"}),
    "sharegpt.jsonl": ("sharegpt", 4, 3, {5: "invalid_json"}),
    "alpaca.json": ("alpaca", 5, 4, {4: "nothing_left"}),
    "alpaca.jsonl": ("alpaca", 3, 2, {3: "invalid_history"}),
    "openai.jsonl": ("openai", 6, 4, {4: "nothing_left", 5: "non_text_part"}),
    "chat.csv": ("csv", 4, 3, {6: "nothing_left"}),
    "chat.tsv": ("csv", 3, 3, {}),
    "guide.jsonl": ("jsonl", 5, 4, {6: "several_system"}),
}


def lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def run(tmp_path: Path, name: str, **options: Any) -> tuple[ConversionReport, list[dict[str, Any]]]:
    out = tmp_path / "out.jsonl"
    report = convert_file(SAMPLES / name, out, rejects=tmp_path / "rejects.jsonl", **options)
    return report, lines(out)


def messages(example: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in example["messages"]]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_sample_converts_to_a_valid_file_and_loses_no_record(tmp_path: Path, name: str) -> None:
    source, read, written, rejected = EXPECTED[name]
    report, examples = run(tmp_path, name)
    assert report.source == source
    assert report.detected.startswith("auto")
    assert (report.read, report.written) == (read, written)
    assert {r.record: r.code for r in report.rejections} == rejected
    assert report.written + report.rejected == report.read
    assert report.balanced
    assert len(examples) == written
    validated = Dataset.validate_file(tmp_path / "out.jsonl")
    assert validated.ok, validated.summary()
    assert validated.stats.examples == written
    rejects = lines(tmp_path / "rejects.jsonl")
    assert [r["record"] for r in rejects] == list(rejected)
    assert all(r["reason"] and r["input"] is not None for r in rejects)


def test_sharegpt_roles_system_tools_and_turns(tmp_path: Path) -> None:
    report, examples = run(tmp_path, "sharegpt.json")
    assert messages(examples[0])[0] == (
        "system",
        "你是一家网店的客服，回答简洁礼貌。",
    )  # the top-level system
    assert messages(examples[1]) == [  # greeting dropped, two answers merged, unanswered "Thanks!" dropped
        ("user", "How do I reset my password?"),
        (
            "assistant",
            'Open Settings > Account > Security and click "Reset password".\n'
            "You'll get an email with a link that stays valid for 30 minutes.",
        ),
    ]
    system, *turns = messages(examples[2])  # the tool definitions come with the calls, as Qwen2.5 shows them
    assert system[0] == "system"
    assert '{"name": "get_weather", "description": "Weather forecast"' in system[1]
    assert turns == [
        ("user", "What's the weather in Beijing tomorrow?"),
        (
            "assistant",
            '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Beijing", "date": '
            '"tomorrow"}}\n</tool_call>',
        ),
        ("user", '<tool_response>\n{"condition": "sunny", "high_c": 24, "low_c": 13}\n</tool_response>'),
        ("assistant", "Tomorrow in Beijing: sunny, between 13 and 24 °C."),
    ]
    assert messages(examples[3]) == [
        ("user", "把“今天天气很好”翻译成英文。\n要口语一点的。"),
        ("assistant", "It's a lovely day today!"),
    ]
    assert messages(examples[4])[0] == ("system", "你是一位古典诗人。")  # moved first
    by_record: dict[int | None, set[str]] = {}
    for change in report.changes:
        by_record.setdefault(change.record, set()).add(change.code)
    assert by_record[1] == {"top_level_system", "ignored_keys", "map_roles"}
    assert by_record[2] == {"map_roles", "merge_turns", "drop_leading_assistant", "drop_trailing_user"}
    assert {"render_tool_calls", "render_tool_result", "trim", "render_tool_definitions"} <= by_record[3]
    assert {"drop_empty_turn", "merge_turns"} <= by_record[4]
    assert "move_system" in by_record[5]
    assert 6 not in by_record and 7 not in by_record  # rejected records' changes are not listed as made
    reason = {r.record: r.reason for r in report.rejections}
    assert "drop_empty_turn" in reason[6]
    assert "narrator" in reason[7]


def test_an_unknown_role_maps_with_a_field_map(tmp_path: Path) -> None:
    report, examples = run(tmp_path, "sharegpt.json", fields=FieldMap(roles={"narrator": "system"}))
    assert report.rejected == 1
    assert messages(examples[-1])[0] == ("system", "The scene opens in a library.")


def test_openai_parts_developer_tool_calls_and_masked_turns(tmp_path: Path) -> None:
    report, examples = run(tmp_path, "openai.jsonl")
    assert messages(examples[0]) == [
        ("system", "You answer questions about the Acme API."),
        ("user", "How do I list my files?\nI use Python."),
        ("assistant", "Call client.files.list(); it returns the files, newest first."),
    ]
    assert messages(examples[1])[1:3] == [
        (
            "assistant",
            '<tool_call>\n{"name": "get_weather", "arguments": {"city": "北京", "date": "明天"}}'
            "\n</tool_call>",
        ),
        ("user", '<tool_response>\n{"condition": "小雨", "rain_mm": 3}\n</tool_response>'),
    ]
    # the weight-0 answer is removed and its question, left last, too; the weight-1 pair is kept
    assert messages(examples[2]) == [
        ("system", "You are a math tutor."),
        ("user", "What is 12 * 13?"),
        ("assistant", "156."),
    ]
    assert all("170" not in m["content"] for e in examples for m in e["messages"])
    # two calls in one assistant turn, two results in one user turn, as Qwen2.5's template renders them
    assert messages(examples[3])[1:3] == [
        (
            "assistant",
            'Searching both.\n<tool_call>\n{"name": "search", "arguments": {"q": "retry"}}\n'
            '</tool_call>\n<tool_call>\n{"name": "search", "arguments": {"q": "timeout"}}\n</tool_call>',
        ),
        (
            "user",
            "<tool_response>\nretries: 3 by default\n</tool_response>\n<tool_response>\ntimeout: 300 s\n"
            "</tool_response>",
        ),
    ]
    codes = {c.code for c in report.changes}
    assert {
        "developer_to_system",
        "join_parts",
        "drop_masked",
        "render_tool_calls",
        "render_tool_result",
    } <= codes


def test_masked_reject_rejects_instead_of_cutting(tmp_path: Path) -> None:
    report, _ = run(tmp_path, "openai.jsonl", repairs=Repairs(masked="reject"))
    assert {r.record: r.code for r in report.rejections}[3] == "masked_turn"
    assert "cut_masked" not in {c.code for c in report.changes}


def test_tools_drop_removes_calls_and_results(tmp_path: Path) -> None:
    report, examples = run(tmp_path, "openai.jsonl", repairs=Repairs(tools="drop"))
    assert messages(examples[1]) == [
        ("user", "北京明天会下雨吗？"),
        ("assistant", "明天北京有小雨，约 3 毫米，出门记得带伞。"),
    ]
    assert all("<tool_" not in m["content"] for e in examples for m in e["messages"])
    assert "drop_tool_turn" in {c.code for c in report.changes}


def test_alpaca_input_history_and_system(tmp_path: Path) -> None:
    _, examples = run(tmp_path, "alpaca.json")
    assert messages(examples[0])[0] == ("user", "把下面的句子改写得更正式。\n这个方案不太行，得改改。")
    assert messages(examples[1])[0] == ("system", "You are a concise editor.")
    assert [r for r, _ in messages(examples[2])] == ["user", "assistant", "user", "assistant"]
    assert messages(examples[2])[0] == ("user", "《论语》里最有名的两句话是什么？")


def test_csv_keeps_quoted_newlines_and_reads_a_tsv_without_header(tmp_path: Path) -> None:
    report, examples = run(tmp_path, "chat.csv")
    assert messages(examples[1]) == [
        ("user", "写一首两行的小诗，\n主题是雨。"),
        ("assistant", "细雨敲窗夜未眠，\n一灯如豆照书前。"),
    ]
    assert "header" in report.detected
    assert report.blank == 1
    report, examples = run(tmp_path, "chat.tsv")
    assert "no header" in report.detected
    assert messages(examples[2]) == [("user", 'Say "hello" in Spanish.'), ("assistant", "Hola.")]


@pytest.mark.parametrize(
    ("switch", "code"),
    [
        ("trim", "trim"),
        ("move_system", "move_system"),
        ("merge_turns", "merge_turns"),
        ("drop_blank", "drop_blank"),
    ],
)
def test_a_repair_turned_off_rejects_instead(tmp_path: Path, switch: str, code: str) -> None:
    on, _ = run(tmp_path, "guide.jsonl")
    off, examples = run(tmp_path, "guide.jsonl", repairs=Repairs(**{switch: False}))
    assert code in {c.code for c in on.changes}
    assert code not in {c.code for c in off.changes}
    assert off.balanced
    if switch == "trim":  # trimming is cosmetic: the record is still valid untrimmed
        assert messages(examples[0])[0] == ("user", "  Hello \n")
    else:
        assert off.rejected == on.rejected + 1


@pytest.mark.parametrize(
    ("switch", "sample", "record", "code"),
    [
        ("map_roles", "sharegpt.jsonl", 1, "invalid_role"),
        ("drop_leading_assistant", "sharegpt.json", 2, "first_not_user"),
        ("drop_trailing_user", "sharegpt.jsonl", 3, "unpaired"),
        ("drop_empty_turns", "sharegpt.json", 6, "invalid_content"),
        ("join_parts", "openai.jsonl", 1, "content_parts"),
        ("developer_to_system", "openai.jsonl", 1, "developer_role"),
    ],
)
def test_each_repair_off_leaves_the_record_rejected_with_its_reason(
    tmp_path: Path, switch: str, sample: str, record: int, code: str
) -> None:
    report, _ = run(tmp_path, sample, repairs=Repairs(**{switch: False}))
    assert {r.record: r.code for r in report.rejections}[record] == code
    assert report.balanced


def test_bom_is_stripped_and_listed(tmp_path: Path) -> None:
    report, _ = run(tmp_path, "sharegpt.jsonl")
    assert report.changes[0].record is None
    assert report.changes[0].code == "strip_bom"
    report, _ = run(tmp_path, "sharegpt.jsonl", repairs=Repairs(strip_bom=False))
    assert {r.record: r.code for r in report.rejections}[1] == "invalid_json"


def input_strings(name: str) -> str:
    """Every string of a sample as its reader sees it (JSON strings decoded, CSV cells unquoted)."""
    text = (SAMPLES / name).read_text(encoding="utf-8-sig")
    if name.endswith((".csv", ".tsv")):
        return "\n".join(
            cell
            for row in csv.reader(io.StringIO(text), delimiter="\t" if name.endswith(".tsv") else ",")
            for cell in row
        )
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.append(value)
            with contextlib.suppress(orjson.JSONDecodeError):  # a JSON string holding JSON (arguments)
                walk(orjson.loads(value))
        elif isinstance(value, dict):
            for key, item in value.items():
                found.append(key)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif value is not None:
            found.append(orjson.dumps(value).decode())

    records = [text] if name.endswith(".json") else text.splitlines()
    for record in records:
        with contextlib.suppress(orjson.JSONDecodeError):
            walk(orjson.loads(record))
    return "\n".join(found)


def test_nothing_is_invented(tmp_path: Path) -> None:
    """Every output content is made of input text, newlines and the template's tool tags and JSON (with
    the tool definitions off: their fixed text is the template's)."""
    for name in EXPECTED:
        source = input_strings(name)
        _, examples = run(tmp_path, name, repairs=Repairs(tool_definitions="drop"))
        for example in examples:
            for message in example["messages"]:
                text = message["content"]
                for tag in ("<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"):
                    text = text.replace(tag, "\n")
                for raw in text.split("\n"):
                    piece = raw.strip()
                    if piece.startswith('{"name": '):  # a rendered call: every string in it is the input's
                        call = orjson.loads(piece)
                        assert call["name"] in source
                        assert all(str(v) in source for v in call["arguments"].values()), (name, piece)
                        continue
                    assert piece in source, (name, piece)


def test_it_refuses_to_overwrite_its_input(tmp_path: Path) -> None:
    src = shutil.copy(SAMPLES / "guide.jsonl", tmp_path / "guide.jsonl")
    with pytest.raises(OutputConflictError, match="is the input"):
        convert_file(src, src)
    with pytest.raises(OutputConflictError, match="is the input"):
        convert_file(src, tmp_path / "out.jsonl", rejects=src)
    with pytest.raises(OutputConflictError, match="are one file"):
        convert_file(src, tmp_path / "out.jsonl", rejects=tmp_path / "out.jsonl")
    assert (tmp_path / "guide.jsonl").read_bytes() == (SAMPLES / "guide.jsonl").read_bytes()


def test_an_undetectable_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_text('{"q": "a", "r": "b"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"cannot tell the format.*source="):
        convert_file(path, tmp_path / "out.jsonl")
    assert not (tmp_path / "out.jsonl").exists()


def test_a_field_map_reads_other_key_names(tmp_path: Path) -> None:
    path = tmp_path / "dialogs.jsonl"
    path.write_bytes(
        orjson.dumps(
            {
                "dialog": [
                    {"speaker": "Kunde", "text": "Wo ist mein Paket?"},
                    {"speaker": "Bot", "text": "Es kommt morgen."},
                ]
            }
        )
        + b"\n"
    )
    fields = FieldMap(
        messages="dialog", role="speaker", content="text", roles={"Kunde": "user", "Bot": "assistant"}
    )
    report = convert_file(path, tmp_path / "out.jsonl", source="openai", fields=fields)
    assert report.written == 1
    assert messages(lines(tmp_path / "out.jsonl")[0]) == [
        ("user", "Wo ist mein Paket?"),
        ("assistant", "Es kommt morgen."),
    ]


def test_a_dry_run_writes_nothing_and_previews(tmp_path: Path) -> None:
    from finetune_sdk.data.convert import Preview

    previews: list[Preview] = []
    report = convert_file(SAMPLES / "guide.jsonl", None, preview=2, previews=previews)
    assert report.dry_run
    assert report.written == 4
    assert [p.record for p in previews] == [1, 2]
    assert previews[1].messages[0] == {"role": "system", "content": "Answer with a number only."}
    assert list(tmp_path.iterdir()) == []


def test_the_lists_stop_at_max_listed_but_the_counts_and_the_listener_see_all(tmp_path: Path) -> None:
    from finetune_sdk.data.convert import Change, Rejection

    seen: list[Change | Rejection] = []
    full = convert_file(SAMPLES / "sharegpt.json", tmp_path / "a.jsonl")
    capped = convert_file(
        SAMPLES / "sharegpt.json", tmp_path / "b.jsonl", max_listed=2, on_change=seen.append
    )
    assert len(full.changes) > 2
    assert len(capped.changes) == 2
    assert len(capped.rejections) == 2
    assert not capped.listed_all
    assert full.listed_all
    assert capped.change_counts == full.change_counts
    assert capped.rejected == full.rejected == 2
    assert [c for c in seen if isinstance(c, Change)] == full.changes
    assert [r for r in seen if isinstance(r, Rejection)] == full.rejections
    assert capped.balanced


def test_a_csv_that_cannot_be_read_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(b"prompt,response\nq1,a1\nq2,\xff\xfe\n")
    with pytest.raises(ValueError, match=r"line 3 of .*broken.csv is not valid UTF-8"):
        convert_file(path, tmp_path / "out.jsonl")
    assert not (tmp_path / "out.jsonl").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["broken.csv"]  # no temporary file left


def test_a_json_array_not_closed_keeps_its_last_element_as_a_reject(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text('[{"instruction": "a", "output": "b"}, {"instruction": "c", "out', encoding="utf-8")
    report = convert_file(path, tmp_path / "out.jsonl", rejects=tmp_path / "rejects.jsonl")
    assert (report.read, report.written, report.rejected) == (2, 1, 1)
    assert report.problems == ["the JSON array is not closed: the file ends before its ']'"]
    assert lines(tmp_path / "rejects.jsonl")[0]["input"] == '{"instruction": "c", "out'


def test_tool_definitions_are_rendered_with_the_calls_as_qwen_does_or_left_out_with_a_warning(
    tmp_path: Path,
) -> None:
    report, examples = run(tmp_path, "sharegpt.json", repairs=Repairs(tool_definitions="drop"))
    assert "tools" in next(c.action for c in report.changes if c.record == 3 and c.code == "ignored_keys")
    assert messages(examples[2])[0][0] == "user"
    assert report.change_counts["no_tool_definitions"] == 1
    assert any("tool calls but not the definitions" in w for w in report.warnings)
    report, examples = run(tmp_path, "sharegpt.json")
    system = messages(examples[2])[0]
    assert system[0] == "system"
    assert system[1].startswith(
        "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.\n\n# Tools\n\n"
        "You may call one or more functions to assist with the user query.\n\nYou are provided with function "
        'signatures within <tools></tools> XML tags:\n<tools>\n{"name": "get_weather", "description": '
        '"Weather forecast", "parameters": '
    )
    assert system[1].endswith(
        "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
        '<tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": '
        "<args-json-object>}\n</tool_call>"
    )
    assert any(c.record == 3 and c.code == "render_tool_definitions" for c in report.changes)
    path = tmp_path / "with_system.jsonl"
    record = {
        "tools": [{"type": "function", "function": {"name": "now", "parameters": {}}}],
        "messages": [{"role": "system", "content": "Be exact."}, {"role": "user", "content": "Time?"},
                     {"role": "assistant", "content": "12:00"}],
    }  # fmt: skip
    path.write_bytes(orjson.dumps(record) + b"\n")
    convert_file(path, tmp_path / "o.jsonl", repairs=Repairs(tool_definitions="render"))
    content = lines(tmp_path / "o.jsonl")[0]["messages"][0]["content"]
    assert content.startswith("Be exact.\n\n# Tools\n")
    assert '{"type": "function", "function": {"name": "now", "parameters": {}}}' in content


def test_csv_columns_named_otherwise_are_read_with_a_field_map(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text('Frage,Antwort\n"Wie spät ist es?","Zwölf Uhr."\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"looks like a header of names that are not known.*--columns"):
        convert_file(path, tmp_path / "a.jsonl")  # never trained on as an example
    assert not (tmp_path / "a.jsonl").exists()
    report = convert_file(path, tmp_path / "b.jsonl", fields=FieldMap(prompt="Frage", response="Antwort"))
    assert (report.read, report.written) == (1, 1)
    assert "header" in report.detected
    assert messages(lines(tmp_path / "b.jsonl")[0]) == [
        ("user", "Wie spät ist es?"),
        ("assistant", "Zwölf Uhr."),
    ]


def test_the_output_gets_a_usual_mode_and_a_missing_folder_is_named(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    convert_file(SAMPLES / "guide.jsonl", out)
    assert out.stat().st_mode & 0o777 == 0o644
    out.chmod(0o640)
    convert_file(SAMPLES / "guide.jsonl", out)
    assert out.stat().st_mode & 0o777 == 0o640
    with pytest.raises(FileNotFoundError) as caught:
        convert_file(SAMPLES / "guide.jsonl", tmp_path / "nowhere" / "out.jsonl")
    assert caught.value.filename == str(tmp_path / "nowhere")
