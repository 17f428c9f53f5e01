"""Benchmark Dataset.validate_file against plain orjson-per-line parsing of the same file.

    python bench/validate.py            # 100 MB of 3-turn conversations, one process
    python bench/validate.py --mb 200 --rounds 5 --workers auto --pairs 0

It writes a JSON Lines file of realistic chat examples (``--pairs`` user/assistant pairs, 3 by default, 0
for a mix of 1-4; some with a system message, ~1 in 5 in Chinese; answers of log-normal length around
``--chars`` characters, questions a quarter of that, system prompts half; every example its own, but
about 2% exact copies of an earlier one and 1% copies differing only in white space) into a temporary
directory, then times, side by side and in alternation (best of ``--rounds``):

- the baseline: read the file in binary blocks (the validator's size), split on newlines,
  ``orjson.loads`` every line;
- the same parse of views of each block (``memoryview`` slices, no line copied), as the validator reads:
  splitting a block into new ``bytes`` costs about as much as parsing them, so this second figure shows
  what the checks and counts cost on top of parsing alone;
- ``Dataset.validate_file(path)``, the default: the checks, the statistics and the count of duplicate
  examples (exact and normalised) and prompts;
- ``Dataset.validate_file(path, duplicates=False)``, the checks and statistics alone (what an upload runs).

Peak memory is measured in a fresh process: its peak RSS during validate_file minus its RSS before, so it
shows whether memory grows with the file (it should not).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from finetune_sdk import Dataset
from finetune_sdk.data._lines import BLOCK_SIZE

_WORDS_TEXT = (
    "the order address change account password refund delivery payment invoice support please "
    "thanks could would should click open save settings profile email phone number status help "
    "problem issue update cancel return shipping product price discount coupon week today time"
)
WORDS = _WORDS_TEXT.split()
CJK = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经"  # noqa: E501


def _text(rng: random.Random, cjk: bool, median: float) -> str:
    """Text of a log-normal length around ``median`` characters (CJK text about a third as long)."""
    size = max(1, int(rng.lognormvariate(0, 0.8) * median))
    if cjk:
        return "".join(rng.choice(CJK) for _ in range(max(1, size // 3))) + "。"
    return " ".join(rng.choice(WORDS) for _ in range(max(1, size // 6))).capitalize() + "."


def _example(rng: random.Random, median: float, pairs: int = 0) -> bytes:
    cjk = rng.random() < 0.2
    messages = []
    if rng.random() < 0.4:
        messages.append({"role": "system", "content": _text(rng, cjk, median / 2)})
    for _ in range(pairs or rng.choice((1, 1, 2, 2, 3, 4))):
        messages.append({"role": "user", "content": _text(rng, cjk, median / 4)})
        messages.append({"role": "assistant", "content": _text(rng, cjk, median)})
    return orjson.dumps({"messages": messages}, option=orjson.OPT_APPEND_NEWLINE)


def make_file(path: Path, megabytes: float, median: float = 600, seed: int = 0, pairs: int = 3) -> int:
    """Write about ``megabytes`` MB of examples (2% exact copies, 1% white-space variants of earlier
    ones); return the size in bytes."""
    rng = random.Random(seed)
    target = int(megabytes * 1_000_000)
    written = 0
    earlier: list[bytes] = []
    with path.open("wb") as file:
        while written < target:
            draw = rng.random()
            if earlier and draw < 0.02:
                line = rng.choice(earlier)
            elif earlier and draw < 0.03:
                line = rng.choice(earlier).replace(b'"content":"', b'"content":" ', 1)
            else:
                line = _example(rng, median, pairs)
                if len(earlier) < 2000:
                    earlier.append(line)
            file.write(line)
            written += len(line)
    return written


def baseline(path: Path) -> int:
    """Plain orjson per line, reading the same way as the validator (blocks of the same size)."""
    loads = orjson.loads
    count = 0
    tail = b""
    with path.open("rb") as file:
        while block := file.read(BLOCK_SIZE):
            lines = (tail + block).split(b"\n")
            tail = lines.pop()
            for line in lines:
                loads(line)
                count += 1
    if tail:
        loads(tail)
        count += 1
    return count


def baseline_views(path: Path) -> int:
    """Plain orjson per line on views of each block (the lines are not copied), as the validator reads."""
    loads = orjson.loads
    count = 0
    tail = b""
    with path.open("rb") as file:
        while block := file.read(BLOCK_SIZE):
            end = block.find(b"\n")
            if end < 0:
                tail += block
                continue
            loads(tail + block[:end])
            count += 1
            view = memoryview(block)
            start = end + 1
            while (end := block.find(b"\n", start)) >= 0:
                loads(view[start:end])
                count += 1
                start = end + 1
            tail = block[start:]
    if tail:
        loads(tail)
        count += 1
    return count


MEMORY_PROBE = """
import resource, sys
from finetune_sdk import Dataset
def status_mb(key):  # VmRSS now, VmHWM the peak (fresh after exec, unlike ru_maxrss)
    with open("/proc/self/status") as f:
        line = next(x for x in f if x.startswith(key + ":"))
    return int(line.split()[1]) / 1024
