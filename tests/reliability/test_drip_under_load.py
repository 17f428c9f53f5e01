"""The deadline does not stretch with load: a server dripping an answer (a byte every 0.05 s, for far
longer than the deadline) cannot hold an attempt past its 2 s deadline, alone or while 15 other
clients drip at once (threads, or tasks on one event loop).

The deadline bounds each attempt (``docs/errors.md``): a call that is retried makes up to
``max_retries + 1`` attempts, each within it, with a pause in between. The figures are printed
(``pytest -s``).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import anyio
import pytest

from finetune_sdk import APITimeoutError, AsyncClient, Client

from .conftest import KEY, call, timed
from .hostile import MAX_DRIP, Conn, HostileServer, Request, head, job, json_answer

DEADLINE = 2.0
#: Time allowed past the deadline: the last read's slice, scheduling on a loaded machine.
SLACK = 0.6
CLIENTS = 16  # the one measured and 15 others


def drip_body(request: Request, conn: Conn) -> None:
    body = b'{"id": "ftjob-1", "padding": "' + b"a" * 10_000 + b'"}'
    conn.send(head(content_length=len(body)))
    conn.drip(body, every=0.05)  # MAX_DRIP (8 s) at most, far past the deadline


def one_sync(base_url: str) -> tuple[float, BaseException | None]:
    with Client(api_key=KEY, base_url=base_url, max_retries=0, deadline=DEADLINE) as client:
        return timed(lambda: client.jobs.retrieve("ftjob-1"))


async def one_async(base_url: str, results: list[tuple[float, BaseException | None]]) -> None:
    async with AsyncClient(api_key=KEY, base_url=base_url, max_retries=0, deadline=DEADLINE) as client:
        started = time.monotonic()
        try:
            await client.jobs.retrieve("ftjob-1")
        except Exception as exc:
            results.append((time.monotonic() - started, exc))
        else:
            results.append((time.monotonic() - started, None))


def at_once(mode: str, base_url: str, clients: int) -> list[tuple[float, BaseException | None]]:
    if mode == "sync":
        with ThreadPoolExecutor(max_workers=clients) as pool:
            return list(pool.map(one_sync, [base_url] * clients))
    results: list[tuple[float, BaseException | None]] = []

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(clients):
                group.start_soon(one_async, base_url, results)

    anyio.run(main, backend=mode)
    return results


def warm_up(mode: str) -> None:
    """One quick call first: the modules a first call imports (and the lock contention of importing them
    in 16 threads at once) are not the deadline's business; only what happens after is measured."""

    def quick(request: Request, conn: Conn) -> bool:
        return conn.send(json_answer(200, job()))

    with HostileServer(quick) as server:
        call(mode, server.base_url, lambda c: c.jobs.retrieve("ftjob-1"))


@pytest.mark.timeout(30)
def test_a_drip_ends_by_its_deadline_while_15_other_clients_drip(mode: str) -> None:
    warm_up(mode)
    with HostileServer(drip_body) as server:
        results = at_once(mode, server.base_url, CLIENTS)
        longest = max(took for took, _ in results)
    print(f"{mode}: {CLIENTS} drips at once, {DEADLINE:g}s deadline: the longest ended after {longest:.2f}s")
    assert len(results) == CLIENTS
    assert all(isinstance(raised, APITimeoutError) for _, raised in results), results
    assert all("deadline" in str(raised) for _, raised in results)
    assert longest < DEADLINE + SLACK, f"a drip held {longest:.2f}s against a {DEADLINE:g}s deadline"
    assert longest < MAX_DRIP


def test_a_drip_ends_by_its_deadline_alone() -> None:
    warm_up("sync")
    with HostileServer(drip_body) as server:
        took, raised = one_sync(server.base_url)
    print(f"sync: one drip against a {DEADLINE:g}s deadline ended after {took:.2f}s")
    assert isinstance(raised, APITimeoutError), raised
    assert took < DEADLINE + SLACK


def test_the_deadline_bounds_each_attempt(mode: str) -> None:
    """With one retry a dripping server gets two attempts, each ended by the deadline, and a pause
    (0.25 to 0.5 s: the first backoff) in between."""
    deadline = 0.5
    with HostileServer(drip_body) as server:
        took, raised = timed(
            lambda: call(
                mode, server.base_url, lambda c: c.jobs.retrieve("ftjob-1"), deadline=deadline, max_retries=1
            )
        )
        sent = len(server.requests)
    assert isinstance(raised, APITimeoutError), raised
    assert sent == 2 and raised.attempts == 2
    assert 2 * deadline + 0.25 <= took < 2 * deadline + 0.5 + SLACK, f"{took:.2f}s"
