"""What every request passes before a route: request id, Bearer auth, latency, then faults.

A raw ASGI wrapper around the routes. Order matters: a request without the emulator's key gets a 401
and never a fault; a fault is decided before the route runs, so a failed request changed nothing (the
opt-in ``lost_response`` is the one exception: the route runs, then the answer is thrown away).
"""

from __future__ import annotations

import hmac

import anyio
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .faults import FaultDice, drop, fault_response
from .responses import ApiError, error_response
from .settings import Settings
from .state import new_id

CHAT_PATH = "/v1/chat/completions"
EMULATOR_HEADER = (b"x-finetune-emulator", b"1")
"""On every answer: tells a client (``compare``'s reports) that the figures come from an emulation."""
STREAM_BREAK = "stream_break"
"""Key in ``scope["state"]`` telling the chat route to break its stream midway."""


def _wrap(receive: Receive, send: Send, request_id: str) -> tuple[Receive, Send]:
    """Add ``x-request-id`` and ``x-finetune-emulator: 1`` (so a client can tell an emulated answer
    from the platform's) to the answer, and read the whole request body before answering.

    An answer sent before the body is read (a 401, a fault, an idempotent replay of an upload) would
    make the server close the connection with unread data, which resets it: the client could lose the
    answer. Reading the rest first makes every close a clean one.
    """
    body_read = False

    async def tracked_receive() -> Message:
        nonlocal body_read
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            body_read = True
        return message

    async def send_after_body(message: Message) -> None:
        if message["type"] == "http.response.start":
            while not body_read:
                await tracked_receive()
            message["headers"] = [
                *message.get("headers", []),
                (b"x-request-id", request_id.encode()),
                EMULATOR_HEADER,
            ]
        await send(message)

    return tracked_receive, send_after_body


async def _swallow(message: Message) -> None:
    """A ``send`` that loses the answer (the "lost response" fault)."""


class Gate:
    """Request id on every answer; auth, latency and faults on every ``/v1`` request."""

    def __init__(self, app: ASGIApp, settings: Settings, dice: FaultDice) -> None:
        self.app = app
        self.settings = settings
        self.dice = dice
        self._key = f"Bearer {settings.api_key}".encode()

    def _authorized(self, scope: Scope) -> bool:
        given = Headers(scope=scope).get("authorization", "").encode()
        return hmac.compare_digest(given, self._key)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        receive, send = _wrap(receive, send, new_id("req_"))
        path: str = scope["path"]
        if not path.startswith("/v1"):
            await self.app(scope, receive, send)
            return
        if not self._authorized(scope):
            error = ApiError(
                401, "Invalid or missing API key (send Authorization: Bearer <key>)", "invalid_api_key"
            )
            await error_response(error, envelope=self.settings.envelope)(scope, receive, send)
            return
        if self.settings.latency:
            await anyio.sleep(self.settings.latency)
        kind = self.dice.roll(path)
        if kind is None:
            await self.app(scope, receive, send)
            return
        answer = fault_response(kind, self.settings)
        if answer is not None:
            await answer(scope, receive, send)
        elif kind == "lost_response":
            await self.app(scope, receive, _swallow)
            await drop(send)
        elif kind == STREAM_BREAK and path == CHAT_PATH:
            scope.setdefault("state", {})[STREAM_BREAK] = True
            await self.app(scope, receive, send)
        else:
            await drop(send)
