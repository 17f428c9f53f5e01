"""Copies of a client and closing: ``copy.copy`` (and ``with_options``) shares the pool without owning
it, so closing the copy leaves the original working; ``copy.deepcopy`` has a pool of its own, so either
may be closed without the other noticing. A call on a closed client is a typed error that says so,
never httpx's raw ``RuntimeError``."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest

from finetune_sdk import AsyncClient, Client, ConfigurationError

from .conftest import KEY
from .hostile import Conn, HostileServer, Request, job, json_answer

Copier = Callable[[Any], Any]
COPIES: dict[str, Copier] = {
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
    "with_options": lambda client: client.with_options(max_retries=1),
}


def answering() -> HostileServer:
    def handler(request: Request, conn: Conn) -> bool:
        return conn.send(json_answer(200, job()))

    return HostileServer(handler)


def outcome(fn: Callable[[], Any]) -> str:
    """``ok`` or the name of what ``fn`` raised, and how."""
    try:
        fn()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return "ok"


async def aoutcome(fn: Callable[[], Any]) -> str:
    try:
        await fn()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return "ok"


@pytest.mark.parametrize("made", list(COPIES))
def test_closing_a_copy_leaves_the_original_working(mode: str, made: str) -> None:
    with answering() as server:
        if mode == "sync":
            original = Client(api_key=KEY, base_url=server.base_url, max_retries=0)
            original.jobs.retrieve("ftjob-1")  # a connection kept alive, for the copy to share
            clone = COPIES[made](original)
            assert clone.jobs.retrieve("ftjob-1").id == "ftjob-1"
            clone.close()
            after = outcome(lambda: original.jobs.retrieve("ftjob-1"))
            original.close()
        else:

            async def main() -> str:
                original = AsyncClient(api_key=KEY, base_url=server.base_url, max_retries=0)
                await original.jobs.retrieve("ftjob-1")
                clone = COPIES[made](original)
                assert (await clone.jobs.retrieve("ftjob-1")).id == "ftjob-1"
                await clone.aclose()
                seen = await aoutcome(lambda: original.jobs.retrieve("ftjob-1"))
                await original.aclose()
                return seen

            after = anyio.run(main, backend=mode)
    assert after == "ok"


def test_a_deep_copy_outlives_its_original(mode: str) -> None:
    with answering() as server:
        if mode == "sync":
            original = Client(api_key=KEY, base_url=server.base_url, max_retries=0)
            clone = copy.deepcopy(original)
            original.close()
            after = outcome(lambda: clone.jobs.retrieve("ftjob-1"))
            clone.close()
        else:

            async def main() -> str:
                original = AsyncClient(api_key=KEY, base_url=server.base_url, max_retries=0)
                clone = copy.deepcopy(original)
                await original.aclose()
                seen = await aoutcome(lambda: clone.jobs.retrieve("ftjob-1"))
                await clone.aclose()
                return seen

            after = anyio.run(main, backend=mode)
    assert after == "ok"


def test_a_call_on_a_closed_client_says_it_is_closed(mode: str) -> None:
    with answering() as server:
        if mode == "sync":
            client = Client(api_key=KEY, base_url=server.base_url, max_retries=2)
            client.close()
            with pytest.raises(ConfigurationError, match="closed") as info:
                client.jobs.retrieve("ftjob-1")
        else:

            async def main() -> None:
                client = AsyncClient(api_key=KEY, base_url=server.base_url, max_retries=2)
                await client.aclose()
                await client.jobs.retrieve("ftjob-1")

            with pytest.raises(ConfigurationError, match="closed") as info:
                anyio.run(main, backend=mode)
        assert server.requests == []
    assert isinstance(info.value.__cause__, RuntimeError)  # httpx's own words kept as the cause


def test_another_runtime_error_is_raised_as_it_is(mode: str) -> None:
    """Only a pool's closing or its event loop is explained: a caller's own hook failing is its own."""

    def hook(request: object) -> None:
        raise RuntimeError("the caller's hook failed")

    async def ahook(request: object) -> None:
        hook(request)

    with answering() as server:
        if mode == "sync":
            with httpx.Client(event_hooks={"request": [hook]}) as http, pytest.raises(RuntimeError) as info:
                Client(api_key=KEY, base_url=server.base_url, http_client=http).jobs.retrieve("ftjob-1")
        else:

            async def main() -> None:
                async with httpx.AsyncClient(event_hooks={"request": [ahook]}) as http:
                    client = AsyncClient(api_key=KEY, base_url=server.base_url, http_client=http)
                    await client.jobs.retrieve("ftjob-1")

            with pytest.raises(RuntimeError) as info:
                anyio.run(main, backend=mode)
    assert str(info.value) == "the caller's hook failed"
    assert not isinstance(info.value, ConfigurationError) and info.value.__cause__ is None
