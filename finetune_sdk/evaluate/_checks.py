"""Checks: what a reply must do to be on style, as plain callables ``(prompt, reply) -> bool | float``.

A check returns True/False, or a score from 0 to 1 (a reply passes when its score reaches the check's
``threshold``). Any callable will do; :class:`Check` gives it a name for the report. The named ones
below cover the platform guide's style rules (ends with ``。``, no Latin letters, does not repeat the
prompt's words) and common output contracts (valid JSON with given keys, at most N characters, one
sentence, matches a pattern). :func:`parse_check` reads the command line's ``ends-with=。`` form.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import cast

import orjson

__all__ = [
    "Check",
    "CheckFunction",
    "CheckLike",
    "ends_with",
    "make_checks",
    "matches",
    "max_chars",
    "no_cjk",
    "no_latin",
    "no_prompt_words",
    "one_sentence",
    "parse_check",
    "valid_json",
]

CheckFunction = Callable[[str, str], bool | float]
"""``(prompt, reply) -> bool | float``: True / 1.0 is a pass, False / 0.0 a fail, between is a score."""


@dataclasses.dataclass(frozen=True)
class Check:
    """A named check. ``threshold``: the score at which a reply counts as passing (True is 1.0)."""

    name: str
    function: CheckFunction = dataclasses.field(repr=False, compare=False)
    threshold: float = 0.5

    def __post_init__(self) -> None:
        name = cast("object", self.name)  # checked at run time: a caller may pass anything
        if not name or not isinstance(name, str):
            raise ValueError("a check needs a non-empty name")
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"check {self.name!r}: threshold must be in (0, 1], got {self.threshold!r}")

    def score(self, prompt: str, reply: str) -> float:
        """The reply's score in 0-1; a result that is neither a bool nor a number in 0-1 is a TypeError
        or ValueError naming the check, and an exception inside the check is re-raised naming it too."""
        try:
            result = cast("object", self.function(prompt, reply))  # a user's function may return anything
        except Exception as exc:
            raise ValueError(f"check {self.name!r} raised {exc!r} on the prompt {prompt!r}") from exc
        if isinstance(result, bool):
            return 1.0 if result else 0.0
        if not isinstance(result, (int, float)):
            raise TypeError(
                f"check {self.name!r} returned {type(result).__name__};"
                " a check returns a bool or a float in 0-1"
            )
        value = float(result)
        if math.isnan(value) or not 0.0 <= value <= 1.0:
            raise ValueError(
                f"check {self.name!r} returned {result!r} on the prompt {prompt!r}; a score is in 0-1"
            )
        return value


CheckLike = Check | CheckFunction
"""A :class:`Check`, or a bare callable (named after its ``__name__``)."""


def make_checks(checks: Iterable[CheckLike]) -> tuple[Check, ...]:
    """The checks as :class:`Check` objects, refusing what is not callable and names given twice."""
    if isinstance(checks, (str, Check)) or callable(checks):
        raise TypeError("checks is a list: wrap a single check in [...]")
    out: list[Check] = []
    for number, item in enumerate(checks, 1):
        if isinstance(item, Check):
            out.append(item)
        elif callable(item):
            name = getattr(item, "__name__", None) or type(item).__name__
            out.append(Check(f"check {number}" if name == "<lambda>" else name, item))
        else:
            raise TypeError(
                f"a check is a callable (prompt, reply) -> bool | float, not {type(item).__name__}"
            )
    names = [check.name for check in out]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(
            f"two checks share the name {twice[0]!r}; give one of them another (Check(name, ...))"
        )
    return tuple(out)


# -- the named checks -------------------------------------------------------------------------------

_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\U00020000-\U0002fa1f]")
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]+")
_WORD = re.compile(r"[^\W_]+")
# A sentence ends at 。！？ (or . ! ? before white space); what follows it is a second sentence.
_SENTENCE_END = re.compile(r"[。！？!?]+|\.+(?=\s)")


def ends_with(suffix: str, *, once: bool = True) -> Check:
    """The reply (white space at its end ignored) ends with ``suffix``; with ``once``, not doubled
    (``…。。`` fails: the guide saw a doubled full stop)."""
    if not suffix:
        raise ValueError("ends_with needs a non-empty suffix")

    def check(prompt: str, reply: str) -> bool:
        text = reply.rstrip()
        return text.endswith(suffix) and not (once and text.endswith(suffix * 2))

    return Check(f"ends with {suffix}", check)


def no_latin() -> Check:
    """The reply holds no Latin letter (A-Z, a-z, accented Latin): no English fragments."""
    return Check("no Latin letters", lambda prompt, reply: _LATIN.search(reply) is None)


def no_cjk() -> Check:
    """The reply holds no CJK character (ideographs, kana, hangul, full-width forms)."""
    return Check("no CJK characters", lambda prompt, reply: _CJK.search(reply) is None)


def prompt_words(prompt: str, min_chars: int = 2) -> list[str]:
    """The prompt's words: runs of letters or digits, a run of CJK ideographs counting as one word;
    those shorter than ``min_chars`` are left out (a single letter is not a word worth avoiding)."""
    words = [*_CJK_RUN.findall(prompt)]
    words += [w for w in _WORD.findall(_CJK_RUN.sub(" ", prompt)) if not w.isdigit()]
    return [w.casefold() for w in words if len(w) >= min_chars]


def no_prompt_words(*, min_chars: int = 2) -> Check:
    """The reply does not repeat any of the prompt's words (case-insensitive; see :func:`prompt_words`):
    the guide's model was told to reinterpret the word, not to echo it."""

    def check(prompt: str, reply: str) -> bool:
        text = reply.casefold()
        return not any(word in text for word in prompt_words(prompt, min_chars))

    return Check("no prompt words", check)


