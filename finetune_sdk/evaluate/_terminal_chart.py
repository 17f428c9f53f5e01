"""The loss curves in a terminal: a rich renderable drawn with braille dots, as wide as the console.

Each character cell holds 2 x 4 dots, so a 100-column chart has 200 points across. The train loss and
the validation loss get a colour each (a cell where both pass shows the validation colour); the left
column holds the loss ticks, the bottom line the steps. :meth:`TerminalLossChart.update` swaps in the
rows so far, and a ``rich.live.Live`` showing the chart redraws it at its refresh rate: that is how
``finetune jobs watch`` keeps it current. On a console that cannot print braille (``ascii_only``), dots
are ``*``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._curves import Curves, MetricsRows, Point, curves
from ._ticks import axis

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

__all__ = ["TerminalLossChart"]

TRAIN_STYLE = "bright_blue"
VALID_STYLE = "dark_orange"
_BRAILLE = 0x2800
# The dot bits of a braille cell, by (column 0-1, row 0-3).
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
_LABEL_WIDTH = 7
_MARKS = {"train": "━", "valid": "•", "tick": "┤", "axis": "│", "corner": "└", "rule": "─"}
_ASCII = {"train": "-", "valid": "o", "tick": "+", "axis": "|", "corner": "+", "rule": "-"}


class _Grid:
    """A canvas of ``width`` x ``height`` cells (twice and four times as many dots)."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.cells = [[0] * width for _ in range(height)]

    def dot(self, x: int, y: int) -> None:
        """Set the dot at ``x`` (0 at the left) and ``y`` (0 at the top), if it lies on the canvas."""
        if 0 <= x < 2 * self.width and 0 <= y < 4 * self.height:
            self.cells[y // 4][x // 2] |= _DOTS[x % 2][y % 4]

    def line(self, a: tuple[int, int], b: tuple[int, int]) -> None:
        (x0, y0), (x1, y1) = a, b
        steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for i in range(steps + 1):
            self.dot(round(x0 + (x1 - x0) * i / steps), round(y0 + (y1 - y0) * i / steps))


def _plot(grid: _Grid, points: Sequence[Point], to_dot: tuple[float, float, float, float]) -> None:
    x_low, x_high, y_low, y_high = to_dot
    dots_x, dots_y = 2 * grid.width - 1, 4 * grid.height - 1

    def where(point: Point) -> tuple[int, int]:
        x = (point[0] - x_low) / ((x_high - x_low) or 1.0)
        y = (point[1] - y_low) / ((y_high - y_low) or 1.0)
        return round(x * dots_x), round((1 - y) * dots_y)

    previous: tuple[int, int] | None = None
    for point in points:
        here = where(point)
        if previous is None:
            grid.dot(*here)
        else:
            grid.line(previous, here)
        previous = here


class TerminalLossChart:
    """A live loss chart for a terminal: ``Live(chart)`` shows it, :meth:`update` gives it new rows.

    ``rows`` are metrics rows as for :func:`~finetune_sdk.evaluate.loss_chart_svg`; ``height`` is the
    plot's height in lines (the legend and the step axis take two more). Thread-safe: a watcher thread
    may call :meth:`update` while rich's refresh thread draws.
    """

    def __init__(self, rows: MetricsRows = (), *, title: str = "loss", height: int = 10) -> None:
        if height < 3:
            raise ValueError(f"a terminal chart needs a height of at least 3 lines, got {height}")
        self.title = title
        self.height = height
        self._lock = threading.Lock()
        self._curves: Curves = curves(rows)

    def update(self, rows: MetricsRows) -> None:
        """Draw these rows (all of them so far, not only the new ones) from the next refresh on."""
        fresh = curves(rows)
        with self._lock:
            self._curves = fresh

    @property
    def curves(self) -> Curves:
        with self._lock:
            return self._curves

    def lines(self, width: int, *, ascii_only: bool = False) -> list[list[tuple[str, str]]]:
        """The chart as lines of ``(text, style)`` pieces, ``width`` columns wide (for tests and for
        consoles without rich)."""
        data = self.curves
        plot_width = max(8, width - _LABEL_WIDTH - 1)
        marks = _ASCII if ascii_only else _MARKS
        legend = [(f"{self.title}  ", "bold"), (f"{marks['train']} train", TRAIN_STYLE)]
        legend += [(f"  {marks['valid']} validation", VALID_STYLE)] if data.valid_loss else []
        last = data.last_step
        if last is not None:
            legend.append((f"  step {last:g}", "dim"))
        if data.not_finite:
            legend.append((f"  ({data.not_finite} not finite, left out)", "dim"))
        out = [legend]
        if data.empty:
            out.append([(" " * _LABEL_WIDTH + "no metrics yet", "dim")])
            return out
        losses = data.losses()
        y = axis(min(losses), max(losses), count=max(2, min(5, self.height // 2)), zero=True)
        steps = [x for x, _ in (*data.train_loss, *data.valid_loss)]
        low_step, high_step = min(steps), max(steps)
        bounds = (low_step, high_step, y.low, y.high)
        train, valid = _Grid(plot_width, self.height), _Grid(plot_width, self.height)
        _plot(train, data.train_loss, bounds)
        _plot(valid, data.valid_loss, bounds)
        labels = {
            round((1 - y.position(tick)) * (self.height - 1)): text
            for tick, text in zip(y.ticks, y.labels(), strict=True)
        }
        for row in range(self.height):
            label = labels.get(row)
            line: list[tuple[str, str]] = [
                (
                    (label or "").rjust(_LABEL_WIDTH - 1) + " " + (marks["tick"] if label else marks["axis"]),
                    "dim",
                )
            ]
            for column in range(plot_width):
                t, v = train.cells[row][column], valid.cells[row][column]
                bits = t | v
                char = " " if not bits else "*" if ascii_only else chr(_BRAILLE + bits)
                line.append((char, VALID_STYLE if v else TRAIN_STYLE if t else ""))
            out.append(_merge(line))
        out.append([(" " * _LABEL_WIDTH + marks["corner"] + marks["rule"] * plot_width, "dim")])
        left, right = f"{low_step:g}", f"{high_step:g}"
        gap = max(1, plot_width - len(left) - len(right))
        out.append([(" " * (_LABEL_WIDTH + 1) + left + " " * gap + right, "dim")])
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.text import Text

        for pieces in self.lines(options.max_width, ascii_only=options.ascii_only):
            line = Text(no_wrap=True, overflow="crop")
            for text, style in pieces:
                line.append(text, style=style or None)
            yield line


def _merge(pieces: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Runs of one style as one piece (fewer segments for the terminal to draw)."""
    out: list[tuple[str, str]] = []
    for text, style in pieces:
        if out and out[-1][1] == style:
            out[-1] = (out[-1][0] + text, style)
        else:
            out.append((text, style))
    return out
