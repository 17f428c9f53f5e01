"""Quickstart: tune Qwen2.5-7B-Instruct into a witty critic, then see the difference.

    python examples/quickstart.py

With no FINETUNE_API_KEY in the environment it starts the embedded emulator (an emulation of the platform
on 127.0.0.1: no account, no network) and runs against it; with a key it uses the real platform
(FINETUNE_BASE_URL, if set, says where).

The steps are the platform guide's: validate the data, upload it, create a job with the `standard`
preset, wait for it, stream the tuned model's answer, and compare it with the base model driven by a long
system prompt (the guide's case study: after tuning, an 8-token system prompt replaced a 553-token one).
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from finetune_sdk import Client, Dataset, FineTuneJob

DATA = Path(__file__).resolve().parent / "data"
BASE_MODEL = "Qwen/Qwen2.5-7B-Instruct"
PROMPTS = ["五道口", "新时代", "创新", "降维打击", "基金"]


def progress(job: FineTuneJob) -> None:
    """Print each change of a job's status or progress, on stderr."""
    line = f"  {job.status}"
    if job.total_steps:
        line += f"  step {job.step or 0}/{job.total_steps}"
    if job.train_loss is not None:
        line += f"  loss {job.train_loss:.3f}"
    print(line, file=sys.stderr, flush=True)


def run(client: Client, *, emulated: bool = False) -> None:
    training = DATA / "critic.jsonl"
    long_prompt = (DATA / "long_system_prompt.txt").read_text(encoding="utf-8")
    short_prompt = (DATA / "short_system_prompt.txt").read_text(encoding="utf-8").strip()

    print(f"1. Validate {training.name}")
    report = Dataset.validate_file(training)
    report.raise_for_errors()
    stats = report.stats
    print(f"   {stats.examples} examples, about {stats.estimated_tokens} tokens: valid")

    print("2. Upload it")
    uploaded = client.files.upload(training)
    print(f"   {uploaded.id} ({uploaded.bytes} bytes)")

    print(f"3. Create a job on {BASE_MODEL} with the standard preset")
    job = client.jobs.create(
        model=BASE_MODEL, training_file=uploaded.id, hyperparameters="standard", suffix="critic"
    )
    print(f"   {job.id}")

    print("4. Wait for it")
    done = client.jobs.wait(job, on_update=progress)
    tuned = done.fine_tuned_model
    assert tuned is not None  # a succeeded job always names its model
    print(f"   tuned model: {tuned}")

    print(f"5. Ask the tuned model (system prompt: {short_prompt!r})")
    print(f"   {PROMPTS[0]} -> ", end="", flush=True)
    for delta in client.chat(tuned, PROMPTS[0], system=short_prompt):
        print(delta, end="", flush=True)
    print()

    print("6. Before and after: the base model with the long prompt, the tuned one with the short prompt")
    comparison = client.chat.compare(PROMPTS, base=(BASE_MODEL, long_prompt), tuned=(tuned, short_prompt))
    print(comparison)
    if emulated:
        print(
            "(The emulator's replies and timings are an emulation: it answers from the training examples and "
            "waits 0.3 ms per prompt token, as a stand-in for a real model reading its prompt.)"
        )


def main() -> None:
    with contextlib.ExitStack() as stack:
        if os.environ.get("FINETUNE_API_KEY"):
            client = stack.enter_context(Client())
            print(f"Using the platform at {client.base_url}")
        else:
            from finetune_sdk.emulator import Emulator  # the `emulator` extra

            # An emulated prefill cost per prompt token, so the comparison shows the shorter prompt's speed.
            emulator = stack.enter_context(Emulator(prompt_token_delay=0.0003))
            print(f"No FINETUNE_API_KEY: using the embedded emulator at {emulator.base_url}")
            client = stack.enter_context(Client(api_key=emulator.api_key, base_url=emulator.base_url))
        run(client, emulated=not os.environ.get("FINETUNE_API_KEY"))


if __name__ == "__main__":
    main()
