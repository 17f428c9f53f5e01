"""Benchmark convert_file against Dataset.validate_file on the same examples.

    python bench/convert.py               # ~50 MB of examples
    python bench/convert.py --mb 20 --rounds 3

It generates realistic chat examples (as bench/validate.py does) and writes the same examples four
ways into a temporary directory: the platform's JSON Lines, ShareGPT JSON Lines, a ShareGPT JSON array
(one document) and Alpaca JSON Lines (first pair only). It then times, best of ``--rounds``:

- the baseline: ``Dataset.validate_file`` on the platform's JSON Lines;
- ``convert_file`` from each format (to a file in the same directory, no rejects file).

Throughput is compared in examples per second (the formats differ in size for the same examples) and is
printed with MB/s of the input. The peak Python memory (tracemalloc) of converting the JSON array is
measured in a fresh process: apart from the report's list of changes it does not grow with the file.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from finetune_sdk import Dataset
from finetune_sdk.data.convert import convert_file

_SHAREGPT_ROLE = {"user": "human", "assistant": "gpt", "system": "system"}


_WORDS = [
    "order",
    "address",
    "refund",
    "delivery",
    "payment",
    "invoice",
    "password",
    "account",
    "settings",
    "email",
    "phone",
    "status",
    "update",
    "cancel",
    "return",
    "shipping",
    "product",
    "price",
    "today",
]
_CJK = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产"


def _text(rng: random.Random, cjk: bool, median: float) -> str:
    size = max(1, int(rng.lognormvariate(0, 0.8) * median))
    if cjk:
        return "".join(rng.choices(_CJK, k=max(1, size // 3))) + "。"
    return " ".join(rng.choices(_WORDS, k=max(1, size // 6))).capitalize() + "."


def _example(rng: random.Random, median: float) -> dict[str, Any]:
    """1-4 user/assistant pairs, some with a system message, 1 in 5 in Chinese."""
    cjk = rng.random() < 0.2
    messages = [{"role": "system", "content": _text(rng, cjk, median / 2)}] if rng.random() < 0.4 else []
    for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
        messages.append({"role": "user", "content": _text(rng, cjk, median / 4)})
        messages.append({"role": "assistant", "content": _text(rng, cjk, median)})
    return {"messages": messages}


def write_files(folder: Path, megabytes: float) -> tuple[int, dict[str, Path]]:
    rng = random.Random(0)
    pool = [_example(rng, 600) for _ in range(3000)]
    names = ("guide.jsonl", "sharegpt.jsonl", "sharegpt.json", "alpaca.jsonl")
    paths = {name: folder / name for name in names}
    handles = {name: path.open("wb") for name, path in paths.items()}
    handles["sharegpt.json"].write(b"[\n")
    count = 0
    written = 0
    target = megabytes * 1_000_000
    while written < target:
        example: dict[str, Any] = pool[count % len(pool)]
        line = orjson.dumps(example) + b"\n"
        handles["guide.jsonl"].write(line)
        written += len(line)
        messages = example["messages"]
        turns = [{"from": _SHAREGPT_ROLE[m["role"]], "value": m["content"]} for m in messages]
        share = {"conversations": turns}
        handles["sharegpt.jsonl"].write(orjson.dumps(share) + b"\n")
        handles["sharegpt.json"].write((b",\n" if count else b"") + orjson.dumps(share))
        body = [m for m in messages if m["role"] != "system"]
        alpaca = {"instruction": body[0]["content"], "input": "", "output": body[1]["content"]}
        handles["alpaca.jsonl"].write(orjson.dumps(alpaca) + b"\n")
        count += 1
    handles["sharegpt.json"].write(b"\n]\n")
    for handle in handles.values():
        handle.close()
    return count, paths


def best(rounds: int, action: Any) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


_MEMORY = """
import sys, tracemalloc
from finetune_sdk.data.convert import convert_file
tracemalloc.start()
convert_file(sys.argv[1], sys.argv[2])
print(tracemalloc.get_traced_memory()[1] / 1e6)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--mb", type=float, default=50, help="size of the platform-format file in MB")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        count, paths = write_files(folder, args.mb)
        out = folder / "out.jsonl"
        base = best(args.rounds, lambda: Dataset.validate_file(paths["guide.jsonl"], workers=1))
        base_rate = count / base
        size = paths["guide.jsonl"].stat().st_size / 1e6
        print(
            f"{count} examples; baseline validate_file (guide.jsonl, {size:.0f} MB): "
            f"{base_rate:,.0f} examples/s, {size / base:.0f} MB/s"
        )
        for name in ("guide.jsonl", "sharegpt.jsonl", "sharegpt.json", "alpaca.jsonl"):
            path = paths[name]
            elapsed = best(args.rounds, lambda path=path: convert_file(path, out))
            mb = path.stat().st_size / 1e6
            print(
                f"convert {name:15} {mb:5.0f} MB: {count / elapsed:9,.0f} examples/s, "
                f"{mb / elapsed:4.0f} MB/s, {count / elapsed / base_rate:.2f}x validate_file"
            )
        array = paths["sharegpt.json"]
        peak = subprocess.run(
            [sys.executable, "-c", _MEMORY, str(array), str(out)], capture_output=True, text=True, check=True
        ).stdout.strip()
        print(
            f"peak Python memory converting the {array.stat().st_size / 1e6:.0f} MB JSON array: "
            f"{float(peak):.1f} MB (of which the report's changes, one per record here)"
        )


if __name__ == "__main__":
    main()
