"""More about a file than its first broken rule per line: what format it really is, every broken rule of a
line (``all_issues``), and what the keys the platform ignores would lose. :meth:`Dataset.validate_file`
calls :func:`describe` on its report; each part costs a read of the file only when it has something to
say (a report with errors, or an ``unknown_keys`` warning)."""

from __future__ import annotations

import os
import re
from typing import Any

import orjson
from pydantic import ValidationError

from ..._text import plural
from .._json import as_array, as_object
from .._lines import MAX_LINE_BYTES, iter_lines
from .._schema import (
    Conversation,
    ValidationIssue,
    ValidationReport,
    classify_error,
    explain_order,
    role_order_issue,
)
from ._detect import foreign_format

__all__ = ["all_line_issues", "describe"]


def describe(
    report: ValidationReport,
    path: str | os.PathLike[str],
    *,
    all_issues: bool = False,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> ValidationReport:
    """``report`` with the file-level format codes, every issue of each bad line (``all_issues``) and the
    warnings about ignored ``weight`` and top-level ``system`` keys added. The format code comes on top of
    ``max_errors`` (which counts what the rules found), so the line issues stay what they were. Lines
    longer than ``max_line_bytes`` are skipped, never held whole (they are ``line_too_long`` already)."""
    errors, warnings = list(report.errors), list(report.warnings)
    if errors:
        found = foreign_format(path, report.path)
        if found is not None:  # first: what the file is says what to do, before its name or its lines
            errors.insert(0, ValidationIssue(line=None, code=found[0], message=found[1]))
    if all_issues:
        errors = _every_issue(errors, path, max_line_bytes)
    if any(w.code == "unknown_keys" for w in warnings):
        warnings += _ignored_key_warnings(path, max_line_bytes)
    if errors == report.errors and warnings == report.warnings:
        return report
    return report.model_copy(update={"errors": errors, "warnings": warnings})


def all_line_issues(line: bytes) -> list[tuple[str, int | None, str]]:
    """Every rule a line breaks, as ``(code, index, message)``: each bad message's problems, then the role
    order of the messages whose role is readable; ``[]`` for a valid line."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return []  # one problem only (encoding, blank, JSON): the validator's own issue says it
    try:
        Conversation.model_validate(obj)
    except ValidationError as exc:
        found = [classify_error(err) for err in exc.errors()]
    else:
        return []
    issues = list(
        dict.fromkeys(
            (code, index, message) for _, _, code, index, message in sorted(found, key=lambda f: (f[0], f[1]))
        )
    )
    messages = as_array((as_object(obj) or {}).get("messages"))
    if messages is not None and not any(code in _ORDER for code, _, _ in issues):
        roles = [
            str(m["role"]) for m in map(as_object, messages) if m is not None and _is_role(m.get("role"))
        ]
        if len(roles) == len(messages):
            order = role_order_issue(roles)
            if order is not None:
                code, index = order
                shown = [_Role(r) for r in roles]
                issues.append((code, index, explain_order(code, index, shown)))
    return issues


_KEYS = re.compile(rb'"(?:weight|system)"\s*:')
_ROLES = frozenset({"system", "user", "assistant"})
_ORDER = frozenset({"system_not_first", "first_not_user", "not_alternating", "unpaired"})


def _is_role(role: Any) -> bool:
    return isinstance(role, str) and role in _ROLES


class _Role:
    """What the order explanation reads of a message: its role."""

    def __init__(self, role: str) -> None:
        self.role = role


def _every_issue(
    errors: list[ValidationIssue], path: str | os.PathLike[str], max_line: int
) -> list[ValidationIssue]:
    wanted = {e.line for e in errors if e.line is not None}
    more: dict[int, list[ValidationIssue]] = {}
    with open(path, "rb") as file:
        for number, line in iter_lines(file, max_line=max_line):  # a long line comes as an empty marker
            if number in wanted:
                more[number] = [
                    ValidationIssue(line=number, code=c, index=i, message=m)
                    for c, i, m in all_line_issues(line)
                ]
                if len(more) == len(wanted):
                    break
    out: list[ValidationIssue] = []
    for error in errors:
        found = more.get(error.line) if error.line is not None else None
        out.append(error)
        out += [f for f in found or () if (f.code, f.index) != (error.code, error.index)]
    return out


def _ignored_key_warnings(path: str | os.PathLike[str], max_line: int) -> list[ValidationIssue]:
    weights = masked = systems = 0
    first_masked: int | None = None
    first_weight: int | None = None
    first_system: int | None = None
    with open(path, "rb") as file:
        for number, line in iter_lines(file, max_line=max_line):  # a long line comes as an empty marker
            if _KEYS.search(line) is None:  # most lines: one C-level search, no parse
                continue
            try:
                obj = as_object(orjson.loads(line))
            except orjson.JSONDecodeError:
                continue
            if obj is None:
                continue
            if "system" in obj:
                systems += 1
                first_system = first_system or number
            for message in map(as_object, as_array(obj.get("messages")) or []):
                if message is not None and "weight" in message:
                    weights += 1
                    first_weight = first_weight or number
                    if message["weight"] == 0:
                        masked += 1
                        first_masked = first_masked or number
    warnings: list[ValidationIssue] = []
    if weights:
        lost = (
            f"; {plural(masked, 'turn')} marked weight 0 (first at line {first_masked}) would be trained on"
            if masked
            else ""
        )
        warnings.append(
            ValidationIssue(
                line=first_masked or first_weight,
                code="ignored_weight",
                message=(
                    f'{plural(weights, "message")} {"has" if weights == 1 else "have"} a "weight" '
                    f"(first at line {first_weight}): the platform ignores it and trains on every "
                    f"assistant turn{lost}; `finetune convert FILE -o OUT.jsonl` cuts those examples "
                    "before such a turn"
                ),
            )
        )
    if systems:
        warnings.append(
            ValidationIssue(
                line=first_system,
                code="ignored_system",
                message=(
                    f'{_examples(systems)} a top-level "system" key (first at line {first_system}): '
                    "the platform ignores it, so that system prompt is lost; put it first in messages as a "
                    "system message (`finetune convert FILE -o OUT.jsonl` does)"
                ),
            )
        )
    return warnings


def _examples(count: int) -> str:
    return f"{plural(count, 'example')} {'has' if count == 1 else 'have'}"
