"""Duplicates and leakage: counted in the stats, warned by validate, dropped by dedupe (every drop listed),
kept on one side by split, and found by leakage with line numbers."""

from __future__ import annotations

import io
import itertools
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finetune_sdk import Dataset, leakage
from finetune_sdk.data._duplicates import example_digest, normalize

DATA = Path(__file__).resolve().parents[1] / "data" / "duplicates"
MERGED = DATA / "merged.jsonl"  # 18 examples from four sources: 13 distinct, 11 distinct first prompts


def pair(user: str, assistant: str, system: str | None = None) -> dict[str, Any]:
    messages = [{"role": "system", "content": system}] if system else []
    return {
        "messages": [
            *messages,
            {"role": "user", "content": user},
            {"role": "assistant", "content": assistant},
        ]
    }


def test_normalisation_is_nfc_and_white_space() -> None:
    assert normalize("  Hi\tthere \n") == "Hi there"
    assert normalize("Cafe\u0301") == normalize("Café")
    assert normalize("a b") != normalize("ab")  # white space is collapsed, not removed
    assert example_digest(["user"], ["a\0b"]) != example_digest(["user", "user"], ["a", "b"])


def test_validate_counts_duplicates_and_warns_with_lines() -> None:
    report = Dataset.validate_file(MERGED)
    assert report.ok
    assert report.stats.examples == 18
    # exact copies (lines 11, 14, 18), a white-space variant (12) and an NFD variant (13) of earlier lines
    assert report.stats.duplicate_examples == 5
    assert report.stats.exact_duplicates == 3
    # those five, and two examples asking an earlier prompt with another answer (lines 15, 16)
    assert report.stats.duplicate_prompts == 7
    found = {w.code: w for w in report.warnings}
    assert found["duplicate_examples"].line == 11
    assert "same as line 1" in found["duplicate_examples"].message
    assert (
        "3 exact copies, 2 more once Unicode and white space are normalised"
        in found["duplicate_examples"].message
    )
    assert "finetune dedupe" in found["duplicate_examples"].message
    assert found["duplicate_prompts"].line == 11


def test_the_stats_of_a_dataset_count_duplicates_like_the_validator() -> None:
    dataset = Dataset.from_jsonl(MERGED)
    stats = dataset.stats()
    assert (stats.duplicate_examples, stats.duplicate_prompts) == (5, 7)


def test_no_duplicates_no_warning(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    Dataset.from_records([pair("a", "b"), pair("c", "d")]).to_jsonl(path)
    report = Dataset.validate_file(path)
    assert (report.stats.duplicate_examples, report.stats.duplicate_prompts) == (0, 0)
    assert not [w for w in report.warnings if w.code.startswith("duplicate")]


@pytest.mark.parametrize("workers", [1, 3])
def test_duplicates_across_worker_parts_are_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    from finetune_sdk.data import _validate

    monkeypatch.setattr(_validate, "MIN_BYTES_PER_WORKER", 1)
    path = tmp_path / "d.jsonl"
    records = [pair(f"q{i % 7}", f"a{i % 5}") for i in range(60)]
    Dataset.from_records(records).to_jsonl(path)
    report = Dataset.validate_file(path, workers=workers)
    distinct = len({(i % 7, i % 5) for i in range(60)})
    assert report.stats.duplicate_examples == 60 - distinct
    assert report.stats.duplicate_prompts == 60 - 7
    assert report.stats == Dataset.validate_file(path, workers=1).stats


@pytest.mark.parametrize(
    ("key", "kept", "dropped_lines"),
    [
        ("exact", 15, [11, 14, 18]),
        ("normalized", 13, [11, 12, 13, 14, 18]),
        ("prompt", 11, [11, 12, 13, 14, 15, 16, 18]),
    ],
)
def test_dedupe_keeps_the_first_copy_and_lists_every_drop(
    key: Any, kept: int, dropped_lines: list[int]
) -> None:
    dataset = Dataset.from_jsonl(MERGED)
    result = dataset.dedupe(key)
    assert result.kept == kept
    assert [d.line for d in result.dropped] == dropped_lines
    assert result.kept + len(result.dropped) == len(dataset)
    for dropped in result.dropped:  # the record itself is kept with its reason
        assert dropped.conversation == dataset[dropped.index]
        assert dropped.duplicate_of < dropped.line
        assert dropped.key == key
    # the kept examples are the first copies, in order
    dropped_indexes = {d.index for d in result.dropped}
    assert list(result.dataset) == [c for i, c in enumerate(dataset) if i not in dropped_indexes]
    assert f"dropped {len(dropped_lines)} duplicate" in result.summary()


def test_dedupe_refuses_an_unknown_key() -> None:
    with pytest.raises(ValueError, match="key must be one of"):
        Dataset.from_jsonl(MERGED).dedupe("fuzzy")  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(8))
