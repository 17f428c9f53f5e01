"""The job report: curves, hyperparameters, data figures and timeline on one self-contained page."""

from __future__ import annotations

import os
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from finetune_sdk import Client
from finetune_sdk.emulator import Emulator
from finetune_sdk.evaluate import DataFigures, JobReport, TimelineEntry
from finetune_sdk.evaluate._loss_chart import TRAIN_COLOUR, VALID_COLOUR
from finetune_sdk.types import FineTuneJob, JobEvent

from .browser import colour_pixels, dark_pixels, needs_chromium, png_pixels, screenshot
from .metrics_rows import run

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
CREATED = 1_767_225_600  # 2026-01-01 00:00:00 UTC


def job(**changes: object) -> FineTuneJob:
    fields: dict[str, object] = {
        "id": "ftjob-abc",
        "model": "Qwen/Qwen2.5-7B-Instruct",
        "status": "succeeded",
        "created_at": CREATED,
        "started_at": CREATED + 90,
        "finished_at": CREATED + 90 + 3725,
        "training_file": "file-1",
        "fine_tuned_model": "ft:LoRA/Qwen/Qwen2.5-7B-Instruct:org:critic:ftjob-abc",
        "suffix": "critic",
        "hyperparameters": {"n_epochs": 3, "learning_rate": 0.0002, "lora_rank": 16, "warmup": "linear"},
        "trained_tokens": 229_458,
        "step": 120,
        "total_steps": 120,
    }
    fields.update(changes)
    return FineTuneJob.model_validate(fields)


def events() -> list[JobEvent]:
    raw = [
        (0, "info", "Validating training file", None),
        (30, "info", "Files validated", None),
        (31, "warning", "Training file warning: 3: long_example: 5,000 tokens", None),
        (32, "info", "Job queued", None),
        (90, "info", "Job started", None),
        *(
            (90 + step * 31, "info", f"Step {step}/120", {"step": step, "train_loss": 1.0})
            for step in range(1, 121)
        ),
        (3815, "info", "Job succeeded", None),
    ]
    return [
        JobEvent.model_validate(
            {"id": f"ev-{i}", "created_at": CREATED + at, "level": level, "message": message, "data": data}
        )
        for i, (at, level, message, data) in enumerate(raw)
    ]


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.cells: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in {"td", "th"}:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in {"td", "th"} and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse(page: str) -> Page:
    parser = Page()
    parser.feed(page)
    parser.close()
    return parser


def test_the_page_holds_curves_hyperparameters_data_and_timeline() -> None:
    data = DataFigures(
        examples=36,
        tokens=82_022,
        billed_tokens=246_066,
        tokens_exact=True,
        price_per_million=25,
        currency="CNY",
    )
    page = JobReport(job(), run(), events=events(), data=data).to_html()
    doc = parse(page)
    text = "".join(doc.text)
    assert [a.get("id") for t, a in doc.tags if t == "h2"] == ["loss", "hyperparameters", "data", "timeline"]
    assert "Fine-tuning job ftjob-abc" in text and "succeeded" in text
    svg = [a for t, a in doc.tags if t == "svg"]
    assert len(svg) == 1 and svg[0]["class"] == "loss-chart"
    assert [a["class"] for t, a in doc.tags if t == "path" and a.get("class") != "frame"] == [
        "learning-rate",
        "train-loss",
        "valid-loss",
    ]
    cells = doc.cells
    for name, value in [
        ("learning_rate", "0.0002"),
        ("n_epochs", "3"),
        ("lora_rank", "16"),
        ("warmup", "linear"),  # a key the platform added is shown too
        ("training examples", "36"),
        ("billed tokens (exact count)", "246,066"),
        ("trained tokens (the server's count)", "229,458"),
        ("steps", "120 of 120"),
        ("waited before training", "90 s"),
        ("trained for", "62 min 05 s"),
        ("lowest validation loss", "0.4700 (step 120)"),
    ]:
        assert cells[cells.index(name) + 1] == value, name
    assert "246,066 billed tokens x 25.00 CNY per million tokens = 6.15 CNY" in text


def test_the_timeline_has_the_status_changes_not_the_steps() -> None:
    report = JobReport(job(), events=events())
    assert report.timeline() == [
        TimelineEntry(CREATED, "job created"),
        TimelineEntry(CREATED, "Validating training file"),
        TimelineEntry(CREATED + 30, "Files validated"),
        TimelineEntry(CREATED + 31, "Training file warning: 3: long_example: 5,000 tokens", "warning"),
        TimelineEntry(CREATED + 32, "Job queued"),
        TimelineEntry(CREATED + 90, "Job started"),
        TimelineEntry(CREATED + 3815, "Job succeeded"),
    ]
    cells = parse(report.to_html()).cells
    assert cells[cells.index("2026-01-01 00:00:31 UTC") + 1] == "+31 s"
    assert cells[cells.index("2026-01-01 01:03:35 UTC") + 1 : cells.index("2026-01-01 01:03:35 UTC") + 3] == [
        "+63 min 35 s",
        "Job succeeded",
    ]


