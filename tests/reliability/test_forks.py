"""A client used before a fork never shares a connection with the forked process: parent and child (or
preforked workers) each get their own answers, whole. An ``AsyncClient`` keeps working on a new event
loop (a second ``asyncio.run``); a caller's own ``httpx.AsyncClient`` used from another loop is a typed
error that says what to do, never a raw ``RuntimeError('Event loop is closed')``.

The forks run in processes of their own (``forking.py``); the figures are printed (``pytest -s``).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import orjson
import pytest

from finetune_sdk import AsyncClient, ConfigurationError

from .conftest import KEY, MODEL
from .forking import echo, expected_reply
from .hostile import HostileServer

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

CALLS = 200


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer(echo) as running:
        yield running


def scenario(name: str, base_url: str, *numbers: int) -> dict[str, Any]:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "tests.reliability.forking", name, base_url, *map(str, numbers)],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures: dict[str, Any] = orjson.loads(done.stdout.splitlines()[-1])
    return figures


@pytest.mark.timeout(100)
@pytest.mark.parametrize("name", ["crossed_sync", "crossed_async"], ids=["sync", "async"])
def test_answers_never_cross_between_a_forked_child_and_its_parent(server: HostileServer, name: str) -> None:
    figures = scenario(name, server.base_url, CALLS)
    crossed = sum(side.get("crossed", 0) for side in figures.values())
    print(f"{name}: {crossed} of {2 * CALLS} answers crossed between processes; {figures}")
    for side in ("parent", "child"):
        assert figures[side].get("raised") is None, figures
        assert figures[side]["failed"] == 0, figures
        assert figures[side]["done"] == CALLS, figures
    assert crossed == 0, figures


@pytest.mark.timeout(100)
def test_preforked_workers_relay_every_delta(server: HostileServer) -> None:
    """gunicorn ``--preload`` with a client used at import, done with plain ``os.fork``: three workers
    relay four chat replies each, at the same time."""
    workers, replies = 3, 4
    figures = scenario("preload_relay", server.base_url, workers, replies)
    print(f"preforked relays: {figures}")
    for worker in figures.values():
        assert worker.get("raised") is None, figures
        assert worker["failed"] == 0, figures
        assert worker["crossed"] == 0, figures  # a reply that lost (or gained) a delta
        assert worker["done"] == replies, figures


def test_an_async_client_works_on_every_new_event_loop(server: HostileServer) -> None:
    """First used on one ``asyncio.run``, then on a second (the first loop closed), then on trio and on
    asyncio again; a chat stream on each; closed from yet another loop."""
    client = AsyncClient(api_key=KEY, base_url=server.base_url, max_retries=0, timeout=5)

    async def calls(tag: str) -> tuple[str, str]:
        found = await client.jobs.retrieve(f"ftjob-{tag}")
        reply = await client.chat(MODEL, tag).read()
        return found.id, reply

    for number, backend in enumerate(["asyncio", "asyncio", "trio", "asyncio"]):
        tag = f"loop{number}"
        assert anyio.run(calls, tag, backend=backend) == (f"ftjob-{tag}", expected_reply(tag))
    asyncio.run(client.aclose())


@pytest.mark.parametrize("second", ["asyncio", "trio"])
def test_a_callers_own_async_http_client_on_another_loop_is_a_typed_error(
    server: HostileServer, second: str
) -> None:
    """A caller's ``httpx.AsyncClient`` is used as it is: its connections belong to the loop that made
    them. Used from another loop once that one is closed, the call says so and what to do."""
    http = httpx.AsyncClient()
    client = AsyncClient(api_key=KEY, base_url=server.base_url, max_retries=0, timeout=5, http_client=http)

    async def one() -> str:
        return (await client.jobs.retrieve("ftjob-own")).id

    assert asyncio.run(one()) == "ftjob-own"
    with pytest.raises(ConfigurationError) as info:
        anyio.run(one, backend=second)
    message = str(info.value)
    assert "event loop" in message and "http_client" in message, message
    assert isinstance(info.value.__cause__, RuntimeError)
