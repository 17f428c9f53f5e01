"""List answers: OpenAI's cursor pages (``after``, ``limit``; ``first_id``/``last_id``), and the filters
of the jobs list (the platform's additions: ``status``, ``model``, ``suffix``, ``created_after``,
``created_before``; OpenAI's ``metadata[key]=value``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.datastructures import QueryParams

from .responses import ApiError

JOB_STATUSES = ("validating_files", "queued", "running", "succeeded", "failed", "cancelled")


def _limit(query: QueryParams, default: int, most: int) -> int:
    raw = query.get("limit")
    if raw is None:
        return default
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= most:
        raise ApiError(400, f"limit: must be an integer from 1 to {most}", "invalid_value", param="limit")
    return limit


def page(
    query: QueryParams, items: Sequence[dict[str, Any]], *, default: int = 20, most: int = 100
) -> dict[str, Any]:
    """One page of ``items`` after the ``after`` cursor, ``limit`` long (``default``; 1 to ``most``), as
    OpenAI's list object. ``first_id`` / ``last_id`` name the page's ends (null for an empty page)."""
    limit = _limit(query, default, most)
    start = 0
    after = query.get("after")
    if after:
        ids = [item["id"] for item in items]
        if after not in ids:
            raise ApiError(
                400, f"after: no item with id '{after}' in this list", "invalid_value", param="after"
            )
        start = ids.index(after) + 1
    data = list(items[start : start + limit])
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": start + limit < len(items),
    }


def _timestamp(query: QueryParams, name: str) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApiError(
            400, f"{name}: must be a Unix time in whole seconds", "invalid_value", param=name
        ) from None


def job_filter(query: QueryParams) -> dict[str, Any]:
    """The jobs list's filters, checked: a bad value is a 400 naming the parameter."""
    status = query.get("status")
    if status is not None and status not in JOB_STATUSES:
        raise ApiError(
            400, f"status: must be one of {', '.join(JOB_STATUSES)}", "invalid_value", param="status"
        )
    metadata: dict[str, str] | None = {}
    for key, value in query.multi_items():
        if key == "metadata" and value == "null":
            metadata = None  # OpenAI's "metadata=null": jobs without metadata
        elif key.startswith("metadata[") and key.endswith("]") and metadata is not None:
            metadata[key[len("metadata[") : -1]] = value
    return {
        "status": status,
        "model": query.get("model"),
        "suffix": query.get("suffix"),
        "metadata": metadata,
        "created_after": _timestamp(query, "created_after"),
        "created_before": _timestamp(query, "created_before"),
    }


def job_matches(job: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Whether a rendered job passes the filters: every one given must hold (created_after <= created_at
    < created_before)."""
    for name in ("status", "model", "suffix"):
        if wanted[name] is not None and job.get(name) != wanted[name]:
            return False
    metadata: dict[str, str] | None = wanted["metadata"]
    own: dict[str, Any] = job.get("metadata") or {}
    if metadata is None:
        if own:
            return False
    elif any(own.get(key) != value for key, value in metadata.items()):
        return False
    after, before = wanted["created_after"], wanted["created_before"]
    return (after is None or job["created_at"] >= after) and (before is None or job["created_at"] < before)
