"""The validator's fast path counts what a slow reference counts, line by line: the statistics (characters,
the token estimate's inputs, longest and over-long examples) and the duplicates (exact, normalised, and
of prompts, with the first repeat of each), on varied generated files: Chinese, English and mixed text,
digits and punctuation, characters of 2, 3 and 4 UTF-8 bytes, white space and Unicode normalisation
variants, escapes, other serialisations (spaced, ASCII-escaped, keys in another order, other keys, a
repeated key, CRLF), exact copies, near copies, other answers to one prompt, and bad lines among them.

The reference parses each line on its own, measures it with ``fast_measure`` (the per-line path the
agreement tests hold to the pydantic models) and keys it with the BLAKE2b digests of
``finetune_sdk.data._duplicates`` (the definition of a duplicate), with none of the fast path's chunks,
marks, sketches or re-reads.
"""

from __future__ import annotations

import io
import itertools
import json
import random
import re
import unicodedata
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finetune_sdk.data import Dataset, ValidationReport, _lines, _parallel, _scan, _validate
from finetune_sdk.data._chunk import block_marks, check_chunk, measure_chunk
from finetune_sdk.data._duplicates import example_keys, normal_text
from finetune_sdk.data._lines import open_regular
from finetune_sdk.data._scan import Options, fd_reader, scan_path
from finetune_sdk.data._stats import StatsBuilder
from finetune_sdk.data._validate import explain_line, fast_measure

WORDS = [
    "the",
    "order",
    "refund",
    "42",
    "delivery,",
    "payment:",
    "invoice",
    "(3.5%)",
    "help!",
    "status?",
    "#7",
    "e-mail",
    "ok",
]
CONTROL_TOKENS = ("<|im_end|>", "<|endoftext|>")  # the ones the generated text may hold
CJK = "你好请问我的订单什么时候到货谢谢退款地址修改发票已经"
OTHER = ["é", "e\u0301", "Ж", "ش", "😀", "𠀋", "½", "Ω", "Å", "A\u030a", "ﬁ", "①", "\u037e", "\u212b"]
SPACES = [" ", "  ", "\t", "\n", "\u3000", "\xa0", " \n ", "\r\n"]
ODD = [
    "\x00",
    '"',
    "\\",
    "/",
    "\\n",
    "\u2028",
    "\x7f",
    "\x1f",
    "<|im_end|>",
    "<|endoftext|>",
    "<tool_call>",
    "<|",
]


def text(rng: random.Random, size: int, style: int) -> str:
    """Text of about ``size`` pieces in one of four styles: English words and figures, Chinese, both, or
    anything (other scripts, characters of 2 and 4 bytes, marks to normalise, escapes, spaces of every
    kind)."""
    pieces: list[str] = []
    for _ in range(max(1, size)):
        draw = rng.random()
        if style == 1 or (style == 2 and draw < 0.4) or (style == 3 and draw < 0.1):
            pieces.append(rng.choice(CJK) * rng.randint(1, 3))
        elif style < 3 or draw < 0.6:
            pieces.append(rng.choice(WORDS) if draw < 0.9 else str(rng.randint(0, 10**6)))
        elif draw < 0.75:
            pieces.append(rng.choice(OTHER))
        elif draw < 0.85:
            pieces.append(rng.choice(ODD))
        else:
            pieces.append(str(rng.randint(0, 10**6)))
        pieces.append(" " if style < 3 or rng.random() < 0.8 else rng.choice(SPACES))
    found = "".join(pieces).strip(" ")
    return found if found.strip() else "x"


def messages(rng: random.Random) -> list[dict[str, str]]:
    style = rng.randint(0, 3)
    msgs = []
    if rng.random() < 0.4:
        msgs.append({"role": "system", "content": text(rng, rng.randint(1, 12), style)})
    for _ in range(rng.choice((1, 1, 2, 3, 4))):
        msgs.append({"role": "user", "content": text(rng, rng.randint(1, 10), style)})
        msgs.append({"role": "assistant", "content": text(rng, rng.randint(1, 40), style)})
    return msgs


def near(rng: random.Random, content: str) -> str:
    """``content`` changed in a way normalisation undoes (or, sometimes, does not)."""
    change = rng.randint(0, 6)
    if change == 0:
        return " " + content
    if change == 1:
        return content + "\n"
    if change == 2:
        return content.replace(" ", "  ", 1)
    if change == 3:
        return content.replace(" ", "\u3000", 1)
    if change == 4:
        return content.replace("é", "e\u0301").replace("Å", "A\u030a")
    if change == 5:
        return content.replace("e\u0301", "é")
    return content + "!"  # another example


