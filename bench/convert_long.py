"""Benchmark convert_file on long records: its cost must grow with the size of a record, not its square.

    python bench/convert_long.py              # strings of 10 and 40 MB, runs of 25k and 100k turns
    python bench/convert_long.py --scale 2

Two shapes that once took quadratic time, each at two sizes four times apart:

- a JSON array holding one Alpaca record whose ``output`` is one long string (the array splitter reads
  it block by block); baseline: ``orjson.loads`` of the same file read whole;
- one ShareGPT record of N consecutive ``human`` turns and a ``gpt`` answer (merged into one turn);
  baseline: ``orjson.loads`` of the record.

Each line prints the time and its ratio to the baseline; the ratios of the two sizes stay about equal
when the cost is linear (they would grow about 4x if it were quadratic).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import orjson
from convert import best  # bench/convert.py, next to this script

from finetune_sdk import convert_file


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every size by this")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out.jsonl"
        for mb in (10, 40):
            size = int(mb * args.scale * 1_000_000)
            src = Path(folder) / f"long{mb}.json"
            src.write_bytes(orjson.dumps([{"instruction": "q", "output": "x" * size}]))
            base = best(args.rounds, lambda src=src: orjson.loads(src.read_bytes()))
            took = best(args.rounds, lambda src=src: convert_file(src, out))
            print(f"array, one {size / 1e6:.0f} MB string: {took:.3f} s, {took / base:.1f}x orjson.loads")
        for turns in (25_000, 100_000):
            count = int(turns * args.scale)
            record = {
                "conversations": [{"from": "human", "value": "x" * 50}] * count
                + [{"from": "gpt", "value": "y"}]
            }
            src = Path(folder) / f"run{turns}.jsonl"
            src.write_bytes(orjson.dumps(record) + b"\n")
            base = best(args.rounds, lambda src=src: orjson.loads(src.read_bytes()))
            took = best(args.rounds, lambda src=src: convert_file(src, out))
            print(f"{count:,} consecutive human turns: {took:.3f} s, {took / base:.1f}x orjson.loads")


if __name__ == "__main__":
    main()
