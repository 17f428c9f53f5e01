"""What the routes share: the settings, the store, idempotency memory; and the success answer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from starlette.requests import Request

from .idempotency import Idempotency
from .responses import JSON, ApiError, success_body
from .settings import Settings
from .state import Store


@dataclass
class Context:
    settings: Settings
    store: Store
    idempotency: Idempotency = field(default_factory=Idempotency)
    draws: Counter[tuple[str, str]] = field(default_factory=Counter[tuple[str, str]])
    """Base-model calls so far per (model, prompt digest) at a temperature above 0: the sample they draw."""


def context(request: Request) -> Context:
    """The emulator behind a request."""
    return cast(Context, request.app.state.context)


Found = TypeVar("Found")


def from_path(request: Request, param: str, find: Callable[[Store, str], Found | None], what: str) -> Found:
    """The ``what`` whose id is the path parameter ``param``, or a 404 ``<what>_not_found``."""
    object_id: str = request.path_params[param]
    found = find(context(request).store, object_id)
    if found is None:
        raise ApiError(404, f"No {what} with id '{object_id}'", f"{what}_not_found", param=param)
    return found


def ok(request: Request, data: Any, *, envelope: bool | None = None) -> JSON:
    """A success answer, enveloped when the emulator runs in envelope mode."""
    wrap = context(request).settings.envelope if envelope is None else envelope
    return JSON(success_body(data, envelope=wrap))
