"""Shared pieces of the reliability tests: one call run through the sync client or the async one (on
asyncio and trio), against a hostile server of the test's own."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from finetune_sdk import AsyncClient, Client

KEY = "sk-reliability-secret-0123456789"
MODES = ["sync", "asyncio", "trio"]
MODEL = "Qwen/Qwen2.5-7B-Instruct"


@pytest.fixture
def without_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``*_PROXY`` variable of the machine's environment, in either case."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def _collect(value: Any) -> Any:
    if hasattr(value, "__aiter__"):
        return [item async for item in value]
    if inspect.isawaitable(value):
        return await value
    return value


def call(mode: str, base_url: str, action: Callable[[Any], Any], **settings: Any) -> Any:
    """``action(client)`` with a fresh client of ``mode``; an async result is awaited (an async
    iterator collected into a list)."""
    settings.setdefault("api_key", KEY)
    settings.setdefault("max_retries", 0)
    if mode == "sync":
        with Client(base_url=base_url, **settings) as client:
            result = action(client)
            return list(result) if hasattr(result, "__next__") else result

    async def main() -> Any:
        async with AsyncClient(base_url=base_url, **settings) as client:
            return await _collect(action(client))

    return anyio.run(main, backend=mode)


def timed(fn: Callable[[], Any]) -> tuple[float, BaseException | None]:
    """Seconds ``fn()`` took, and what it raised (None if nothing)."""
    started = time.monotonic()
    try:
        fn()
    except Exception as exc:
        return time.monotonic() - started, exc
    return time.monotonic() - started, None
