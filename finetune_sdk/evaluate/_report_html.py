"""A comparison as one self-contained HTML page: inline CSS and SVG bars, no script, nothing fetched.

The page forbids itself any network access (a Content-Security-Policy allowing only inline styles), so it
opens the same from a mail attachment, an artifact store or a laptop offline. Every text of the
comparison (prompts, answers, model names, check names) is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._report_text import (
    figure_table,
    listed_prompts,
    percent,
    saving_line,
    scope_line,
    seconds,
    system_prompt_size,
    token_label,
)

if TYPE_CHECKING:
    from ._comparison import Comparison, ComparisonRow

__all__ = ["html_report"]

BASE_COLOUR = "#d9822b"
TUNED_COLOUR = "#2b6cb0"

_CSS = f"""
body {{ font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "WenQuanYi Zen Hei",
  sans-serif; color: #1a202c; margin: 24px auto; max-width: 1100px; padding: 0 16px; }}
h1 {{ font-size: 22px; margin: 0 0 4px; }}
h2 {{ font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #e2e8f0; padding-bottom: 4px; }}
.note {{ background: #fffbea; border-left: 4px solid #d69e2e; padding: 6px 10px; margin: 8px 0; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid #edf2f7; }}
th {{ background: #f7fafc; font-weight: 600; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
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
.saving {{ font-weight: 600; }}
svg text {{ font-size: 12px; fill: #1a202c; }}
"""

_LABEL_WIDTH = 260
_BAR_WIDTH = 560
_BAR_HEIGHT = 14


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def bar_chart(
    groups: Sequence[tuple[str, float, float, str, str]], *, scale: float | None = None, label: str
) -> str:
    """Horizontal bars as inline SVG: per group ``(name, base, tuned, base text, tuned text)`` one base
    bar and one tuned bar, lengths relative to ``scale`` (default: the largest value)."""
    top = scale if scale is not None else max([v for g in groups for v in g[1:3]] + [0.0])
    step = 2 * _BAR_HEIGHT + 14
    height = step * len(groups) + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{_e(label)}" '
        f'width="{_LABEL_WIDTH + _BAR_WIDTH + 90}" height="{height}">'
    ]
    for index, (name, base, tuned, base_text, tuned_text) in enumerate(groups):
        y = index * step + 2
        parts.append(f'<text x="0" y="{y + _BAR_HEIGHT + 4}">{_e(name)}</text>')
        for offset, (value, text, colour, side) in enumerate(
            ((base, base_text, BASE_COLOUR, "base"), (tuned, tuned_text, TUNED_COLOUR, "tuned"))
        ):
            width = 0.0 if top <= 0 else max(0.0, min(1.0, value / top)) * _BAR_WIDTH
            top_y = y + offset * _BAR_HEIGHT
            parts.append(
                f'<rect class="bar-{side}" x="{_LABEL_WIDTH}" y="{top_y}" width="{width:.1f}" '
                f'height="{_BAR_HEIGHT - 2}" fill="{colour}" rx="2">'
                f"<title>{_e(side)}: {_e(text)}</title></rect>"
            )
            parts.append(
                f'<text x="{_LABEL_WIDTH + width + 6:.1f}" y="{top_y + _BAR_HEIGHT - 3}">{_e(text)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _legend() -> str:
    return '<p class="legend"><span class="base"></span>base<span class="tuned"></span>tuned</p>'


def _setups(comparison: Comparison) -> str:
    rows = []
    for name, (model, system) in (("base", comparison.base), ("tuned", comparison.tuned)):
        prompt = system_prompt_size(system)
        title = f' title="{_e(system)}"' if system else ""
        rows.append(f"<tr><th>{name}</th><td>{_e(model)}</td><td{title}>{_e(prompt)}</td></tr>")
    head = "<tr><th>setup</th><th>model</th><th>system prompt</th></tr>"
    return f'<table class="setups">{head}{"".join(rows)}</table>'


def _answers(comparison: Comparison, row: ComparisonRow, side: str) -> str:
    out = []
    for index, reply in enumerate(row.samples(side)):
        failed = row.failed(side, comparison.checks, index)
        state = ("fail" if failed else "pass") if comparison.checks else ""
        badges = "".join(f'<span class="badge">✗ {_e(name)}</span>' for name in failed)
        if comparison.checks and not failed:
            badges = '<span class="badge ok">✓ every check</span>'
        out.append(f'<div class="answer {state}" data-side="{side}">{_e(reply.text)}<br>{badges}</div>')
    return "".join(out)


def _answer_table(comparison: Comparison) -> str:
    head = "<tr><th>#</th><th>prompt</th><th>base</th><th>tuned</th></tr>"
    rows = [
        f"<tr><td>{i}</td><td>{_e(row.prompt)}</td><td>{_answers(comparison, row, 'base')}</td>"
        f"<td>{_answers(comparison, row, 'tuned')}</td></tr>"
        for i, row in enumerate(comparison.rows, 1)
    ]
    return f'<table class="answers">{head}{"".join(rows)}</table>'


def _figure_rows(comparison: Comparison) -> str:
    cells = "".join(
        f'<tr><td>{_e(label)}</td><td class="num">{_e(base)}</td><td class="num">{_e(tuned)}</td></tr>'
        for label, base, tuned in figure_table(comparison.figures())
    )
    return f'<table class="figures"><tr><th></th><th>base</th><th>tuned</th></tr>{cells}</table>'


def html_report(comparison: Comparison, *, title: str | None = None, note: str | None = None) -> str:
    """The page, as a string."""
    figures = comparison.figures()
    heading = title or "Base versus tuned"
    body = [f"<h1>{_e(heading)}</h1>"]
    if note:
        body.append(f'<p class="note">{_e(note)}</p>')
    body.append(_setups(comparison))
    body.append(f"<p>{_e(scope_line(comparison))}</p>")
    if figures.checks:
        groups = [
            (
                c.name,
                c.base_pass_rate,
                c.tuned_pass_rate,
                percent(c.base_pass_rate),
                percent(c.tuned_pass_rate),
            )
            for c in figures.checks
        ]
        base_all, tuned_all = figures.base.all_checks_pass or 0.0, figures.tuned.all_checks_pass or 0.0
        groups.append(("every check", base_all, tuned_all, percent(base_all), percent(tuned_all)))
        body += ['<h2 id="checks">Pass rate per check</h2>', _legend()]
        body.append(bar_chart(groups, scale=1.0, label="pass rate per check"))
        differ = [
            f"<li>{_e(c.name)}: {_e(listed_prompts(c.differing_prompts))}</li>"
            for c in figures.checks
            if c.differing_prompts
        ]
        if differ:
            body.append(f"<p>Prompts where the two sides differ:</p><ul>{''.join(differ)}</ul>")
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
    body += ['<h2 id="cost">Prompt tokens and speed</h2>', _legend()]
    body.append(bar_chart(tokens, label="prompt tokens per call"))
    body.append(bar_chart([(n, b, t, seconds(b), seconds(t)) for n, b, t in speed], label="latency"))
    body.append(f'<p class="saving">{_e(saving_line(figures))}.</p>')
    body += ['<h2 id="figures">Stability, tokens and speed in figures</h2>', _figure_rows(comparison)]
    body += ['<h2 id="answers">Answers</h2>', _answer_table(comparison)]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="und"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="'
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(heading)}</title><style>{_CSS}</style></head>\n"
        "<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
