"""A small ShareGPT export as chat apps and data sites hand it out: ``conversations`` of ``from``/``value``
turns (``system``, ``human``, ``gpt``), with what such exports hold: padded text, two human turns in a row,
repeated conversations and a record with nothing to train on."""

from __future__ import annotations

import json
from pathlib import Path

PROMPTS = ("评价一下词语3", "评价一下词语5", "评价一下新词")
"""Prompts to compare the base and the tuned model on."""


def write_sharegpt(path: Path, n: int = 40) -> Path:
    """``n`` conversations and one bad record: every 7th has padded text (trimmed by the conversion),
    every 11th two human turns in a row (merged), the last three repeat the first three (duplicates);
    the bad record has only a ``gpt`` turn (rejected)."""
    records = []
    for i in range(n):
        word = i % (n - 3)
        turns = [
            {"from": "system", "value": "你是犀利的评论家"},
            {"from": "human", "value": f"评价一下词语{word}"},
            {"from": "gpt", "value": f"第{word}句金句,一针见血。"},
        ]
        if i % 7 == 0:
            turns[1]["value"] = f"  {turns[1]['value']}  "
        if i % 11 == 0:
            turns.insert(2, {"from": "human", "value": "再说一遍"})
        records.append({"id": str(i), "conversations": turns})
    records.append({"id": "bad", "conversations": [{"from": "gpt", "value": "only me"}]})
    path.write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")
    return path
