"""Forked clients, each scenario run in a process of its own (``python -m tests.reliability.forking NAME
BASE_URL``, from the root of the tree) so that no thread of the test runner is copied into a fork. Each
prints one JSON line of figures for the test to check.

The server (:func:`echo`) answers every request with what is unique to it: a job whose id is the one the
URL asked for, a chat reply whose deltas are the prompt numbered. An answer read by the wrong process
shows as an id or a delta that process never asked for.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson

from finetune_sdk import AsyncClient, Client

from .hostile import Conn, Request, head, job, json_answer, sse_event, text_chunk

KEY = "sk-forking-0123456789"
MODEL = "Qwen/Qwen2.5-7B-Instruct"
#: Deltas per chat reply.
DELTAS = 40
#: A scenario stops counting after this many failed calls (each may wait for the timeout) or seconds.
MAX_FAILED = 5
MAX_SECONDS = 20.0
#: Seconds a call may take: an answer taken by the other process leaves this one waiting.
TIMEOUT = 2.0


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def expected_reply(tag: str) -> str:
    return "".join(f"{tag}:{i} " for i in range(DELTAS))


def echo(request: Request, conn: Conn) -> bool:
    """A job with the id asked for; a chat reply of the prompt numbered, sent chunked over a few
    milliseconds; connections kept alive (what lets a forked pool share one)."""
    path = request.path.split("?")[0]
    if path.endswith("/chat/completions"):
        tag = orjson.loads(request.body)["messages"][-1]["content"]
        events = [sse_event(text_chunk(f"{tag}:{i} ")) for i in range(DELTAS)]
        events += [sse_event(text_chunk(finish="stop")), sse_event("[DONE]")]
        if not conn.send(head(content_type="text/event-stream", transfer_encoding="chunked")):
            return False
        conn.drip([_chunk(event) for event in events] + [b"0\r\n\r\n"], every=0.001)
        return True
    return conn.send(json_answer(200, job(id=path.rsplit("/", 1)[-1])))


class Tally:
    """Calls made, answers that were another call's, calls that failed (and how)."""

    def __init__(self) -> None:
        self.done = 0
        self.crossed = 0
        self.failed = 0
        self.errors: set[str] = set()
        self.started = time.monotonic()

    def going(self) -> bool:
        return self.failed < MAX_FAILED and time.monotonic() - self.started < MAX_SECONDS

    def failure(self, exc: BaseException) -> None:
        self.failed += 1
        self.errors.add(f"{type(exc).__name__}: {str(exc)[:120]}")

    def figures(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "crossed": self.crossed,
            "failed": self.failed,
            "errors": sorted(self.errors),
        }


def _retrieve_all(client: Client, role: str, calls: int) -> dict[str, Any]:
    tally = Tally()
    for i in range(calls):
        if not tally.going():
            break
        asked = f"ftjob-{role}-{i}"
        try:
            got = client.jobs.retrieve(asked).id
        except Exception as exc:
            tally.failure(exc)
            continue
        tally.done += 1
        tally.crossed += got != asked
    return tally.figures()


async def _aretrieve_all(client: AsyncClient, role: str, calls: int) -> dict[str, Any]:
    tally = Tally()
    for i in range(calls):
        if not tally.going():
            break
        asked = f"ftjob-{role}-{i}"
        try:
            got = (await client.jobs.retrieve(asked)).id
        except Exception as exc:
            tally.failure(exc)
            continue
        tally.done += 1
        tally.crossed += got != asked
    return tally.figures()