before = status_mb("VmRSS")
workers = sys.argv[2] if sys.argv[2] == "auto" else int(sys.argv[2])
report = Dataset.validate_file(sys.argv[1], workers=workers)
children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(max(0.0, status_mb("VmHWM") - before), children, report.ok, report.stats.examples)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--mb", type=float, default=200, help="size of the generated file (MB)")
    parser.add_argument("--chars", type=float, default=600, help="median assistant answer, in characters")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of each (best counts)")
    parser.add_argument("--pairs", type=int, default=3, help="user/assistant pairs per example (0: 1-4)")
    parser.add_argument(
        "--workers", default="1", help="validate_file(workers=...): 1 (one process, the default), auto or N"
    )
    args = parser.parse_args()
    workers: int | str = args.workers if args.workers == "auto" else int(args.workers)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.jsonl"
        size = make_file(path, args.mb, args.chars, pairs=args.pairs)
        mb = size / 1e6
        print(f"file: {mb:.0f} MB, python {sys.version.split()[0]}, orjson {orjson.__version__}")
        baseline(path)  # warm the page cache
        best_base = best_views = best_val = best_fast = float("inf")
        report = None
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            lines = baseline(path)
            best_base = min(best_base, time.perf_counter() - t0)
            t0 = time.perf_counter()
            assert baseline_views(path) == lines
            best_views = min(best_views, time.perf_counter() - t0)
            t0 = time.perf_counter()
            report = Dataset.validate_file(path, workers=workers)  # type: ignore[arg-type]
            best_val = min(best_val, time.perf_counter() - t0)
            t0 = time.perf_counter()
            Dataset.validate_file(path, workers=workers, duplicates=False)  # type: ignore[arg-type]
            best_fast = min(best_fast, time.perf_counter() - t0)
        assert report is not None
        assert report.ok, report.summary()
        assert report.stats.examples == lines
        probe = subprocess.run(
            [sys.executable, "-c", MEMORY_PROBE, str(path), str(args.workers)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        )
        growth, children, _, _ = probe.stdout.split()
        val_speed, base_speed = mb / best_val, mb / best_base
        print(
            f"examples: {lines} (mean {size / lines:.0f} bytes), "
            f"estimated tokens: {report.stats.estimated_tokens}"
        )
        memory = f"peak RSS growth: {float(growth):.1f} MB"
        if workers != 1:
            memory += f" (largest worker peak RSS: {float(children):.0f} MB)"
        print(
            f"validate_file: {val_speed:.0f} MB/s  orjson-per-line baseline: {base_speed:.0f} MB/s  "
            f"ratio: {val_speed / base_speed:.2f} (workers={workers})  {memory}"
        )
        fast_speed = mb / best_fast
        print(f"validate_file(duplicates=False): {fast_speed:.0f} MB/s  ratio: {fast_speed / base_speed:.2f}")
        views_speed = mb / best_views
        print(
            f"orjson per line on block views (no copy): {views_speed:.0f} MB/s; against it, validate_file: "
            f"{val_speed / views_speed:.2f}, duplicates=False: {fast_speed / views_speed:.2f}"
        )
        stats = report.stats
        print(
            f"duplicates counted: {stats.duplicate_examples} examples ({stats.exact_duplicates} exact), "
            f"{stats.duplicate_prompts} prompts"
        )


if __name__ == "__main__":
    main()