def serialise(rng: random.Random, msgs: list[dict[str, str]]) -> bytes:
    """One line for ``msgs``, written one of the ways people's files are."""
    way = rng.random()
    record: dict[str, Any] = {"messages": msgs}
    if way < 0.05:  # as Go's encoding/json writes it: <, > and & escaped
        line = orjson.dumps(record)
        line = line.replace(b"<", b"\\u003c").replace(b">", b"\\u003e").replace(b"&", b"\\u0026")
        return line.replace(b"|", b"\\u007c") if way < 0.02 else line  # and a writer escaping more
    if way < 0.5:
        return orjson.dumps(record)
    if way < 0.6:
        return json.dumps(record).encode()  # spaced, every wide character a \\u escape
    if way < 0.68:
        return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
    if way < 0.74:
        swapped = [{"content": m["content"], "role": m["role"]} for m in msgs]
        return orjson.dumps({"messages": swapped})
    if way < 0.8:
        extra = [dict(m) for m in msgs]
        extra[rng.randrange(len(extra))]["weight"] = rng.choice([0, 1])
        return orjson.dumps(
            {"messages": extra, "id": rng.randint(0, 9)} if rng.random() < 0.5 else {"messages": extra}
        )
    if way < 0.84:  # a key written twice: the last one counts
        line = orjson.dumps(record)
        return line.replace(b'{"role":"user",', b'{"role":"user","role":"user",', 1)
    if way < 0.9:
        return orjson.dumps(record) + b"\r"
    if way < 0.93:
        return b" " + orjson.dumps(record, option=orjson.OPT_INDENT_2).replace(b"\n", b"")
    if way < 0.96:
        return json.dumps(record, ensure_ascii=False, indent=None, separators=(", ", ": ")).encode()
    return rng.choice(
        [b"{", b"", b'{"messages":[]}', b'{"messages":[{"role":"user","content":" "}]}', b"\xff"]
    )


def generate(seed: int, count: int) -> list[bytes]:
    """``count`` lines: new examples, exact copies (the same bytes or written another way), near copies
    and other answers to an earlier prompt."""
    rng = random.Random(seed)
    earlier: list[list[dict[str, str]]] = []
    lines: list[bytes] = []
    for _ in range(count):
        draw = rng.random()
        if earlier and draw < 0.1:
            lines.append(rng.choice(lines))  # the same bytes (maybe a bad line again)
            continue
        if earlier and draw < 0.3:
            msgs = [dict(m) for m in rng.choice(earlier)]
            if draw < 0.2:
                at = rng.randrange(len(msgs))
                msgs[at]["content"] = near(rng, msgs[at]["content"])
            elif draw < 0.25:
                msgs[-1]["content"] = text(rng, 5, rng.randint(0, 3))  # another answer to the same prompt
        else:
            msgs = messages(rng)
        earlier.append(msgs)
        lines.append(serialise(rng, msgs).replace(b"\n", b"\\n"))
    return lines


def reference(lines: list[bytes], max_tokens: int) -> tuple[dict[int, str], dict[str, Any]]:
    """Errors by line, and the statistics and duplicates the validator must report, one line at a time."""
    errors: dict[int, str] = {}
    control: list[tuple[int, int]] = []
    stats = StatsBuilder(max_tokens=max_tokens, duplicates=None)
    firsts: dict[str, dict[bytes, int]] = {"exact": {}, "normalized": {}, "prompt": {}}
    counts = {"exact": 0, "normalized": 0, "prompt": 0}
    first_repeat: dict[str, tuple[int, int] | None] = {"normalized": None, "prompt": None}
    for number, line in enumerate(lines, 1):
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            obj = None
        found = fast_measure(obj)
        if found is None:
            explained = explain_line(line)
            if explained is not None:
                errors[number] = explained[0]
            continue
        stats.add(found[0], found[1], found[2], found[3], number, singles=found[5])
        roles = [m["role"] for m in obj["messages"]]
        contents = found[6]
        token = next((t for t in CONTROL_TOKENS for c in contents if t in c), None)
        if token is not None:
            control.append((number, min(c.find(t) for c in contents for t in CONTROL_TOKENS if t in c)))
        for key, seen in firsts.items():
            digest = example_keys(roles, contents, key)  # type: ignore[arg-type]
            assert digest is not None
            earlier = seen.setdefault(digest, number)
            if earlier != number:
                counts[key] += 1
                if key in first_repeat and first_repeat[key] is None:
                    first_repeat[key] = (number, earlier)
    built = stats.build().model_dump()
    built.update(
        duplicate_examples=counts["normalized"],
        exact_duplicates=counts["exact"],
        duplicate_prompts=counts["prompt"],
    )
    built["first_repeats"] = first_repeat
    built["control"] = (len(control), control[0][0]) if control else None
    return errors, built


