"""The validator's paths give one report: chunks whose statistics are added at once, the line-by-line path,
and a reference that checks every line on its own."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finetune_sdk.data import Dataset, ValidationReport, _parallel, _scan, _validate
from finetune_sdk.data._stats import StatsBuilder
from finetune_sdk.data._validate import explain_line, fast_check, fast_measure

from .test_validate_agreement import TEXT, raw_lines

OK = b'{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}'
PREFIX = b'{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}],"x":'


def write(lines: list[bytes]) -> Path:
    directory = Path(tempfile.mkdtemp())
    path = directory / "d.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def reference(lines: list[bytes], max_tokens: int) -> tuple[dict[int, tuple[str, int | None]], StatsBuilder]:
    """Every line on its own: the errors by line and the statistics, as the validator must find them."""
    errors = {}
    stats = StatsBuilder(max_tokens=max_tokens)
    for number, line in enumerate(lines, 1):
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            obj = None
        found = fast_measure(obj)
        if found is not None:
            stats.add_one(found, obj, number, None)
            continue
        explained = explain_line(line)
        if explained is not None:
            errors[number] = (explained[0], explained[1])
    return errors, stats


@st.composite
def good_lines(draw: st.DrawFn) -> bytes:
    """A valid example: short or long, ASCII or not, maybe with unknown keys."""
    pairs = draw(st.integers(1, 3))
    text = TEXT.filter(str.strip) | st.sampled_from(["x" * 3000, "你好" * 700, "é😀"])
    msgs: list[dict[str, Any]] = []
    if draw(st.booleans()):
        msgs.append({"role": "system", "content": draw(text)})
    for _ in range(pairs):
        msgs.append({"role": "user", "content": draw(text)})
        msgs.append({"role": "assistant", "content": draw(text)})
    record: dict[str, Any] = {"messages": msgs}
    if draw(st.integers(0, 5)) == 0:
        record["id"] = 1
    if draw(st.integers(0, 5)) == 0:
        msgs[0]["weight"] = 0
    return orjson.dumps(record)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(good_lines(), good_lines(), raw_lines()), min_size=1, max_size=20),
    st.sampled_from([1, 3, 64]),
    st.integers(1, 25),
)
def test_chunks_and_lines_give_the_same_report(lines: list[bytes], chunk: int, max_errors: int) -> None:
    path = write(lines)
    max_tokens = 300
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_scan, "CHUNK_LINES", chunk)
        report = Dataset.validate_file(path, max_tokens=max_tokens, max_errors=max_errors)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_scan, "CHUNK_LINES", 1)
        one_by_one = Dataset.validate_file(path, max_tokens=max_tokens, max_errors=max_errors)
    assert report == one_by_one
    errors, stats = reference(lines, max_tokens)
    got = {e.line: (e.code, e.index) for e in report.errors if e.line is not None}
    if report.truncated:
        assert len(got) == max_errors
        assert got == {line: errors[line] for line in sorted(errors)[:max_errors]}
        return
    assert got == errors
    assert report.stats == stats.build()
    assert report.lines == len(lines)


VALID_SHAPES = st.tuples(
    st.integers(0, 6).map(lambda pairs: pairs + 1),
    st.booleans(),
    st.integers(0, 40_000),
    st.integers(0, 40_000),
)


@given(
    st.lists(VALID_SHAPES, max_size=12),
    st.lists(VALID_SHAPES, max_size=12),
    st.integers(0, 2_000),
)
def test_add_many_is_add_one_by_one(before: list[Any], chunk: list[Any], max_tokens: int) -> None:
    def examples(shapes: list[Any]) -> list[tuple[int, bool, int, int]]:
        return [(2 * pairs + system, system, chars, wide) for pairs, system, chars, wide in shapes]

    one, many = StatsBuilder(max_tokens=max_tokens), StatsBuilder(max_tokens=max_tokens)
    for line, example in enumerate(examples(before), 1):
        one.add(*example, line, singles=example[2] // 7)
        many.add(*example, line, singles=example[2] // 7)
    first = len(before) + 1
    for line, example in enumerate(examples(chunk), first):
        one.add(*example, line, singles=example[2] // 7)
    rows = examples(chunk)
    messages = [row[0] for row in rows]
    system = [row[1] for row in rows]
    chars = [row[2] for row in rows]
    wide = [row[3] for row in rows]
    many.add_many(messages, system, chars, wide, first, singles=[c // 7 for c in chars])
    assert many == one
    ascii_only = StatsBuilder(max_tokens=max_tokens)
    ascii_only.add_many(messages, system, chars, None, 1)
    reference_ascii = StatsBuilder(max_tokens=max_tokens)
    for line, row in enumerate(rows, 1):
        reference_ascii.add(*row[:3], 0, line)
    assert ascii_only == reference_ascii


def test_a_json_array_of_the_lines_would_not_be_equivalent() -> None:
    """Why each line is parsed on its own: joined into one array, these three bad lines parse as three
    valid examples (the first leaves its list open and swallows a comma, the third gives one back)."""
    lines = [
        b'{"messages":[{"role":"user","content":"q"}',
        b'{"role":"assistant","content":"a"}]}',
        OK + b"," + OK,
    ]
    assert len(orjson.loads(b"[" + b",".join(lines) + b"]")) == len(lines)
    report = Dataset.validate_file(write(lines))
    assert [(e.line, e.code) for e in report.errors] == [
        (1, "invalid_json"),
        (2, "invalid_json"),
        (3, "invalid_json"),
    ]
    assert report.stats.examples == 0


@pytest.mark.parametrize(("depth", "valid"), [(1023, True), (1024, False)])
def test_nesting_at_orjsons_limit(depth: int, valid: bool) -> None:
    """1024 levels (the object and 1023 arrays) parse; one more is invalid JSON, alone or in a chunk."""
    deep = PREFIX + b"[" * depth + b"]" * depth + b"}"
    lines = [OK, deep, OK]
    assert (explain_line(deep) is None) == valid
    report: ValidationReport = Dataset.validate_file(write(lines))
    assert report.ok == valid
    assert report.stats.examples == 2 + valid
    if not valid:
        assert [(e.line, e.code) for e in report.errors] == [(2, "invalid_json")]


@pytest.mark.parametrize(
    "roles",
    [
        ["user\x00assistant"],
        ["user\x00assistant", "user", "assistant"],
        ["system\x00user", "assistant"],
        ["user", "assistant\x00user", "assistant"],
        ["user", "assistant", "user\x00", "assistant"],
        ["\x00", "user", "assistant"],
    ],
)
def test_a_separator_inside_a_role_is_no_valid_order(roles: list[str]) -> None:
    obj = {"messages": [{"role": role, "content": "x"} for role in roles]}
    assert not fast_check(obj)
    assert explain_line(orjson.dumps(obj)) is not None


@pytest.mark.parametrize("pairs", [64, 65, 300])
def test_long_conversations(pairs: int) -> None:
    msgs = [{"role": "system", "content": "s"}]
    msgs += [{"role": role, "content": "x"} for _ in range(pairs) for role in ("user", "assistant")]
    good = orjson.dumps({"messages": msgs})
    bad = orjson.dumps({"messages": [*msgs, {"role": "user", "content": "x"}]})
    report = Dataset.validate_file(write([good, bad, good]))
    assert [(e.line, e.code) for e in report.errors] == [(2, "unpaired")]
    assert report.stats.examples == 2
    assert report.stats.messages_by_role["system"] == 2


def test_auto_workers_use_processes_only_for_big_files(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _parallel.auto_workers(1 << 20) == 1
    assert _parallel.auto_workers(_parallel.AUTO_MIN_BYTES - 1) == 1
    monkeypatch.setattr(_parallel.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    monkeypatch.setattr(_parallel, "can_fork", lambda: True)  # other tests may leave threads running
    assert _parallel.auto_workers(_parallel.AUTO_MIN_BYTES) == 2
    assert _parallel.process_context().get_start_method() in ("fork", "forkserver", "spawn")


def test_no_fork_and_no_auto_processes_while_other_threads_run() -> None:
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert _parallel.process_context().get_start_method() != "fork"
        # a fork server or spawn would re-run the caller's main module: "auto" stays in-process
        assert _parallel.auto_workers(_parallel.AUTO_MIN_BYTES * 4) == 1
    finally:
        stop.set()
        thread.join()


def test_workers_that_cannot_start_fall_back_to_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from concurrent.futures.process import BrokenProcessPool

    path = tmp_path / "t.jsonl"
    line = '{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}\n'
    path.write_text(line * 2000 + "oops\n")
    expected = Dataset.validate_file(path, workers=1)

    class Broken:
        def __init__(self, *args: object, **kwargs: object) -> None:
            raise BrokenProcessPool("no workers here")

    monkeypatch.setattr(_parallel, "ProcessPoolExecutor", Broken)
    monkeypatch.setattr(_validate, "MIN_BYTES_PER_WORKER", 1)
    report = Dataset.validate_file(path, workers=2)
    assert report == expected
    assert report.errors[0].line == 2001


@pytest.mark.parametrize("bad", [0, -1, True, "many", 1.5])
def test_bad_workers_value(tmp_path: Path, bad: object) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(
        '{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}\n'
    )
    with pytest.raises(ValueError, match="workers"):
        Dataset.validate_file(path, workers=bad)  # type: ignore[arg-type]
