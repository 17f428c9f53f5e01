"""What the routes share: the settings, the store, idempotency memory; and the success answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from starlette.requests import Request

from .idempotency import Idempotency
from .responses import JSON, success_body
from .settings import Settings
from .state import Store


@dataclass
class Context:
    settings: Settings
    store: Store
    idempotency: Idempotency = field(default_factory=Idempotency)


def context(request: Request) -> Context:
    """The emulator behind a request."""
    return cast(Context, request.app.state.context)


def ok(request: Request, data: Any, *, envelope: bool | None = None) -> JSON:
    """A success answer, enveloped when the emulator runs in envelope mode."""
    wrap = context(request).settings.envelope if envelope is None else envelope
    return JSON(success_body(data, envelope=wrap))
