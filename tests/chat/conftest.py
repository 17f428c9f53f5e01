"""Chat test helpers: run one chat through ``Client`` or ``AsyncClient`` (asyncio, trio) and gather it."""

from __future__ import annotations

import dataclasses
from typing import Any

import anyio
import pytest

from finetune_sdk import AsyncClient, ChatUsage, Client

KEY = "sk-chat-test-secret-0123"
MODES = ["sync", "asyncio", "trio"]


@dataclasses.dataclass
class Outcome:
    """What a consumer saw: the deltas, the stream's attributes after, and the error raised (if any)."""

    deltas: list[str]
    text: str
    finish_reason: str | None
    usage: ChatUsage | None
    error: BaseException | None
    refusal: str | None = None


def run_chat(mode: str, base_url: str, messages: Any = "hi", *, model: str = "m", **kw: Any) -> Outcome:
    """Consume one ``client.chat(...)`` to its end in ``mode`` ("sync", "asyncio" or "trio")."""
    client_kw = {"max_retry_wait": 0.01, **kw.pop("client_kw", {})}
    api_key = kw.pop("api_key", KEY)
    deltas: list[str] = []
    if mode == "sync":
        with Client(api_key=api_key, base_url=base_url, **client_kw) as client:
            stream = client.chat(model, messages, **kw)
            try:
                for delta in stream:
                    deltas.append(delta)
            except Exception as exc:
                return Outcome(deltas, stream.text, stream.finish_reason, stream.usage, exc, stream.refusal)
            return Outcome(deltas, stream.text, stream.finish_reason, stream.usage, None, stream.refusal)

    async def main() -> Outcome:
        async with AsyncClient(api_key=api_key, base_url=base_url, **client_kw) as client:
            stream = client.chat(model, messages, **kw)
            try:
                async for delta in stream:
                    deltas.append(delta)
            except Exception as exc:
                return Outcome(deltas, stream.text, stream.finish_reason, stream.usage, exc, stream.refusal)
            return Outcome(deltas, stream.text, stream.finish_reason, stream.usage, None, stream.refusal)

    return anyio.run(main, backend=mode)


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """Each test runs through Client, and AsyncClient on asyncio and on trio."""
    return str(request.param)
