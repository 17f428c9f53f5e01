"""How a comparison counts the prompt tokens of each call: one pluggable function.

:func:`token_counter` picks the counter once: the exact Qwen2.5 counter of ``finetune_sdk.data._tokens``
when that module and its ``tokens`` extra (tiktoken and Qwen's ranks file) are installed, else the SDK's
cheap estimate (~1 token per CJK character, ~1 per 4 other characters), which reports label an estimate.
The template around the texts (Qwen2.5's chat format) is counted the same way for both.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable

from ..data._stats import estimate_text_tokens

__all__ = [
    "DEFAULT_SYSTEM_PROMPT",
    "GENERATION_PROMPT_TOKENS",
    "MESSAGE_TOKENS",
    "TokenCounter",
    "prompt_tokens",
    "token_counter",
]

TokenCounter = Callable[[str], int]
"""Text -> its token count."""

DEFAULT_SYSTEM_PROMPT = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
"""What Qwen2.5's chat template sends as the system message of a conversation that has none."""

MESSAGE_TOKENS = 5
"""``<|im_start|>``, the role, a newline, then ``<|im_end|>`` and a newline: around every message."""

GENERATION_PROMPT_TOKENS = 3
"""``<|im_start|>assistant\\n``: what the template adds after the last message for the reply."""

EXACT_COUNTER_MODULE = "finetune_sdk.data._tokens"


@functools.cache
def token_counter() -> tuple[TokenCounter, bool]:
    """The counter for prompt text, and whether its counts are exact (False: the estimate)."""
    try:
        # Looked up by name: the exact counter ships with the dataset tools and needs an extra.
        exact = importlib.import_module(EXACT_COUNTER_MODULE)
        exact.load_encoding()  # raises ImportError naming the extra when it is not installed
    except ImportError:
        return estimate_text_tokens, False
    count: TokenCounter = exact.count_text
    return count, True


def prompt_tokens(system: str | None, prompt: str, count: TokenCounter) -> int:
    """The tokens of one call's prompt: the system message (Qwen2.5's default one when there is none),
    the user turn, each with the template's tokens around it, and the reply's opening."""
    system_text = DEFAULT_SYSTEM_PROMPT if system is None else system
    return count(system_text) + count(prompt) + 2 * MESSAGE_TOKENS + GENERATION_PROMPT_TOKENS
