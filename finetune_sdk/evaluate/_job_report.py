"""One fine-tuning job on one page: its loss curves, hyperparameters, data figures and timeline.

``JobReport(job, metrics, events=..., data=DataFigures(...)).save("job.html")`` writes a self-contained
HTML page (inline CSS and SVG, no script, nothing fetched, every text escaped), the loss chart being the
same SVG as :func:`~finetune_sdk.evaluate.loss_chart_svg`. Times are shown in UTC, so the page reads
the same wherever it was made.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import NamedTuple

from .._atomic import atomic_write_text
from ..types import FineTuneJob, JobEvent
from ._curves import Curves, MetricsRowLike, MetricsRows, curves
from ._html import e, facts_table, page
from ._loss_chart import svg_from_curves

__all__ = ["DataFigures", "JobReport", "TimelineEntry"]

MAX_TIMELINE = 60
"""Timeline entries shown; a longer log shows its first and last ones and says how many are left out."""

_CSS = """
.status { display: inline-block; padding: 1px 8px; border-radius: 9px; background: #edf2f7;
  font-size: 13px; font-weight: 600; }
.status.succeeded { background: #c6f6d5; color: #22543d; }
.status.failed { background: #fed7d7; color: #9b2c2c; }
.status.cancelled { background: #feebc8; color: #7b341e; }
table.timeline td:first-child { white-space: nowrap; font-variant-numeric: tabular-nums; }
table.timeline td.after { white-space: nowrap; color: #4a5568; text-align: right; }
tr.warning td { background: #fffbea; }
tr.error td { background: #fff5f5; }
.cost { font-weight: 600; }
"""


def _utc(timestamp: int | None) -> str:
    if timestamp is None:
        return "-"
    moment = datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 120:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


@dataclasses.dataclass(frozen=True)
class DataFigures:
    """The training data's figures for a job report; every one is optional.

    ``billed_tokens`` are the tokens the platform bills (the training tokens times the epochs);
    ``tokens_exact`` says whether the counts come from Qwen2.5's tokenizer (True) or the SDK's
    estimate (False). With ``price_per_million`` (in ``currency``) the report adds a cost line: the
    SDK ships no price, the caller gives the one it pays.
    """

    examples: int | None = None
    validation_examples: int | None = None
    tokens: int | None = None
    billed_tokens: int | None = None
    tokens_exact: bool | None = None
    price_per_million: float | None = None
    currency: str = ""

    def __post_init__(self) -> None:
        price = self.price_per_million
        if price is not None and not price >= 0:
            raise ValueError(f"price_per_million must be a number of at least 0, got {price!r}")

    @property
    def cost(self) -> float | None:
        """``billed_tokens`` times the price per million tokens (None without either)."""
        if self.billed_tokens is None or self.price_per_million is None:
            return None
        return self.billed_tokens * self.price_per_million / 1_000_000

    def cost_line(self) -> str | None:
        """``246,066 billed tokens x 2.00 per million tokens = 0.49 CNY`` (None without a cost)."""
        cost = self.cost
        if cost is None or self.billed_tokens is None or self.price_per_million is None:
            return None
        unit = f" {self.currency}" if self.currency else ""
        return (
            f"{self.billed_tokens:,} billed tokens x {self.price_per_million:,.2f}{unit} per million tokens"
            f" = {cost:,.2f}{unit}"
        )

    def facts(self) -> list[tuple[str, str]]:
        exact = {True: " (exact count)", False: " (SDK's estimate)", None: ""}[self.tokens_exact]
        facts = [
            ("training examples", _count(self.examples)),
            ("validation examples", _count(self.validation_examples)),
            (f"tokens{exact}", _count(self.tokens)),
            (f"billed tokens{exact}", _count(self.billed_tokens)),
        ]
        return [(name, value) for name, value in facts if value != "-"]


class TimelineEntry(NamedTuple):
    """One moment of a job: when, what, and how much it matters (``info``, ``warning``, ``error``)."""

    at: int
    what: str
    level: str = "info"


MetricsRowInput = MetricsRowLike | Mapping[str, object]


class JobReport:
    """A job's page: ``to_html()`` or ``save(path)``.

    ``job`` is the :class:`~finetune_sdk.types.FineTuneJob`; ``metrics`` its metrics rows (objects or
    mappings with ``step`` and, where measured, ``train_loss``, ``valid_loss``, ``learning_rate``,
    ``epoch``, such as ``client.jobs.metrics(job)``); ``events`` its events (the status changes and
    warnings go into the timeline, the step events are left to the chart); ``data`` the figures of its
    training data. ``emulated`` adds the warning that the job ran on the SDK's emulator.
    """

    def __init__(
        self,
        job: FineTuneJob,
        metrics: MetricsRows = (),
        *,
        events: Iterable[JobEvent] = (),
        data: DataFigures | None = None,
        title: str | None = None,
        note: str | None = None,
        emulated: bool = False,
    ) -> None:
        self.job = job
        self.metrics: tuple[MetricsRowInput, ...] = tuple(metrics)
        self.events: tuple[JobEvent, ...] = tuple(events)
        self.data = data
        self.title = title
        self.note = note
        self.emulated = emulated
        self.curves: Curves = curves(self.metrics)

    def timeline(self) -> list[TimelineEntry]:
        """The job's moments in time order: created, started, finished, and every event that is not a
        training step (status changes, warnings, errors)."""
        job = self.job
        logged = [
            TimelineEntry(event.created_at, event.message, str(event.level))
            for event in self.events
            if event.data is None or event.data.step is None
        ]
        said = " ".join(entry.what.casefold() for entry in logged)
        entries = [TimelineEntry(job.created_at, "job created")]
        # The job's own times stand in for the events that would say the same (a log may be cut short).
        if job.started_at is not None and "started" not in said:
            entries.append(TimelineEntry(job.started_at, "training started"))
        entries += logged
        if job.finished_at is not None and str(job.status) not in said:
            level = "error" if str(job.status) == "failed" else "info"
            entries.append(TimelineEntry(job.finished_at, f"job {job.status}", level))
        return sorted(entries, key=lambda entry: entry.at)  # stable: a tie keeps the order above

    def _job_facts(self) -> list[tuple[str, str]]:
        job = self.job
        facts = [
            ("base model", job.model),
            ("tuned model", job.fine_tuned_model or "-"),
            ("suffix", job.suffix or "-"),
            ("training file", job.training_file or "-"),
            ("validation file", job.validation_file or "-"),
            ("created", _utc(job.created_at)),
        ]
        if job.started_at is not None:
            facts.append(("waited before training", _duration(job.started_at - job.created_at)))
            if job.finished_at is not None:
                facts.append(("trained for", _duration(job.finished_at - job.started_at)))
        if job.error is not None and (job.error.message or job.error.code):
            facts.append(("error", f"{job.error.code or ''}: {job.error.message or ''}".strip(": ")))
        return [(name, value) for name, value in facts if value != "-"]

    def _training_facts(self) -> list[tuple[str, str]]:
        job, data = self.job, self.curves
        steps = f"{job.step if job.step is not None else '-'} of {job.total_steps or '-'}"
        facts = [("steps", steps), ("trained tokens (the server's count)", _count(job.trained_tokens))]
        if data.train_loss:
            step, value = data.train_loss[-1]
            facts.append(("last train loss", f"{value:.4f} (step {step:g})"))
        if data.valid_loss:
            step, value = data.valid_loss[-1]
            facts.append(("last validation loss", f"{value:.4f} (step {step:g})"))
        best = data.best_valid()
        if best is not None:
            facts.append(("lowest validation loss", f"{best[1]:.4f} (step {best[0]:g})"))
        if data.not_finite:
            facts.append(("values not finite", f"{data.not_finite} (left out of the chart)"))
        return facts

    def _timeline_html(self) -> str:
        entries = self.timeline()
        start = self.job.created_at
        shown: list[TimelineEntry | None] = list(entries)
        if len(entries) > MAX_TIMELINE:
            half = MAX_TIMELINE // 2
            shown = [*entries[:half], None, *entries[-half:]]
        rows: list[str] = []
        for entry in shown:
            if entry is None:
                left_out = len(entries) - 2 * (MAX_TIMELINE // 2)
                rows.append(f'<tr><td colspan="3">… {left_out} more events …</td></tr>')
                continue
            after = f"+{_duration(entry.at - start)}"
            rows.append(
                f'<tr class="{e(entry.level)}"><td>{e(_utc(entry.at))}</td><td class="after">{e(after)}</td>'
                f"<td>{e(entry.what)}</td></tr>"
            )
        head = "<tr><th>time</th><th>after</th><th>what</th></tr>"
        return f'<table class="timeline">{head}{"".join(rows)}</table>'

    def to_html(self) -> str:
        """The page, as a string."""
        job = self.job
        title = self.title or f"Fine-tuning job {job.id}"
        status = str(job.status)
        body = [f'<h1>{e(title)} <span class="status {e(status)}">{e(status)}</span></h1>']
        if self.emulated:
            body.append(
                '<p class="emulated">emulated: this job ran on the finetune-sdk emulator, not the platform;'
                " its losses and times are an emulation's</p>"
            )
        if self.note:
            body.append(f'<p class="note">{e(self.note)}</p>')
        body.append(facts_table(self._job_facts()))
        body.append('<h2 id="loss">Loss</h2>')
        chart = svg_from_curves(self.curves, title=f"Loss of {job.id}", width=960, height=400)
        body.append(f'<div class="chart">{chart}</div>')
        body.append(facts_table(self._training_facts()))
        hyper = job.hyperparameters
        body.append('<h2 id="hyperparameters">Hyperparameters</h2>')
        if not hyper:
            body.append("<p>Not reported by the server: these are the defaults.</p>")
        body.append(facts_table(list(hyper.model_dump().items())))
        if self.data is not None:
            body.append('<h2 id="data">Data</h2>')
            body.append(facts_table(self.data.facts()))
            line = self.data.cost_line()
            if line:
                body.append(f'<p class="cost">{e(line)}</p>')
        body += ['<h2 id="timeline">Timeline</h2>', self._timeline_html()]
        return page(title, body, css=_CSS)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_html` to ``path`` (UTF-8, atomically) and return the path."""
        atomic_write_text(path, self.to_html())
        return Path(path)
