"""The incremental JSON array splitter: the same elements as a whole-file parse, whatever the block size."""

from __future__ import annotations

import io

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finetune_sdk.data.convert import _jsonarray
from finetune_sdk.data.convert._jsonarray import ArrayState, iter_array

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**62), 2**62)
    | st.text(alphabet=st.sampled_from('ab"\\\\,[]{} 中\n')),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


def split(data: bytes, block: int, monkeypatch: pytest.MonkeyPatch) -> tuple[list[bytes], str | None]:
    monkeypatch.setattr(_jsonarray, "BLOCK_SIZE", block)
    state = ArrayState()
    return list(iter_array(io.BytesIO(data), state)), state.problem


@settings(max_examples=150, deadline=None)
@given(values=st.lists(json_values, max_size=6), block=st.integers(1, 40), indent=st.booleans())
def test_elements_parse_back_to_the_array(values: list[object], block: int, indent: bool) -> None:
    data = orjson.dumps(values, option=orjson.OPT_INDENT_2 if indent else 0)
    with pytest.MonkeyPatch.context() as patch:
        elements, problem = split(data, block, patch)
    assert problem is None
    assert [orjson.loads(e) for e in elements] == values


@pytest.mark.parametrize("block", [1, 2, 7, 1 << 20])
@pytest.mark.parametrize(
    ("data", "elements", "problem"),
    [
        (b"[]", [], None),
        (b"  [ ]  \n", [], None),
        (b'[{"a": "x\\\\"}, "s\\"q", 3]', [b'{"a": "x\\\\"}', b'"s\\"q"', b"3"], None),
        (b"[1,2,]", [b"1", b"2", b""], None),  # a trailing comma: an empty element, rejected later
        (b"[1,,2]", [b"1", b"", b"2"], None),
        (b'[{"a": 1}, {"b"', [b'{"a": 1}', b'{"b"'], "not closed"),
        (b"[1] x", [b"1"], "follows"),
        (b"[1][2, 3]\n", [b"1", b"2", b"3"], None),  # arrays that follow each other: all read
        (b"[1] [] [4] x", [b"1", b"4"], "follows"),
        # An element cut short inside a string (no JSON string holds a raw newline): it is yielded as it is
        # (rejected later) and the next line starts afresh, so the elements after it are not swallowed.
        (
            b'[\n{"a": "x"},\n{"b": ["y", "cut\n{"c": "z"},\n{"d": 1}\n]',
            [b'{"a": "x"}', b'{"b": ["y", "cut', b'{"c": "z"}', b'{"d": 1}'],
            None,
        ),
        (b'[\n"a\\\n"b",\n"c"]', [b'"a\\', b'"b"', b'"c"'], None),  # a backslash before the newline
        (b'[{"a": 1}, {"b": "x\r\n{"c": 2}]', [b'{"a": 1}', b'{"b": "x', b'{"c": 2}'], None),
        (b'{"a": 1}', [], "does not start"),
        (b"   ", [], "no JSON array"),
    ],
)
def test_edges(
    monkeypatch: pytest.MonkeyPatch, block: int, data: bytes, elements: list[bytes], problem: str | None
) -> None:
    found, said = split(data, block, monkeypatch)
    assert found == elements
    assert (said is None) if problem is None else (said is not None and problem in said)


def test_skip_bom_reads_a_mark_given_one_byte_at_a_time() -> None:
    from finetune_sdk.data.convert._jsonarray import skip_bom

    class Trickle(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self.inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            return self.inner.read(1)

        def seek(self, offset: int, whence: int = 0) -> int:
            return self.inner.seek(offset, whence)

    stream = Trickle(b"\xef\xbb\xbf[1]")
    assert skip_bom(stream)  # type: ignore[arg-type]
    assert stream.inner.read() == b"[1]"
    stream = Trickle(b"[1]")
    assert not skip_bom(stream)  # type: ignore[arg-type]
    assert stream.inner.read() == b"[1]"
