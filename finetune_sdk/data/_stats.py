"""Dataset statistics and the cheap token estimate behind them.

The estimate needs no tokenizer and no download. Qwen's tokenizer turns a CJK character into about one
token and other text into about one token per four characters; the chat template adds a few tokens around
every message (``<|im_start|>role\\n ... <|im_end|>\\n``) and, when a conversation has no system message of
its own, a default system prompt. The figure is meant for planning (cost, truncation), not for billing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import lt

from pydantic import BaseModel, ConfigDict

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "DatasetStats",
    "StatsBuilder",
    "estimate_text_tokens",
    "estimate_tokens",
    "measure",
]

DEFAULT_MAX_TOKENS = 4096
"""The guide's ``max_tokens``: the longest training sequence, in tokens."""

MESSAGE_OVERHEAD_TOKENS = 5
"""``<|im_start|>``, the role, a newline, ``<|im_end|>`` and a newline around every message."""

DEFAULT_SYSTEM_TOKENS = 22
"""Qwen2.5's template adds "You are Qwen, created by Alibaba Cloud. You are a helpful assistant." (plus the
message overhead) to a conversation that has no system message."""


def estimate_tokens(characters: int, extra_utf8_bytes: int) -> int:
    """Estimate the Qwen tokens of text from its length and how many more UTF-8 bytes than characters it has.

    A CJK character takes 3 UTF-8 bytes, 2 more than its one code point, so half the extra bytes counts the
    wide characters (~1 token each); the rest takes ~1 token per 4 characters. Both inputs add up over the
    messages of an example, so the validator's hot loop needs only ``len`` and ``isascii`` per message.
    """
    wide = extra_utf8_bytes >> 1
    return wide + ((characters - wide + 3) >> 2)


def measure(texts: Iterable[str]) -> tuple[int, int]:
    """``(characters, extra_utf8_bytes)`` of ``texts``: the inputs of :func:`estimate_tokens`."""
    chars = extra = 0
    for text in texts:
        n = len(text)
        chars += n
        if not text.isascii():
            extra += len(text.encode("utf-8", "surrogatepass")) - n
    return chars, extra


def estimate_text_tokens(text: str) -> int:
    """Estimate how many Qwen tokens ``text`` takes (~1 per CJK character, ~1 per 4 other characters)."""
    return estimate_tokens(*measure((text,)))


class DatasetStats(BaseModel):
    """Statistics of the valid examples of a dataset (``report.stats`` or ``dataset.stats()``).

    ``estimated_tokens`` uses the cheap estimate of :mod:`finetune_sdk` (see ``docs/datasets.md``), chat
    template included. ``over_max_tokens`` counts the examples estimated longer than ``max_tokens``: the
    platform would truncate them. ``longest_example_line`` is the 1-based line in the file (``None`` for a
    dataset built in code) and ``longest_example_index`` the 0-based position among the valid examples.
    """

    model_config = ConfigDict(frozen=True)

    examples: int = 0
    messages_by_role: dict[str, int] = {"system": 0, "user": 0, "assistant": 0}
    characters: int = 0
    estimated_tokens: int = 0
    longest_example_tokens: int = 0
    longest_example_line: int | None = None
    longest_example_index: int | None = None
    max_tokens: int = DEFAULT_MAX_TOKENS
    over_max_tokens: int = 0

    @property
    def messages(self) -> int:
        """How many messages the valid examples hold, all roles together."""
        return sum(self.messages_by_role.values())


