from __future__ import annotations

from finetune_sdk._text import columns, pad, plural, shorten, table_lines


def test_wide_characters_take_two_columns() -> None:
    assert columns("abc") == 3
    assert columns("训练数据.jsonl") == 14
    assert columns("ｆｕｌｌ") == 8  # full-width latin


def test_shorten_and_pad_count_columns() -> None:
    assert shorten("知识的殿堂与商业的洪流", 9) == "知识的殿…"
    assert shorten("a  b\nc", 10) == "a b c"
    assert pad("五道口", 8) == "五道口  "


def test_table_lines_align_mixed_text() -> None:
    lines = table_lines(
        [["id", "name", "bytes"], ["file-1", "训练数据.jsonl", "7434"], ["file-2", "a.jsonl", "9"]]
    )
    starts = {columns(line[: line.rindex(" ") + 1]) for line in lines}
    assert len(starts) == 1  # the last column starts at one terminal column on every line


def test_plural() -> None:
    assert plural(1, "example") == "1 example"
    assert plural(3, "example") == "3 examples"
    assert plural(2, "entry", "entries") == "2 entries"
