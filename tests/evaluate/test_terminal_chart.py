"""The terminal loss chart: braille lines as wide as the console, ticks, a legend, live updates."""

from __future__ import annotations

import io
import threading
import time

import pytest
from rich.console import Console
from rich.live import Live

from finetune_sdk.evaluate import TerminalLossChart
from finetune_sdk.evaluate._terminal_chart import TRAIN_STYLE, VALID_STYLE

from .metrics_rows import Row, run

BRAILLE = range(0x2801, 0x2900)


def text_lines(chart: TerminalLossChart, width: int, *, ascii_only: bool = False) -> list[str]:
    return ["".join(text for text, _ in line) for line in chart.lines(width, ascii_only=ascii_only)]


def render(chart: TerminalLossChart, width: int) -> str:
    buffer = io.StringIO()
    Console(width=width, file=buffer, force_terminal=True, color_system=None).print(chart)
    return buffer.getvalue()


@pytest.mark.parametrize("width", [40, 80, 157])
def test_the_chart_fills_the_console_width_and_no_more(width: int) -> None:
    out = render(TerminalLossChart(run(), title="ftjob-1", height=8), width)
    lines = out.splitlines()
    assert len(lines) == 1 + 8 + 2  # legend, plot, axis, steps
    assert max(len(line) for line in lines) <= width
    assert len(lines[1]) == width  # a plot line spans the console


def test_the_lines_are_braille_falling_left_to_right() -> None:
    lines = text_lines(TerminalLossChart(run(), height=10), 80)
    plot = lines[1:11]
    cells = [
        (row, column)
        for row, line in enumerate(plot)
        for column, char in enumerate(line)
        if ord(char) in BRAILLE
    ]
    assert len(cells) > 70  # a continuous line across the plot
    leftmost = min(cells, key=lambda cell: cell[1])
    rightmost = max(cells, key=lambda cell: cell[1])
    assert leftmost[0] < rightmost[0]  # it starts high and ends low


def test_ticks_legend_and_steps() -> None:
    lines = text_lines(TerminalLossChart(run(), title="ftjob-1", height=10), 80)
    assert lines[0] == "ftjob-1  ━ train  • validation  step 120"
    labels = [line[:7].strip() for line in lines[1:11] if line[7] == "┤"]
    assert labels == ["2.5", "2.0", "1.5", "1.0", "0.5", "0"]
    assert lines[11].startswith("       └─") and lines[12].split() == ["1", "120"]


def test_each_curve_has_its_colour() -> None:
    chart = TerminalLossChart(run(), height=10)
    styles = {
        style for line in chart.lines(80) for text, style in line if any(ord(c) in BRAILLE for c in text)
    }
    assert styles == {TRAIN_STYLE, VALID_STYLE}


def test_ascii_only_consoles_get_stars() -> None:
    lines = text_lines(TerminalLossChart(run(), height=6), 60, ascii_only=True)
    assert all(line.isascii() for line in lines)
    assert sum(line.count("*") for line in lines) > 40
    assert lines[0].startswith("loss  - train  o validation")


def test_no_rows_yet() -> None:
    assert text_lines(TerminalLossChart(), 60) == ["loss  ━ train", "       no metrics yet"]


def test_update_redraws_with_the_rows_so_far() -> None:
    chart = TerminalLossChart(run()[:10], height=6)
    assert text_lines(chart, 60)[0].endswith("step 10")
    chart.update(run())
    assert text_lines(chart, 60)[0].endswith("step 120")
    with pytest.raises(ValueError, match="at least 3 lines"):
        TerminalLossChart(height=2)


@pytest.mark.timeout(30)
def test_live_shows_what_a_watcher_thread_gives() -> None:
    """As ``finetune jobs watch`` uses it: a Live display refreshing while another thread adds rows."""
    rows = run()
    chart = TerminalLossChart(height=6)
    buffer = io.StringIO()
    console = Console(width=80, file=buffer, force_terminal=True, color_system=None)

    def watch() -> None:
        for end in range(10, 121, 10):
            chart.update(rows[:end])
            time.sleep(0.01)

    with Live(chart, console=console, refresh_per_second=50):
        watcher = threading.Thread(target=watch)
        watcher.start()
        watcher.join()
    assert "step 120" in buffer.getvalue()  # the last rows were drawn


def test_rows_without_a_validation_loss() -> None:
    rows = [Row(step, train_loss=1.0 / step) for step in range(1, 30)]
    lines = text_lines(TerminalLossChart(rows, height=5), 50)
    assert "validation" not in lines[0] and "step 29" in lines[0]
