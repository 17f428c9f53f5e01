"""A job's per-step metrics: :class:`MetricsRow` and :class:`MetricsHistory` (read from a metrics file or
gathered from events; written as CSV or JSON)."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, overload

import orjson
from pydantic import BaseModel, ConfigDict

from .event import JobEvent

__all__ = ["COLUMNS", "MetricsHistory", "MetricsRow"]

COLUMNS = (
    "step",
    "train_loss",
    "train_accuracy",
    "valid_loss",
    "valid_mean_token_accuracy",
    "epoch",
    "learning_rate",
)
"""The columns :meth:`MetricsHistory.to_csv` writes first: OpenAI's (``step``, ``train_loss``,
``train_accuracy``, ``valid_loss``, ``valid_mean_token_accuracy``) and the platform's ``epoch`` and
``learning_rate``."""

_ALIASES = {"train_mean_token_accuracy": "train_accuracy", "valid_accuracy": "valid_mean_token_accuracy"}
"""Other spellings of a column, read as the column they mean."""


class MetricsRow(BaseModel):
    """The metrics of one training step; every value but ``step`` may be missing (None). Columns a file
    has beyond these are kept, as text, in ``model_extra``."""

    model_config: ClassVar[ConfigDict] = ConfigDict(extra="allow", frozen=True)

    step: int
    epoch: float | None = None
    train_loss: float | None = None
    train_accuracy: float | None = None
    valid_loss: float | None = None
    valid_mean_token_accuracy: float | None = None
    learning_rate: float | None = None


def _number(text: str, line: int, column: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"line {line}: {column} is not a number: {text[:40]!r}") from None
    return value


def _step(text: str, line: int) -> int:
    value = _number(text, line, "step")
    if value is None or not math.isfinite(value) or value != int(value) or value < 0:
        raise ValueError(f"line {line}: step must be a whole number, got {text.strip()[:40]!r}")
    return int(value)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same float
    return str(value)


class MetricsHistory(Sequence[MetricsRow]):
    """Every step's metrics of a job, in step order: a read-only sequence of :class:`MetricsRow`
    (``len(history)``, ``for row in history``, ``history[-1]``); :meth:`column` gives one series for a
    chart.

    Read it from a job's metrics file (:meth:`from_csv`) or gather it from the job's events
    (:meth:`from_events`, for a server that writes no metrics file); write it with :meth:`to_csv` (which
    :meth:`from_csv` reads back to an equal history) or :meth:`to_json`.
    """

    __slots__ = ("rows",)

    def __init__(self, rows: Iterable[MetricsRow] = ()) -> None:
        self.rows: tuple[MetricsRow, ...] = tuple(rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[MetricsRow]:
        return iter(self.rows)

    @overload
    def __getitem__(self, index: int) -> MetricsRow: ...
    @overload
    def __getitem__(self, index: slice) -> MetricsHistory: ...
    def __getitem__(self, index: int | slice) -> MetricsRow | MetricsHistory:
        if isinstance(index, slice):
            return MetricsHistory(self.rows[index])
        return self.rows[index]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MetricsHistory):
            return NotImplemented
        return self.rows == other.rows

    def __hash__(self) -> int:
        return hash(self.rows)

    def __repr__(self) -> str:
        return f"<MetricsHistory {len(self.rows)} steps>"

    def column(self, name: str) -> list[tuple[int, float]]:
        """``(step, value)`` of every row where the column ``name`` (e.g. ``valid_loss``) has a value."""
        if name not in MetricsRow.model_fields:
            raise ValueError(f"unknown column {name!r}: choose one of {', '.join(COLUMNS)}")
        pairs: list[tuple[int, float]] = []
        for row in self.rows:
            value = getattr(row, name)
            if value is not None:
                pairs.append((row.step, float(value)))
        return pairs

    @classmethod
    def from_csv(cls, text: str) -> MetricsHistory:
        """Read a metrics file: a header line, then one row per step.

        OpenAI's columns (``step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy``) and the
        platform's (``epoch``, ``learning_rate``) are read as numbers, in any order; an empty cell is None;
        ``train_mean_token_accuracy`` and ``valid_accuracy`` are read as ``train_accuracy`` and
        ``valid_mean_token_accuracy``. Any other column is kept, as text, in each row's ``model_extra``.
        A file without a ``step`` column, a row whose step is not a whole number, or a known column holding
        something else than a number raises ``ValueError`` naming the line. Rows are sorted by step.
        """
        reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
        header = next(reader, None)
        if header is None:
            return cls()
        names = [_ALIASES.get(name.strip(), name.strip()) for name in header]
        if "step" not in names:
            raise ValueError(f"line 1: a metrics file needs a step column, got {', '.join(names)[:200]}")
        rows: list[MetricsRow] = []
        for line, cells in enumerate(reader, 2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(names):
                raise ValueError(f"line {line}: {len(cells)} cells under {len(names)} columns")
            values: dict[str, Any] = {}
            for name, cell in zip(names, cells, strict=False):  # a short row: the rest is empty
                if name == "step":
                    values[name] = _step(cell, line)
                elif name in MetricsRow.model_fields:
                    values[name] = _number(cell, line, name)
                elif cell.strip():
                    values[name] = cell  # kept as text: its meaning is unknown here
            if "step" not in values:
                raise ValueError(f"line {line}: the row has no step")
            rows.append(MetricsRow(**values))
        return cls(sorted(rows, key=lambda row: row.step))

    @classmethod
    def from_events(cls, events: Iterable[JobEvent]) -> MetricsHistory:
        """Gather the step metrics of a job's events (those whose ``data`` has a ``step``), one row per
        step: events about the same step fill each other's gaps, a later value winning."""
        by_step: dict[int, dict[str, Any]] = {}
        for event in events:
            data = event.data
            if data is None or data.step is None or not math.isfinite(data.step):
                continue
            row = by_step.setdefault(int(data.step), {"step": int(data.step)})
            found = {
                "epoch": data.epoch,
                "train_loss": data.train_loss,
                "train_accuracy": data.train_mean_token_accuracy,
                "valid_loss": data.valid_loss,
                "valid_mean_token_accuracy": data.valid_mean_token_accuracy,
                "learning_rate": data.learning_rate,
            }
            extra = data.model_extra or {}
            if found["train_accuracy"] is None and isinstance(extra.get("train_accuracy"), (int, float)):
                found["train_accuracy"] = extra["train_accuracy"]
            row.update({name: value for name, value in found.items() if value is not None})
        return cls(MetricsRow(**by_step[step]) for step in sorted(by_step))

    def _extra_columns(self) -> list[str]:
        seen: dict[str, None] = {}
        for row in self.rows:
            seen.update(dict.fromkeys(row.model_extra or {}))
        return list(seen)

    def to_csv(self) -> str:
        """The history as a metrics file: :data:`COLUMNS`, then any extra columns the rows carry."""
        extra = self._extra_columns()
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([*COLUMNS, *extra])
        for row in self.rows:
            kept: Mapping[str, Any] = row.model_extra or {}
            writer.writerow(
                [_cell(getattr(row, name)) for name in COLUMNS] + [_cell(kept.get(name)) for name in extra]
            )
        return out.getvalue()

    def to_json(self, *, indent: bool = False) -> str:
        """The history as a JSON array of rows (missing values are ``null``)."""
        option = orjson.OPT_INDENT_2 if indent else 0
        return orjson.dumps([row.model_dump() for row in self.rows], option=option).decode()
