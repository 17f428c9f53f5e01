"""Message, Conversation and Dataset built in code: strictness, rules, I/O, split and stats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import finetune_sdk
from finetune_sdk import (
    Conversation,
    Dataset,
    DatasetStats,
    DatasetValidationError,
    Message,
    ValidationReport,
)
from finetune_sdk.data._schema import explain_error
from finetune_sdk.data._stats import estimate_text_tokens


def pair(q: str = "Hi", a: str = "Hello") -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}


def code_of(record: Any) -> tuple[str, int | None]:
    with pytest.raises(ValidationError) as info:
        Conversation.model_validate(record)
    code, index, _ = explain_error(info.value)
    return code, index


def test_public_names() -> None:
    for name in ("Dataset", "Conversation", "Message", "ValidationIssue", "ValidationReport"):
        assert name in finetune_sdk.__all__


def test_message_is_strict() -> None:
    assert Message(role="user", content="hi").content == "hi"
    with pytest.raises(ValidationError):
        Message(role="user", content=42)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Message(role="User", content="hi")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="white space"):
        Message(role="user", content="  \n")
    with pytest.raises(ValidationError, match="surrogate"):
        Message(role="user", content="\ud800")


def test_message_is_frozen_and_keeps_extra_keys() -> None:
    message = Message(role="user", content="hi", name="bob")  # type: ignore[call-arg]
    assert message.model_dump() == {"role": "user", "content": "hi", "name": "bob"}
    assert hash(Message(role="user", content="x")) == hash(Message(role="user", content="x"))


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ([], ("not_an_object", None)),
        ({}, ("missing_messages", None)),
        ({"messages": "hi"}, ("messages_not_list", None)),
        ({"messages": []}, ("empty_messages", None)),
        ({"messages": [{"role": "user", "content": "q"}, 7]}, ("invalid_message", 1)),
        ({"messages": [{"role": "user"}]}, ("missing_field", 0)),
        # within one message: a missing field is reported before a bad role
        ({"messages": [{"role": "bad"}]}, ("missing_field", 0)),
        ({"messages": [{"role": "bad", "content": 1}]}, ("invalid_role", 0)),
        ({"messages": [{"role": "user", "content": ""}]}, ("invalid_content", 0)),
        # element by element: message 0's problem comes first
        ({"messages": [{"role": "user", "content": 1}, "x"]}, ("invalid_content", 0)),
        # per-message checks come before order checks
        (
            {"messages": [{"role": "assistant", "content": "a"}, {"role": "x", "content": "a"}]},
            ("invalid_role", 1),
        ),
        (
            {"messages": [{"role": "assistant", "content": "a"}, {"role": "system", "content": "s"}]},
            ("system_not_first", 1),
        ),
        ({"messages": [{"role": "assistant", "content": "a"}]}, ("first_not_user", 0)),
        (
            {"messages": [{"role": "user", "content": "q"}, {"role": "user", "content": "q"}]},
            ("not_alternating", 1),
        ),
        ({"messages": [{"role": "user", "content": "q"}]}, ("unpaired", 0)),
        ({"messages": [{"role": "system", "content": "s"}]}, ("unpaired", None)),
    ],
)
def test_conversation_codes(record: Any, expected: tuple[str, int | None]) -> None:
    assert code_of(record) == expected


def test_dataset_needs_one_conversation() -> None:
    with pytest.raises(ValidationError):
        Dataset(conversations=[])
    assert len(Dataset(conversations=[Conversation.model_validate(pair())])) == 1


def test_from_records_and_its_errors() -> None:
    dataset = Dataset.from_records([pair(), Conversation.model_validate(pair("a", "b"))])
    assert len(dataset) == 2
    with pytest.raises(DatasetValidationError) as info:
        Dataset.from_records([pair(), {"messages": []}, pair(), []])
    report = info.value.report
    assert [(e.line, e.code) for e in report.errors] == [(2, "empty_messages"), (4, "not_an_object")]
    assert report.path == "<records>"
    assert "2: empty_messages" in str(info.value)
    with pytest.raises(DatasetValidationError) as info:
        Dataset.from_records([])
    assert info.value.report.errors[0].code == "empty_file"


def test_jsonl_round_trip(tmp_path: Path) -> None:
    records = [
        pair("你好", "您好！有什么可以帮您？"),
        {"messages": [{"role": "system", "content": 'quote " and \\ and \n'}, *pair()["messages"]], "id": 3},
        pair("😀", "\u00e9\t"),
    ]
    dataset = Dataset.from_records(records)
    path = tmp_path / "out.jsonl"
    dataset.to_jsonl(path)
    assert Dataset.validate_file(path).ok
    again = Dataset.from_jsonl(path)
    assert again == dataset
    assert [c.model_dump() for c in again.conversations] == records
    assert "你好".encode() in path.read_bytes()  # written as UTF-8, not escaped


def test_from_jsonl_raises_with_the_report(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"messages": []}\n')
    with pytest.raises(DatasetValidationError) as info:
        Dataset.from_jsonl(path)
    assert isinstance(info.value.report, ValidationReport)
    assert info.value.report.errors[0].code == "empty_messages"
    assert isinstance(info.value, ValueError)


def test_from_jsonl_reads_crlf_and_bom() -> None:
    data = Path(__file__).parent.parent / "data" / "dataset" / "valid"
    assert len(Dataset.from_jsonl(data / "crlf.jsonl")) == 2
    assert len(Dataset.from_jsonl(data / "bom.jsonl")) == 2


def make(n: int) -> Dataset:
    return Dataset.from_records(pair(f"q{i}", f"a{i}") for i in range(n))


@pytest.mark.parametrize(
    ("n", "ratio", "expected"), [(2, 0.1, 1), (10, 0.1, 1), (100, 0.1, 10), (3, 0.5, 1), (101, 0.5, 50)]
)
def test_split_sizes(n: int, ratio: float, expected: int) -> None:
    train, validation = make(n).split(ratio)
    assert len(validation) == expected
    assert len(train) == n - expected


def test_split_is_deterministic_and_keeps_order() -> None:
    dataset = make(50)
    first = dataset.split(seed=1)
    assert dataset.split(seed=1) == first
    assert dataset.split(seed=2) != first
    train, validation = first
    questions = [c.messages[0].content for c in train.conversations]
    assert questions == sorted(questions, key=lambda q: int(q[1:]))
    assert {c.messages[0].content for c in train.conversations + validation.conversations} == {
        f"q{i}" for i in range(50)
    }


@pytest.mark.parametrize("ratio", [0, -0.1, 0.51, 1])
def test_split_ratio_range(ratio: float) -> None:
    with pytest.raises(ValueError, match="validation_ratio"):
        make(10).split(ratio)


def test_split_needs_two_examples() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        make(1).split()


def test_token_estimate() -> None:
    # Fortieths of a token: 8 per other character, 27 per wide (CJK) character, 40 per ASCII digit or
    # punctuation mark, rounded.
    assert estimate_text_tokens("") == 0
    assert estimate_text_tokens("abcd" * 10) == 8  # 40 / 5
    assert estimate_text_tokens("你好世界") == 3  # 4 * 0.675 = 2.7, rounded
    assert estimate_text_tokens("你好 abcd") == 2  # 1.35 + 5 / 5
    assert estimate_text_tokens("2024-11-03") == 10  # a token per digit and per dash
    assert estimate_text_tokens("1" * 300) == 300
    assert estimate_text_tokens("a, b.") == 3  # 3 / 5 + 2


def test_stats() -> None:
    dataset = Dataset.from_records(
        [
            pair("abcd", "abcd" * 2),
            {"messages": [{"role": "system", "content": "s"}, *pair("你好", "x" * 40_000)["messages"]]},
        ]
    )
    stats = dataset.stats(max_tokens=100)
    assert isinstance(stats, DatasetStats)
    assert stats.examples == 2
    assert stats.messages_by_role == {"system": 1, "user": 2, "assistant": 2}
    assert stats.messages == 5
    assert stats.characters == 4 + 8 + 1 + 2 + 40_000
    # content (12 characters: 3 tokens; 40,001 + 2 wide: 9,001), 5 per message, 21 for the default
    # system block of the first
    assert stats.longest_example_index == 1
    assert stats.longest_example_tokens == 8_002 + 15  # (8 * 40001 + 27 * 2 + 20) // 40, 3 messages
    assert stats.estimated_tokens == 2 + 10 + 21 + stats.longest_example_tokens
    assert stats.over_max_tokens == 1


def test_validate_file_stats_and_long_example_warning(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    dataset = Dataset.from_records([pair(), pair("q", "x" * 20_000), pair()])
    dataset.to_jsonl(path)
    report = Dataset.validate_file(path, max_tokens=1000)
    expected = dataset.stats(max_tokens=1000)
    assert report.stats.model_dump(exclude={"longest_example_line"}) == expected.model_dump(
        exclude={"longest_example_line"}
    )
    assert report.stats.longest_example_line == 2
    [warning] = [w for w in report.warnings if w.code == "over_max_tokens"]
    assert warning.line == 2
    assert "truncated" in warning.message


def test_workers_give_the_same_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from finetune_sdk.data import _validate

    monkeypatch.setattr(_validate, "MIN_BYTES_PER_WORKER", 1)
    path = tmp_path / "d.jsonl"
    lines = [b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}'] * 40
    lines[7] = b"[]"
    lines[33] = b""
    path.write_bytes(b"\n".join(lines) + b"\n")
    one = Dataset.validate_file(path, max_tokens=30)
    two = Dataset.validate_file(path, workers=2, max_tokens=30)
    assert two == one
    assert [(e.line, e.code) for e in two.errors] == [(8, "not_an_object"), (34, "blank_line")]
    first = Dataset.validate_file(path, workers=3, max_errors=1)
    assert [(e.line, e.code) for e in first.errors] == [(8, "not_an_object")]
    assert first.truncated


def test_a_dataset_is_a_sequence_of_conversations() -> None:
    records = [
        {"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]}
        for i in range(3)
    ]
    data = Dataset.from_records(records)
    assert [c.messages[0].content for c in data] == ["q0", "q1", "q2"]
    assert data[0].messages[1].content == "a0" and data[-1].messages[0].content == "q2"
    assert data.model_dump()["conversations"][1]["messages"][0]["content"] == "q1"


def test_invalid_json_points_at_the_column_not_at_line_1(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    good = '{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}\n'
    path.write_text(good + good + '{"messages": [}\n', encoding="utf-8")
    (issue,) = Dataset.validate_file(path).errors
    assert issue.line == 3 and issue.code == "invalid_json"
    assert "at column 15" in issue.message and "line 1" not in issue.message
