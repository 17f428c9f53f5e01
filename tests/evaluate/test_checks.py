"""The checks: each named one on replies that pass and fail, the command line's form, bad checks."""

from __future__ import annotations

import re

import pytest

from finetune_sdk.evaluate import (
    CHECK_NAMES,
    Check,
    ends_with,
    matches,
    max_chars,
    no_cjk,
    no_latin,
    no_prompt_words,
    one_sentence,
    parse_check,
    prompt_words,
    valid_json,
)
from finetune_sdk.evaluate._checks import make_checks

ON_STYLE = "灯火通明的写字楼里,燃烧的不是理想,而是被折旧的青春。"
DRIFTED = (
    "关于「加班」：这是一个通用回答。Generally speaking, it depends on the situation, 请查看相关说明。。"
)


def passes(check: Check, reply: str, prompt: str = "加班") -> bool:
    return check.score(prompt, reply) >= check.threshold


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        (ends_with("。"), [ON_STYLE, ON_STYLE + "\n"], [DRIFTED, "没有句号", "。结尾之前", ""]),
        (ends_with("!", once=False), ["wow!!", "ok!"], ["ok"]),
        (no_latin(), [ON_STYLE, "数字123也可以。"], [DRIFTED, "一个e", "café"]),
        (no_cjk(), ["plain English.", "a, b; c"], [ON_STYLE, "full-width！"]),
        (no_prompt_words(), [ON_STYLE, "写字楼。"], [DRIFTED, "又是加班的一天。"]),
        (valid_json(), ['{"a": 1}', " [1, 2] ", '"s"'], ["{a: 1}", "", "```json\n{}\n```"]),
        (valid_json(keys=["title", "score"]), ['{"title": "x", "score": 1}'], ['{"title": "x"}', "[1]"]),
        (max_chars(5), ["12345", "  12345  "], ["123456"]),
        (one_sentence(), [ON_STYLE, "One sentence, v1.2 of it.", "Is it?"], [DRIFTED, "One. Two.", "  "]),
        (matches(r"^[^a-z]*$"), [ON_STYLE], [DRIFTED]),
        (matches(r"青春"), [ON_STYLE], [DRIFTED]),
    ],
    ids=lambda value: value.name if isinstance(value, Check) else "",
)
def test_named_checks(check: Check, good: list[str], bad: list[str]) -> None:
    assert [passes(check, reply) for reply in good] == [True] * len(good)
    assert [passes(check, reply) for reply in bad] == [False] * len(bad)


def test_prompt_words_are_runs_of_letters_and_cjk_runs() -> None:
    assert prompt_words("加班") == ["加班"]
    assert prompt_words("How do I change my address?") == ["how", "do", "change", "my", "address"]
    assert prompt_words("评价一下《流浪地球》 in 2024") == ["评价一下", "流浪地球", "in"]
    assert no_prompt_words().score("Address change", "Your ADDRESS is...") == 0.0  # case-insensitive
    assert no_prompt_words(min_chars=3).score("my cat", "my dog") == 1.0


def test_check_names_say_what_they_check() -> None:
    names = [c.name for c in (ends_with("。"), max_chars(40), valid_json(["a", "b"]), matches("x+"))]
    assert names == ["ends with 。", "at most 40 characters", "valid JSON with a, b", "matches x+"]


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        ("ends-with=。", "ends with 。"),
        ("no-latin", "no Latin letters"),
        ("no_cjk", "no CJK characters"),
        ("no-prompt-words", "no prompt words"),
        ("valid-json", "valid JSON"),
        ("valid-json=title, score", "valid JSON with title, score"),
        ("max-chars=40", "at most 40 characters"),
        ("one-sentence", "one sentence"),
        ("matches=^a=b$", "matches ^a=b$"),  # only the first "=" separates the value
    ],
)
def test_parse_check(spec: str, name: str) -> None:
    assert parse_check(spec).name == name


def test_parse_check_covers_every_named_check() -> None:
    values = {"ends-with": "。", "max-chars": "3", "matches": "x"}
    names = {parse_check(f"{n}={values[n]}" if n in values else n).name for n in CHECK_NAMES}
    assert len(names) == len(CHECK_NAMES) == 8


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("ends-width=。", "unknown check 'ends-width'; the checks are: ends-with, no-latin"),
        ("ends-with", "check ends-with needs a value: ends-with=..."),
        ("no-latin=yes", "check no-latin takes no value"),
        ("max-chars=many", "check max-chars='many': the value is a whole number"),
        ("max-chars=0", "max_chars needs a positive whole number"),
        ("matches=(", "matches: '(' is not a regular expression"),
    ],
)
def test_parse_check_says_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        parse_check(spec)


def test_callables_and_scores() -> None:
    def short(prompt: str, reply: str) -> float:
        return min(1.0, 10 / max(len(reply), 1))

    made = make_checks([short, lambda p, r: True, lambda p, r: 0, Check("strict", short, threshold=1.0)])
    assert [c.name for c in made] == ["short", "check 2", "check 3", "strict"]
    assert made[0].score("p", "x" * 20) == 0.5 and made[0].threshold == 0.5
    assert made[1].score("p", "r") == 1.0 and made[2].score("p", "r") == 0.0


@pytest.mark.parametrize(
    ("result", "error", "message"),
    [
        ("yes", TypeError, "check 'bad' returned str; a check returns a bool or a float in 0-1"),
        (None, TypeError, "check 'bad' returned NoneType"),
        (1.5, ValueError, "check 'bad' returned 1.5 on the prompt 'p'; a score is in 0-1"),
        (float("nan"), ValueError, "check 'bad' returned nan"),
    ],
)
def test_a_check_returning_something_else_is_named(
    result: object, error: type[Exception], message: str
) -> None:
    check = Check("bad", lambda prompt, reply: result)  # type: ignore[arg-type, return-value]
    with pytest.raises(error) as info:
        check.score("p", "r")
    assert str(info.value).startswith(message)


def test_a_check_that_raises_is_named_with_the_prompt() -> None:
    def broken(prompt: str, reply: str) -> bool:
        raise KeyError("x")

    with pytest.raises(ValueError, match=r"check 'broken' raised KeyError\('x'\) on the prompt 'p'") as info:
        make_checks([broken])[0].score("p", "r")
    assert isinstance(info.value.__cause__, KeyError)


def test_bad_check_lists() -> None:
    with pytest.raises(TypeError, match="wrap a single check"):
        make_checks(no_latin())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="a check is a callable"):
        make_checks(["no-latin"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="two checks share the name 'no Latin letters'"):
        make_checks([no_latin(), no_latin()])
    with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\]"):
        Check("t", lambda p, r: True, threshold=0)
    with pytest.raises(ValueError, match="non-empty suffix"):
        ends_with("")
