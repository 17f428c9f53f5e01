"""What importing the SDK costs, against ``import openai`` (the named baseline), each in a fresh
interpreter, runs interleaved and the best of N kept; and proof that importing the SDK does not import
openai.

Two SDK figures: ``import finetune_sdk`` (names are loaded lazily) and ``from finetune_sdk import Client``
(a client ready to send: what a program pays before its first call). Each is measured in every
interpreter given: this one (normally the dev environment, with the ``[all]`` extras, where httpx also
imports rich and click for its command line), and with ``--core PYTHON`` an environment holding the
runtime dependencies alone (``--make-core DIR`` builds one: ``pip install`` of this checkout, no extras).

    python bench/import_time.py [--runs 15] [--core /path/to/core/bin/python | --make-core /tmp/core]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import venv
from pathlib import Path

CODE = "import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
STATEMENTS = {
    "sdk": "import finetune_sdk",
    "client": "from finetune_sdk import Client",
    "openai": "import openai",
}


def measure(python: str, runs: int) -> dict[str, float]:
    """Best time (ms) of each statement, the statements interleaved so that load hits them alike."""
    times: dict[str, list[float]] = {name: [] for name in STATEMENTS}
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    for _ in range(runs):
        for name, statement in STATEMENTS.items():
            out = subprocess.run(
                [python, "-c", CODE.format(statement=statement)],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            )
            times[name].append(float(out.stdout))
    return {name: min(values) * 1000 for name, values in times.items()}


def make_core(folder: Path) -> str:
    """A venv with this checkout installed with its runtime dependencies only."""
    python = folder / "bin" / "python"
    if not python.exists():
        venv.create(folder, with_pip=True)
    root = Path(__file__).resolve().parent.parent
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(root)], check=True)
    return str(python)


def report(label: str, python: str, runs: int) -> None:
    best = measure(python, runs)
    loaded = subprocess.run(
        [python, "-c", "import sys; from finetune_sdk import Client; print('openai' in sys.modules)"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    print(f"[{label}] {python}")
    print(f"  import finetune_sdk:              {best['sdk']:6.1f} ms")
    print(f"  from finetune_sdk import Client:  {best['client']:6.1f} ms")
    print(f"  import openai:                    {best['openai']:6.1f} ms   (best of {runs}, interleaved)")
    print(
        f"  ratio: {best['sdk'] / best['openai']:.2f}x (import), {best['client'] / best['openai']:.2f}x "
        f"(with Client) of openai's import time; openai imported by the SDK: {loaded}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--core", help="the python of an environment with the runtime dependencies only")
    parser.add_argument("--make-core", type=Path, help="build (or refresh) such an environment here first")
    opts = parser.parse_args()
    report("this environment", sys.executable, opts.runs)
    core = make_core(opts.make_core) if opts.make_core else opts.core
    if core:
        report("runtime dependencies only", core, opts.runs)


if __name__ == "__main__":
    main()
