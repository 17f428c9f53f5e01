"""What :meth:`Dataset.validate_file` runs: the streaming validator, then, for a file on disk, what the
converter's detection adds. It sits above both, since the converter checks its output with the validator.
"""

from __future__ import annotations

import os
from typing import Any

from ._lines import MAX_LINE_BYTES
from ._schema import ValidationReport
from ._validate import Source, validate_source
from .convert._describe import describe

__all__ = ["validate_path"]


def validate_path(source: Source, *, all_issues: bool = False, **options: Any) -> ValidationReport:
    """The implementation of :meth:`Dataset.validate_file` (see there): :func:`validate_source`, then for a
    path what :func:`~finetune_sdk.data.convert._describe.describe` adds (the file's real format, every
    issue of a line with ``all_issues``, the keys the platform ignores)."""
    report = validate_source(source, **options)
    if isinstance(source, str | os.PathLike):
        limit = options.get("max_line_bytes", MAX_LINE_BYTES)
        report = describe(report, source, all_issues=all_issues, max_line_bytes=limit)
    return report
