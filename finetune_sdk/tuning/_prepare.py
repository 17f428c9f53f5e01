"""The local half of a tuning: any input format to a training and a validation file, each stage's outputs
in the output folder, nothing sent anywhere.

Convert (every change listed, every rejected record kept with its reason), validate, drop duplicates
(each kept with the line of its copy), split without leakage (examples sharing a first prompt stay on
one side), and count what training costs. Every file is written atomically and none over the input; the
same input gives the same files, byte for byte, so a rerun after a crash finds what it made before.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

from .._atomic import StrPath, check_outputs
from .._text import plural
from ..data import (
    ConversionReport,
    CostEstimate,
    Dataset,
    Deduplication,
    FieldMap,
    SourceName,
    SplitReport,
    convert_file,
    dedupe_file,
    estimate_cost,
    split_file,
)

__all__ = [
    "DEFAULT_VALIDATION_RATIO",
    "Prepared",
    "Say",
    "cost_line",
    "log_line",
    "output_folder",
    "prepare",
    "stem_of",
]

logger: Final = logging.getLogger("finetune_sdk")

#: The share of the examples held out for validation.
DEFAULT_VALIDATION_RATIO: Final = 0.1

#: Warnings of the validation that the next stages settle (dedupe drops the copies, the split keeps a
#: prompt on one side): not repeated.
_HANDLED: Final = frozenset({"duplicate_examples", "duplicate_prompts"})

Say = Callable[[str], None]
"""Called with one line per stage: what it did and where its files are."""


def log_line(line: str) -> None:
    """The default of ``say``: the line as an info record of the ``finetune_sdk`` logger."""
    logger.info("%s", line)


def stem_of(path: StrPath) -> str:
    """The name of ``path`` before its first dot (``chats`` for ``chats.json.gz``), ``data`` if none."""
    return Path(path).name.split(".", 1)[0] or "data"


def output_folder(data: StrPath, out: StrPath | None) -> Path:
    """``out``, or ``<stem>.tune`` next to ``data``."""
    return Path(out) if out is not None else Path(data).parent / f"{stem_of(data)}.tune"


@dataclasses.dataclass(frozen=True)
class Prepared:
    """The files a tuning trains on, and how they were made from the input."""

    source: Path
    folder: Path
    conversion: ConversionReport
    deduplication: Deduplication
    split: SplitReport | None
    """None when the examples could not be split without leaking (fewer than two groups): the
    platform then holds out its own share."""
    cost: CostEstimate
    kept_files: Mapping[str, Path]
    """Where the records left out are kept with their reason (``rejected``, ``duplicates``), and the
    list of changes (``changes``)."""

    @property
    def training_file(self) -> Path:
        return Path(self.split.train_path) if self.split else self.folder / _name(self.source, "dedup")

    @property
    def validation_file(self) -> Path | None:
        return Path(self.split.validation_path) if self.split else None

    @property
    def changes(self) -> dict[str, int]:
        """Each kind of change the conversion made, and how many times."""
        return dict(sorted(self.conversion.change_counts.items()))

    @property
    def dropped(self) -> int:
        """Records left out: rejected by the conversion, or duplicates."""
        return self.conversion.rejected + len(self.deduplication.dropped)


def _name(source: Path, part: str) -> str:
    return f"{stem_of(source)}.{part}.jsonl"


def _say_conversion(report: ConversionReport, rejects: Path, say: Say) -> None:
    say(f"convert: {report.headline()}")
    for code, count in sorted(report.change_counts.items()):
        say(f"  changed: {code}: {plural(count, 'change')}")
    for warning in report.warnings:
        say(f"  warning: {warning}")
    if report.rejected:
        say(f"  {plural(report.rejected, 'rejected record')} kept with the reason in {rejects}")


def prepare(
    data: StrPath,
    *,
    folder: Path,
    model: str,
    n_epochs: int,
    validation_ratio: float = DEFAULT_VALIDATION_RATIO,
    source: SourceName = "auto",
    fields: FieldMap | None = None,
    price_per_mtokens: float | None = None,
    price_table: StrPath | None = None,
    inputs: Mapping[str, StrPath] | None = None,
    say: Say | None = None,
) -> Prepared:
    """Convert, validate, dedupe, split and price ``data`` into ``folder`` (made if missing); ``say``
    hears a line per stage. ``inputs`` (what each is) are other files the outputs must not overwrite.

    Raises ``ValueError`` when no record could be converted, :class:`~finetune_sdk.OutputConflictError`
    before anything is written when an output would overwrite an input."""
    tell: Say = say or log_line
    src = Path(data)
    paths = {
        part: folder / _name(src, part)
        for part in ("converted", "rejected", "changes", "dedup", "duplicates", "train", "validation")
    }
    given = [("the data", data), *[(what, path) for what, path in (inputs or {}).items()]]
    check_outputs([(f"the {part} file", path) for part, path in paths.items()], given)
    made = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        conversion = convert_file(
            src,
            paths["converted"],
            source=source,
            rejects=paths["rejected"],
            changes=paths["changes"],
            fields=fields,
        )
    except BaseException:
        if made:  # data that cannot be read (or a missing extra) leaves no empty folder behind
            with contextlib.suppress(OSError):  # not empty after all: keep what is there
                folder.rmdir()
        raise
    _say_conversion(conversion, paths["rejected"], tell)
    if not conversion.written:
        problems = "; ".join([*conversion.problems, *conversion.warnings]) or "every record was rejected"
        raise ValueError(f"no record of {src} could be converted ({problems}); see {paths['rejected']}")
    report = Dataset.validate_file(paths["converted"], n_epochs=n_epochs)
    report.raise_for_errors()
    tell(f"validate: {report.path}: ok, {plural(report.stats.examples, 'example')}")
    for warning in report.warnings:
        if warning.code in _HANDLED:
            continue
        tell(f"  warning: line {warning.line}: {warning.code}: {warning.message}")
    deduplication = dedupe_file(paths["converted"], paths["dedup"], paths["duplicates"])
    tell(f"dedupe: {deduplication.summary().splitlines()[0]}; the duplicates in {paths['duplicates']}")
    split: SplitReport | None
    try:
        split = split_file(
            paths["dedup"], paths["train"], paths["validation"], validation_ratio=validation_ratio
        )
    except ValueError as exc:
        split = None
        tell(f"split: not split ({exc}): the platform holds out its own share")
    else:
        tell(
            f"split: {split.train} training and {split.validation} validation examples, no prompt on both "
            f"sides ({paths['train'].name}, {paths['validation'].name})"
        )
    kept = {"rejected": paths["rejected"], "duplicates": paths["duplicates"], "changes": paths["changes"]}
    train = Path(split.train_path) if split else paths["dedup"]
    cost = estimate_cost(
        train,
        n_epochs=n_epochs,
        model=model,
        price_per_mtokens=price_per_mtokens,
        price_table=price_table,
    )
    tell(f"cost: {cost_line(cost)}")
    return Prepared(src, folder, conversion, deduplication, split, cost, kept)


def cost_line(cost: CostEstimate) -> str:
    """``1,234 examples, 56,789 billed tokens (estimate, 3 epochs) = 0.11 CNY`` (the money when priced)."""
    head = (
        f"{cost.examples:,} training examples, {cost.billed_tokens:,} billed tokens "
        f"({cost.method}, {plural(cost.n_epochs, 'epoch')})"
    )
    if cost.cost is None or cost.price_per_mtokens is None:
        return f"{head}; no price given"
    return f"{head} x {cost.price_per_mtokens:g} per 1M tokens = {cost.money()}"
