"""Per-call options: what every resource method takes besides its own arguments, sans I/O.

Resource methods accept them as keyword arguments typed by :class:`RequestOptions` (``**options:
Unpack[RequestOptions]``), so a misspelt option is an error for type checkers and, through
:func:`apply_options`, a ``TypeError`` at run time::

    client.jobs.retrieve(job_id, timeout=2, extra_headers={"X-Trace": "abc"})
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Final, cast

import httpx
from typing_extensions import TypedDict

from .config import TimeoutTypes, as_timeout
from .ids import check_idempotency_key
from .wire import RequestSpec

__all__ = ["PostOptions", "RequestOptions", "apply_options", "check_options"]


class RequestOptions(TypedDict, total=False):
    """Options of one call, taken by every resource method as keyword arguments."""

    timeout: TimeoutTypes
    """Seconds (or an ``httpx.Timeout``, or None for no limit) for this call instead of the client's."""
    extra_headers: Mapping[str, str] | None
    """Headers to send with this call; they win over the client's (``User-Agent`` is appended to the
    SDK's, ``Authorization`` always comes from the client's key)."""
    extra_query: Mapping[str, object] | None
    """Query parameters to add to (or replace in) the URL."""
    extra_body: Mapping[str, object] | None
    """Fields to add to (or replace in) a JSON body; form fields of an upload."""


class PostOptions(RequestOptions, total=False):
    """:class:`RequestOptions` of a call that creates something, with its idempotency key."""

    idempotency_key: str | None
    """Sent as ``Idempotency-Key``: repeating the call with the same key makes nothing new. One is made
    for every call that has none, and kept across its retries."""


_KNOWN: Final = frozenset(PostOptions.__annotations__)


def check_options(options: Mapping[str, Any], *, post: bool = False) -> None:
    """A misspelt or misplaced option is a ``TypeError`` before anything is sent."""
    unknown = set(options) - _KNOWN
    if not post:
        unknown |= set(options) & {"idempotency_key"}
    if unknown:
        allowed = ", ".join(sorted(_KNOWN if post else _KNOWN - {"idempotency_key"}))
        raise TypeError(f"unexpected keyword argument(s) {', '.join(sorted(unknown))}; options are {allowed}")


def apply_options(spec: RequestSpec, options: Mapping[str, Any], *, post: bool = False) -> RequestSpec:
    """``spec`` with the call's options merged in (checked first, see :func:`check_options`)."""
    if not options:
        return spec
    check_options(options, post=post)
    changes: dict[str, Any] = {}
    if "timeout" in options:
        timeout: httpx.Timeout = as_timeout(options["timeout"])
        changes["timeout"] = timeout
    headers = options.get("extra_headers")
    if headers:
        changes["headers"] = {**(spec.headers or {}), **headers}
    query = options.get("extra_query")
    if query:
        changes["params"] = {**(spec.params or {}), **query}
    body = options.get("extra_body")
    if body:
        if spec.files is not None:
            changes["data"] = {**(spec.data or {}), **{k: str(v) for k, v in body.items()}}
        else:
            current = spec.json
            if current is not None and not isinstance(current, dict):
                raise TypeError(f"extra_body needs a JSON object body; {spec.method} {spec.path} sends none")
            changes["json"] = {**cast("dict[str, Any]", current or {}), **body}
    if options.get("idempotency_key") is not None:
        check_idempotency_key(options["idempotency_key"])
        changes["idempotency_key"] = options["idempotency_key"]
    return dataclasses.replace(spec, **changes)
