"""The pure parts: a job's life as a function of time, the loss curve, the text tricks."""

from __future__ import annotations

import pytest

from finetune_sdk.emulator.settings import Settings
from finetune_sdk.emulator.simulate import events_at, make_plan, snapshot
from finetune_sdk.emulator.text import (
    base_reply,
    bigrams,
    estimate_tokens,
    learn,
    nearest_reply,
    truncate_to_tokens,
)

STANDARD = {"n_epochs": 3, "batch_size": 8}


def plan(examples: int, error: dict[str, str] | None = None, **settings: float) -> object:
    return make_plan(
        Settings(**settings),  # type: ignore[arg-type]
        train_examples=examples,
        train_tokens=100,
        hyperparameters=STANDARD,
        seed=0,
        error=error,
    )


def test_default_timing_of_a_small_and_a_500_example_job() -> None:
    small = make_plan(
        Settings(), train_examples=27, train_tokens=1, hyperparameters=STANDARD, seed=0, error=None
    )
    assert small.total_steps == 12
    assert small.finished_at == pytest.approx(1.6)  # 0.5 validating + 0.5 queued + 12 x 0.05
    big = make_plan(
        Settings(), train_examples=450, train_tokens=1, hyperparameters=STANDARD, seed=0, error=None
    )
    assert big.total_steps == 171  # 500 examples, 10% held out, batch 8, 3 epochs
    assert big.finished_at == pytest.approx(9.55)


def test_status_and_progress_follow_the_clock() -> None:
    p = make_plan(
        Settings(), train_examples=16, train_tokens=10, hyperparameters=STANDARD, seed=1, error=None
    )
    assert [snapshot(p, t).status for t in (0, 0.49, 0.5, 0.99, 1.0, 1.29, 1.3, 99)] == [
        "validating_files",
        "validating_files",
        "queued",
        "queued",
        "running",
        "running",
        "succeeded",
        "succeeded",
    ]
    assert snapshot(p, 1.0).step == 0
    assert snapshot(p, 1.1).step == 2
    assert snapshot(p, 1.1).epoch == 1
    assert snapshot(p, 99).step == 6
    assert snapshot(p, 99).finished_at == pytest.approx(1.3)
    assert snapshot(p, 0.2).metrics is None
    assert len(events_at(p, 0.0)) == 1
    assert len(events_at(p, 99)) == len(p.events) == 4 + 6 + 1


def test_cancel_freezes_the_clock_at_the_cancel() -> None:
    p = make_plan(
        Settings(), train_examples=160, train_tokens=10, hyperparameters=STANDARD, seed=1, error=None
    )
    during = snapshot(p, 50, cancelled_at=1.52)
    assert during.status == "cancelled"
    assert during.step == 10
    assert during.finished_at == 1.52
    events = events_at(p, 50, cancelled_at=1.52)
    assert events[-1].message == "Job cancelled"
    assert [e.data["step"] for e in events if e.data] == list(range(1, 11))
    assert snapshot(p, 1.0, cancelled_at=1.52).status == "running"  # before the cancel


def test_a_failed_validation_never_runs() -> None:
    p = make_plan(
        Settings(),
        train_examples=0,
        train_tokens=0,
        hyperparameters=STANDARD,
        seed=0,
        error={"code": "invalid_training_file", "message": "line 2: bad"},
    )
    assert snapshot(p, 0.1).status == "validating_files"
    assert snapshot(p, 0.6).status == "failed"
    assert snapshot(p, 0.6).started_at is None
    assert events_at(p, 1)[-1].message == "Job failed: line 2: bad"


def test_long_jobs_emit_a_bounded_number_of_events() -> None:
    p = make_plan(
        Settings(), train_examples=40_000, train_tokens=1, hyperparameters=STANDARD, seed=0, error=None
    )
    assert p.total_steps == 15_000
    steps = [e.data["step"] for e in p.events if e.data]
    assert len(steps) <= 1001
    assert steps[-1] == p.total_steps


def test_the_loss_falls_and_is_seeded() -> None:
    def curve(seed: int) -> list[float]:
        p = make_plan(
            Settings(), train_examples=400, train_tokens=1, hyperparameters=STANDARD, seed=seed, error=None
        )
        return [train for train, _ in p.losses]

    losses = curve(5)
    assert losses == curve(5) != curve(6)
    assert losses[-1] < losses[len(losses) // 2] < losses[0]


def test_token_estimate_counts_cjk_as_one_and_other_text_by_four() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("你好") == 2
    assert estimate_tokens("abcdefgh") == 2
    assert estimate_tokens("你好abcd") == 3
    text, cut = truncate_to_tokens("你好世界hello", 3)
    assert (text, cut) == ("你好世", True)
    assert truncate_to_tokens("short", 10) == ("short", False)


def test_nearest_reply_uses_bigram_similarity() -> None:
    examples = learn([("怎么修改地址", "A"), ("多久发货", "B"), ("reset my password", "C")])
    assert nearest_reply(examples, "请问多久能发货？") == "B"
    assert nearest_reply(examples, "How to RESET the password") == "C"
    assert nearest_reply((), "x") is None
    assert bigrams("a") == frozenset({"a"})


def test_base_replies_are_deterministic_and_can_be_long() -> None:
    assert base_reply("m", "hello") == base_reply("m", "hello")
    assert "hello" in base_reply("m", "hello")
    assert any(c.isascii() and c.isalpha() for c in base_reply("m", "多久发货"))  # mixes in English
    assert len(base_reply("m", "x", min_chars=1000)) >= 1000