def first_repeats(report: ValidationReport) -> dict[str, tuple[int, int] | None]:
    found: dict[str, tuple[int, int] | None] = {"normalized": None, "prompt": None}
    for warning in report.warnings:
        key = {"duplicate_examples": "normalized", "duplicate_prompts": "prompt"}.get(warning.code)
        if key is not None:
            assert warning.line is not None
            earlier = int(warning.message.split("the same as line ")[1].split(")")[0])
            found[key] = (warning.line, earlier)
    return found


def control_warning(report: ValidationReport) -> tuple[int, int] | None:
    """The ``control_tokens`` warning's count of examples and first line."""
    found = [w for w in report.warnings if w.code == "control_tokens"]
    if not found:
        return None
    assert found[0].line is not None
    return int(found[0].message.split()[0]), found[0].line


def check(lines: list[bytes], tmp: Path, max_tokens: int = 400) -> ValidationReport:
    path = tmp / "d.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    errors, expected = reference(lines, max_tokens)
    report = Dataset.validate_file(path, max_tokens=max_tokens, max_errors=len(lines) + 1, workers=1)
    assert {e.line: e.code for e in report.errors if e.line is not None} == errors
    got = report.stats.model_dump()
    got["first_repeats"] = first_repeats(report)
    got["control"] = control_warning(report)
    assert got == expected
    return report


@pytest.mark.parametrize("seed", range(6))
def test_the_fast_path_counts_what_the_reference_counts(seed: int, tmp_path: Path) -> None:
    report = check(generate(seed, 700), tmp_path)
    stats = report.stats
    assert stats.duplicate_examples and stats.exact_duplicates and stats.duplicate_prompts
    assert stats.duplicate_examples > stats.exact_duplicates  # near copies were found too
    assert stats.duplicate_prompts > stats.duplicate_examples  # and other answers to one prompt


