"""Dataset statistics and the cheap token estimate behind them.

The estimate needs no tokenizer and no download. Measured against Qwen2.5's exact tokenizer on Chinese,
English, mixed and digit-heavy examples and logs (``docs/datasets.md`` gives the error), a CJK character
(or any character of 3 or 4 UTF-8 bytes) is about 0.675 token, an ASCII digit exactly one (Qwen splits
numbers into digits), an ASCII punctuation mark about one (it is a token of its own beside letters and
digits), and other text about one token per 5 characters; the chat template adds 5 tokens around every message
(``<|im_start|>role\\n ... <|im_end|>\\n``) and, when a conversation has no system message of its own, a
default system block of 21. The figure is meant for planning (cost, truncation), not for billing: ask for
``tokens="exact"`` for that.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter, lt
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from .._core import guide
from ._chunk import Chunk, Measure, control_token
from ._json import Line
from ._repeats import DuplicateCounter
from ._singles import singles_of
from ._tokens import ExactCounter, ExactTokens

_get_content = itemgetter("content")

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "DatasetStats",
    "StatsBuilder",
    "estimate_text_tokens",
    "estimate_tokens",
    "measure",
    "singles_of",
]

DEFAULT_MAX_TOKENS = guide.MAX_TOKENS
"""The guide's ``max_tokens``: the longest training sequence, in tokens."""

MESSAGE_OVERHEAD_TOKENS = 5
"""``<|im_start|>``, the role, a newline, ``<|im_end|>`` and a newline around every message."""

DEFAULT_SYSTEM_TOKENS = 21
"""Qwen2.5's template adds "You are Qwen, created by Alibaba Cloud. You are a helpful assistant." (with its
message overhead: 21 tokens exactly) to a conversation that has no system message."""

# The estimate in fortieths of a token: 27/40 per wide character, 40/40 per ASCII digit or punctuation
# mark, 8/40 (1 per 5) per other character, plus 20/40 to round to the nearest.
_WIDE, _DIGIT, _OTHER, _HALF = 27, 40, 8, 20


def estimate_tokens(characters: int, extra_utf8_bytes: int, singles: int = 0) -> int:
    """Estimate the Qwen tokens of text from its length, how many more UTF-8 bytes than characters it has,
    and how many ASCII digits and punctuation marks (``singles``) it holds.

    A CJK character takes 3 UTF-8 bytes, 2 more than its one code point, so half the extra bytes counts the
    wide characters (~0.675 token each); a digit or a punctuation mark is about one token; the rest takes
    ~1 token per 5 characters. The inputs add up over the messages of an example, so the validator's hot
    loop needs only ``len`` and one ``translate`` per example (an ``encode`` for text that is not ASCII).
    """
    wide = extra_utf8_bytes >> 1
    return (_OTHER * (characters - wide - singles) + _WIDE * wide + _DIGIT * singles + _HALF) // 40


def measure(texts: Iterable[str]) -> tuple[int, int, int]:
    """``(characters, extra_utf8_bytes, singles)`` of ``texts``: the inputs of :func:`estimate_tokens`."""
    chars = extra = singles = 0
    for text in texts:
        n = len(text)
        raw = text.encode("utf-8", "surrogatepass")
        chars += n
        extra += len(raw) - n
        singles += singles_of(raw)  # the same count as the validator's
    return chars, extra, singles


def estimate_text_tokens(text: str) -> int:
    """Estimate how many Qwen tokens ``text`` takes (~0.675 per CJK character, 1 per ASCII digit or
    punctuation mark, ~1 per 5 other characters)."""
    return estimate_tokens(*measure((text,)))


