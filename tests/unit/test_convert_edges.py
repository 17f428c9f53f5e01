"""Hostile and unusual inputs to convert_file and validate_file: every one ends as a typed issue, a listed
change or a rejected record with its reason, never an exception from inside and never a silent loss."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import orjson
import pytest

from finetune_sdk import Dataset, OutputConflictError
from finetune_sdk.data.convert import Repairs, _run, convert_file

OK = {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}
SHAREGPT = {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"}]}


def write(path: Path, data: str | bytes) -> Path:
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def lines(path: Path) -> list[Any]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def convert(tmp_path: Path, src: Path, **options: Any) -> tuple[Any, list[Any], list[Any]]:
    out, bad = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    report = convert_file(src, out, rejects=bad, **options)
    assert report.balanced
    return report, lines(out), lines(bad)


# --- content that used to raise TypeError ---------------------------------------------------------------


def test_a_list_as_role_is_an_invalid_role_issue_not_a_type_error(tmp_path: Path) -> None:
    line = '{"messages":[{"role":["user"],"content":"x"},{"role":"assistant","content":"y"}]}\n'
    src = write(tmp_path / "roles.jsonl", line)
    for all_issues in (False, True):
        report = Dataset.validate_file(src, all_issues=all_issues)
        assert [e.code for e in report.errors] == ["invalid_role"]
    report, _written, rejected = convert(tmp_path, src)
    assert (report.written, [r["code"] for r in rejected]) == (0, ["invalid_role"])


def test_messages_that_are_not_a_list_beside_an_ignored_key_warning(tmp_path: Path) -> None:
    src = write(tmp_path / "five.jsonl", json.dumps({**OK, "x": 1}) + '\n{"messages": 5, "system": "s"}\n')
    report = Dataset.validate_file(src)
    assert [(e.line, e.code) for e in report.errors] == [(2, "messages_not_list")]
    assert "ignored_system" in [w.code for w in report.warnings]


# --- a byte order mark before JSON ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "body"),
    [("bom.json", json.dumps([SHAREGPT])), ("bom.jsonl", json.dumps(SHAREGPT) + "\n")],
)
def test_a_byte_order_mark_does_not_hide_the_format(tmp_path: Path, name: str, body: str) -> None:
    src = write(tmp_path / name, b"\xef\xbb\xbf" + body.encode())
    report, written, _ = convert(tmp_path, src)
    assert (report.source, report.written) == ("sharegpt", 1)
    assert written[0]["messages"][0] == {"role": "user", "content": "hi"}


# --- nesting too deep to render ------------------------------------------------------------------------


def _deep_call_record(arguments: Any) -> dict[str, Any]:
    call = {"function": {"name": "f", "arguments": arguments}}
    return {
        "messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "content": "r"},
            {"role": "assistant", "content": "a"},
        ]
    }


@pytest.mark.parametrize("kind", ["string", "object"])
def test_tool_arguments_nested_too_deep_reject_the_record(tmp_path: Path, kind: str) -> None:
    if kind == "string":
        line = json.dumps(_deep_call_record("[" * 1000 + "]" * 1000))
    else:
        line = json.dumps(_deep_call_record("DEEP")).replace('"DEEP"', '{"k":' * 1000 + "1" + "}" * 1000)
    src = write(tmp_path / "deep.jsonl", line + "\n" + json.dumps(OK) + "\n")
    report, _written, rejected = convert(tmp_path, src)
    assert report.written == 1
    assert [(r["record"], r["code"]) for r in rejected] == [(1, "invalid_tool_call")]
    assert "too deep" in rejected[0]["reason"]
    assert line.encode() in (tmp_path / "rejects.jsonl").read_bytes()  # kept whole, byte for byte


def test_tool_definitions_nested_too_deep_reject_the_record(tmp_path: Path) -> None:
    line = json.dumps({**OK, "tools": ["DEEP"]}).replace('"DEEP"', '{"k":' * 1000 + "1" + "}" * 1000)
    src = write(tmp_path / "tools.jsonl", line + "\n")
    _report, _, rejected = convert(tmp_path, src, repairs=Repairs(tool_definitions="render"))
    assert [r["code"] for r in rejected] == ["invalid_tools"]


def test_the_rejects_file_keeps_the_record_byte_for_byte(tmp_path: Path) -> None:
    line = '{"messages": [{"role": "user", "content": "q", "n": 12345678901234567890123}], "k": 1, "k": 2}'
    src = write(tmp_path / "big.jsonl", line + "\n")
    _, _, rejected = convert(tmp_path, src)
    raw = (tmp_path / "rejects.jsonl").read_bytes()
    assert line.encode() in raw
    assert rejected[0]["record"] == 1


# --- outputs longer than a line may be ---------------------------------------------------------------


def test_a_converted_example_over_the_line_limit_is_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_run, "MAX_LINE_BYTES", 200)
    long = {"instruction": "q", "output": "x" * 300}
    src = write(tmp_path / "long.jsonl", json.dumps(long) + "\n" + json.dumps({**long, "output": "y"}) + "\n")
    report, written, rejected = convert(tmp_path, src)
    assert (report.read, report.written) == (2, 1)
    assert [(r["record"], r["code"]) for r in rejected] == [(1, "line_too_long")]
    assert written[0]["messages"][1]["content"] == "y"


# --- never write over the input -----------------------------------------------------------------------


def test_the_input_is_not_overwritten_through_a_symbolic_link(tmp_path: Path) -> None:
    real = write(tmp_path / "real.jsonl", json.dumps(SHAREGPT) + "\n")
    link = tmp_path / "link.jsonl"
    os.symlink(real, link)
    before = real.read_bytes()
    for src, dst in ((link, real), (real, link)):
        with pytest.raises(OutputConflictError, match="is the input"):
            convert_file(src, dst)
        with pytest.raises(OutputConflictError, match="is the input"):
            convert_file(src, tmp_path / "out.jsonl", rejects=dst)
    assert real.read_bytes() == before
    assert link.is_symlink()


def test_the_input_is_not_overwritten_through_a_hard_link(tmp_path: Path) -> None:
    real = write(tmp_path / "real.jsonl", json.dumps(SHAREGPT) + "\n")
    os.link(real, tmp_path / "hard.jsonl")
    with pytest.raises(OutputConflictError, match="is the input"):
        convert_file(tmp_path / "hard.jsonl", real)


def test_the_rejects_file_may_not_be_the_output(tmp_path: Path) -> None:
    src = write(tmp_path / "in.jsonl", json.dumps(OK) + "\n")
    same = tmp_path / "same.jsonl"
    with pytest.raises(OutputConflictError, match="the output and the rejects file are one file"):
        convert_file(src, same, rejects=same)
    assert not same.exists()


# --- long strings and long runs, read in small blocks -------------------------------------------------


@pytest.mark.parametrize("block", [1, 2, 3, 7, 64])
def test_long_strings_with_escapes_split_across_blocks(monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    import io

    from finetune_sdk.data.convert import _jsonarray

    monkeypatch.setattr(_jsonarray, "BLOCK_SIZE", block)
    records = [
        {
            "instruction": 'a "quoted" \\ back\\slash\\\\',
            "output": "x" * 300 + '\\"' * 40 + "\n\t\u00e9\u4e2d",
        },
        {"instruction": "[{,}]" * 20, "output": "\\" * 33},
        [],
        "\\",
    ]
    data = orjson.dumps(records)
    state = _jsonarray.ArrayState()
    assert [orjson.loads(e) for e in _jsonarray.iter_array(io.BytesIO(data), state)] == records
    assert state.problem is None
    cut = data[: data.index(b"x" * 300) + 150]  # the file ends inside a long string
    state = _jsonarray.ArrayState()
    assert list(_jsonarray.iter_array(io.BytesIO(cut), state)) == [cut[1:]]
    assert state.problem is not None and "not closed" in state.problem


def test_a_long_run_of_one_role_and_of_tool_results_is_joined_once(tmp_path: Path) -> None:
    turns = [{"from": "human", "value": v} for v in ("q1", " ", "q2", "", "q3")] + [
        {"from": "gpt", "value": "a"}
    ]
    tools = {
        "messages": [
            {"role": "user", "content": "q"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}],
            },
            *({"role": "tool", "content": f"r{i}"} for i in range(3)),
            {"role": "assistant", "content": "done"},
        ]
    }
    src = write(tmp_path / "runs.jsonl", json.dumps({"conversations": turns}) + "\n")
    _, written, _ = convert(tmp_path, src, source="sharegpt")
    assert written[0]["messages"] == [
        {"role": "user", "content": "q1\nq2\nq3"},
        {"role": "assistant", "content": "a"},
    ]
    src = write(tmp_path / "tools.jsonl", json.dumps(tools) + "\n")
    _, written, _ = convert(tmp_path, src, source="openai")
    results = "\n".join(f"<tool_response>\nr{i}\n</tool_response>" for i in range(3))
    assert [m["content"] for m in written[0]["messages"]][2:] == [results, "done"]


# --- masked and misplaced tool turns --------------------------------------------------------------------


@pytest.mark.parametrize("masked", ["cut", "reject"])
def test_a_masked_function_call_turn_is_not_trained_on(tmp_path: Path, masked: Any) -> None:
    record = {
        "conversations": [
            {"from": "human", "value": "first"},
            {"from": "gpt", "value": "kept"},
            {"from": "human", "value": "q"},
            {"from": "function_call", "value": '{"name": "f", "arguments": {}}', "weight": 0},
            {"from": "observation", "value": "r"},
            {"from": "gpt", "value": "a"},
        ]
    }
    src = write(tmp_path / "masked.jsonl", json.dumps(record) + "\n")
    report, written, rejected = convert(tmp_path, src, source="sharegpt", repairs=Repairs(masked=masked))
    if masked == "cut":
        assert written[0]["messages"] == [
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "kept"},
        ]
        assert "cut_masked" in report.change_counts
    else:
        assert [r["code"] for r in rejected] == ["masked_turn"]
    assert "<tool_call>" not in (tmp_path / "out.jsonl").read_text()


def test_tool_calls_on_a_user_message_reject_the_record(tmp_path: Path) -> None:
    call = {"function": {"name": "f", "arguments": "{}"}}
    record = {
        "messages": [
            {"role": "user", "content": "q", "tool_calls": [call]},
            {"role": "assistant", "content": "a"},
        ]
    }
    src = write(tmp_path / "calls.jsonl", json.dumps(record) + "\n")
    _, _, rejected = convert(tmp_path, src)
    assert [r["code"] for r in rejected] == ["misplaced_tool_calls"]
    report, written, _ = convert(tmp_path, src, repairs=Repairs(tools="drop"))
    assert written[0]["messages"][0] == {"role": "user", "content": "q"}
    assert report.change_counts["drop_tool_turn"] == 1


# --- tables: nothing left out without a word -------------------------------------------------------------


def test_the_input_column_of_a_csv_joins_the_prompt(tmp_path: Path) -> None:
    src = write(
        tmp_path / "a.csv", "id,instruction,input,output\n7,Translate to French,Good morning,Bonjour\n"
    )
    report, written, _ = convert(tmp_path, src)
    assert written[0]["messages"] == [
        {"role": "user", "content": "Translate to French\nGood morning"},
        {"role": "assistant", "content": "Bonjour"},
    ]
    assert [c.code for c in report.changes] == ["join_input", "ignored_columns"]
    assert "id" in report.changes[1].action


def test_a_row_with_more_filled_cells_than_columns_is_rejected(tmp_path: Path) -> None:
    src = write(tmp_path / "r.csv", "prompt,response\nhello,world,EXTRA\nhi,there,\n")
    _report, written, rejected = convert(tmp_path, src)
    assert [(r["record"], r["code"]) for r in rejected] == [(2, "extra_cells")]
    assert "cell 3" in rejected[0]["reason"]
    assert written == [
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "there"}]}
    ]


def test_a_tsv_is_read_with_tabs_whatever_its_first_line(tmp_path: Path) -> None:
    body = "Hi, how are you, friend?\tFine, thanks.\nWhat is 2+2, please?\tIt is 4, of course.\n"
    report, written, _ = convert(tmp_path, write(tmp_path / "t.tsv", body))
    assert (report.read, report.written) == (2, 2)
    assert written[0]["messages"][1]["content"] == "Fine, thanks."


@pytest.mark.parametrize("body", ["a\nb\n", "a,b,c,d\ne,f,g,h\n"])
def test_a_first_row_that_is_no_header_is_counted(tmp_path: Path, body: str) -> None:
    report, _, rejected = convert(tmp_path, write(tmp_path / "w.csv", body))
    assert (report.read, report.rejected) == (2, 2)
    assert [r["code"] for r in rejected] == ["no_columns", "no_columns"]


def test_a_csv_cell_longer_than_the_csv_module_default_is_read(tmp_path: Path) -> None:
    long = "x" * 200_000
    _report, written, _ = convert(tmp_path, write(tmp_path / "l.csv", f"prompt,response\nhi,{long}\n"))
    assert written[0]["messages"][1]["content"] == long


@pytest.mark.parametrize(
    ("record", "code"),
    [
        ({"instruction": "Add", "input": 42, "output": "x"}, "invalid_content"),
        ({"instruction": "Add", "input": ["a"], "output": "x"}, "invalid_content"),
        ({"instruction": "Add", "system": 7, "output": "x"}, "invalid_content"),
        ({"instruction": "Add", "history": 0, "output": "x"}, "invalid_history"),
        ({"instruction": "Add", "history": {}, "output": "x"}, "invalid_history"),
        ({"instruction": "Add", "history": "", "output": "x"}, "invalid_history"),
    ],
)
def test_alpaca_fields_of_the_wrong_type_reject_the_record(tmp_path: Path, record: Any, code: str) -> None:
    ok = {"instruction": "Add", "input": None, "history": None, "system": None, "output": "x"}
    src = write(tmp_path / "a.jsonl", json.dumps(record) + "\n" + json.dumps(ok) + "\n")
    _report, written, rejected = convert(tmp_path, src, source="alpaca")
    assert [(r["record"], r["code"]) for r in rejected] == [(1, code)]
    assert written[0]["messages"][0] == {"role": "user", "content": "Add"}


def test_a_jsonl_with_a_broken_first_line_is_still_json_lines(tmp_path: Path) -> None:
    src = write(tmp_path / "o.jsonl", "oops\n" + (json.dumps(SHAREGPT) + "\n") * 3)
    report, _written, rejected = convert(tmp_path, src)
    assert (report.source, report.written) == ("sharegpt", 3)
    assert [(r["record"], r["code"]) for r in rejected] == [(1, "invalid_json")]
    src = write(tmp_path / "h.jsonl", "hello, world\n" + (json.dumps(OK) + "\n") * 2)
    assert "csv_file" not in [e.code for e in Dataset.validate_file(src).errors]


# --- typed errors for bad arguments and odd files --------------------------------------------------------


def test_convert_records_says_which_sources_and_options_it_takes() -> None:
    from finetune_sdk.data.convert import convert_records

    for source in ("auto", "csv", "ShareGPT"):
        with pytest.raises(ValueError, match="source must be one of"):
            convert_records([SHAREGPT], source=source)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="repairs must be a Repairs"):
        convert_records([SHAREGPT], source="sharegpt", repairs="none")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="fields must be a FieldMap"):
        convert_records([SHAREGPT], source="sharegpt", fields={"messages": "m"})  # type: ignore[arg-type]


def test_keys_that_are_not_text_are_named_not_a_type_error() -> None:
    from finetune_sdk.data.convert import convert_records

    examples, report = convert_records([{**SHAREGPT, 1: "x", "id": 2}], source="sharegpt")
    assert len(examples) == 1
    assert any("keys 1, id" in c.action for c in report.changes)
    assert len(Dataset.from_sharegpt([{**SHAREGPT, 1: "x", "id": 2}])) == 1


def test_carriage_return_line_endings_are_a_clear_error(tmp_path: Path) -> None:
    src = write(tmp_path / "cr.jsonl", (json.dumps(SHAREGPT) + "\r") * 2)
    with pytest.raises(ValueError, match="carriage return alone"):
        convert_file(src, tmp_path / "out.jsonl")


def test_a_semicolon_table_is_read(tmp_path: Path) -> None:
    report, written, rejected = convert(tmp_path, write(tmp_path / "s.csv", "prompt;response\nhi;there\n"))
    assert (report.written, rejected) == (1, [])
    assert [m["content"] for m in written[0]["messages"]] == ["hi", "there"]


def test_rejects_of_a_crlf_file_are_one_line_each(tmp_path: Path) -> None:
    src = write(tmp_path / "crlf.jsonl", '{"messages": 5}\r\n{"messages": 6}\r\n')
    convert(tmp_path, src, source="jsonl")
    assert (tmp_path / "rejects.jsonl").read_bytes().count(b"\r") == 0


def test_concatenated_arrays_are_all_read(tmp_path: Path) -> None:
    src = write(tmp_path / "two.json", json.dumps([SHAREGPT]) + " " + json.dumps([SHAREGPT, SHAREGPT]))
    report, _written, _ = convert(tmp_path, src)
    assert (report.read, report.written, report.problems) == (3, 3, [])
    assert report.change_counts["join_arrays"] == 1


def test_utf16_with_its_byte_order_mark_is_read_as_utf16_not_a_table(tmp_path: Path) -> None:
    src = write(tmp_path / "u.jsonl", (json.dumps(OK) + "\n").encode("utf-16"))
    report = convert_file(src, tmp_path / "out.jsonl")
    assert (report.source, report.read, report.written) == ("jsonl", 1, 1)
    assert [str(c) for c in report.changes] == ["file: encoding: read as UTF-16, as its byte order mark says"]
    codes = [e.code for e in Dataset.validate_file(src).errors]
    assert codes[0] == "not_utf8"
    assert "csv_file" not in codes


@pytest.mark.parametrize("arguments", ['{"x": NaN}', '{"a": 1, "a": 2}', '{"big": 1e400}'])
def test_tool_arguments_that_would_change_when_written_again_are_kept_as_text(arguments: str) -> None:
    from finetune_sdk.data.convert._tools import render_call

    rendered = render_call({"function": {"name": "f", "arguments": arguments}})
    assert rendered == f'<tool_call>\n{{"name": "f", "arguments": {json.dumps(arguments)}}}\n</tool_call>'
    assert (
        render_call({"name": "f", "arguments": '{"n": 12345678901234567890}'}).count("12345678901234567890")
        == 1
    )
