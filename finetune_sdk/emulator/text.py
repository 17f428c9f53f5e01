"""The emulator's text tricks: a cheap token estimate, nearest-example lookup, base-model replies.

None of this is a language model. A tuned model "answers from what it learned" by returning the
assistant reply of the training example whose user message is closest to the prompt (character-bigram
Jaccard similarity, which works for Chinese as well as English); a base model gives a plain,
deterministic reply that ignores the system prompt's style. Enough to make "tune, then see the tuned
style" visible, and deterministic so tests can rely on it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

MATCH_CHARS = 8192
"""A prompt is compared with the examples on its first this many characters: a longer one (a 40 MB
prompt) then costs no more than that, and gets the same reply however much follows."""
_SLICE = 65536
_CJK = re.compile("[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\U00020000-\U0002fa1f]")


def is_cjk(char: str) -> bool:
    """True for a CJK ideograph, kana, hangul or full-width punctuation: about one token each."""
    code = ord(char)
    return (
        0x2E80 <= code <= 0x9FFF
        or 0xAC00 <= code <= 0xD7AF
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFFEF
        or 0x20000 <= code <= 0x2FA1F
    )


def char_cost(char: str) -> float:
    """Tokens one character costs in the estimate: 1 for CJK, a quarter otherwise."""
    return 1.0 if is_cjk(char) else 0.25


def estimate_tokens(text: str) -> int:
    """A deterministic, cheap token count: a CJK character is ~1 token, other text ~4 chars/token.

    Counted a slice at a time, so a very long text never holds the interpreter for long."""
    cjk = sum(len(_CJK.findall(text, start, start + _SLICE)) for start in range(0, len(text), _SLICE))
    other = len(text) - cjk
    return cjk + (other + 3) // 4


def truncate_to_tokens(text: str, max_tokens: int) -> tuple[str, bool]:
    """The longest prefix of ``text`` that fits ``max_tokens``, and whether anything was cut."""
    if estimate_tokens(text) <= max_tokens:
        return text, False
    spent = 0.0
    for index, char in enumerate(text):
        spent += char_cost(char)
        if spent > max_tokens:
            return text[:index], True
    return text, False  # pragma: no cover - estimate_tokens said it does not fit


def chunks(text: str, size: int) -> Iterator[str]:
    """``text`` in pieces of ``size`` characters (the deltas of a streamed reply)."""
    for start in range(0, len(text), size):
        yield text[start : start + size]


def bigrams(text: str) -> frozenset[str]:
    """The set of character bigrams of ``text``, case-folded and with whitespace squeezed."""
    squeezed = " ".join(text.casefold().split())
    if len(squeezed) < 2:
        return frozenset({squeezed}) if squeezed else frozenset()
    return frozenset(squeezed[i : i + 2] for i in range(len(squeezed) - 1))


@dataclass(frozen=True)
class Example:
    """One (user message, assistant reply) pair a tuned model learned."""

    prompt: frozenset[str]
    reply: str


def learn(pairs: Sequence[tuple[str, str]]) -> tuple[Example, ...]:
    """Index (user, assistant) pairs for :func:`nearest_reply`."""
    return tuple(Example(bigrams(user), reply) for user, reply in pairs)


def nearest_reply(examples: Sequence[Example], prompt: str) -> str | None:
    """The reply of the example whose user message is most like ``prompt``.

    Ties (most often: a prompt sharing nothing with any example) are broken by a hash of the prompt, so
    different unseen prompts get different, yet repeatable, replies in the learned style.
    """
    wanted = bigrams(prompt[:MATCH_CHARS])
    best: list[Example] = []
    best_score = -1.0
    for example in examples:
        union = len(wanted | example.prompt)
        score = len(wanted & example.prompt) / union if union else 0.0
        if score > best_score:
            best, best_score = [example], score
        elif score == best_score:
            best.append(example)
    if not best:
        return None
    pick = int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:4], "big") % len(best)
    return best[pick].reply


_EN_TAILS = (
    "Here is a general answer. It depends on your situation; please check the details and try again.",
    "This is a common question. In general, follow the usual steps and contact support if needed.",
    "Thanks for asking. A general approach works in most cases; see the documentation for more.",
)
_ZH_TAILS = (
    "这是一个通用回答。Generally speaking, it depends on the situation, 请查看相关说明。",
    "这个问题很常见。In most cases you can follow the usual steps, 如有需要请联系客服。",
    "感谢提问。A general approach works in most cases, 具体请参考文档。",
)
_PADDING = " More generally, the answer depends on the details of the request."


def base_reply(model: str, prompt: str, min_chars: int = 0, *, sample: int | None = None) -> str:
    """A plain, deterministic reply of a base model: it echoes the prompt and follows no style.

    For a Chinese prompt it mixes in English, as the guide's case study saw the base model do. ``sample``
    (the n-th call at a temperature above 0) draws another of the replies, and at times a doubled
    ``。。``: the guide's base model wavered like that from one call to the next.
    """
    excerpt = " ".join(prompt[:MATCH_CHARS].split())[:60]
    key = f"{model}\n{prompt}" if sample is None else f"{model}\n{prompt}\n{sample}"
    digest = hashlib.sha256(key.encode()).digest()
    pick = digest[0] % len(_EN_TAILS)
    if any(is_cjk(char) for char in excerpt):
        reply = f"关于「{excerpt}」：{_ZH_TAILS[pick]}"
        if sample is not None and digest[1] % 3 == 0:
            reply += "。"
    else:
        reply = f'About "{excerpt}": {_EN_TAILS[pick]}'
    while len(reply) < min_chars:
        reply += _PADDING
    return reply