class DatasetStats(BaseModel):
    """Statistics of the valid examples of a dataset (``report.stats`` or ``dataset.stats()``).

    ``estimated_tokens`` uses the cheap estimate of :mod:`finetune_sdk` (see ``docs/datasets.md``), chat
    template included. ``over_max_tokens`` counts the examples estimated longer than ``max_tokens``: the
    platform would truncate them. ``longest_example_line`` is the 1-based line in the file (``None`` for a
    dataset built in code) and ``longest_example_index`` the 0-based position among the valid examples.
    ``duplicate_examples`` counts the examples equal to an earlier one after Unicode NFC and white-space
    normalisation, ``exact_duplicates`` those among them equal to an earlier one as they are (exact
    copies), ``duplicate_prompts`` those whose first user prompt is equal once normalised (see
    ``docs/datasets.md``); all three are ``None`` when not counted (``validate_file(...,
    duplicates=False)``). ``estimated_billed_tokens`` is one epoch's billed tokens by the estimate:
    ``estimated_tokens`` with each example cut at ``max_tokens``.
    ``exact`` holds the exact Qwen2.5 counts when they were asked for (``tokens="exact"``), else ``None``.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)

    examples: int = 0
    messages_by_role: dict[str, int] = {"system": 0, "user": 0, "assistant": 0}
    characters: int = 0
    estimated_tokens: int = 0
    longest_example_tokens: int = 0
    longest_example_line: int | None = None
    longest_example_index: int | None = None
    max_tokens: int = DEFAULT_MAX_TOKENS
    over_max_tokens: int = 0
    duplicate_examples: int | None = 0
    exact_duplicates: int | None = 0
    duplicate_prompts: int | None = 0
    estimated_billed_tokens: int = 0
    exact: ExactTokens | None = None

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
    clipped: int = 0
    longest_tokens: int = 0
    longest_line: int | None = None
    longest_index: int | None = None
    over: int = 0
    first_over_line: int | None = None
    first_over_index: int | None = None
    duplicates: DuplicateCounter | None = field(default_factory=DuplicateCounter)  # digests, no reader
    exact: ExactCounter | None = None
    control: int = 0  # examples whose text holds one of Qwen's control tokens
    first_control: tuple[int, str] | None = None  # (line, token)

    def add_chunk(
        self,
        chunk: Chunk,
        objs: Sequence[Any],
        lines: Sequence[Line],
        first_line: int,
        offsets: list[int] | None,
    ) -> None:
        """Count a chunk of valid examples (parsed ``objs`` of ``lines``) on consecutive lines from
        ``first_line``, from what the validator's checks measured (``offsets``: where each line starts in
        the file, or ``None``)."""
        counts = chunk.counts
        self.add_many(
            counts,
            list(map(int.__and__, counts, repeat(1))),
            chunk.characters,
            chunk.wide,
            first_line,
            singles=chunk.singles,
        )
        if self.duplicates is not None:
            numbers = list(range(first_line, first_line + len(counts)))
            self.duplicates.add_chunk(
                chunk.messages, counts, numbers, offsets=offsets, objs=objs, raw=lines, plain=chunk.plain
            )
        if self.exact is not None:
            self.exact.add_parsed(objs, first_line)
        if chunk.control:
            if self.first_control is None:
                at = chunk.control[0]
                token = control_token(map(_get_content, chunk.messages[at]))
                self.first_control = (first_line + at, token or "")
            self.control += len(chunk.control)

    def add_one(
        self, measured: Measure, obj: Any, line: int, offset: int | None, raw: Line | None = None
    ) -> None:
        """Count one valid example the validator's per-line path measured (``raw``: its line's bytes)."""
        messages, system, characters, wide, _, singles, contents = measured
        self.add(messages, system, characters, wide, line, singles=singles)
        token = control_token(contents)
        if token is not None:
            self.control += 1
            if self.first_control is None:
                self.first_control = (line, token)
        if self.duplicates is not None:
            self.duplicates.add_chunk(
                [obj["messages"]], [messages], [line],
                offsets=None if offset is None else [offset], objs=[obj], raw=None if raw is None else [raw],
            )  # fmt: skip
        if self.exact is not None:
            self.exact.add_parsed((obj,), line)

    def add(
        self,
        messages: int,
        has_system: bool,
        characters: int,
        extra_bytes: int,
        line: int | None,
        *,
        singles: int = 0,
    ) -> None:
        """Count one valid example from its size (see :func:`measure`)."""
        tokens = estimate_tokens(characters, extra_bytes, singles) + MESSAGE_OVERHEAD_TOKENS * messages
        if has_system:
            self.system += 1
        else:
            tokens += DEFAULT_SYSTEM_TOKENS
        self.pairs += (messages - has_system) >> 1
        self.characters += characters
        self.tokens += tokens
        self.clipped += min(tokens, self.max_tokens)
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
        has_system: Sequence[int],
        characters: Sequence[int],
        extra_bytes: Sequence[int] | None,
        first_line: int,
        *,
        singles: Sequence[int] | None = None,
    ) -> None:
        """Count valid examples on consecutive lines from ``first_line``: the same as :meth:`add` for each,
        in a few C-level passes (the validator's hot loop). ``extra_bytes=None`` and ``singles=None`` mean
        all zero.

        Valid examples only: ``messages - has_system`` is even (``system?`` then user/assistant pairs).
        """
        # With h = w >> 1 and d the singles, add()'s estimate_tokens(c, w, d) + 5 n + 21 (1 - s) is
        # (9 (c - h - d) + 25 h + 40 d + 20) // 40 + 5 n + 21 (1 - s), and since floor(x / 40) + k ==
        # floor((x + 40 k) / 40) for integers, it is (8 c + 19 h + 32 d + 200 n + 860 - 840 s) // 40.
        per_message = 40 * MESSAGE_OVERHEAD_TOKENS
        base = 40 * DEFAULT_SYSTEM_TOKENS + _HALF
        system_off = 40 * DEFAULT_SYSTEM_TOKENS
        wide, digit = _WIDE - _OTHER, _DIGIT - _OTHER
        zeros = [0] * len(characters)
        tokens = [
            (_OTHER * c + wide * (w >> 1) + digit * d + per_message * n + base - system_off * s) // 40
            for c, w, d, n, s in zip(
                characters,
                zeros if extra_bytes is None else extra_bytes,
                zeros if singles is None else singles,
                messages,
                has_system,
                strict=True,
            )
        ]
        if not tokens:
            return
        systems = sum(has_system)
        self.system += systems
        self.pairs += (sum(messages) - systems) >> 1
        self.characters += sum(characters)
        total = sum(tokens)
        self.tokens += total
        top = max(tokens)
        self.clipped += total if top <= self.max_tokens else sum(map(min, tokens, repeat(self.max_tokens)))
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
        if other.first_control is not None and self.first_control is None:
            self.first_control = (other.first_control[0] + line_offset, other.first_control[1])
        self.control += other.control
        self.examples += other.examples
        self.system += other.system
        self.pairs += other.pairs
        self.characters += other.characters
        self.tokens += other.tokens
        self.clipped += other.clipped
        if self.duplicates is not None and other.duplicates is not None:
            self.duplicates.merge(other.duplicates, line_offset)
        if self.exact is not None and other.exact is not None:
            self.exact.merge(other.exact, line_offset)

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
            duplicate_examples=None if self.duplicates is None else self.duplicates.examples.count,
            exact_duplicates=None if self.duplicates is None else self.duplicates.exact_count,
            duplicate_prompts=None if self.duplicates is None else self.duplicates.prompts.count,
            estimated_billed_tokens=self.clipped,
            exact=None if self.exact is None else self.exact.build(),
        )


def _plus(index: int | None, offset: int) -> int | None:
    return None if index is None else index + offset