def test_without_events_the_jobs_own_times_make_the_timeline() -> None:
    failed = job(
        status="failed", finished_at=CREATED + 40, started_at=None, error={"code": "bad", "message": "no"}
    )
    assert JobReport(failed).timeline() == [
        TimelineEntry(CREATED, "job created"),
        TimelineEntry(CREATED + 40, "job failed", "error"),
    ]
    page = JobReport(failed).to_html()
    assert "no metrics yet" in page and "bad: no" in page and 'class="status failed"' in page


def test_a_long_log_is_cut_in_the_middle_and_says_so() -> None:
    many = [
        JobEvent.model_validate({"id": f"e{i}", "created_at": CREATED + i, "message": f"note {i}"})
        for i in range(100)
    ]
    text = "".join(parse(JobReport(job(), events=many).to_html()).text)
    assert "note 0" in text and "note 99" in text and "note 50" not in text
    assert "… 43 more events …" in text  # 100 notes + created, finished = 102 entries, 60 shown


def test_every_text_is_escaped_and_the_page_fetches_nothing() -> None:
    hostile = '<img src="http://127.0.0.1:9/x.png"><script>alert(1)</script>'
    page = JobReport(
        job(suffix=hostile, hyperparameters={"note": hostile}),
        [{"step": 1, "train_loss": 1.0}],
        events=[JobEvent.model_validate({"id": "e", "created_at": CREATED, "message": hostile})],
        title=hostile,
        note=hostile,
        emulated=True,
    ).to_html()
    doc = parse(page)
    assert not {t for t, _ in doc.tags} & {"img", "script", "a", "link", "iframe"}
    assert "".join(doc.text).count(hostile) >= 5
    assert "default-src 'none'" in page and "Noto Sans CJK SC" in page and "emulated:" in page


def test_save_is_atomic_and_never_over_an_input(tmp_path: Path) -> None:
    path = JobReport(job(), run()).save(tmp_path / "job.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.html"]
    with pytest.raises(FileNotFoundError):
        JobReport(job()).save(tmp_path / "missing" / "job.html")


def test_data_figures() -> None:
    assert DataFigures(billed_tokens=1_000_000, price_per_million=2).cost == 2.0
    assert DataFigures(billed_tokens=10).cost is None and DataFigures(billed_tokens=10).cost_line() is None
    assert DataFigures(tokens=5).facts() == [("tokens", "5")]
    with pytest.raises(ValueError, match="price_per_million"):
        DataFigures(price_per_million=-1)


@pytest.fixture(scope="module")
def emulated_job() -> Iterator[tuple[FineTuneJob, list[JobEvent]]]:
    with Emulator(time_scale=200) as emu, Client(api_key=emu.api_key, base_url=emu.base_url) as client:
        done = client.jobs.wait(
            client.jobs.create(model="Qwen/Qwen2.5-7B-Instruct", training_file=DATA / "critic.jsonl"),
            poll_interval=0.02,
        )
        yield done, list(client.jobs.events(done))


def test_a_job_of_the_emulator(emulated_job: tuple[FineTuneJob, list[JobEvent]], tmp_path: Path) -> None:
    done, log = emulated_job
    rows = [event.data for event in log if event.data is not None and event.data.step is not None]
    report = JobReport(done, rows, events=log, emulated=True)
    whats = [entry.what for entry in report.timeline()]
    assert whats[0] == "job created" and whats[-1] == "Job succeeded" and "Job started" in whats
    assert not any(what.startswith("Step ") for what in whats)
    assert report.curves.train_loss and len(report.curves.train_loss) == done.total_steps
    page = report.save(tmp_path / "job.html").read_text(encoding="utf-8")
    assert done.id in page and 'class="train-loss"' in page


@needs_chromium
@pytest.mark.timeout(120)
def test_chromium_draws_the_job_report(tmp_path: Path) -> None:
    data = DataFigures(
        examples=36, tokens=82_022, billed_tokens=246_066, price_per_million=25, currency="CNY"
    )
    page = JobReport(job(), run(), events=events(), data=data, note="评论家风格：一针见血。").save(
        tmp_path / "job.html"
    )
    width, _, rows = png_pixels(screenshot(page, tmp_path, height=1600, keep="FINETUNE_JOB_SCREENSHOT"))
    assert width == 1200
    assert colour_pixels(rows, TRAIN_COLOUR) > 300 and colour_pixels(rows, VALID_COLOUR) > 150
    # the Chinese note is drawn (glyphs, not nothing) in the note's box near the top
    assert dark_pixels(rows, (60, 60, 600, 140)) > 200
    assert os.path.getsize(page) < 60_000
