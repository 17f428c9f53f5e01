"""End-to-end fixtures: a real emulator on 127.0.0.1, and the SDK's clients against it.

``api`` runs one test body three ways: through ``Client``, and through ``AsyncClient`` on asyncio and on
trio. The async client lives in an event loop on a portal thread (anyio's blocking portal); the adapter
calls its coroutines there and gathers its async iterators into lists, so the same assertions hold
both shells to the same behaviour.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio.from_thread
import orjson
import pytest

from finetune_sdk import AsyncClient, Client
from finetune_sdk.emulator import Emulator

FAST = 50.0  # simulated seconds per real second: a small job ends in well under a second
POLL = 0.02


def example(user: str, assistant: str, system: str | None = "你是犀利的评论家") -> dict[str, Any]:
    messages = [{"role": "system", "content": system}] if system else []
    messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    return {"messages": messages}


def write_dataset(path: Path, n: int = 20) -> Path:
    lines = [orjson.dumps(example(f"词语{i}", f"第{i}句金句,一针见血。")) for i in range(n)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(time_scale=FAST) as running:
        yield running


@pytest.fixture
def train_file(tmp_path: Path) -> Path:
    return write_dataset(tmp_path / "train.jsonl")


async def _collect(iterator: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in iterator]


class Synced:
    """Calls an async object's methods from synchronous test code, through a portal."""

    def __init__(self, portal: anyio.from_thread.BlockingPortal, target: Any) -> None:
        self._portal = portal
        self._target = target

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if inspect.iscoroutinefunction(attr):
            return lambda *a, **kw: self._portal.call(lambda: attr(*a, **kw))
        if inspect.isasyncgenfunction(attr):
            return lambda *a, **kw: self._portal.call(_collect, attr(*a, **kw))
        if name in ("files", "jobs", "checkpoints", "chat"):
            return Synced(self._portal, attr)
        if inspect.ismethod(attr):  # list() and events() return async paginators or iterators
            return lambda *a, **kw: self._collected(attr(*a, **kw))
        return attr

    def _collected(self, result: Any) -> Any:
        return self._portal.call(_collect, result) if hasattr(result, "__aiter__") else result


@pytest.fixture(params=["sync", "asyncio", "trio"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make_api(mode: str, emu: Emulator, **kw: Any) -> Iterator[Any]:
    if mode == "sync":
        with Client(api_key=emu.api_key, base_url=emu.base_url, **kw) as client:
            yield client
        return
    with anyio.from_thread.start_blocking_portal(backend=mode) as portal:
        client = portal.call(lambda: _make_async(emu, kw))
        try:
            yield Synced(portal, client)
        finally:
            portal.call(client.aclose)


async def _make_async(emu: Emulator, kw: dict[str, Any]) -> AsyncClient:
    return AsyncClient(api_key=emu.api_key, base_url=emu.base_url, **kw)


@pytest.fixture
def api(mode: str, emu: Emulator) -> Iterator[Any]:
    """A Client, or an AsyncClient behind a portal, against the module's emulator."""
    yield from make_api(mode, emu)
