"""compare(checks=, samples=, on_progress=) against the emulator, sync and async (asyncio, trio)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from finetune_sdk import AsyncClient, Client, Comparison
from finetune_sdk.emulator import Emulator
from finetune_sdk.evaluate import Check, ends_with, no_latin, no_prompt_words, one_sentence
from finetune_sdk.evaluate._tokens import token_counter

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
BASE = "Qwen/Qwen2.5-7B-Instruct"
LONG = (DATA / "long_system_prompt.txt").read_text(encoding="utf-8")
SHORT = "你是文本生成器"
WORDS = ["加班", "五道口", "创新"]
CHECKS = [ends_with("。"), no_latin(), no_prompt_words(), one_sentence()]


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(time_scale=200) as running:
        yield running


@pytest.fixture(scope="module")
def tuned(emu: Emulator) -> str:
    """A model tuned on the critic dataset (its replies follow the guide's rules)."""
    with Client(api_key=emu.api_key, base_url=emu.base_url) as client:
        job = client.jobs.create(model=BASE, training_file=DATA / "critic.jsonl", hyperparameters="fast")
        model = client.jobs.wait(job, poll_interval=0.02).fine_tuned_model
    assert model is not None
    return model


def expect_guide_figures(result: Comparison, samples: int) -> None:
    figures = result.figures()
    assert [row.prompt for row in result.rows] == WORDS
    assert figures.samples == samples and figures.base.calls == figures.tuned.calls == samples * len(WORDS)
    by_name = {check.name: check for check in figures.checks}
    # The emulator's base model echoes the word and mixes in English; the tuned one answers on style.
    for name in ("no Latin letters", "no prompt words", "one sentence"):
        assert by_name[name].base_pass_rate == 0.0 and by_name[name].tuned_pass_rate == 1.0
        assert by_name[name].differing_prompts == tuple(WORDS)
    assert figures.tuned.all_checks_pass == 1.0 and figures.base.all_checks_pass == 0.0
    assert figures.prompt_tokens_saved_per_call > 250 and figures.tokens_exact is token_counter()[1]


def test_sync_at_temperature_0_every_sample_is_the_same(emu: Emulator, tuned: str) -> None:
    progress: list[tuple[int, int]] = []
    lock = threading.Lock()

    def on_progress(done: int, total: int) -> None:
        with lock:
            progress.append((done, total))

    with Client(api_key=emu.api_key, base_url=emu.base_url) as client:
        result = client.chat.compare(
            WORDS, base=(BASE, LONG), tuned=(tuned, SHORT), checks=CHECKS, samples=3, temperature=0,
            on_progress=on_progress,
        )  # fmt: skip
    expect_guide_figures(result, 3)
    figures = result.figures()
    assert figures.base.distinct_share == figures.tuned.distinct_share == pytest.approx(1 / 3)
    assert figures.base.length_spread == figures.tuned.length_spread == 0.0
    assert sorted(progress) == [(n, 18) for n in range(1, 19)]
    assert all(len(row.base_scores) == 3 and len(row.base_scores[0]) == 4 for row in result.rows)


def test_sync_sampled_base_drifts_and_the_tuned_model_does_not(emu: Emulator, tuned: str) -> None:
    with Client(api_key=emu.api_key, base_url=emu.base_url) as client:
        result = client.chat.compare(
            WORDS, base=(BASE, LONG), tuned=(tuned, SHORT), checks=CHECKS, samples=6, temperature=0.8,
            concurrency=1,
        )  # fmt: skip
    expect_guide_figures(result, 6)
    figures = result.figures()
    assert figures.base.distinct_share is not None and figures.base.distinct_share > 1 / 6
    assert figures.tuned.distinct_share == pytest.approx(1 / 6)
    assert figures.base.length_spread is not None and figures.base.length_spread > 0
    assert figures.tuned.length_spread == 0.0
    ends = figures.checks[0]
    assert ends.tuned_pass_rate == 1.0 and ends.base_pass_rate < 1.0  # a doubled 。。 now and then
    assert any(reply.text.endswith("。。") for row in result.rows for reply in row.samples("base"))


@pytest.mark.anyio
async def test_async_gives_the_same_figures(emu: Emulator, tuned: str) -> None:
    calls: list[int] = []
    async with AsyncClient(api_key=emu.api_key, base_url=emu.base_url) as client:
        with anyio.fail_after(30):
            result = await client.chat.compare(
                WORDS, base=(BASE, LONG), tuned=(tuned, SHORT), checks=CHECKS, samples=2, temperature=0,
                concurrency=3, on_progress=lambda done, total: calls.append(total),
            )  # fmt: skip
    expect_guide_figures(result, 2)
    assert calls == [12] * 12


@pytest.mark.parametrize("samples", [0, -1, 1.5, True])
def test_bad_samples_are_refused_before_any_call(samples: object) -> None:
    with (
        Client(api_key="k", base_url="http://127.0.0.1:9/v1") as client,
        pytest.raises(ValueError, match="samples must be a whole number of at least 1"),
    ):
        client.chat.compare(["a"], base=("b", None), tuned=("t", None), samples=samples)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_bad_checks_are_refused_before_any_call() -> None:
    async with AsyncClient(api_key="k", base_url="http://127.0.0.1:9/v1") as client:
        with pytest.raises(TypeError, match="a check is a callable"):
            await client.chat.compare(["a"], base=("b", None), tuned=("t", None), checks=["no-latin"])  # type: ignore[list-item]


def test_a_failing_check_names_itself(emu: Emulator) -> None:
    def broken(prompt: str, reply: str) -> bool:
        return reply.index("never there") > 0

    with (
        Client(api_key=emu.api_key, base_url=emu.base_url) as client,
        pytest.raises(ValueError, match="check 'broken' raised ValueError"),
    ):
        client.chat.compare(
            ["加班"], base=(BASE, None), tuned=(BASE, SHORT), checks=[broken, Check("ok", broken)]
        )


def test_sampled_base_replies_drift_repeatably() -> None:
    from finetune_sdk.emulator.text import base_reply

    assert base_reply(BASE, "加班") == base_reply(BASE, "加班", sample=None)  # unsampled: as before
    drawn = [base_reply(BASE, "加班", sample=k) for k in range(12)]
    assert drawn == [base_reply(BASE, "加班", sample=k) for k in range(12)]
    assert len(set(drawn)) > 2
    assert any(text.endswith("。。") for text in drawn) and any(not text.endswith("。。") for text in drawn)


def test_each_emulator_draws_its_own_samples() -> None:
    def texts() -> list[str]:
        with Emulator() as fresh, Client(api_key=fresh.api_key, base_url=fresh.base_url) as client:
            return [client.chat.complete(BASE, "加班", temperature=1.0).text for _ in range(4)]

    first = texts()
    assert first == texts() and len(set(first)) > 1