def test_split_never_puts_one_example_on_both_sides(seed: int) -> None:
    dataset = Dataset.from_jsonl(MERGED)
    train, validation = dataset.split(0.3, seed=seed)
    assert len(train) + len(validation) == len(dataset)
    report = leakage(train, validation)
    assert report.examples == []


@pytest.mark.parametrize("seed", range(8))
def test_split_by_prompt_never_shares_a_first_prompt(seed: int) -> None:
    dataset = Dataset.from_jsonl(MERGED)
    train, validation = dataset.split(0.3, seed=seed, group_by="prompt")
    assert len(validation) >= 1
    report = leakage(train, validation)
    assert report.ok, report.summary()


def test_split_without_duplicates_is_the_plain_random_split() -> None:
    # Every example its own group: the same split as before grouping existed (seeded shuffle of indexes).
    import math
    import random

    records = [pair(f"question {i}", f"answer {i}") for i in range(30)]
    dataset = Dataset.from_records(records)
    train, validation = dataset.split(0.2, seed=3)
    order = list(range(30))
    random.Random(3).shuffle(order)
    picked = set(order[: math.ceil(30 * 0.2 - 0.5)])
    assert [c.messages[0].content for c in validation] == [f"question {i}" for i in sorted(picked)]
    assert len(train) == 24


def test_split_refuses_when_everything_is_one_group() -> None:
    dataset = Dataset.from_records([pair("same", "a"), pair("same ", "b"), pair("same", "c")])
    dataset.split(0.5)  # three distinct examples: fine
    with pytest.raises(ValueError, match="share one first prompt"):
        dataset.split(0.5, group_by="prompt")
    with pytest.raises(ValueError, match="group_by"):
        dataset.split(0.5, group_by="answer")  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3)), min_size=2, max_size=40),
    st.sampled_from([0.1, 0.25, 0.5]),
    st.integers(0, 1000),
)
def test_split_property_no_leak(shape: list[tuple[int, int]], ratio: float, seed: int) -> None:
    dataset = Dataset.from_records([pair(f"prompt {p}", f"answer {a}") for p, a in shape])
    for group_by in ("example", "prompt"):
        try:
            train, validation = dataset.split(ratio, seed=seed, group_by=group_by)  # type: ignore[arg-type]
        except ValueError:
            distinct = {(p, a) for p, a in shape} if group_by == "example" else {p for p, _ in shape}
            assert len(distinct) == 1
            continue
        assert len(train) >= 1
        assert len(validation) >= 1
        assert len(train) + len(validation) == len(dataset)
        found = leakage(train, validation)
        assert found.examples == []
        if group_by == "prompt":
            assert found.prompts == []


