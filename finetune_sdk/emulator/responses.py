"""The answer forms of the wire contract: plain JSON, the platform's envelope, and errors.

Plain success: the object itself. Envelope success: ``{"code": 20000, "message": "Ok", "status": true,
"data": <object>}``. Errors: ``{"error": {"message", "type", "code", "param"}}`` with the real HTTP
status, or in envelope mode ``{"code": <status * 100>, "message", "status": false}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}
OVERLOADED: dict[str, int | str] = {"code": 50505, "message": "Model service overloaded, please retry"}
"""The platform's "overloaded" envelope error, which it sends under HTTP 200."""


class ApiError(Exception):
    """An error answer; raised anywhere in a route, rendered by the app in the configured form."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str,
        *,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.headers: dict[str, str] = dict(headers or {})


def error_type(status: int) -> str:
    """The ``type`` of an error body for an HTTP status."""
    return ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")


def error_body(error: ApiError, *, envelope: bool) -> dict[str, Any]:
    """The body of an error answer, in the contract's form or the envelope's."""
    if envelope:
        return {"code": error.status * 100, "message": error.message, "status": False}
    return {
        "error": {
            "message": error.message,
            "type": error_type(error.status),
            "code": error.code,
            "param": error.param,
        }
    }


def success_body(data: Any, *, envelope: bool) -> Any:
    """The body of a success answer, wrapped in the envelope if asked to."""
    if envelope:
        return {"code": 20000, "message": "Ok", "status": True, "data": data}
    return data


class JSON(Response):
    """A JSON response serialised with orjson (fast, compact, UTF-8 as is)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_response(error: ApiError, *, envelope: bool) -> JSON:
    """An error as a response, with its headers (e.g. ``Retry-After``)."""
    return JSON(error_body(error, envelope=envelope), status_code=error.status, headers=error.headers)


def encode(content: Any) -> bytes:
    """``content`` as JSON bytes."""
    return orjson.dumps(content)
