"""What a new process pays for its first answer, and what the ``finetune`` command pays to start: whole
processes timed from outside, against the official ``openai`` client and a raw httpx script in the same
run (the named baselines), interleaved, median of N.

First answer: a fresh interpreter that imports the client, builds it and retrieves one job from an
emulator (in a child process, started once):

- ``finetune_sdk``: ``from finetune_sdk import Client; Client(...).jobs.retrieve(job_id)``
- ``openai``: ``import openai; openai.OpenAI(...).fine_tuning.jobs.retrieve(job_id)``
- ``raw httpx``: ``import httpx, orjson; orjson.loads(httpx.get(url, headers=...).content)``

Goal: the SDK's first answer at 0.45x openai's or less.

Every process runs with its modules' bytecode cached, as after ``pip install`` (which compiles them): the
children write and read it under a cache folder of their own (``PYTHONPYCACHEPREFIX``), filled by the warm-up
run, whatever ``PYTHONDONTWRITEBYTECODE`` says. Without it a source checkout installed in editable mode
compiles the SDK's modules on every start (about 60 ms here) while the baselines' installed modules are
already compiled. The command line: ``finetune --help`` and
``finetune validate small.jsonl`` against ``python -c pass`` (the interpreter's own start).

With ``--core PYTHON`` (or ``--make-core DIR``, built as ``bench/import_time.py`` builds it) the first
answers are timed in an environment holding the runtime dependencies alone too: what ``pip install
finetune-sdk`` gives a user. In the dev environment httpx imports rich and click for its command line and
httpcore imports trio, which every process pays, and more imported modules make each of the cyclic
garbage collector's full passes during the imports longer.

    python bench/cold_start.py [--runs 15] [--core /path/to/core/bin/python | --make-core /tmp/core]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import KEY, emulator_process
from import_time import make_core

FIRST_ANSWER = {
    "finetune_sdk": (
        "from finetune_sdk import Client\n"
        "with Client(api_key={key!r}, base_url={base!r}) as c: c.jobs.retrieve({job!r})"
    ),
    "openai": (
        "import openai\n"
        "c = openai.OpenAI(api_key={key!r}, base_url={base!r})\n"
        "c.fine_tuning.jobs.retrieve({job!r}); c.close()"
    ),
    "raw httpx": (
        "import httpx, orjson\n"
        "orjson.loads(httpx.get({base!r} + '/fine_tuning/jobs/' + {job!r}, "
        "headers={{'Authorization': 'Bearer ' + {key!r}}}).content)"
    ),
}


def _time(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def _job(base: str, folder: Path) -> str:
    line = orjson.dumps(
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    )
    data = (line + b"\n") * 10
    headers = {"Authorization": f"Bearer {KEY}"}
    uploaded = httpx.post(
        f"{base}/files", headers=headers, files={"file": ("t.jsonl", data)}, data={"purpose": "fine-tune"}
    ).json()
    body = {"model": "Qwen/Qwen2.5-7B-Instruct", "training_file": uploaded["id"]}
    job: str = httpx.post(f"{base}/fine_tuning/jobs", headers=headers, json=body).json()["id"]
    (folder / "small.jsonl").write_bytes(data)
    return job


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--core", help="the python of an environment with the runtime dependencies only")
    parser.add_argument("--make-core", type=Path, help="build (or refresh) such an environment here first")
    opts = parser.parse_args()
    core = make_core(opts.make_core) if opts.make_core else opts.core
    finetune = str(Path(sys.executable).with_name("finetune"))
    with emulator_process(time_scale=1000.0) as base, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        job = _job(base, folder)
        pythons = {"": sys.executable} if core is None else {"": sys.executable, "core: ": core}
        commands = {
            label + name: [python, "-c", code.format(key=KEY, base=base, job=job)]
            for label, python in pythons.items()
            for name, code in FIRST_ANSWER.items()
        }
        commands["python -c pass"] = [sys.executable, "-c", "pass"]
        commands["finetune --help"] = [finetune, "--help"]
        commands["finetune validate"] = [finetune, "validate", str(folder / "small.jsonl")]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
        for command in commands.values():  # warm up: caches, .pyc files
            _time(command, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(opts.runs):
            for name, command in commands.items():
                times[name].append(_time(command, env))
    ms = {name: statistics.median(values) * 1000 for name, values in times.items()}
    print(f"median of {opts.runs} runs, ms per process")
    for name, value in ms.items():
        print(f"  {name:<26} {value:8.1f}")
    for label in pythons:
        where = "this environment" if not label else "runtime dependencies only"
        print(
            f"first answer ({where}): finetune_sdk / openai = "
            f"{ms[label + 'finetune_sdk'] / ms[label + 'openai']:.2f}x (goal <= 0.45x); "
            f"finetune_sdk / raw httpx = {ms[label + 'finetune_sdk'] / ms[label + 'raw httpx']:.2f}x"
        )
    print(
        f"command line: finetune --help {ms['finetune --help'] - ms['python -c pass']:.0f} ms and "
        f"finetune validate {ms['finetune validate'] - ms['python -c pass']:.0f} ms "
        "over the interpreter's start"
    )


if __name__ == "__main__":
    main()
