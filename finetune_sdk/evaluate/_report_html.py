"""A comparison as one self-contained HTML page: inline CSS and SVG bars, no script, nothing fetched.

The page shows the same figures, labels and sentences as the command line and the Markdown report (all
from :mod:`._format`), the tuned job's loss curves when given its metrics, and every answer. Every text
of the comparison (prompts, answers, model names, check names, the title and the note) is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..types import FineTuneJob
from ._curves import MetricsRows
from ._figures import Figures
from ._format import (
    check_rows,
    emulation_line,
    figure_table,
    percent,
    scope_line,
    seconds,
    system_prompt_size,
    token_label,
    verdict_lines,
)
from ._html import e, facts_table, page
from ._loss_chart import loss_chart_svg
from ._rows import ComparisonData, ComparisonRow

__all__ = ["BASE_COLOUR", "TUNED_COLOUR", "bar_chart", "html_report"]

BASE_COLOUR = "#d9822b"
TUNED_COLOUR = "#2b6cb0"

_CSS = f"""
.legend span {{ display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px;
  vertical-align: -1px; border-radius: 2px; }}
.base {{ background: {BASE_COLOUR}; }}
.tuned {{ background: {TUNED_COLOUR}; }}
table.answers td:nth-child(n+3) {{ width: 42%; }}
.answer {{ white-space: pre-wrap; word-break: break-word; margin: 0 0 6px; padding: 4px 6px;
  border-radius: 4px; background: #f7fafc; }}
.answer.fail {{ background: #fff5f5; border-left: 3px solid #e53e3e; }}
.answer.pass {{ border-left: 3px solid #38a169; }}
.badge {{ display: inline-block; font-size: 11px; padding: 0 6px; margin: 2px 4px 0 0; border-radius: 8px;
  background: #fed7d7; color: #9b2c2c; white-space: nowrap; }}
.badge.ok {{ background: #c6f6d5; color: #22543d; }}
.verdict {{ font-weight: 600; margin: 4px 0; }}
"""

_LABEL_WIDTH = 260
_BAR_WIDTH = 560
_BAR_HEIGHT = 14


def bar_chart(
    groups: Sequence[tuple[str, float, float, str, str]], *, scale: float | None = None, label: str
) -> str:
    """Horizontal bars as inline SVG: per group ``(name, base, tuned, base text, tuned text)`` one base
    bar and one tuned bar, lengths relative to ``scale`` (default: the largest value)."""
    top = scale if scale is not None else max([v for g in groups for v in g[1:3]] + [0.0])
    step = 2 * _BAR_HEIGHT + 14
    height = step * len(groups) + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{e(label)}" '
        f'width="{_LABEL_WIDTH + _BAR_WIDTH + 90}" height="{height}">'
    ]
    for index, (name, base, tuned, base_text, tuned_text) in enumerate(groups):
        y = index * step + 2
        parts.append(f'<text x="0" y="{y + _BAR_HEIGHT + 4}">{e(name)}</text>')
        for offset, (value, text, colour, side) in enumerate(
            ((base, base_text, BASE_COLOUR, "base"), (tuned, tuned_text, TUNED_COLOUR, "tuned"))
        ):
            width = 0.0 if top <= 0 else max(0.0, min(1.0, value / top)) * _BAR_WIDTH
            top_y = y + offset * _BAR_HEIGHT
            parts.append(
                f'<rect class="bar-{side}" x="{_LABEL_WIDTH}" y="{top_y}" width="{width:.1f}" '
                f'height="{_BAR_HEIGHT - 2}" fill="{colour}" rx="2">'
                f"<title>{e(side)}: {e(text)}</title></rect>"
            )
            parts.append(
                f'<text x="{_LABEL_WIDTH + width + 6:.1f}" y="{top_y + _BAR_HEIGHT - 3}">{e(text)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _legend() -> str:
    return '<p class="legend"><span class="base"></span>base<span class="tuned"></span>tuned</p>'


def _setups(comparison: ComparisonData) -> str:
    rows: list[str] = []
    for name, (model, system) in (("base", comparison.base), ("tuned", comparison.tuned)):
        prompt = system_prompt_size(system)
        title = f' title="{e(system)}"' if system else ""
        rows.append(f"<tr><th>{name}</th><td>{e(model)}</td><td{title}>{e(prompt)}</td></tr>")
    head = "<tr><th>setup</th><th>model</th><th>system prompt</th></tr>"
    return f'<table class="setups">{head}{"".join(rows)}</table>'


def _answers(comparison: ComparisonData, row: ComparisonRow, side: str) -> str:
    out: list[str] = []
    for index, reply in enumerate(row.samples(side)):
        failed = row.failed(side, comparison.checks, index)
        state = ("fail" if failed else "pass") if comparison.checks else ""
        badges = "".join(f'<span class="badge">✗ {e(name)}</span>' for name in failed)
        if comparison.checks and not failed:
            badges = '<span class="badge ok">✓ every check</span>'
        out.append(f'<div class="answer {state}" data-side="{side}">{e(reply.text)}<br>{badges}</div>')
    return "".join(out)


def _answer_table(comparison: ComparisonData) -> str:
    head = "<tr><th>#</th><th>prompt</th><th>base</th><th>tuned</th></tr>"
    rows = [
        f"<tr><td>{i}</td><td>{e(row.prompt)}</td><td>{_answers(comparison, row, 'base')}</td>"
        f"<td>{_answers(comparison, row, 'tuned')}</td></tr>"
        for i, row in enumerate(comparison.rows, 1)
    ]
    return f'<table class="answers">{head}{"".join(rows)}</table>'


def _table(
    css_class: str, headers: Sequence[str], rows: Sequence[Sequence[str]], numbers: tuple[int, ...] = (1, 2)
) -> str:
    """A table whose columns ``numbers`` hold figures (aligned right), the others text."""
    head = "".join(f"<th>{e(h)}</th>" for h in headers)

    def cell(index: int, text: str) -> str:
        return f'<td class="num">{e(text)}</td>' if index in numbers else f"<td>{e(text)}</td>"

    body = "".join("<tr>" + "".join(cell(i, c) for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f'<table class="{css_class}"><tr>{head}</tr>{body}</table>'


def _checks(figures: Figures) -> list[str]:
    groups = [
        (c.name, c.base_pass_rate, c.tuned_pass_rate, percent(c.base_pass_rate), percent(c.tuned_pass_rate))
        for c in figures.checks
    ]
    base_all, tuned_all = figures.base.all_checks_pass or 0.0, figures.tuned.all_checks_pass or 0.0
    groups.append(("every check", base_all, tuned_all, percent(base_all), percent(tuned_all)))
    headers = ("check", "base passes", "tuned passes", "prompts where they differ")
    return [
        '<h2 id="checks">Pass rate per check</h2>',
        _legend(),
        bar_chart(groups, scale=1.0, label="pass rate per check"),
        _table("checks", headers, check_rows(figures)),
    ]


def _speed(figures: Figures) -> list[str]:
    base, tuned = figures.base, figures.tuned
    tokens = [
        (
            f"prompt tokens per call ({token_label(figures)})",
            base.prompt_tokens_per_call,
            tuned.prompt_tokens_per_call,
            f"{base.prompt_tokens_per_call:,.0f}",
            f"{tuned.prompt_tokens_per_call:,.0f}",
        )
    ]
    speed = [
        ("latency, median", base.latency_median, tuned.latency_median),
        ("latency, p95", base.latency_p95, tuned.latency_p95),
        ("time to first token, median", base.ttft_median or 0.0, tuned.ttft_median or 0.0),
        ("time to first token, p95", base.ttft_p95 or 0.0, tuned.ttft_p95 or 0.0),
    ]
    return [
        '<h2 id="cost">Prompt tokens and speed</h2>',
        _legend(),
        bar_chart(tokens, label="prompt tokens per call"),
        bar_chart([(n, b, t, seconds(b), seconds(t)) for n, b, t in speed], label="latency"),
        *(f'<p class="verdict">{e(line)}.</p>' for line in verdict_lines(figures)),
    ]


def _training(metrics: MetricsRows | None, job: FineTuneJob | None) -> list[str]:
    """The tuned model's training: its job's loss curves (and id) when the caller gave them."""
    if metrics is None:
        return []
    title = f"Loss of {job.id}" if job is not None else "Loss of the tuned model's training"
    out = ['<h2 id="training">Training of the tuned model</h2>']
    if job is not None:
        facts = [("job", job.id), ("status", str(job.status)), ("hyperparameters", str(job.hyperparameters))]
        out.append(facts_table(facts))
    out.append(loss_chart_svg(metrics, title=title, width=960, height=400))
    return out


def html_report(
    comparison: ComparisonData,
    figures: Figures,
    *,
    title: str | None = None,
    note: str | None = None,
    metrics: MetricsRows | None = None,
    job: FineTuneJob | None = None,
) -> str:
    """The page, as a string."""
    heading = title or "Base versus tuned"
    body = [f"<h1>{e(heading)}</h1>"]
    emulated = emulation_line(figures)
    if emulated:
        body.append(f'<p class="emulated">{e(emulated)}</p>')
    if note:
        body.append(f'<p class="note">{e(note)}</p>')
    body += [_setups(comparison), f'<p class="scope">{e(scope_line(figures))}</p>']
    if figures.checks:
        body += _checks(figures)
    body += _speed(figures)
    body += ['<h2 id="figures">Stability, tokens and speed in figures</h2>']
    body.append(_table("figures", ("", "base", "tuned"), figure_table(figures)))
    body += _training(metrics, job)
    body += ['<h2 id="answers">Answers</h2>', _answer_table(comparison)]
    return page(heading, body, css=_CSS)