@dataclass
class StatsBuilder:
    """Adds up the statistics one example at a time; cheap enough for the validator's hot loop.

    Line numbers and example indexes are those of the part it saw; :meth:`merge` shifts another part's.
    """

    max_tokens: int = DEFAULT_MAX_TOKENS
    examples: int = 0
    system: int = 0
    pairs: int = 0
    characters: int = 0
    tokens: int = 0
    longest_tokens: int = 0
    longest_line: int | None = None
    longest_index: int | None = None
    over: int = 0
    first_over_line: int | None = None
    first_over_index: int | None = None

    def add(
        self, messages: int, has_system: bool, characters: int, extra_bytes: int, line: int | None
    ) -> None:
        """Count one valid example from its size (see :func:`measure`)."""
        tokens = estimate_tokens(characters, extra_bytes) + MESSAGE_OVERHEAD_TOKENS * messages
        if has_system:
            self.system += 1
        else:
            tokens += DEFAULT_SYSTEM_TOKENS
        self.pairs += (messages - has_system) >> 1
        self.characters += characters
        self.tokens += tokens
        if tokens > self.longest_tokens:
            self.longest_tokens = tokens
            self.longest_line = line
            self.longest_index = self.examples
        if tokens > self.max_tokens:
            if not self.over:
                self.first_over_line = line
                self.first_over_index = self.examples
            self.over += 1
        self.examples += 1

    def add_many(
        self,
        messages: Sequence[int],
        has_system: Sequence[bool],
        characters: Sequence[int],
        extra_bytes: Sequence[int] | None,
        first_line: int,
    ) -> None:
        """Count valid examples on consecutive lines from ``first_line``: the same as :meth:`add` for each,
        in a few C-level passes (the validator's hot loop). ``extra_bytes=None`` means all zero.

        Valid examples only: ``messages - has_system`` is even (``system?`` then user/assistant pairs).
        """
        # With h = w >> 1, add()'s estimate_tokens(c, w) + 5 n + 22 (1 - s) is h + ((c - h + 3) >> 2) + 5 n
        # + 22 - 22 s, and since floor(x / 4) + k == floor((x + 4 k) / 4) for integers, it is
        # (c + 3 h + 20 n + 91 - 88 s) >> 2.
        per_message = 4 * MESSAGE_OVERHEAD_TOKENS
        base = 4 * DEFAULT_SYSTEM_TOKENS + 3
        system_off = 4 * DEFAULT_SYSTEM_TOKENS
        if extra_bytes is None:
            tokens = [
                (c + per_message * n + base - system_off * s) >> 2
                for c, n, s in zip(characters, messages, has_system, strict=True)
            ]
        else:
            tokens = [
                (c + 3 * (w >> 1) + per_message * n + base - system_off * s) >> 2
                for c, w, n, s in zip(characters, extra_bytes, messages, has_system, strict=True)
            ]
        if not tokens:
            return
        systems = sum(has_system)
        self.system += systems
        self.pairs += (sum(messages) - systems) >> 1
        self.characters += sum(characters)
        self.tokens += sum(tokens)
        top = max(tokens)
        if top > self.longest_tokens:
            at = tokens.index(top)  # the first of the longest, as add() keeps it
            self.longest_tokens = top
            self.longest_line = first_line + at
            self.longest_index = self.examples + at
        if top > self.max_tokens:
            over = list(map(lt, [self.max_tokens] * len(tokens), tokens))
            if not self.over:
                at = over.index(True)
                self.first_over_line = first_line + at
                self.first_over_index = self.examples + at
            self.over += sum(over)
        self.examples += len(tokens)

    def merge(self, other: StatsBuilder, line_offset: int) -> None:
        """Add the statistics of the part that follows this one, ``line_offset`` lines further on."""

        def shift(line: int | None) -> int | None:
            return None if line is None else line + line_offset

        if other.longest_tokens > self.longest_tokens:
            self.longest_tokens = other.longest_tokens
            self.longest_line = shift(other.longest_line)
            self.longest_index = _plus(other.longest_index, self.examples)
        if other.over and not self.over:
            self.first_over_line = shift(other.first_over_line)
            self.first_over_index = _plus(other.first_over_index, self.examples)
        self.over += other.over
        self.examples += other.examples
        self.system += other.system
        self.pairs += other.pairs
        self.characters += other.characters
        self.tokens += other.tokens

    def build(self) -> DatasetStats:
        """The finished :class:`DatasetStats`."""
        return DatasetStats(
            examples=self.examples,
            messages_by_role={"system": self.system, "user": self.pairs, "assistant": self.pairs},
            characters=self.characters,
            estimated_tokens=self.tokens,
            longest_example_tokens=self.longest_tokens,
            longest_example_line=self.longest_line,
            longest_example_index=self.longest_index,
            max_tokens=self.max_tokens,
            over_max_tokens=self.over,
        )


def _plus(index: int | None, offset: int) -> int | None:
    return None if index is None else index + offset