@pytest.mark.parametrize(("block", "chunk"), [(4096, 64), (1 << 20, 7), (300, 1)])
def test_block_and_chunk_edges_change_nothing(
    block: int, chunk: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines across blocks (the first line of a block joins the end of the one before), chunks cut
    anywhere, one line at a time."""
    monkeypatch.setattr(_lines, "BLOCK_SIZE", block)
    monkeypatch.setattr(_scan, "CHUNK_LINES", chunk)
    check(generate(100 + chunk, 400), tmp_path)


def test_one_process_several_and_a_stream_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts merged from worker processes, and a stream that cannot be read again (every example
    digested as it comes), report the same as one process reading the file."""
    lines = generate(7, 900)
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    one = check(lines, tmp_path)
    monkeypatch.setattr(_validate, "MIN_BYTES_PER_WORKER", 1)
    for workers in (2, 3):
        many = Dataset.validate_file(path, max_tokens=400, max_errors=len(lines) + 1, workers=workers)
        assert many.model_dump() == one.model_dump()

    class Unseekable(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self.data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            return self.data.readinto(buffer)

    stream = Dataset.validate_file(
        io.BufferedReader(Unseekable(path.read_bytes())),  # type: ignore[arg-type]
        filename="d.jsonl",
        max_tokens=400,
        max_errors=len(lines) + 1,
    )
    assert stream.stats == one.stats
    # a path also gets the file-level look (weight keys, weight 0 turns): the validator's own issues are
    # the same
    assert stream.errors == [e for e in one.errors if e.code != "looks_like_openai"]
    assert stream.warnings == [w for w in one.warnings if w.code != "ignored_weight"]


@st.composite
def files(draw: st.DrawFn) -> list[bytes]:
    return generate(draw(st.integers(0, 2**32)), draw(st.integers(1, 60)))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files(), st.sampled_from([1, 5, 64]), st.integers(20, 2000))
def test_small_files_of_every_shape(lines: list[bytes], chunk: int, max_tokens: int) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        patch.setattr(_scan, "CHUNK_LINES", chunk)
        check(lines, Path(tmp), max_tokens)


@pytest.mark.parametrize("seed", range(4))
def test_chunk_measures_are_the_per_line_measures(seed: int) -> None:
    """Each figure the chunk path takes from the line bytes (characters, wide bytes, singles, other keys)
    is the one the per-line path takes from the parsed contents, line by line (not only their sums)."""
    lines = [line for line in generate(seed, 400) if fast_measure(_loads(line)) is not None]
    block = b"\n".join(lines) + b"\n"
    marks = block_marks(block)
    for at in range(0, len(lines), 32):
        chunk, objs = lines[at : at + 32], [orjson.loads(line) for line in lines[at : at + 32]]
        checked = check_chunk(objs, chunk)
        assert checked is not None
        found = measure_chunk(checked, objs, [len(x) for x in chunk], marks[at : at + 32])
        expected = [fast_measure(obj) for obj in objs]
        assert found.characters == [e[2] for e in expected if e is not None]
        assert found.wide == [e[3] for e in expected if e is not None]
        assert found.singles == [e[5] for e in expected if e is not None]
        assert found.extra == [i for i, e in enumerate(expected) if e is not None and e[4]]


def _loads(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return None


def _normal_text_before(contents: list[str]) -> str:
    """``normal_text`` as it was written first, on the whole join: the definition the faster one keeps."""
    joined = "\0".join(contents)
    if joined.isascii():
        ends = [c[:1] for c in contents] + [c[-1:] for c in contents]
        if " " not in ends and "" not in ends and _plain_before(joined):
            return joined
    else:
        joined = unicodedata.normalize("NFC", joined)
    return re.sub(" ?\0 ?", "\0", " ".join(joined.split()))


def _plain_before(text: str) -> bool:
    return (
        bool(text)
        and text[0] != " "
        and text[-1] != " "
        and not any(c in text for c in "\n\t\r\x0b\x0c\x1c\x1d\x1e\x1f")
        and "  " not in text
    )


CONTENT = st.lists(
    st.sampled_from(
        [" ", "  ", "\t", "\n", "\x00", "a", "b", "é", "e\u0301", "\u3000", "\xa0", "你", "\x1c", "A\u030a"]
    ),
    max_size=8,
).map("".join)


@settings(max_examples=2000, deadline=None)
@given(st.lists(CONTENT | st.text(max_size=6), max_size=4))
def test_normal_text_per_content_is_the_join_normalised(contents: list[str]) -> None:
    assert normal_text(contents) == _normal_text_before(contents)


@pytest.mark.parametrize("block", [4096, 1 << 16])
def test_short_lines_copied_and_long_lines_viewed_alike(
    block: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks of short lines (cut by copying) and of long ones (viewed) in one file, lines across blocks."""
    monkeypatch.setattr(_lines, "BLOCK_SIZE", block)
    rng = random.Random(block)
    long = generate(block, 300)
    lines: list[bytes] = []
    for i in range(3000):
        prompt = f"q{i % 97}" + " ok" * rng.randint(0, 3)
        lines.append(orjson.dumps({"messages": [pair("user", prompt), pair("assistant", f"a {i % 301}.")]}))
        if i % 10 == 0 and long:
            lines.append(long.pop())
    report = check(lines, tmp_path)
    assert report.stats.duplicate_prompts and report.stats.exact_duplicates


def pair(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


def test_parts_keyed_portably_merge_to_the_same_counts(tmp_path: Path) -> None:
    """Parts scanned with the keys workers not forked from this process use (CRC keys, BLAKE2b digests),
    then merged, report what one process does."""
    lines = generate(11, 900)
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    one = check(lines, tmp_path)
    options = Options(max_errors=len(lines) + 1, max_tokens=400, portable=True)
    points = _parallel._split_points(path, path.stat().st_size, 4)
    parts = [scan_path(path, a, b, options) for a, b in itertools.pairwise(points)]
    assert len(parts) == 4
    with open_regular(path) as file:
        merged = _validate._report(str(path), [], parts, options, fd_reader(file.fileno()))
    assert merged.stats == one.stats
    assert merged.errors == [e for e in one.errors if e.line is not None]  # a path also gets file-level hints
    assert merged.warnings == [w for w in one.warnings if w.code != "ignored_weight"]
