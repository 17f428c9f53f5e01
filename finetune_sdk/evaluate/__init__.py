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

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import ModuleDir, ModuleGetattr, module_hooks

if TYPE_CHECKING:
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
    from ._curves import MetricsRowLike, MetricsRows
    from ._figures import CheckResult, Figures, SideFigures
    from ._job_report import DataFigures, JobReport, TimelineEntry
    from ._loss_chart import loss_chart_svg, save_loss_chart
    from ._run import DEFAULT_CONCURRENCY, arun_comparison, run_comparison
    from ._terminal_chart import TerminalLossChart

# Each name loads from its module on first use (see finetune_sdk._lazy; the imports above say the same):
# a comparison does not load the charts, a chart not the comparison's runner.
_EXPORTS = {
    "._checks": (
        "CHECK_NAMES Check CheckFunction CheckLike ends_with matches max_chars no_cjk no_latin "
        "no_prompt_words one_sentence parse_check prompt_words valid_json"
    ),
    "._comparison": "Comparison ComparisonRow Reply Setup",
    "._curves": "MetricsRowLike MetricsRows",
    "._figures": "CheckResult Figures SideFigures",
    "._job_report": "DataFigures JobReport TimelineEntry",
    "._loss_chart": "loss_chart_svg save_loss_chart",
    "._run": "DEFAULT_CONCURRENCY arun_comparison run_comparison",
    "._terminal_chart": "TerminalLossChart",
}

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

__getattr__: ModuleGetattr
__dir__: ModuleDir
__getattr__, __dir__ = module_hooks(__name__, _EXPORTS, globals(), __all__)