def valid_json(keys: Sequence[str] = ()) -> Check:
    """The reply (white space around it ignored) is JSON; with ``keys``, an object holding all of them."""
    if isinstance(keys, str):
        keys = (keys,)
    wanted = tuple(keys)

    def check(prompt: str, reply: str) -> bool:
        try:
            value = orjson.loads(reply.strip())
        except orjson.JSONDecodeError:
            return False
        return not wanted or (isinstance(value, dict) and all(key in value for key in wanted))

    return Check("valid JSON" + (f" with {', '.join(wanted)}" if wanted else ""), check)


def max_chars(limit: int) -> Check:
    """The reply (white space around it ignored) is at most ``limit`` characters long."""
    given = cast("object", limit)  # checked at run time: a caller may pass anything
    if isinstance(given, bool) or not isinstance(given, int) or given < 1:
        raise ValueError(f"max_chars needs a positive whole number of characters, got {limit!r}")
    return Check(f"at most {limit} characters", lambda prompt, reply: len(reply.strip()) <= limit)


def one_sentence() -> Check:
    """The reply is one sentence: no sentence end (``。！？``, or ``.!?`` before white space) before its
    last characters."""

    def check(prompt: str, reply: str) -> bool:
        text = reply.strip()
        if not text:
            return False
        return all(found.end() == len(text) for found in _SENTENCE_END.finditer(text))

    return Check("one sentence", check)


def matches(pattern: str | re.Pattern[str], *, name: str | None = None) -> Check:
    """Somewhere in the reply, the regular expression ``pattern`` matches (``re.search``; anchor it with
    ``^...$`` for the whole reply)."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"matches: {pattern!r} is not a regular expression: {exc}") from exc
    return Check(
        name or f"matches {compiled.pattern}", lambda prompt, reply: compiled.search(reply) is not None
    )


# -- the command line's form ------------------------------------------------------------------------


def _int_arg(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"check {name}={value!r}: the value is a whole number") from None


_NAMED: dict[str, tuple[bool | None, Callable[[str], Check]]] = {
    # name: (takes a value? None means optional, build)
    "ends-with": (True, ends_with),
    "no-latin": (False, lambda value: no_latin()),
    "no-cjk": (False, lambda value: no_cjk()),
    "no-prompt-words": (False, lambda value: no_prompt_words()),
    "valid-json": (None, lambda value: valid_json([k.strip() for k in value.split(",") if k.strip()])),
    "max-chars": (True, lambda value: max_chars(_int_arg("max-chars", value))),
    "one-sentence": (False, lambda value: one_sentence()),
    "matches": (True, matches),
}

CHECK_NAMES: tuple[str, ...] = tuple(_NAMED)
"""The names :func:`parse_check` knows."""


def parse_check(spec: str) -> Check:
    """A named check from its command-line form: ``ends-with=。``, ``no-latin``, ``no-cjk``,
    ``no-prompt-words``, ``valid-json`` or ``valid-json=key1,key2``, ``max-chars=40``, ``one-sentence``,
    ``matches=REGEX``. A wrong name or a missing value is a ValueError saying what is expected."""
    name, sep, value = spec.partition("=")
    name = name.strip().lower().replace("_", "-")
    if name not in _NAMED:
        raise ValueError(f"unknown check {name!r}; the checks are: {', '.join(CHECK_NAMES)}")
    takes, build = _NAMED[name]
    if takes is True and not value:
        raise ValueError(f"check {name} needs a value: {name}=...")
    if takes is False and sep:
        raise ValueError(f"check {name} takes no value (got {name}={value})")
    return build(value)
