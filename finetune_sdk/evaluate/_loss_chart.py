"""The loss curves of a training run as one SVG picture: no script, nothing fetched, the same bytes for
the same rows.

Train loss per step (a line), validation loss where it was measured (a line with a dot per point), the
learning rate on a second axis at the right when the rows carry it, dotted lines at the ends of
epochs; axes with round ticks, a legend and a title. Hand-written SVG: a chart of three lines needs no
plotting library, and the page embedding it stays free of scripts.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from .._atomic import atomic_write_text
from .._text import plural
from ._curves import Curves, MetricsRows, Point, curves
from ._html import CJK_FONT_STACK, e
from ._ticks import Axis, axis

__all__ = [
    "LR_COLOUR",
    "TRAIN_COLOUR",
    "VALID_COLOUR",
    "loss_chart_svg",
    "save_loss_chart",
    "svg_from_curves",
]

TRAIN_COLOUR = "#2b6cb0"
VALID_COLOUR = "#d9822b"
LR_COLOUR = "#718096"
_INK = "#1a202c"
_GRID = "#e2e8f0"
_MUTED = "#4a5568"
MAX_EPOCH_LABELS = 12
"""More epoch ends than this get their dotted lines without a label each (they would overlap)."""
MAX_DOTS = 200
"""A validation series longer than this is drawn as a line only."""


def _f(value: float) -> str:
    """A coordinate: one decimal, never ``-0.0`` (the output must be the same bytes every time)."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _thin(points: Sequence[Point], columns: int) -> list[Point]:
    """At most the lowest and the highest point per pixel column, in step order: the line looks the
    same (spikes kept) while a 100,000-step run stays a small file."""
    if len(points) <= 2 * columns:
        return list(points)
    first, last = points[0][0], points[-1][0]
    span = (last - first) or 1.0
    buckets: dict[int, list[Point]] = {}
    for point in points:
        buckets.setdefault(min(columns - 1, int((point[0] - first) / span * columns)), []).append(point)
    out: list[Point] = []
    for column in sorted(buckets):
        group = buckets[column]
        low = min(group, key=lambda p: p[1])
        high = max(group, key=lambda p: p[1])
        out += sorted({low, high}, key=lambda p: p[0])
    return out


class _Frame:
    """The plot area inside the picture and the axes mapping data to it."""

    def __init__(self, width: int, height: int, x: Axis, y: Axis, lr: Axis | None) -> None:
        self.left, self.top = 64.0, 62.0
        self.right = width - (72.0 if lr is not None else 24.0)
        self.bottom = height - 46.0
        self.x, self.y, self.lr = x, y, lr

    def px(self, step: float) -> float:
        return self.left + self.x.position(step) * (self.right - self.left)

    def py(self, value: float, scale: Axis | None = None) -> float:
        return self.bottom - (scale or self.y).position(value) * (self.bottom - self.top)


def _path(points: Sequence[Point], frame: _Frame, scale: Axis | None = None) -> str:
    return " ".join(
        f"{'M' if i == 0 else 'L'}{_f(frame.px(x))},{_f(frame.py(y, scale))}"
        for i, (x, y) in enumerate(points)
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}"{extra}>{e(text)}</text>'


def _axes(frame: _Frame, parts: list[str]) -> None:
    parts.append('<g class="y-axis">')
    for tick, text in zip(frame.y.ticks, frame.y.labels(), strict=True):
        y = frame.py(tick)
        parts.append(
            f'<line x1="{_f(frame.left)}" x2="{_f(frame.right)}" y1="{_f(y)}" y2="{_f(y)}" stroke="{_GRID}"/>'
        )
        parts.append(_text(frame.left - 6, y + 4, text, anchor="end"))
    parts.append("</g>")
    parts.append('<g class="x-axis">')
    for tick, text in zip(frame.x.ticks, frame.x.labels(), strict=True):
        x = frame.px(tick)
        parts.append(
            f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(frame.bottom)}" y2="{_f(frame.bottom + 4)}"'
            f' stroke="{_INK}"/>'
        )
        parts.append(_text(x, frame.bottom + 17, text, anchor="middle"))
    parts.append("</g>")
    if frame.lr is not None:
        parts.append('<g class="lr-axis">')
        for tick, text in zip(frame.lr.ticks, frame.lr.labels(), strict=True):
            parts.append(
                _text(frame.right + 6, frame.py(tick, frame.lr) + 4, text, extra=f' fill="{_MUTED}"')
            )
        parts.append("</g>")
    parts.append(
        f'<path class="frame" d="M{_f(frame.left)},{_f(frame.top)} V{_f(frame.bottom)} H{_f(frame.right)}"'
        f' fill="none" stroke="{_INK}"/>'
    )


def _epochs(data: Curves, frame: _Frame, parts: list[str]) -> None:
    ends = [(step, epoch) for step, epoch in data.epoch_ends if frame.x.low <= step <= frame.x.high]
    if not ends:
        return
    parts.append('<g class="epochs">')
    for step, epoch in ends:
        x = frame.px(step)
        parts.append(
            f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(frame.top)}" y2="{_f(frame.bottom)}"'
            f' stroke="{_MUTED}" stroke-dasharray="2 3" stroke-opacity="0.6"/>'
        )
        if len(ends) <= MAX_EPOCH_LABELS:
            parts.append(
                _text(x - 3, frame.top + 11, f"epoch {epoch}", anchor="end", extra=f' fill="{_MUTED}"')
            )
    parts.append("</g>")


