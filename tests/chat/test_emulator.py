"""Chat against the emulator: sync, and async on asyncio and trio (the ``anyio_backend`` fixture).

Connections: every early exit (break, close(), ``async with``, ``aclosing``, a dropped stream, a
cancelled task) must give the connection back at once. The clients here get a pool of ONE connection
and a short pool timeout, so a leak fails in seconds (``PoolTimeout``) rather than hanging.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import AsyncIterator, Iterator

import anyio
import httpx
import pytest

from finetune_sdk import (
    APIConnectionError,
    AsyncClient,
    AuthenticationError,
    Client,
    NotFoundError,
    StreamInterruptedError,
)
from finetune_sdk.emulator import Emulator

BASE = "Qwen/Qwen2.5-7B-Instruct"
LONG = "Qwen/Qwen2.5-14B-Instruct"
ROUNDS = 12
ONE_CONNECTION = httpx.Limits(max_connections=1, max_keepalive_connections=1)
SHORT_POOL_WAIT = httpx.Timeout(10.0, pool=3.0)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    # Long replies in small deltas, a little apart: a stream is still running when a test leaves it.
    with Emulator(time_scale=100, seed=0, chunk_chars=4, chunk_delay=0.005, base_reply_chars=400) as running:
        yield running


@pytest.fixture(scope="module")
def broken_emu() -> Iterator[Emulator]:
    """Every chat stream stops midway (the connection drops)."""
    with Emulator(
        seed=0, fault_rate=1.0, fault_kinds=("stream_break",), fault_paths=("/v1/chat",), chunk_chars=4
    ) as running:
        yield running


def sync_client(emu: Emulator, **kw: object) -> Client:
    http = httpx.Client(limits=ONE_CONNECTION, timeout=SHORT_POOL_WAIT)
    return Client(api_key=emu.api_key, base_url=emu.base_url, http_client=http, **kw)  # type: ignore[arg-type]


def async_client(emu: Emulator, **kw: object) -> AsyncClient:
    http = httpx.AsyncClient(limits=ONE_CONNECTION, timeout=SHORT_POOL_WAIT)
    return AsyncClient(api_key=emu.api_key, base_url=emu.base_url, http_client=http, **kw)  # type: ignore[arg-type]


async def gather(stream: AsyncIterator[str], into: list[str]) -> None:
    async for delta in stream:
        into.append(delta)


# -- the whole reply --------------------------------------------------------------------------------


def test_sync_stream_text_usage_and_finish(emu: Emulator) -> None:
    with sync_client(emu) as client:
        stream = client.chat(BASE, "How do I change my address?")
        deltas = list(stream)
        whole = client.chat.complete(BASE, "How do I change my address?")
    assert len(deltas) > 50 and all(deltas)
    assert stream.text == "".join(deltas) == whole.text
    assert stream.finish_reason == "stop"
    assert stream.usage is not None and stream.usage.completion_tokens > 0
    assert stream.usage.total_tokens == stream.usage.prompt_tokens + stream.usage.completion_tokens
    assert stream.closed and repr(stream) == f"ChatStream(model={BASE!r})"
    assert emu.api_key not in repr(stream)


@pytest.mark.anyio
async def test_async_stream_text_usage_and_finish(emu: Emulator) -> None:
    async with async_client(emu) as client:
        stream = client.chat(BASE, "How do I change my address?")
        deltas = [d async for d in stream]
        whole = await client.chat.complete(BASE, "How do I change my address?")
    assert len(deltas) > 50
    assert stream.text == "".join(deltas) == whole.text
    assert stream.finish_reason == "stop" and stream.usage is not None
    assert stream.closed


def test_deltas_arrive_incrementally(emu: Emulator) -> None:
    """Delta times spread over the stream's length (chunk_delay apart), not all at the end."""
    with sync_client(emu) as client:
        times = [time.perf_counter() for _ in client.chat(BASE, "hello")]
    assert len(times) > 50
    spread = times[-1] - times[0]
    assert spread > 0.5 * (len(times) - 1) * 0.005


def test_max_tokens_cuts_with_finish_reason_length(emu: Emulator) -> None:
    with sync_client(emu) as client:
        stream = client.chat(BASE, "hello", max_tokens=5).open()
        stream.read()
    assert stream.finish_reason == "length"


# -- errors before the stream -----------------------------------------------------------------------


def test_unknown_model_and_bad_key(emu: Emulator) -> None:
    with sync_client(emu) as client:
        with pytest.raises(NotFoundError):
            client.chat("no-such-model", "hi").open()
        with pytest.raises(NotFoundError):
            list(client.chat("no-such-model", "hi"))
        with pytest.raises(NotFoundError):
            client.chat.complete("no-such-model", "hi")
    with (
        Client(api_key="wrong-key", base_url=emu.base_url) as bad,
        pytest.raises(AuthenticationError) as info,
    ):
        list(bad.chat(BASE, "hi"))
    assert "wrong-key" not in str(info.value)


@pytest.mark.anyio
async def test_unknown_model_and_bad_key_async(emu: Emulator) -> None:
    async with async_client(emu) as client:
        with pytest.raises(NotFoundError):
            await client.chat("no-such-model", "hi").open()
        with pytest.raises(NotFoundError):
            async for _ in client.chat("no-such-model", "hi"):
                pass
    async with AsyncClient(api_key="wrong-key", base_url=emu.base_url) as bad:
        with pytest.raises(AuthenticationError):
            await bad.chat.complete(BASE, "hi")


