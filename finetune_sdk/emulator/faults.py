"""Faults for tests: which requests fail (seeded dice) and how (error answers or a dropped connection).

A dropped connection is made the way a real one looks to a client: the response head goes out with a
``content-length``, then the server closes the connection before the body, so the client raises a
protocol/read error instead of seeing a clean answer. To get there the app raises :class:`PlannedDropError`
after starting the response (uvicorn then closes the transport); :func:`quiet_drops` keeps those
planned drops out of uvicorn's error log.
"""

from __future__ import annotations

import logging
import random
import threading
from typing import NoReturn

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .responses import JSON, OVERLOADED, ApiError, error_response
from .settings import FaultKind, Settings


class PlannedDropError(Exception):
    """Raised once a response has started, so that the server closes the connection."""


class FaultDice:
    """Decides, request by request, whether a fault happens and which (reproducible from the seed)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._rng = random.Random(settings.seed)
        self._lock = threading.Lock()

    def roll(self, path: str) -> FaultKind | None:
        """The fault for a request to ``path``, or None for a normal answer."""
        settings = self.settings
        if settings.fault_rate <= 0:
            return None
        if settings.fault_paths and not path.startswith(settings.fault_paths):
            return None
        with self._lock:
            if self._rng.random() >= settings.fault_rate:
                return None
            return self._rng.choice(settings.fault_kinds)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def fault_response(kind: FaultKind, settings: Settings) -> Response | None:
    """The error answer of an answering fault kind; None for the kinds that drop the connection."""
    retry = {"Retry-After": _seconds(settings.retry_after)}
    if kind == "429":
        error = ApiError(429, "Rate limit reached (emulated fault)", "rate_limit_exceeded", headers=retry)
    elif kind == "500":
        error = ApiError(500, "Internal server error (emulated fault)", "internal_error")
    elif kind == "503":
        error = ApiError(503, "Service unavailable (emulated fault)", "service_unavailable", headers=retry)
    elif kind == "50505":
        return JSON(OVERLOADED)
    else:
        return None
    return error_response(error, envelope=settings.envelope)


async def drop(send: Send) -> NoReturn:
    """Start a response that promises a body, then make the server close the connection."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
        }
    )
    raise PlannedDropError


class DropResponse(Response):
    """A response that is never completed: the connection drops after its head."""

    def __init__(self) -> None:
        super().__init__()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await drop(send)


def _is_drop(error: BaseException | None) -> bool:
    if isinstance(error, PlannedDropError):
        return True
    inner = getattr(error, "exceptions", None)
    return bool(inner) and all(_is_drop(e) for e in inner or ())


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and _is_drop(record.exc_info[1]))


_QUIET = _QuietDrops()


def quiet_drops() -> None:
    """Keep planned drops out of uvicorn's error log (real errors still show)."""
    logger = logging.getLogger("uvicorn.error")
    if _QUIET not in logger.filters:
        logger.addFilter(_QUIET)
