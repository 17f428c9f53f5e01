"""The figures of a comparison, from hand-made replies: pass rates, differing prompts, stability, tokens
and speed; and the rules a Comparison keeps."""

from __future__ import annotations

import importlib.util

import pytest

from finetune_sdk.evaluate import Comparison, ComparisonRow, Reply, ends_with, no_latin
from finetune_sdk.evaluate._figures import compute, percentile
from finetune_sdk.evaluate._tokens import DEFAULT_SYSTEM_PROMPT, prompt_tokens, token_counter

LONG = "你是一位犀利的影评人。" * 10  # 110 CJK characters
SHORT = "犀利影评"


def reply(text: str, latency: float = 1.0, first: float | None = 0.5, tokens: int | None = 100) -> Reply:
    return Reply(text, tokens, 10, latency, first, "stop")


def sampled() -> Comparison:
    """Two prompts, three samples each: the base side drifts, the tuned one does not."""
    rows = (
        ComparisonRow(
            "加班",
            reply("关于加班: English.", 2.0, 1.0),
            reply("燃烧的是青春。", 0.2, 0.1),
            (reply("关于加班。", 3.0, 1.5), reply("关于加班。。", 4.0, 2.0)),
            (reply("燃烧的是青春。", 0.3, 0.1), reply("燃烧的是青春。", 0.4, 0.2)),
        ),
        ComparisonRow(
            "外卖",
            reply("送达的是饭菜。", 2.0, 1.0),
            reply("吃掉的是耐心。", 0.2, 0.1),
            (reply("送达的是饭菜。", 2.0, 1.0), reply("送达的是饭菜。", 2.0, 1.0)),
            (reply("吃掉的是耐心。", 0.2, 0.1), reply("吃掉的是耐心。", 0.2, 0.1)),
        ),
    )
    return Comparison(base=("base", LONG), tuned=("ft:x", SHORT), rows=rows).with_checks(
        [ends_with("。"), no_latin()]
    )


def test_pass_rates_and_the_prompts_where_the_sides_differ() -> None:
    figures = sampled().figures()
    assert figures.samples == 3
    ends, latin = figures.checks
    assert (ends.name, ends.base_pass_rate, ends.tuned_pass_rate) == ("ends with 。", 4 / 6, 1.0)
    assert ends.differing_prompts == ("加班",)
    assert (latin.base_pass_rate, latin.tuned_pass_rate, latin.differing_prompts) == (5 / 6, 1.0, ("加班",))
    assert ends.base_mean_score == pytest.approx(4 / 6)
    assert figures.base.all_checks_pass == pytest.approx(4 / 6)  # sample 1 fails both, sample 3 one
    assert figures.tuned.all_checks_pass == 1.0


def test_stability() -> None:
    figures = sampled().figures()
    assert figures.base.distinct_share == pytest.approx((3 / 3 + 1 / 3) / 2)
    assert figures.tuned.distinct_share == pytest.approx(1 / 3)
    assert figures.tuned.length_spread == 0.0
    lengths = [len("关于加班: English."), len("关于加班。"), len("关于加班。。")]
    mean = sum(lengths) / 3
    spread = (sum((n - mean) ** 2 for n in lengths) / 3) ** 0.5
    assert figures.base.length_spread == pytest.approx(spread / 2)  # the second prompt does not spread


def test_speed_median_and_p95() -> None:
    figures = sampled().figures()
    assert figures.base.calls == 6
    assert figures.base.latency_median == 2.0 and figures.base.latency_p95 == 4.0
    assert figures.base.ttft_median == 1.0 and figures.base.ttft_p95 == 2.0
    assert figures.tuned.latency_median == 0.2 and figures.tuned.latency_p95 == 0.4
    assert figures.latency_ratio == pytest.approx(10.0)
    assert figures.ttft_ratio == pytest.approx(10.0)


def test_percentile_is_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.95) == 95.0
    assert percentile([3.0, 1.0, 2.0], 0.95) == 3.0
    assert percentile([7.0], 0.5) == 7.0


def test_the_exact_counter_is_used_where_the_tokens_extra_is_installed() -> None:
    count, exact = token_counter()
    assert exact is (importlib.util.find_spec("tiktoken") is not None)
    if exact:
        assert count("2026") == 4  # Qwen2.5 gives every digit a token of its own


