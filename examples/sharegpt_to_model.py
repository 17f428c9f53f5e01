"""From a ShareGPT file to a tuned model: convert, validate, upload, tune, chat.

    python examples/sharegpt_to_model.py

The data is examples/data/support_sharegpt.json, a ShareGPT JSON array as open datasets ship it: a
top-level system prompt, greetings before the first question, unanswered last questions, a tool call and
an empty answer. `convert_file` repairs what can be repaired, says what it changed and keeps the record it
could not convert in a rejects file. With no FINETUNE_API_KEY it runs on the embedded emulator.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

from finetune_sdk import Client, Dataset, convert_file

SOURCE = Path(__file__).resolve().parent / "data" / "support_sharegpt.json"
BASE_MODEL = "Qwen/Qwen2.5-7B-Instruct"


def run(client: Client, folder: Path) -> None:
    training, rejects = folder / "support.jsonl", folder / "support.rejects.jsonl"

    print(f"1. Convert {SOURCE.name}")
    report = convert_file(SOURCE, training, rejects=rejects)
    print(f"   {report.detected}")
    print(f"   read {report.read}, wrote {report.written}, rejected {report.rejected}")
    for code, count in sorted(report.change_counts.items()):
        print(f"   {code}: {count}")
    for rejection in report.rejections:
        print(f"   rejected record {rejection.record}: {rejection.code}: {rejection.reason}")
    assert report.written + report.rejected == report.read

    print("2. Validate the result")
    validation = Dataset.validate_file(training)
    validation.raise_for_errors()
    print(f"   {validation.stats.examples} examples: valid")

    print("3. Upload it and tune")
    uploaded = client.files.upload(training)
    job = client.jobs.create(
        model=BASE_MODEL, training_file=uploaded.id, hyperparameters="standard", suffix="support"
    )
    done = client.jobs.wait(job, on_update=lambda j: print(f"  {j.status}", file=sys.stderr, flush=True))
    tuned = done.fine_tuned_model
    assert tuned is not None  # a succeeded job always names its model
    print(f"   tuned model: {tuned}")

    print("4. Chat with it")
    question = "可以开发票吗？"
    print(f"   {question} -> ", end="", flush=True)
    for delta in client.chat(tuned, question, system="你是 Acme 网店的客服，回答简洁、礼貌。"):
        print(delta, end="", flush=True)
    print()


def main() -> None:
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if os.environ.get("FINETUNE_API_KEY"):
            client = stack.enter_context(Client())
        else:
            from finetune_sdk.emulator import Emulator  # the `emulator` extra

            emulator = stack.enter_context(Emulator())
            print(f"No FINETUNE_API_KEY: using the embedded emulator at {emulator.base_url}")
            client = stack.enter_context(Client(api_key=emulator.api_key, base_url=emulator.base_url))
        run(client, folder)


if __name__ == "__main__":
    main()
