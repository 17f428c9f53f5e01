"""In-memory conversion behind ``Dataset.from_sharegpt``, ``from_alpaca`` and ``from_csv``."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from .._schema import StrPath, ValidationIssue, ValidationReport
from ._convert import convert_file, convert_records
from ._fields import FieldMap
from ._repairs import Repairs

__all__ = ["examples_from"]


def examples_from(
    source: Literal["sharegpt", "alpaca", "csv"],
    data: StrPath | Iterable[Mapping[str, Any]],
    *,
    repairs: Repairs | None,
    fields: FieldMap | None,
) -> list[dict[str, Any]]:
    """The converted examples of ``data`` (a file, or records in memory); raise
    :class:`~finetune_sdk.DatasetValidationError` listing the records that could not be converted."""
    if isinstance(data, str | os.PathLike):
        examples: list[dict[str, Any]] = []
        report = convert_file(data, None, source=source, repairs=repairs, fields=fields, examples=examples)
    else:
        if source == "csv":
            raise TypeError("Dataset.from_csv reads a file: pass its path")
        examples, report = convert_records(data, source=source, repairs=repairs, fields=fields)
    if report.rejections or report.problems:
        errors = [ValidationIssue(line=r.record, code=r.code, message=r.reason) for r in report.rejections]
        errors += [ValidationIssue(line=None, code="invalid_file", message=p) for p in report.problems]
        validation = ValidationReport(path=report.path, errors=errors, lines=report.read)
        validation.raise_for_errors()
    return examples