def test_prompt_tokens_are_counted_and_labelled_an_estimate() -> None:
    count = len  # a counter of one token per character keeps the figures easy to follow
    # 110 + 5 for the system message, 2 + 5 for the user turn, 3 for the reply's opening
    assert prompt_tokens(LONG, "加班", count) == 125
    assert prompt_tokens(None, "加班", count) == len(DEFAULT_SYSTEM_PROMPT) + 5 + 7 + 3  # Qwen2.5's default
    figures = compute(sampled(), counter=(count, False))
    assert figures.tokens_exact is False
    assert figures.base.prompt_tokens_per_call == 125 and figures.tuned.prompt_tokens_per_call == 4 + 5 + 10
    assert figures.prompt_tokens_saved_per_call == 106
    assert figures.prompt_tokens_saved_per_1000_calls == 106_000
    assert figures.prompt_tokens_saved_share == pytest.approx(106 / 125)
    assert figures.base.reported_prompt_tokens_per_call == 100.0


def test_the_counter_plugs_in() -> None:
    figures = compute(sampled(), counter=(len, True))  # e.g. an exact tokenizer
    assert figures.tokens_exact is True
    assert figures.base.prompt_tokens_per_call == len(LONG) + 5 + 2 + 5 + 3


def test_one_sample_has_no_spread_and_missing_usage_no_reported_tokens() -> None:
    row = ComparisonRow("q", reply("a", first=None, tokens=None), reply("b", tokens=None))
    figures = Comparison(base=("b", None), tuned=("t", None), rows=(row,)).figures()
    assert figures.checks == () and figures.base.all_checks_pass is None
    assert figures.base.distinct_share is None and figures.base.length_spread is None
    assert figures.base.reported_prompt_tokens_per_call is None
    assert figures.base.ttft_median is None and figures.ttft_ratio is None
    assert figures.prompt_tokens_saved_per_call == 0


def test_totals_count_every_sample() -> None:
    result = sampled()
    assert result.base_prompt_tokens == 600 and result.prompt_tokens_saved == 0
    assert result.base_latency == pytest.approx(15.0) and result.tuned_latency == pytest.approx(1.5)


def test_with_checks_scores_again_without_calls() -> None:
    result = sampled()
    again = result.with_checks([no_latin()])
    assert [c.name for c in again.figures().checks] == ["no Latin letters"]
    assert again.rows[0].base_scores == ((0.0,), (1.0,), (1.0,))
    assert again.rows[0].failed("base", again.checks) == ["no Latin letters"]
    assert result.rows[0].failed("base", result.checks, 2) == ["ends with 。"]


def test_a_comparison_refuses_rows_that_do_not_fit() -> None:
    row = ComparisonRow("q", reply("a"), reply("b"))
    uneven = ComparisonRow("q", reply("a"), reply("b"), (reply("c"),))
    with pytest.raises(ValueError, match="at least one row"):
        Comparison(base=("b", None), tuned=("t", None), rows=())
    with pytest.raises(ValueError, match="same number of samples"):
        Comparison(base=("b", None), tuned=("t", None), rows=(row, uneven))
    with pytest.raises(ValueError, match=r"not scored with these checks: build it with \.with_checks"):
        Comparison(base=("b", None), tuned=("t", None), rows=(row,), checks=(no_latin(),))
    with pytest.raises(ValueError, match="side is 'base' or 'tuned'"):
        row.samples("left")


def test_the_exact_counter_is_used_once_its_module_and_extra_are_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys
    import types

    from finetune_sdk.evaluate import _tokens

    fake = types.ModuleType(_tokens.EXACT_COUNTER_MODULE)
    fake.load_encoding = lambda: None  # type: ignore[attr-defined]
    fake.count_text = len  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, _tokens.EXACT_COUNTER_MODULE, fake)
    _tokens.token_counter.cache_clear()
    try:
        assert _tokens.token_counter() == (len, True)
        assert sampled().figures().tokens_exact is True

        def missing_extra() -> None:
            raise ImportError('exact token counts need tiktoken: pip install "finetune-sdk[tokens]"')

        fake.load_encoding = missing_extra  # type: ignore[attr-defined]
        _tokens.token_counter.cache_clear()
        assert _tokens.token_counter()[1] is False  # the extra is missing: the estimate, labelled so
    finally:
        _tokens.token_counter.cache_clear()
    assert _tokens.token_counter() == (_tokens.estimate_text_tokens, False)
