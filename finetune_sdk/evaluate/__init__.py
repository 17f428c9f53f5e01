"""Prove a tuning worked: compare a base setup with a tuned one on checks, stability, tokens and speed.

``client.compare(prompts, base=(model, long_prompt), tuned=(model, short_prompt), checks=[...],
samples=N)`` returns a :class:`Comparison`; this package holds it, the checks (plain callables
``(prompt, reply) -> bool | float`` and the named ones below), the figures and the reports (text,
Markdown, JSON, HTML).
"""

from typing import TYPE_CHECKING, Any

from ._checks import (
    CHECK_NAMES,
    Check,
    CheckFunction,
    CheckLike,
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
from ._comparison import Comparison, ComparisonRow, Reply, Setup
from ._run import DEFAULT_CONCURRENCY, arun_comparison, run_comparison

if TYPE_CHECKING:
    from ._figures import CheckResult, Figures, SideFigures

__all__ = [
    "CHECK_NAMES",
    "DEFAULT_CONCURRENCY",
    "Check",
    "CheckFunction",
    "CheckLike",
    "CheckResult",
    "Comparison",
    "ComparisonRow",
    "Figures",
    "Reply",
    "Setup",
    "SideFigures",
    "arun_comparison",
    "ends_with",
    "matches",
    "max_chars",
    "no_cjk",
    "no_latin",
    "no_prompt_words",
    "one_sentence",
    "parse_check",
    "prompt_words",
    "run_comparison",
    "valid_json",
]


def __getattr__(name: str) -> Any:
    # The figures' module (and statistics) load on first use, not with ``import finetune_sdk``.
    if name in {"CheckResult", "Figures", "SideFigures"}:
        from . import _figures

        return getattr(_figures, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
