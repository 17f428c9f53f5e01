"""A scripted HTTP peer for unit tests: answers a queue of canned responses and records requests.

The same script drives the sync client and the async one (on asyncio and trio), so both are held to
the same assertions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import anyio
import httpx

from finetune_sdk import AsyncClient, Client
from finetune_sdk._core.wire import RequestSpec

KEY = "sk-unit-secret-key-42"
BASE = "https://platform.test/v1"

Step = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Script:
    def __init__(self, steps: Iterable[Step]) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []
        self.bodies: list[bytes] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.bodies.append(request.read())
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        return step(request)

    async def ahandle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.bodies.append(await request.aread())
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        return step(request)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def run(mode: str, script: Script, spec: RequestSpec, **client_kw: Any) -> Any:
    """Send ``spec`` through a sync client, or an async one on the named backend; return the payload."""
    client_kw.setdefault("max_retry_wait", 0.05)
    client_kw.setdefault("api_key", KEY)
    if mode == "sync":
        http = httpx.Client(transport=httpx.MockTransport(script.handle))
        with Client(base_url=BASE, http_client=http, **client_kw) as client:
            return client.send(spec).payload

    async def main() -> Any:
        http = httpx.AsyncClient(transport=httpx.MockTransport(script.ahandle))
        async with AsyncClient(base_url=BASE, http_client=http, **client_kw) as client:
            return (await client.send(spec)).payload

    return anyio.run(main, backend=mode)


MODES = ["sync", "asyncio", "trio"]
