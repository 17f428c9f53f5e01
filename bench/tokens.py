"""Benchmark exact Qwen2.5 token counting against the cheap estimate, and measure the estimate's error.

    python bench/tokens.py             # ~8 MB file
    python bench/tokens.py --mb 20 --rounds 3

It writes a JSON Lines file from the hand-written samples of ``tests/data/tokens/samples.jsonl``
(Chinese, English, mixed, digit-heavy), each example varied so no two lines are equal, then times, in
alternation (best of ``--rounds``):

- the baseline: ``Dataset.validate_file(path)``, whose statistics use the cheap estimate;
- ``Dataset.validate_file(path, tokens="exact")``: the same plus exact, templated counts (the ``tokens``
  extra).

It prints both speeds in MB/s and their ratio, then the estimate's error against the exact count per
example (chat template included), by kind of text: mean and worst, for the estimate before the
recalibration (1 token per CJK character, 1 per 4 other characters, digits as text) and after.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from finetune_sdk import Dataset  # noqa: E402
from finetune_sdk.data._stats import DEFAULT_SYSTEM_TOKENS, MESSAGE_OVERHEAD_TOKENS, estimate_text_tokens  # noqa: E402
from finetune_sdk.data._tokens import example_tokens, load_encoding  # noqa: E402

SAMPLES = ROOT / "tests" / "data" / "tokens" / "samples.jsonl"
LOGS = ROOT / "tests" / "data" / "tokens" / "logs.jsonl"


def write_file(path: Path, megabytes: float) -> int:
    rows = [json.loads(line) for line in (SAMPLES.read_text("utf-8") + LOGS.read_text("utf-8")).splitlines()]
    target = int(megabytes * (1 << 20))
    written = lines = 0
    with open(path, "w", encoding="utf-8") as out:
        while written < target:
            row = rows[lines % len(rows)]
            messages = [dict(m) for m in row["messages"]]
            messages[0]["content"] += f" (#{lines})"  # every line distinct
            text = json.dumps({"messages": messages}, ensure_ascii=False) + "\n"
            out.write(text)
            written += len(text.encode())
            lines += 1
    return lines


def best(work: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def old_estimate(text: str) -> int:
    wide = (len(text.encode()) - len(text)) >> 1
    return wide + ((len(text) - wide + 3) >> 2)


def digits_estimate(text: str) -> int:
    """The calibration before this one: 0.625 per wide character, 1 per digit, 1 per 4.44 others."""
    raw = text.encode()
    wide = (len(raw) - len(text)) >> 1
    digits = sum(raw.count(bytes([c])) for c in b"0123456789")
    return (9 * (len(text) - wide - digits) + 25 * wide + 40 * digits + 20) // 40


def estimate_errors() -> None:
    rows = [json.loads(line) for line in (SAMPLES.read_text("utf-8") + LOGS.read_text("utf-8")).splitlines()]
    names = ("first", "digits", "now")
    estimates = {"first": old_estimate, "digits": digits_estimate, "now": estimate_text_tokens}
    print("estimate error against the exact count, chat template included: per example (mean |error|,")
    print(
        "worst) and of the whole file of each kind; first: 1 per CJK character, 1 per 4 others; digits: the"
    )
    print("calibration with digits; now: digits and ASCII punctuation one token each")
    print(
        f"  {'text':8} {'n':>3}  " + "  ".join(f"{n + ': mean':>12} {'worst':>7} {'file':>7}" for n in names)
    )
    for kind in ["zh", "en", "mixed", "digits", "logs", "all"]:
        chosen = [r for r in rows if kind == "all" or r["lang"] == kind]
        errors: dict[str, list[float]] = {name: [] for name in names}
        totals = dict.fromkeys(names, 0)
        exact_total = 0
        for row in chosen:
            messages = row["messages"]
            exact, _ = example_tokens([m["role"] for m in messages], [m["content"] for m in messages])
            exact_total += exact
            template = (
                MESSAGE_OVERHEAD_TOKENS * len(messages)
                + (messages[0]["role"] != "system") * DEFAULT_SYSTEM_TOKENS
            )
            for name in names:
                found = sum(estimates[name](m["content"]) for m in messages) + template
                found += name == "first"  # the first estimate's default system block was 22
                totals[name] += found
                errors[name].append((found - exact) / exact)
        cells = []
        for name in names:
            found = errors[name]
            mean = sum(map(abs, found)) / len(found)
            worst = max(found, key=abs)
            whole = (totals[name] - exact_total) / exact_total
            cells.append(f"{mean * 100:11.1f}% {worst * 100:+6.1f}% {whole * 100:+6.1f}%")
        print(f"  {kind:8} {len(chosen):>3}  " + "  ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=8.0, help="size of the generated file")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    load_encoding()
    print(f"tokenizer loaded in {time.perf_counter() - started:.2f} s (once per process)")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.jsonl"
        lines = write_file(path, args.mb)
        size = os.path.getsize(path) / 1e6
        estimate = exact = float("inf")
        for _ in range(args.rounds):
            estimate = min(estimate, best(lambda: Dataset.validate_file(path, workers=1), 1))
            exact = min(exact, best(lambda: Dataset.validate_file(path, workers=1, tokens="exact"), 1))
        print(f"file: {size:.1f} MB, {lines} examples")
        print(f"exact tokens: {size / exact:.1f} MB/s")
        print(f"estimate (validate_file, the baseline): {size / estimate:.1f} MB/s")
        print(f"ratio exact / estimate: {estimate / exact:.3f}")
    estimate_errors()


if __name__ == "__main__":
    main()
