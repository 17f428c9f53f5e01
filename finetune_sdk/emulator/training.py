"""What a job learns from its files: checked with the SDK's own validator, then read for replies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..data import Dataset


@dataclass(frozen=True)
class FileCheck:
    """The outcome of checking one uploaded file for a job."""

    error: dict[str, str] | None
    """``{code, message}`` when the file breaks a rule (message names the first bad line)."""
    examples: int = 0
    tokens: int = 0
    warnings: tuple[str, ...] = ()
    """The validator's warnings (e.g. examples longer than ``max_tokens``), as ``LINE: code: message``."""


def check_file(path: Path, *, role: str, max_tokens: int) -> FileCheck:
    """Validate ``path`` by the rules of :meth:`Dataset.validate_file` (role: training/validation)."""
    report = Dataset.validate_file(path, max_errors=1, max_tokens=max_tokens)
    if not report.ok:
        issue = report.errors[0]
        where = f"line {issue.line}" if issue.line is not None else "file"
        message = f"The {role} file is not valid: {where}: {issue.message} ({issue.code})"
        return FileCheck({"code": f"invalid_{role}_file", "message": message})
    warnings = tuple(str(warning) for warning in report.warnings)
    return FileCheck(None, report.stats.examples, report.stats.estimated_tokens, warnings)


def read_pairs(path: Path) -> list[tuple[str, str]]:
    """Every (user message, assistant reply) pair of a valid ``.jsonl`` file, in file order."""
    pairs: list[tuple[str, str]] = []
    with path.open("rb") as lines:
        for line in lines:
            if not line.strip():
                continue
            messages: list[dict[str, Any]] = orjson.loads(line)["messages"]
            user = ""
            for message in messages:
                if message["role"] == "user":
                    user = str(message["content"])
                elif message["role"] == "assistant":
                    pairs.append((user, str(message["content"])))
    return pairs