def _in_child(work: Callable[[], dict[str, Any]], start_at: float = 0.0) -> tuple[int, int]:
    """Fork; the child runs ``work`` (from the time ``start_at``) and sends its figures up a pipe, then
    exits (never returns)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            _sleep_until(start_at)
            figures = work()
        except BaseException as exc:
            figures = {"raised": f"{type(exc).__name__}: {exc}"}
        os.write(write, orjson.dumps(figures))
        os._exit(0)
    os.close(write)
    return pid, read


def _sleep_until(when: float) -> None:
    """Parent and child start their calls together (``time.time`` is the same clock in both)."""
    time.sleep(max(0.0, when - time.time()))


def _collect(pid: int, read: int) -> dict[str, Any]:
    data = b""
    while piece := os.read(read, 65536):
        data += piece
    os.close(read)
    os.waitpid(pid, 0)
    return orjson.loads(data) if data else {"raised": "the child sent nothing"}


def crossed_sync(base_url: str, calls: int) -> dict[str, Any]:
    """One call, a fork, then ``calls`` calls in the parent and the child at once."""
    client = Client(api_key=KEY, base_url=base_url, max_retries=0, timeout=TIMEOUT)
    client.jobs.retrieve("ftjob-before-fork")  # the pool now keeps a connection alive
    start_at = time.time() + 0.2
    child = _in_child(lambda: _retrieve_all(client, "child", calls), start_at)
    _sleep_until(start_at)
    parent = _retrieve_all(client, "parent", calls)
    figures = {"parent": parent, "child": _collect(*child)}
    client.close()
    return figures


def crossed_async(base_url: str, calls: int) -> dict[str, Any]:
    """:func:`crossed_sync` with an ``AsyncClient``: first used on one event loop, then on a new one in
    each process."""
    client = AsyncClient(api_key=KEY, base_url=base_url, max_retries=0, timeout=TIMEOUT)

    async def first() -> None:
        await client.jobs.retrieve("ftjob-before-fork")

    asyncio.run(first())
    start_at = time.time() + 0.2
    child = _in_child(lambda: asyncio.run(_aretrieve_all(client, "child", calls)), start_at)
    _sleep_until(start_at)
    parent = asyncio.run(_aretrieve_all(client, "parent", calls))
    figures = {"parent": parent, "child": _collect(*child)}
    asyncio.run(client.aclose())
    return figures


def _relay(client: Client, tag: str) -> str:
    """The text a browser would get from the relay of one chat reply; an error frame raises."""
    text = ""
    for frame in client.chat(MODEL, tag).sse():
        for event in frame.split(b"\n\n"):
            if not event.startswith(b"data: ") or event == b"data: [DONE]":
                continue
            data = orjson.loads(event[6:])
            if "error" in data:
                raise RuntimeError(f"relayed error: {data['error']}")
            for choice in data.get("choices", []):
                text += choice.get("delta", {}).get("content") or ""
    return text


def preload_relay(base_url: str, workers: int, replies: int) -> dict[str, Any]:
    """gunicorn ``--preload``: the app's module makes a client and uses it, then the master forks the
    workers, which relay chat replies at the same time."""
    client = Client(api_key=KEY, base_url=base_url, max_retries=0, timeout=TIMEOUT)
    assert _relay(client, "warm") == expected_reply("warm")  # used at import: a connection kept alive

    def worker(number: int) -> dict[str, Any]:
        tally = Tally()
        for reply in range(replies):
            tag = f"w{number}r{reply}"
            try:
                text = _relay(client, tag)
            except Exception as exc:
                tally.failure(exc)
                continue
            tally.done += 1
            tally.crossed += text != expected_reply(tag)
        return tally.figures()

    start_at = time.time() + 0.2
    children = [_in_child(functools.partial(worker, number), start_at) for number in range(workers)]
    figures = {f"worker {number}": _collect(*child) for number, child in enumerate(children)}
    client.close()
    return figures


SCENARIOS: dict[str, Callable[..., dict[str, Any]]] = {
    "crossed_sync": crossed_sync,
    "crossed_async": crossed_async,
    "preload_relay": preload_relay,
}


if __name__ == "__main__":
    name, base_url, *numbers = sys.argv[1:]
    print(orjson.dumps(SCENARIOS[name](base_url, *map(int, numbers))).decode())
