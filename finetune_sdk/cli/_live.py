"""The live view of a training job on a terminal: the progress bar, and under it the loss chart.

One ``rich.live.Live`` draws both on stderr. The chart takes each step's losses as the wait reads them
from the job's events (every step reaches ``update``); when the wait ends, the job's whole metrics
history (``client.jobs.metrics``) is drawn once more, so the last picture is exact. ``finetune jobs
watch``, ``jobs create --wait`` and ``finetune tune`` all wait through this one class.
"""

from __future__ import annotations

import contextlib
from types import TracebackType

from rich.console import Group
from rich.live import Live

from .._client import Client
from ..errors import FineTuneError, JobError
from ..evaluate._terminal_chart import TerminalLossChart
from ..types import FineTuneJob, JobMetrics
from ._display import JobDisplay
from ._output import note, safe, stderr

__all__ = ["CHART_HEIGHT", "LiveJobDisplay"]

CHART_HEIGHT = 10
"""Lines of the plot (the legend and the step axis take two more)."""


class LiveJobDisplay(JobDisplay):
    """:class:`JobDisplay`'s bar with the live loss chart under it (on a terminal only)."""

    def __init__(self, client: Client, job_id: str) -> None:
        super().__init__(job_id)
        self._client = client
        self.chart = TerminalLossChart(title=safe(f"loss of {job_id}"), height=CHART_HEIGHT)
        self._rows: dict[int, JobMetrics] = {}
        parts = [self.chart] if self._progress is None else [self._progress, self.chart]
        self._live = Live(Group(*parts), console=stderr(), refresh_per_second=4, transient=False)

    def __enter__(self) -> LiveJobDisplay:
        note(f"waiting for {self.job_id}")
        self._live.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc is None or isinstance(exc, JobError):  # the run is over: draw all of it
                with contextlib.suppress(FineTuneError):
                    self.chart.update(self._client.jobs.metrics(self.job_id))
                self._live.refresh()
        finally:
            self._live.stop()

    def update(self, job: FineTuneJob) -> None:
        super().update(job)
        metrics = job.metrics
        if metrics is not None and metrics.step is not None and metrics.step not in self._rows:
            # the first report of a step is its event's; a later poll's may carry older values
            self._rows[metrics.step] = metrics
            self.chart.update(self._rows.values())
