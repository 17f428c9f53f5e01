"""Prove a tuning worked, and see it train.

``client.chat.compare(prompts, base=(model, long_prompt), tuned=(model, short_prompt), checks=[...],
samples=N)`` returns a :class:`Comparison`; this package holds it, the checks (plain callables
``(prompt, reply) -> bool | float`` and the named ones below), the figures and the reports (text,
Markdown, JSON, HTML), which all show the same figures and say "emulated" when the answers came from
the SDK's emulator.

The pictures of a training run take its metrics rows (:class:`MetricsRowLike`): :func:`loss_chart_svg`
and :func:`save_loss_chart` (an SVG line chart), :class:`TerminalLossChart` (a live rich renderable) and
:class:`JobReport` (a job's page: curves, hyperparameters, data figures, timeline).
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
    from ._curves import MetricsRowLike, MetricsRows
    from ._figures import CheckResult, Figures, SideFigures
    from ._job_report import DataFigures, JobReport, TimelineEntry
    from ._loss_chart import loss_chart_svg, save_loss_chart
    from ._terminal_chart import TerminalLossChart

__all__ = [
    "CHECK_NAMES",
    "DEFAULT_CONCURRENCY",
    "Check",
    "CheckFunction",
    "CheckLike",
    "CheckResult",
    "Comparison",
    "ComparisonRow",
    "DataFigures",
    "Figures",
    "JobReport",
    "MetricsRowLike",
    "MetricsRows",
    "Reply",
    "Setup",
    "SideFigures",
    "TerminalLossChart",
    "TimelineEntry",
    "arun_comparison",
    "ends_with",
    "loss_chart_svg",
    "matches",
    "max_chars",
    "no_cjk",
    "no_latin",
    "no_prompt_words",
    "one_sentence",
    "parse_check",
    "prompt_words",
    "run_comparison",
    "save_loss_chart",
    "valid_json",
]

# Loaded on first use, not with ``import finetune_sdk``: the figures (statistics), the charts and the
# job report.
_LAZY = {
    "CheckResult": "_figures",
    "Figures": "_figures",
    "SideFigures": "_figures",
    "MetricsRowLike": "_curves",
    "MetricsRows": "_curves",
    "DataFigures": "_job_report",
    "JobReport": "_job_report",
    "TimelineEntry": "_job_report",
    "loss_chart_svg": "_loss_chart",
    "save_loss_chart": "_loss_chart",
    "TerminalLossChart": "_terminal_chart",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