def test_leakage_between_files_gives_line_numbers(tmp_path: Path) -> None:
    train = tmp_path / "train.jsonl"
    validation = tmp_path / "validation.jsonl"
    Dataset.from_records([pair("a", "1"), pair("b", "2"), pair("b", "2"), pair("c", "3")]).to_jsonl(train)
    Dataset.from_records([pair("x", "9"), pair(" b ", "2"), pair("c", "other"), pair("y", "8")]).to_jsonl(
        validation
    )
    report = leakage(train, validation)
    assert [(leak.validation_line, leak.train_line, leak.train_copies) for leak in report.examples] == [
        (2, 2, 2)
    ]
    assert [(leak.validation_line, leak.train_line) for leak in report.prompts] == [(3, 4)]
    assert (report.train_examples, report.validation_examples, report.skipped) == (4, 4, 0)
    assert not report.ok
    text = report.summary()
    assert f"{validation}:2: example also at {train}:2 (and 1 more)" in text
    assert f"{validation}:3: first prompt also at {train}:4" in text


def test_leakage_skips_unreadable_lines_and_says_so(tmp_path: Path) -> None:
    train = tmp_path / "train.jsonl"
    train.write_text('{"messages": [{"role": "user", "content": "a"}]}\nnot json\n[1]\n', encoding="utf-8")
    validation = tmp_path / "validation.jsonl"
    Dataset.from_records([pair("a", "b")]).to_jsonl(validation)
    report = leakage(train, validation)
    assert report.skipped == 2
    assert [leak.train_line for leak in report.prompts] == [1]
    assert "skipped 2 lines" in report.summary()


def test_leakage_of_the_issue_scenario() -> None:
    """166 examples merged from sources with copies: a plain random split leaked, this one does not."""
    base = [pair(f"How do I do task {i}?", f"Do step {i} then step {i + 1}.") for i in range(88)]
    copies = [pair(f"How do I do  task {i}?\n", f"Do step {i} then step {i + 1}.") for i in range(0, 88, 2)]
    rephrased = [pair(f"How do I do task {i}?", f"First step {i}, then {i + 1}.") for i in range(0, 68, 2)]
    records = list(itertools.islice(itertools.chain(base, copies, rephrased), 166))
    dataset = Dataset.from_records(records)
    assert len(dataset) == 166
    assert len(dataset.dedupe().dataset) == 88 + 34
    train, validation = dataset.split(0.2, seed=0, group_by="prompt")
    assert leakage(train, validation).ok
    assert 25 <= len(validation) <= 33


TEXTS = st.text(
    st.sampled_from(["a", "b", " ", "\n", "\t", "\u00e9", "e", "\u0301", "\u4f60", "1"]),
    min_size=1,
    max_size=8,
)


