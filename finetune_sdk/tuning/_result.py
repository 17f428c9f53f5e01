"""What :func:`~finetune_sdk.tune` returns."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from ..data import CostEstimate
from ..evaluate import Comparison
from ..types import FineTuneJob

__all__ = ["TuneResult"]


@dataclasses.dataclass(frozen=True)
class TuneResult:
    """A tuning from raw data to a tuned model (or, with ``dry_run``, to the cost line).

    ``job`` is the finished job and ``model`` the tuned model's name (both None on a dry run);
    ``training_file`` / ``validation_file`` the ids of the files on the server and ``training_path`` /
    ``validation_path`` the prepared files they hold; ``cost`` the estimate of what training bills;
    ``changes`` each kind of change the conversion made with its count (every change listed in
    ``kept_files["changes"]``); ``dropped`` the records left out (rejected or duplicates), each kept
    with its reason in ``kept_files["rejected"]`` or ``kept_files["duplicates"]``; ``comparison`` the
    comparison with the base model (with prompts to evaluate, else None); ``report`` the page written;
    ``state`` the file that lets a rerun resume; ``resumed`` whether this run found its job there
    instead of creating it.
    """

    model: str | None
    job: FineTuneJob | None
    training_path: Path
    validation_path: Path | None
    cost: CostEstimate
    changes: Mapping[str, int]
    dropped: int
    kept_files: Mapping[str, Path]
    state: Path
    training_file: str | None = None
    validation_file: str | None = None
    comparison: Comparison | None = None
    report: Path | None = None
    resumed: bool = False
    dry_run: bool = False
