"""The SVG loss chart: its structure (paths, points, axes, legend, title), determinism, and what it does
with odd rows; drawn by a real Chromium where one is installed."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from finetune_sdk.evaluate import loss_chart_svg, save_loss_chart
from finetune_sdk.evaluate._curves import curves
from finetune_sdk.evaluate._loss_chart import LR_COLOUR, TRAIN_COLOUR, VALID_COLOUR
from finetune_sdk.evaluate._ticks import axis, label

from .browser import colour_pixels, needs_chromium, png_pixels, screenshot
from .metrics_rows import Row, run

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def by_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [node for node in root.iter() if node.get("class") == name]


def points(path: ET.Element) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"[ML](-?[\d.]+),(-?[\d.]+)", path.get("d") or "")]


def title_of(root: ET.Element) -> str | None:
    title = root.find(f"{SVG}title")
    return None if title is None else title.text


def texts(node: ET.Element) -> list[str]:
    return [t.text or "" for t in node.iter(f"{SVG}text")]


def test_the_chart_has_its_lines_axes_legend_and_title() -> None:
    rows = run()
    root = parse(loss_chart_svg(rows, title="Loss of ftjob-1"))
    assert root.get("width") == "720" and root.get("height") == "360" and root.get("role") == "img"
    assert title_of(root) == "Loss of ftjob-1"
    (train,) = by_class(root, "train-loss")
    (valid,) = by_class(root, "valid-loss")
    (rate,) = by_class(root, "learning-rate")
    assert train.get("stroke") == TRAIN_COLOUR and valid.get("stroke") == VALID_COLOUR
    assert rate.get("stroke") == LR_COLOUR and rate.get("stroke-dasharray")
    assert len(points(train)) == 120 and len(points(valid)) == 3 and len(points(rate)) == 120
    xs = [x for x, _ in points(train)]
    assert xs == sorted(xs)  # by step, left to right
    # a falling loss is drawn falling: SVG's y grows downwards
    assert points(train)[0][1] < points(train)[-1][1]
    assert len(list(by_class(root, "valid-points")[0])) == 3  # a dot per validation point
    assert texts(by_class(root, "x-axis")[0]) == ["0", "20", "40", "60", "80", "100", "120"]
    assert texts(by_class(root, "y-axis")[0]) == ["0", "0.5", "1.0", "1.5", "2.0", "2.5"]
    assert texts(by_class(root, "lr-axis")[0]) == ["0", "2e-5", "4e-5", "6e-5", "8e-5", "1e-4"]
    assert texts(by_class(root, "legend")[0]) == [
        "train loss",
        "validation loss",
        "learning rate (right axis)",
    ]
    assert texts(by_class(root, "epochs")[0]) == ["epoch 1", "epoch 2"]  # the run's last epoch ends the chart
    every = texts(root)
    assert "step" in every and "loss" in every and "learning rate" in every


def test_a_point_lands_where_its_value_says() -> None:
    rows = [Row(0, train_loss=2.0), Row(10, train_loss=1.0), Row(20, train_loss=0.0)]
    root = parse(loss_chart_svg(rows))
    (train,) = by_class(root, "train-loss")
    (x0, y0), (x1, y1), (x2, y2) = points(train)
    assert x1 - x0 == pytest.approx(x2 - x1, abs=0.2)  # steps evenly spaced
    assert y0 - y1 == pytest.approx(y1 - y2, abs=0.2)  # and values
    ticks = {t.text: float(t.get("y") or 0) - 4 for t in by_class(root, "y-axis")[0].iter(f"{SVG}text")}
    assert (y0, y2) == (pytest.approx(ticks["2.0"]), pytest.approx(ticks["0"]))  # on the ticks' lines


def test_same_rows_same_bytes_in_any_order() -> None:
    rows = run(seed=3)
    assert loss_chart_svg(rows) == loss_chart_svg(list(reversed(rows)))
    assert loss_chart_svg(rows) != loss_chart_svg(run(seed=4))


def test_mappings_and_missing_attributes_are_rows_too() -> None:
    class OnlyLoss:
        def __init__(self, step: int, loss: float) -> None:
            self.step, self.train_loss = step, loss

    from_objects = loss_chart_svg([OnlyLoss(1, 1.5), OnlyLoss(2, 1.2)])
    from_dicts = loss_chart_svg([{"step": 1, "train_loss": 1.5}, {"step": 2, "train_loss": 1.2}])
    assert from_objects == from_dicts
    root = parse(from_dicts)
    assert by_class(root, "valid-loss") == [] and by_class(root, "learning-rate") == []
    assert by_class(root, "lr-axis") == []
    assert texts(by_class(root, "legend")[0]) == ["train loss"]


def test_no_rows_draws_empty_axes_that_say_so() -> None:
    root = parse(loss_chart_svg([]))
    assert "no metrics yet" in texts(root) and by_class(root, "train-loss") == []


def test_values_that_are_not_finite_are_left_out_and_counted() -> None:
    rows = [Row(1, train_loss=2.0), Row(2, train_loss=float("nan")), Row(3, train_loss=float("inf"))]
    root = parse(loss_chart_svg([*rows, Row(4, train_loss=1.0)]))
    assert len(points(by_class(root, "train-loss")[0])) == 2
    assert "2 values not finite, left out" in texts(root)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"train_loss": 1.0}, "metrics row 0: a row needs a finite number as its step, got None"),
        ({"step": "3"}, "metrics row 0: step must be a number or None, got '3' (str)"),
        ({"step": 1, "train_loss": True}, "metrics row 0: train_loss must be a number or None, got True"),
    ],
)
def test_a_bad_row_is_named(row: dict[str, object], message: str) -> None:
    with pytest.raises(TypeError, match=re.escape(message)):
        loss_chart_svg([row])


def test_a_long_run_is_thinned_but_keeps_its_spikes() -> None:
    rows = [Row(step, train_loss=1.0) for step in range(1, 100_001)]
    rows[50_000] = Row(50_001, train_loss=5.0)  # one spike
    svg = loss_chart_svg(rows)
    train = by_class(parse(svg), "train-loss")[0]
    assert len(points(train)) <= 2 * 720 and len(svg) < 60_000
    ticks = {t.text: float(t.get("y") or 0) - 4 for t in by_class(parse(svg), "y-axis")[0].iter(f"{SVG}text")}
    assert min(y for _, y in points(train)) == pytest.approx(ticks["5"])  # the spike is still drawn


def test_hostile_titles_are_escaped() -> None:
    svg = loss_chart_svg(run(10, 5), title='<script>alert("x")</script> & 损失')
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert title_of(parse(svg)) == '<script>alert("x")</script> & 损失'


def test_save_writes_a_standalone_svg(tmp_path: Path) -> None:
    path = save_loss_chart(run(), tmp_path / "loss.svg", title="损失")
    text = path.read_text(encoding="utf-8")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg ') and text.endswith("</svg>\n")
    assert "Noto Sans CJK SC" in parse(text.split("\n", 1)[1]).get("font-family", "")
    assert [p.name for p in tmp_path.iterdir()] == ["loss.svg"]  # no temporary file left
    with pytest.raises(ValueError, match="240 x 160"):
        loss_chart_svg(run(), width=100)


def test_epoch_ends_from_either_kind_of_epoch() -> None:
    counted = curves([Row(s, epoch=(s + 1) // 2) for s in range(1, 7)])  # 1,1,2,2,3,3 (emulator)
    fraction = curves([Row(s, epoch=s / 2) for s in range(1, 7)])  # 0.5,1.0,...,3.0 (epochs done)
    assert counted.epoch_ends == fraction.epoch_ends == ((2, 1), (4, 2))


@pytest.mark.parametrize(
    ("low", "high", "ticks"),
    [
        (0.35, 2.2, (0.0, 0.5, 1.0, 1.5, 2.0, 2.5)),
        (0.9, 1.2, (0.9, 1.0, 1.1, 1.2)),
        (1, 120, (0.0, 25.0, 50.0, 75.0, 100.0, 125.0)),
        (2.0, 2.0, (1.8, 1.9, 2.0, 2.1, 2.2)),
    ],
)
def test_round_ticks(low: float, high: float, ticks: tuple[float, ...]) -> None:
    zero = low < 0.25 * high
    assert axis(low, high, zero=zero).ticks == ticks


def test_tick_labels() -> None:
    assert [label(v, 0.25) for v in (0.25, 1.0)] == ["0.25", "1.00"]
    assert label(1500, 500) == "1,500" and label(2e-5, 2e-5) == "2e-5" and label(0, 1) == "0"


@needs_chromium
@pytest.mark.timeout(120)
def test_chromium_draws_the_chart(tmp_path: Path) -> None:
    path = save_loss_chart(run(), tmp_path / "loss.svg", title="损失曲线 ft-job-1")
    width, height, rows = png_pixels(
        screenshot(path, tmp_path, width=720, height=360, keep="FINETUNE_CHART_SCREENSHOT")
    )
    assert (width, height) == (720, 360)
    assert colour_pixels(rows, TRAIN_COLOUR) > 300  # a 120-step line, 1.6 px wide
    assert colour_pixels(rows, VALID_COLOUR) > 150  # a line and three dots


def test_the_step_axis_ends_at_the_last_step() -> None:
    root = parse(loss_chart_svg([Row(step, train_loss=1.0 / step) for step in range(1, 65)]))
    assert texts(by_class(root, "x-axis")[0]) == ["0", "20", "40", "60"]
    right = float(re.findall(r"H(-?[\d.]+)", by_class(root, "frame")[0].get("d") or "")[0])
    assert points(by_class(root, "train-loss")[0])[-1][0] == pytest.approx(right)  # step 64 at the edge
    assert axis(1, 64, count=6, zero=True, tight=True).high == 64
