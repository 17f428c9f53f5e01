"""The platform guide's case study, end to end: did the tuning work, and by how much?

    python examples/case_study.py [REPORT.html]

Before tuning, Qwen2.5-7B-Instruct needed a long system prompt of style rules
(``data/long_system_prompt.txt``) and still wavered: English fragments in Chinese answers, a doubled
``。。``, the user's word repeated. After tuning on ``data/critic.jsonl`` an 8-token prompt
(``data/short_system_prompt.txt``) was enough. This script tunes the model, then asks both setups the
same words five times each, scores every answer with the guide's rules as checks, prints the figures
and writes an HTML report (by default ``case_study_report.html`` in the current folder).

With no FINETUNE_API_KEY in the environment it runs on the embedded emulator (no account, no network):
the figures then come from an emulation, and the script says so.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from finetune_sdk import Client
from finetune_sdk.evaluate import Comparison, ends_with, max_chars, no_latin, no_prompt_words, one_sentence

DATA = Path(__file__).resolve().parent / "data"
BASE_MODEL = "Qwen/Qwen2.5-7B-Instruct"
WORDS = ["五道口", "新时代", "创新", "降维打击", "基金", "加班"]
SAMPLES = 5
EMULATION_NOTE = (
    "These figures come from the embedded emulator, an emulation of the platform: a tuned model answers "
    "with its nearest training example, a base model with a canned reply that drifts from call to call, "
    "and latency is an emulated 0.3 ms per prompt token. They show how the report reads, not how Qwen does."
)


def no_quotes(prompt: str, reply: str) -> bool:
    """The guide's rule "no quotation marks": any callable (prompt, reply) -> bool is a check."""
    return not any(mark in reply for mark in "\"'“”‘’「」『』")


def tune(client: Client) -> str:
    """Upload the critic dataset, tune the base model on it, and return the tuned model's name."""
    training = client.files.upload(DATA / "critic.jsonl")
    job = client.jobs.create(model=BASE_MODEL, training_file=training.id, hyperparameters="standard")
    done = client.jobs.wait(job)
    assert done.fine_tuned_model is not None  # a succeeded job always names its model
    return done.fine_tuned_model


def show(comparison: Comparison) -> None:
    figures = comparison.figures()
    print(f"{len(comparison.rows)} words, {figures.samples} samples each per side\n")
    print(" base  tuned  passed")
    for check in figures.checks:
        print(f"{check.base_pass_rate:>5.0%} {check.tuned_pass_rate:>6.0%}  {check.name}")
    base, tuned = figures.base, figures.tuned
    print(f"{base.all_checks_pass or 0:>5.0%} {tuned.all_checks_pass or 0:>6.0%}  every check\n")
    print(f"distinct answers per word: base {base.distinct_share:.0%}, tuned {tuned.distinct_share:.0%}")
    label = "exact" if figures.tokens_exact else "estimate"
    print(
        f"prompt tokens per call ({label}): base {base.prompt_tokens_per_call:.0f},"
        f" tuned {tuned.prompt_tokens_per_call:.0f}: {figures.prompt_tokens_saved_per_call:.0f} fewer"
        f" ({figures.prompt_tokens_saved_share or 0:.0%}),"
        f" {figures.prompt_tokens_saved_per_1000_calls:,.0f} per 1,000 calls"
    )
    print(
        f"median latency: base {base.latency_median * 1000:.0f} ms,"
        f" tuned {tuned.latency_median * 1000:.0f} ms"
        f" (the tuned setup answers {figures.latency_ratio or 0:.1f}x as fast)"
    )


def main() -> None:
    report = Path(sys.argv[1] if len(sys.argv) > 1 else "case_study_report.html")
    long_prompt = (DATA / "long_system_prompt.txt").read_text(encoding="utf-8")
    short_prompt = (DATA / "short_system_prompt.txt").read_text(encoding="utf-8").strip()
    emulated = not os.environ.get("FINETUNE_API_KEY")
    with contextlib.ExitStack() as stack:
        if emulated:
            from finetune_sdk.emulator import Emulator  # the `emulator` extra

            emulator = stack.enter_context(Emulator(time_scale=100, prompt_token_delay=0.0003))
            client = stack.enter_context(Client(api_key=emulator.api_key, base_url=emulator.base_url))
            print(f"No FINETUNE_API_KEY: running on the embedded emulator at {emulator.base_url}")
        else:
            client = stack.enter_context(Client())
        tuned = tune(client)
        print(f"tuned model: {tuned}")
        comparison = client.chat.compare(
            WORDS,
            base=(BASE_MODEL, long_prompt),
            tuned=(tuned, short_prompt),
            checks=[ends_with("。"), no_latin(), no_prompt_words(), one_sentence(), max_chars(40), no_quotes],
            samples=SAMPLES,
            temperature=0.7,
        )
    show(comparison)
    note = EMULATION_NOTE if emulated else None
    title = "Case study: long prompt on the base model vs the tuned model"
    comparison.to_html(report, title=title, note=note)
    print(f"\nreport written to {report}")
    if note:
        print(f"\n({note})")


if __name__ == "__main__":
    main()
