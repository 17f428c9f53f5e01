"""The emulator's ASGI app: the contract's routes under ``/v1``, behind the :class:`~.gate.Gate`.

Starlette because it is a small, standard, typed ASGI toolkit with streaming responses built in;
served by uvicorn (see :mod:`.server`).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from . import chat, files, jobs
from .context import Context
from .faults import FaultDice
from .gate import Gate
from .responses import ApiError, error_response
from .settings import Settings
from .state import Store


def build_app(settings: Settings, store: Store) -> ASGIApp:
    """The whole emulator as one ASGI app over ``store``."""
    envelope = settings.envelope

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(exc, envelope=envelope)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = f"{request.method} {request.url.path}: {exc.detail}"
        return error_response(ApiError(exc.status_code, message, code), envelope=envelope)

    async def crash(request: Request, exc: Exception) -> Response:
        error = ApiError(500, f"The emulator failed: {type(exc).__name__}", "internal_error")
        return error_response(error, envelope=envelope)

    async def health(request: Request) -> Response:
        return Response("ok", media_type="text/plain")

    app = Starlette(
        routes=[Route("/health", health), *files.routes, *jobs.routes, *chat.routes],
        exception_handlers={ApiError: api_error, HTTPException: http_error, Exception: crash},
    )
    app.state.context = Context(settings, store)
    return Gate(app, settings, FaultDice(settings))