def test_transient_failures_before_the_stream_are_retried() -> None:
    with (
        Emulator(
            seed=1, fault_rate=0.5, fault_kinds=("429", "500", "503", "50505"), fault_paths=("/v1/chat",)
        ) as emu,
        Client(api_key=emu.api_key, base_url=emu.base_url, max_retries=8, max_retry_wait=0.01) as client,
    ):
        texts = [client.chat(BASE, f"q{i}").open().read() for i in range(8)]
    assert all(texts)


# -- a break midway ---------------------------------------------------------------------------------


def test_break_midway_sync(broken_emu: Emulator) -> None:
    with Client(api_key=broken_emu.api_key, base_url=broken_emu.base_url) as client:
        seen: list[str] = []
        with pytest.raises(StreamInterruptedError) as info:
            seen.extend(iter(client.chat(BASE, "How do I change my address?").__next__, None))
    err = info.value
    assert isinstance(err, APIConnectionError)
    assert seen and err.partial_text == "".join(seen) and err.deltas == len(seen)
    assert f"broke after {len(err.partial_text)} characters ({len(seen)} deltas)" in str(err)
    assert err.attempts == 1


@pytest.mark.anyio
async def test_break_midway_async(broken_emu: Emulator) -> None:
    async with AsyncClient(api_key=broken_emu.api_key, base_url=broken_emu.base_url) as client:
        seen: list[str] = []
        with pytest.raises(StreamInterruptedError) as info:
            await gather(client.chat(BASE, "How do I change my address?"), seen)
    assert seen and info.value.partial_text == "".join(seen)


# -- early exits free the connection ----------------------------------------------------------------


def test_sync_early_exits_release_the_connection(emu: Emulator) -> None:
    with sync_client(emu) as client:
        for _ in range(ROUNDS):
            for _delta in client.chat(BASE, "hello"):
                break  # the dropped stream closes itself
        for _ in range(ROUNDS):
            stream = client.chat(BASE, "hello").open()
            next(stream)
            stream.close()
            assert stream.closed
        for _ in range(ROUNDS):
            with client.chat(BASE, "hello") as stream:
                next(stream)
        kept = [client.chat(BASE, "hello") for _ in range(3)]  # never iterated: no request sent
        assert client.chat.complete(BASE, "hello")
        del kept


@pytest.mark.anyio
async def test_async_with_and_aclosing_release_the_connection(emu: Emulator) -> None:
    async with async_client(emu) as client:
        with anyio.fail_after(30):
            for _ in range(ROUNDS):
                async with client.chat(BASE, "hello") as stream:
                    async for _ in stream:
                        break
            for _ in range(ROUNDS):
                async with contextlib.aclosing(client.chat(BASE, "hello")) as stream:
                    async for _ in stream:
                        break
            for _ in range(ROUNDS):
                stream = await client.chat(BASE, "hello").open()
                await stream.__anext__()
                await stream.aclose()
            assert await client.chat.complete(BASE, "hello")


@pytest.mark.anyio
async def test_async_break_without_async_with_releases_the_connection(emu: Emulator) -> None:
    async with async_client(emu) as client:
        with anyio.fail_after(30):
            for _ in range(ROUNDS):
                async for _ in client.chat(BASE, "hello"):
                    break  # the dropped stream is closed on the loop's next turn
            gc.collect()
            assert await client.chat.complete(BASE, "hello")


@pytest.mark.anyio
async def test_cancellation_releases_the_connection(emu: Emulator) -> None:
    async with async_client(emu) as client:
        with anyio.fail_after(30):
            for _ in range(ROUNDS):
                got: list[str] = []
                with anyio.move_on_after(0.02):
                    async for delta in client.chat(BASE, "hello"):
                        got.append(delta)
            for _ in range(ROUNDS):
                async with anyio.create_task_group() as group:

                    async def reader() -> None:
                        async for _ in client.chat(BASE, "hello"):
                            group.cancel_scope.cancel()
                            await anyio.sleep(1)

                    group.start_soon(reader)
            assert await client.chat.complete(BASE, "hello")


# -- the official client ----------------------------------------------------------------------------


def test_openai_client_streams_and_shares_the_pool(emu: Emulator) -> None:
    with sync_client(emu, max_retries=2, timeout=7.0) as client:
        official = client.openai
        assert client.openai is official
        assert official._client is client.http_client  # one connection pool
        assert official.max_retries == 2 and str(official.base_url).startswith(emu.base_url)
        stream = official.chat.completions.create(
            model=BASE, messages=[{"role": "user", "content": "hello"}], stream=True
        )
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert text == client.chat.complete(BASE, "hello").text
        fast = client.with_options(max_retries=0)
        assert fast.openai is not official and fast.openai.max_retries == 0


@pytest.mark.anyio
async def test_async_openai_client_streams(emu: Emulator) -> None:
    async with async_client(emu) as client:
        official = client.openai
        assert official._client is client.http_client
        stream = await official.chat.completions.create(
            model=BASE, messages=[{"role": "user", "content": "hello"}], stream=True
        )
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        assert text == (await client.chat.complete(BASE, "hello")).text