def _legend(data: Curves, width: int, parts: list[str]) -> None:
    items = [("train-loss", "train loss", TRAIN_COLOUR, "", bool(data.train_loss))]
    items.append(("valid-loss", "validation loss", VALID_COLOUR, "", bool(data.valid_loss)))
    items.append(("learning-rate", "learning rate (right axis)", LR_COLOUR, "5 3", bool(data.learning_rate)))
    x = 64.0
    parts.append('<g class="legend">')
    for name, text, colour, dash, present in items:
        if not present:
            continue
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line class="legend-{name}" x1="{_f(x)}" x2="{_f(x + 22)}" y1="40" y2="40" stroke="{colour}"'
            f' stroke-width="2"{dashes}/>'
        )
        parts.append(_text(x + 28, 44, text))
        x += 28 + 7.2 * len(text) + 22
    if data.not_finite:
        parts.append(
            _text(width - 24, 44, f"{plural(data.not_finite, 'value')} not finite, left out", anchor="end")
        )
    parts.append("</g>")


def _lines(data: Curves, frame: _Frame, parts: list[str]) -> None:
    columns = max(1, int(frame.right - frame.left))
    if data.learning_rate and frame.lr is not None:
        parts.append(
            f'<path class="learning-rate" d="{_path(_thin(data.learning_rate, columns), frame, frame.lr)}"'
            f' fill="none" stroke="{LR_COLOUR}" stroke-width="1.4" stroke-dasharray="5 3"/>'
        )
    if data.train_loss:
        parts.append(
            f'<path class="train-loss" d="{_path(_thin(data.train_loss, columns), frame)}" fill="none"'
            f' stroke="{TRAIN_COLOUR}" stroke-width="1.6" stroke-linejoin="round"/>'
        )
    if data.valid_loss:
        parts.append(
            f'<path class="valid-loss" d="{_path(_thin(data.valid_loss, columns), frame)}" fill="none"'
            f' stroke="{VALID_COLOUR}" stroke-width="2" stroke-linejoin="round"/>'
        )
        if len(data.valid_loss) <= MAX_DOTS:
            parts.append('<g class="valid-points">')
            parts += [
                f'<circle cx="{_f(frame.px(x))}" cy="{_f(frame.py(y))}" r="3.2" fill="{VALID_COLOUR}">'
                f"<title>step {x:g}: validation loss {y:.4g}</title></circle>"
                for x, y in data.valid_loss
            ]
            parts.append("</g>")


def svg_from_curves(data: Curves, *, title: str = "Loss", width: int = 720, height: int = 360) -> str:
    """The chart of ``data`` (see :func:`loss_chart_svg`)."""
    if width < 240 or height < 160:
        raise ValueError(f"a loss chart needs at least 240 x 160 pixels, got {width} x {height}")
    losses = data.losses()
    steps = [x for points in (data.train_loss, data.valid_loss, data.learning_rate) for x, _ in points]
    x = axis(min(steps, default=0.0), max(steps, default=1.0), count=6, zero=True, tight=True)
    y = axis(min(losses, default=0.0), max(losses, default=1.0), count=5, zero=True)
    rates = [value for _, value in data.learning_rate]
    lr = axis(min(rates), max(rates), count=5, zero=True) if rates else None
    frame = _Frame(width, height, x, y, lr)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="loss-chart" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" role="img" font-family="{e(CJK_FONT_STACK)}" font-size="12"'
        f' fill="{_INK}">',
        f"<title>{e(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        _text(16, 22, title, extra=' class="title" font-size="15" font-weight="600"'),
    ]
    _legend(data, width, parts)
    _axes(frame, parts)
    _epochs(data, frame, parts)
    if data.empty:
        middle = (frame.left + frame.right) / 2
        parts.append(_text(middle, (frame.top + frame.bottom) / 2, "no metrics yet", anchor="middle"))
    _lines(data, frame, parts)
    parts.append(_text((frame.left + frame.right) / 2, height - 10, "step", anchor="middle"))
    middle_y = (frame.top + frame.bottom) / 2
    parts.append(
        _text(16, middle_y, "loss", anchor="middle", extra=f' transform="rotate(-90 16 {_f(middle_y)})"')
    )
    if lr is not None:
        x_lr = width - 10
        parts.append(
            _text(
                x_lr,
                middle_y,
                "learning rate",
                anchor="middle",
                extra=f' transform="rotate(90 {_f(x_lr)} {_f(middle_y)})" fill="{_MUTED}"',
            )
        )
    parts.append("</svg>")
    return "\n".join(parts)


def loss_chart_svg(rows: MetricsRows, *, title: str = "Loss", width: int = 720, height: int = 360) -> str:
    """An SVG line chart of a training run's ``rows`` (objects or mappings with ``step`` and, where
    measured, ``train_loss``, ``valid_loss``, ``learning_rate``, ``epoch``): train loss per step,
    validation loss where measured, the learning rate on a right-hand axis when present, epoch ends
    dotted. Deterministic (the same rows give the same text), no script, nothing fetched; embed it in
    HTML as it is, or write it with :func:`save_loss_chart`."""
    return svg_from_curves(curves(rows), title=title, width=width, height=height)


def save_loss_chart(
    rows: MetricsRows,
    path: str | os.PathLike[str],
    *,
    title: str = "Loss",
    width: int = 720,
    height: int = 360,
) -> Path:
    """Write :func:`loss_chart_svg` to ``path`` as a standalone ``.svg`` file (atomically) and return
    the path."""
    svg = loss_chart_svg(rows, title=title, width=width, height=height)
    atomic_write_text(path, '<?xml version="1.0" encoding="UTF-8"?>\n' + svg + "\n")
    return Path(path)
