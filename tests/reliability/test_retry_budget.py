"""A full outage does not multiply the load: a client's retry budget (a token bucket that retries drain
and successes refill) stops retrying once it is spent, so 200 calls at once against a server that
answers 503 (or 429) to everything cost about 1.1 attempts each instead of ``max_retries + 1``; once the
server is back, successes refill the bucket and retries work again.

Calls run at once: threads on one ``Client``, tasks on one ``AsyncClient``. The server asks for a short
pause (``retry-after-ms``) so that the retries without a budget come quickly. The attempts counted are
printed (``pytest -s``).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import pytest
from anyio.from_thread import start_blocking_portal

from finetune_sdk import APIStatusError, AsyncClient, Client, InternalServerError, RateLimitError

from .conftest import KEY
from .hostile import Conn, HostileServer, Request, job, json_answer

CALLS = 200
RETRIES = 3


class Outage:
    """A server that fails everything with ``status`` while ``down`` is set, and answers a job after."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.down = threading.Event()
        self.down.set()
        self.fail_next = 0  # while up: fail this many more requests first
        self.lock = threading.Lock()

    def handler(self, request: Request, conn: Conn) -> bool:
        with self.lock:
            failing = self.down.is_set() or self.fail_next > 0
            if not self.down.is_set() and self.fail_next > 0:
                self.fail_next -= 1
        if failing:
            body = {"error": {"message": "unavailable", "type": "server_error"}}
            return conn.send(json_answer(self.status, body, retry_after_ms=20))
        return conn.send(json_answer(200, job()))


@pytest.fixture(params=[503, 429])
def outage(request: pytest.FixtureRequest) -> Iterator[tuple[Outage, HostileServer]]:
    """A server down with 503 or with 429 (``indirect`` parametrization may choose one)."""
    down = Outage(int(request.param))
    with HostileServer(down.handler) as server:
        yield down, server


Outcomes = list[BaseException | None]
"""What each call raised (None: nothing)."""


def _sync_at_once(client: Client, calls: int) -> Outcomes:
    def one(_: int) -> BaseException | None:
        try:
            client.jobs.retrieve("ftjob-1")
        except Exception as exc:
            return exc
        return None

    with ThreadPoolExecutor(max_workers=calls) as pool:
        return list(pool.map(one, range(calls)))


async def _async_at_once(client: AsyncClient, calls: int) -> Outcomes:
    outcomes: Outcomes = []

    async def one() -> None:
        try:
            await client.jobs.retrieve("ftjob-1")
        except Exception as exc:
            outcomes.append(exc)
        else:
            outcomes.append(None)

    async with anyio.create_task_group() as group:
        for _ in range(calls):
            group.start_soon(one)
    return outcomes


@contextlib.contextmanager
def one_client(
    mode: str, base_url: str, **settings: Any
) -> Generator[tuple[Any, Callable[[int], Outcomes]], None, None]:
    """A client of ``mode`` and ``at_once(n)``, which makes ``n`` calls on it at once (threads, or tasks
    on the one event loop the async client lives on)."""
    settings = {"api_key": KEY, "base_url": base_url, "max_retries": RETRIES, **settings}
    if mode == "sync":
        with Client(**settings) as client:
            yield client, lambda calls: _sync_at_once(client, calls)
        return
    with start_blocking_portal(backend=mode) as portal:
        aclient = AsyncClient(**settings)
        try:
            yield aclient, lambda calls: portal.call(_async_at_once, aclient, calls)
        finally:
            portal.call(aclient.aclose)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("outage", "budget"),
    [(503, "default"), (429, "default"), (503, "none")],  # without a budget 429 is retried alike
    indirect=["outage"],
    ids=["503-budget", "429-budget", "503-no-budget"],
)
def test_a_full_outage_costs_about_one_attempt_per_call(
    mode: str, outage: tuple[Outage, HostileServer], budget: str
) -> None:
    down, server = outage
    settings = {} if budget == "default" else {"retry_budget": None}
    with one_client(mode, server.base_url, **settings) as (_, at_once):
        outcomes = at_once(CALLS)
    attempts = len(server.requests)
    kind = InternalServerError if down.status == 503 else RateLimitError
    print(
        f"{mode} {down.status} budget={budget}: {CALLS} calls, {attempts} attempts "
        f"({attempts / CALLS:.2f} per call)"
    )
    assert len(outcomes) == CALLS and all(isinstance(o, kind) for o in outcomes), outcomes[:3]
    if budget == "default":
        assert attempts <= 1.3 * CALLS
        assert attempts >= CALLS + 20  # the budget's 20 retries were made
    else:
        assert attempts == CALLS * (RETRIES + 1)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("outage", [503], indirect=True)
def test_successes_refill_the_budget(mode: str, outage: tuple[Outage, HostileServer]) -> None:
    """After the outage a call that fails once is not retried while the bucket is dry; 40 successes
    (0.5 token each) fill it again, and the same call is then retried and succeeds."""
    down, server = outage

    with one_client(mode, server.base_url) as (client, at_once):
        at_once(CALLS)
        dry = client.policy.budget.tokens
        down.down.clear()
        down.fail_next = 1
        while_dry = at_once(1)[0]
        refilled = at_once(40)
        full = client.policy.budget.tokens
        down.fail_next = 1
        before = len(server.requests)
        after_refill = at_once(1)[0]
        attempts = len(server.requests) - before
    print(f"{mode} {down.status}: tokens {dry:g} after the outage, {full:g} after 40 successes")
    assert dry < 1
    assert isinstance(while_dry, APIStatusError)  # failed once, not retried: the bucket is dry
    assert while_dry.attempts == 1
    assert refilled == [None] * 40
    assert full >= 19
    assert after_refill is None  # failed once, retried, succeeded
    assert attempts == 2
