"""What ``import finetune_sdk`` costs, against ``import openai`` (the named baseline), each in a fresh
interpreter, best of N runs; and proof that importing the SDK does not import openai.

    python bench/import_time.py [--runs 7]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

CODE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def best_of(module: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", CODE.format(module=module)], capture_output=True, text=True, check=True
        )
        times.append(float(out.stdout))
    return min(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    opts = parser.parse_args()
    sdk = best_of("finetune_sdk", opts.runs)
    official = best_of("openai", opts.runs)
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, finetune_sdk; print('openai' in sys.modules)"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    print(f"import finetune_sdk: {sdk:6.1f} ms (best of {opts.runs})")
    print(f"import openai:       {official:6.1f} ms (best of {opts.runs})")
    print(f"ratio: {sdk / official:.2f}x of openai's import time; openai imported by finetune_sdk: {loaded}")


if __name__ == "__main__":
    main()
