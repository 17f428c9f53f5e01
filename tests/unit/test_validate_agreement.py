"""The fast path and the pydantic models agree on every input (hypothesis)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from finetune_sdk.data import Conversation, Dataset
from finetune_sdk.data._validate import explain_line, fast_check

ROLES = st.sampled_from(
    ["system", "user", "assistant", "User", "tool", "", " user", "user\x00assistant", "\x00"]
)
TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", " ", "\n\t", "\u3000", "hello", "你好", "é", "😀", "a\u0000b"]),
)
JSON_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON = st.recursive(
    JSON_SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=10,
)


@st.composite
def messages(draw: st.DrawFn) -> list[Any]:
    """A conversation that is valid, then maybe mutated in one place."""
    msgs: list[Any] = []
    if draw(st.booleans()):
        msgs.append({"role": "system", "content": draw(TEXT.filter(str.strip))})
    for _ in range(draw(st.integers(0, 3))):
        msgs.append({"role": "user", "content": draw(TEXT.filter(str.strip))})
        msgs.append({"role": "assistant", "content": draw(TEXT.filter(str.strip))})
    if msgs and draw(st.booleans()):
        i = draw(st.integers(0, len(msgs) - 1))
        mutation = draw(st.integers(0, 7))
        if mutation == 0:
            msgs[i]["role"] = draw(ROLES)
        elif mutation == 1:
            msgs[i]["content"] = draw(st.one_of(TEXT, JSON))
        elif mutation == 2:
            del msgs[i][draw(st.sampled_from(["role", "content"]))]
        elif mutation == 3:
            msgs[i] = draw(JSON)
        elif mutation == 4:
            msgs.insert(i, {"role": draw(ROLES), "content": draw(TEXT)})
        elif mutation == 5:
            del msgs[i]
        elif mutation == 6:
            msgs[i][draw(TEXT)] = draw(JSON)  # an extra key (or an overwritten one)
        else:
            msgs[i], msgs[-1] = msgs[-1], msgs[i]
    return msgs


@st.composite
def records(draw: st.DrawFn) -> Any:
    shape = draw(st.integers(0, 9))
    if shape == 0:
        return draw(JSON)
    if shape == 1:
        return {"messages": draw(JSON)}
    record: dict[str, Any] = {"messages": draw(messages())}
    if shape == 2:
        record[draw(TEXT)] = draw(JSON)
    return record


def model_verdict(obj: Any) -> str | None:
    try:
        Conversation.model_validate(obj)
    except ValidationError:
        line = orjson.dumps(obj)
        found = explain_line(line)
        assert found is not None
        return found[0]
    return None


@settings(max_examples=400, deadline=None)
@given(records())
def test_fast_path_agrees_with_the_models(obj: Any) -> None:
    assert fast_check(obj) == (model_verdict(obj) is None)


@st.composite
def raw_lines(draw: st.DrawFn) -> bytes:
    line = orjson.dumps(draw(records()))
    change = draw(st.integers(0, 6))
    if change == 0 and line:
        line = line[: draw(st.integers(0, len(line) - 1))]  # truncated
    elif change == 1:
        at = draw(st.integers(0, len(line)))
        junk = draw(st.sampled_from([b"\xff", b"\\ud800", b"NaN", b" ", b"\r", b",", b"\xc3"]))
        line = line[:at] + junk + line[at:]
    elif change == 2:
        line = draw(st.sampled_from([b"", b"  ", b"\r", b"\t \r"]))
    elif change == 3:
        line = line + b"\r"
    return line.replace(b"\n", b"")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(raw_lines(), min_size=1, max_size=8))
def test_file_verdicts_match_the_line_explainer(lines: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.jsonl"
        path.write_bytes(b"\n".join(lines) + b"\n")
        report = Dataset.validate_file(path, max_errors=len(lines) + 1)
    got = {e.line: (e.code, e.index) for e in report.errors if e.line is not None}
    expected = {}
    for number, line in enumerate(lines, 1):
        found = explain_line(line)
        if found is not None:
            expected[number] = (found[0], found[1])
    assert got == expected
    assert report.stats.examples == len(lines) - len(expected)
