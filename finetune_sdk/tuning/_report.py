"""The page a tuning ends with: the comparison with the base model and the job's loss curves when prompts
were given, else the job's own report (curves, hyperparameters, data figures, timeline)."""

from __future__ import annotations

from pathlib import Path

from .._client import Client
from .._text import plural
from ..data import CostEstimate
from ..evaluate import Comparison
from ..evaluate._job_report import DataFigures, JobReport
from ..evaluate._rows import EMULATOR_HEADER
from ..types import FineTuneJob, MetricsHistory
from ._prepare import Prepared, cost_line

__all__ = ["data_figures", "is_emulated", "write_report"]


def data_figures(cost: CostEstimate, validation_examples: int | None = None) -> DataFigures:
    """A job report's data figures: the examples on each side, the tokens and the price given."""
    return DataFigures(
        examples=cost.examples,
        validation_examples=validation_examples,
        tokens=cost.tokens,
        billed_tokens=cost.billed_tokens,
        tokens_exact=cost.method == "exact",
        price_per_million=cost.price_per_mtokens,
        currency=cost.currency or "",
    )


def _note(prepared: Prepared) -> str:
    """How the data was made ready: what was changed, what was left out and where it is kept."""
    changes, kept = sum(prepared.changes.values()), prepared.kept_files
    parts = [
        f"trained on {prepared.training_file.name}",
        f"{plural(changes, 'change')} made by the conversion (listed in {kept['changes'].name})",
        f"{plural(prepared.dropped, 'record')} left out, each kept with its reason "
        f"({kept['rejected'].name}, {kept['duplicates'].name})",
        cost_line(prepared.cost),
    ]
    return "; ".join(parts)


def is_emulated(client: Client, job: FineTuneJob) -> bool:
    """Whether the job's server is the SDK's emulator (it marks every answer)."""
    answer = client.jobs.with_raw_response.retrieve(job.id)
    marked: str | None = answer.headers.get(EMULATOR_HEADER)
    return marked == "1"


def write_report(
    path: Path,
    client: Client,
    job: FineTuneJob,
    history: MetricsHistory,
    prepared: Prepared,
    *,
    comparison: Comparison | None,
) -> Path:
    """Write the page (atomically) and return its path."""
    note = _note(prepared)
    if comparison is not None:
        title = f"{job.fine_tuned_model or job.id} against {job.model}"
        comparison.to_html(path, title=title, note=note, metrics=history, job=job)
        return path
    events = list(client.jobs.events(job.id))
    report = JobReport(
        job,
        history,
        events=events,
        data=data_figures(prepared.cost, prepared.split.validation if prepared.split else None),
        note=note,
        emulated=is_emulated(client, job),
    )
    return report.save(path)
