"""A tuned model's choice of reply: nearest example first, then a repeatable spread over ties."""

from __future__ import annotations

from finetune_sdk.emulator.text import learn, nearest_reply

EXAMPLES = learn([(f"词{i}", f"回答{i}。") for i in range(20)] + [("加班文化", "灯火通明。")])


def test_nearest_example_wins() -> None:
    assert nearest_reply(EXAMPLES, "加班") == "灯火通明。"


def test_unseen_prompts_spread_over_the_examples_and_repeat() -> None:
    prompts = ["五道口", "新时代", "创新", "降维打击", "基金", "元宇宙", "咖啡馆", "地铁"]
    replies = [nearest_reply(EXAMPLES, p) for p in prompts]
    assert len(set(replies)) >= 4
    assert replies == [nearest_reply(EXAMPLES, p) for p in prompts]


def test_no_examples() -> None:
    assert nearest_reply((), "x") is None
