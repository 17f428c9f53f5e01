"""From a raw ShareGPT export to a comparison report on the emulator: the nine commands it took before
(the named baseline: convert, validate, dedupe, split, stats, upload, jobs create --wait, chat, compare)
against one ``finetune tune``, in the same run, each a whole process timed from outside; median of N.

Both go through the same stages against the same emulator (in a child process, jobs at 50x speed), on a
fresh copy of the export each run. It prints the commands, each flow's wall time and the ratio.

    python bench/raw_to_report.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import KEY, emulator_process

from tests.tune.sharegpt import PROMPTS, write_sharegpt

MODEL = "Qwen/Qwen2.5-7B-Instruct"


def _finetune(folder: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "finetune_sdk.cli", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"finetune {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def nine_commands(folder: Path, env: dict[str, str]) -> list[str]:
    """The way before: each stage its own command, each output the next one's input."""
    run: list[str] = []

    def step(*args: str) -> str:
        run.append("finetune " + " ".join(args))
        return _finetune(folder, env, *args)

    step("convert", "chats.json", "-o", "chats.jsonl", "--rejects", "rejected.jsonl")
    step("validate", "chats.jsonl")
    step("dedupe", "chats.jsonl")
    step("split", "chats.dedup.jsonl")
    step("stats", "chats.dedup.train.jsonl", "--price", "2")
    file_id = step("upload", "chats.dedup.train.jsonl").strip()
    created = step(
        "jobs",
        "create",
        "-m",
        MODEL,
        "-t",
        file_id,
        "--validation-file",
        "chats.dedup.validation.jsonl",
        "--wait",
    )
    model = created.split()[-1]
    step("chat", "-m", model, PROMPTS[0])
    step(
        "compare",
        "--base",
        MODEL,
        "--tuned",
        model,
        "--prompts-file",
        "prompts.txt",
        "--report",
        "report.html",
    )
    return run


def one_command(folder: Path, env: dict[str, str]) -> list[str]:
    args = (
        "tune",
        "chats.json",
        "-m",
        MODEL,
        "--eval",
        "prompts.txt",
        "--price",
        "2",
        "--report",
        "report.html",
    )
    _finetune(folder, env, *args)
    return ["finetune " + " ".join(args)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    times: dict[str, list[float]] = {"nine commands": [], "finetune tune": []}
    commands: dict[str, list[str]] = {}
    with emulator_process(time_scale=50) as base, tempfile.TemporaryDirectory() as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FINETUNE_")}
        env.update(FINETUNE_API_KEY=KEY, FINETUNE_BASE_URL=base, NO_COLOR="1")
        for index in range(runs):
            for name, flow in (("nine commands", nine_commands), ("finetune tune", one_command)):
                folder = Path(scratch) / f"{name.replace(' ', '-')}-{index}"
                folder.mkdir()
                write_sharegpt(folder / "chats.json")
                (folder / "prompts.txt").write_text("\n".join(PROMPTS) + "\n", encoding="utf-8")
                started = time.perf_counter()
                commands[name] = flow(folder, env)
                times[name].append(time.perf_counter() - started)
                assert (folder / "report.html").is_file()
                shutil.rmtree(folder)
    for name, used in commands.items():
        print(f"{name}: {len(used)} command(s)")
        for line in used:
            print(f"  {line}")
    before, after = (statistics.median(times[name]) for name in ("nine commands", "finetune tune"))
    print(f"nine commands (baseline): {before:.2f} s (median of {runs})")
    print(f"finetune tune:            {after:.2f} s (median of {runs})")
    print(f"ratio: {after / before:.2f}x the baseline's wall time")


if __name__ == "__main__":
    main()
