"""Benchmark the relay's chat framing (``ChatFrames.delta``) against framing each chunk by hand.

    python bench/relay.py                 # 200,000 deltas, best of 5 runs
    python bench/relay.py --deltas 50000 --runs 3

Pure CPU, no sockets: the cost a relay pays per text delta on top of reading it. Baselines, measured in
the same run on the same deltas:

- ``orjson dict``: build the whole chunk dict and ``orjson.dumps`` it per delta (what a hand-written
  relay on orjson does). Goal: ``ChatFrames`` at least 2x faster (it encodes the shared head once and
  per delta only the text).
- ``json dict``: the same with the standard library's ``json.dumps`` (``ensure_ascii=False``).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import orjson

from finetune_sdk.relay import ChatFrames

MODEL = "ft:LoRA/Qwen/Qwen2.5-7B-Instruct:org:critic:abc123"
HEAD = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1700000000, "model": MODEL}


def by_sdk(deltas: list[str]) -> int:
    frames = ChatFrames(MODEL, id="chatcmpl-bench", created=1700000000)
    return sum(len(frames.delta(d)) for d in deltas)


def by_orjson(deltas: list[str]) -> int:
    total = 0
    for d in deltas:
        chunk = {**HEAD, "choices": [{"index": 0, "delta": {"content": d}, "finish_reason": None}]}
        total += len(b"data: " + orjson.dumps(chunk) + b"\n\n")
    return total


def by_json(deltas: list[str]) -> int:
    total = 0
    for d in deltas:
        chunk = {**HEAD, "choices": [{"index": 0, "delta": {"content": d}, "finish_reason": None}]}
        total += len(
            ("data: " + json.dumps(chunk, ensure_ascii=False, separators=(",", ":")) + "\n\n").encode()
        )
    return total


def best(fn: Callable[[list[str]], int], deltas: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn(deltas)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deltas", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    words = ["第", "句金句,", "一针见血。", "Hello", " there\n", "“quoted”"]
    deltas = [words[i % len(words)] + str(i % 7) for i in range(args.deltas)]
    results = {
        "ChatFrames.delta": best(by_sdk, deltas, args.runs),
        "orjson dict": best(by_orjson, deltas, args.runs),
        "json dict": best(by_json, deltas, args.runs),
    }
    sdk = results["ChatFrames.delta"]
    print(f"{args.deltas} deltas, best of {args.runs} runs")
    for name, seconds in results.items():
        per = seconds / args.deltas * 1e9
        print(f"  {name:<18} {per:8.0f} ns/delta   {seconds / sdk:5.2f}x the SDK's time")


if __name__ == "__main__":
    main()