class _OneWay(io.RawIOBase):
    """A stream that cannot seek: its lines cannot be read again, so every example is digested."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.booleans(), TEXTS, TEXTS), min_size=1, max_size=20))
def test_the_validators_sketches_count_like_the_digests(rows: list[tuple[bool, str, str]]) -> None:
    """The validator keys examples by sketches and reads lines again when they meet; a dataset in memory
    and a stream that cannot seek digest every example. All count alike."""
    objs = [
        {"messages": ([{"role": "system", "content": "s"}] if system else []) + pair(q, a)["messages"]}
        for system, q, a in rows
    ]
    data = b"".join(orjson.dumps(o) + b"\n" for o in objs)
    valid = [o for o in objs if Dataset.validate_file(orjson.dumps(o)).ok]
    plain = Dataset.from_records(valid).stats() if valid else None
    expected = (0, 0, 0) if plain is None else (
        plain.duplicate_examples, plain.exact_duplicates, plain.duplicate_prompts
    )  # fmt: skip
    for source in (data, io.BytesIO(data), io.BufferedReader(_OneWay(data))):
        stats = Dataset.validate_file(source, filename="rows.jsonl", max_errors=50).stats
        assert (stats.duplicate_examples, stats.exact_duplicates, stats.duplicate_prompts) == expected


def test_duplicates_false_skips_the_count_and_its_warnings() -> None:
    report = Dataset.validate_file(MERGED, duplicates=False)
    counts = {"duplicate_examples", "exact_duplicates", "duplicate_prompts"}
    assert [getattr(report.stats, name) for name in sorted(counts)] == [None, None, None]
    assert not [w for w in report.warnings if w.code.startswith("duplicate")]
    counted = Dataset.validate_file(MERGED)
    assert report.stats.model_dump(exclude=counts) == counted.stats.model_dump(exclude=counts)


def test_a_nul_inside_a_content_does_not_make_two_examples_equal(tmp_path: Path) -> None:
    nul = [pair("a\0b", "c"), pair("a", "b\0c"), pair("a", "b\0c")]
    dataset = Dataset.from_records(nul)
    for key in ("exact", "normalized"):
        assert [d.line for d in dataset.dedupe(key).dropped] == [3]  # type: ignore[arg-type]
    path = tmp_path / "nul.jsonl"
    dataset.to_jsonl(path)
    assert Dataset.validate_file(path).stats.duplicate_examples == 1
    assert Dataset.from_jsonl(path).stats().duplicate_examples == 1


SAME_EXAMPLE_WRITTEN_APART = [
    rb'{"messages":[{"role":"user","content":"Hi there"},{"role":"assistant","content":"Yes"}]}',
    rb'{"messages":[{"role":"user","content":"Hi  there"},{"role":"assistant","content":"Yes"}]}',
    rb'{"messages": [{"role":  "user", "content": "Hi there"}, {"role": "assistant", "content": "Yes"}]}',
    rb'{"messages":[{"role":"user","content":"Hi\u0020there"},{"role":"assistant","content":"Yes"}]}',
    rb'{"messages":[{"role":"user","content":"Hi there\n"},{"role":"assistant","content":"Yes"}]}',
    rb'{"messages":[{"role":"user","content":" Hi there"},{"role":"assistant","content":"Yes"}]}',
    rb'{"messages":[{"role":"user","content":"Hi there"},{"role":"assistant","content":"Yes "}]}',
    rb'{"messages":[{"role":"user","content":"Hi\tthere"},{"role":"assistant","content":"Yes"}]}',
    '{"messages":[{"role":"user","content":"Hi\u3000there"},{"role":"assistant","content":"Yes"}]}'.encode(),
    rb'{"messages":[{"role":"user","content":"Hithere"},{"role":"assistant","content":"Yes"}]}',
    rb'{"messages":[{"role":"user","content":"Hi there"},{"role":"assistant","content":"Y es"}]}',
    rb'{"messages":[{"role":"system","content":"Be brief"},{"role":"user","content":"Hi there"},'
    rb'{"role":"assistant","content":"Yes"}]}',
    rb'{"messages":[{"role":"user","content":"Caf\u00e9"},{"role":"assistant","content":"Yes"}]}',
    '{"messages":[{"role":"user","content":"Cafe\u0301"},{"role":"assistant","content":"Yes"}]}'.encode(),
    '{"messages":[{"role":"user","content":"Café"},{"role":"assistant","content":"Yes"}]}'.encode(),
]


@pytest.mark.parametrize("workers", [1, 2])
def test_every_way_of_writing_one_example_is_one_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    # Lines 1-9 are one example (white space inside and at the ends, escapes, spacing between the JSON
    # tokens); 10 and 11 differ from it, 11 only in its answer and 12 by its system message, so their
    # prompt repeats; 13-15 are one example, in NFC or not.
    from finetune_sdk.data import _validate

    monkeypatch.setattr(_validate, "MIN_BYTES_PER_WORKER", 1)
    path = tmp_path / "apart.jsonl"
    path.write_bytes(b"\n".join(SAME_EXAMPLE_WRITTEN_APART) + b"\n")
    report = Dataset.validate_file(path, workers=workers)
    assert report.ok, report.errors
    assert (report.stats.duplicate_examples, report.stats.duplicate_prompts) == (8 + 2, 8 + 2 + 2)
    stats = Dataset.from_jsonl(path).stats()
    assert (stats.duplicate_examples, stats.duplicate_prompts) == (10, 12)
