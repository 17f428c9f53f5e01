"""A chain of codings (``Content-Encoding: gzip, gzip``) cannot get past the answer cap: each coding
shrinks a bomb about a thousandfold, so a few KiB on the wire inflate to GiBs. The SDK inflates every
coding of a chain in bounded steps, refuses chains longer than ``MAX_CODINGS`` and codings it did not ask
for, and the cap (``max_answer_bytes``, decoded) holds, for an answer and for a chat stream alike.

The bombs are read in a process of their own, its address space limited, so that its peak resident
memory is its own and a decoder that inflates a whole coding at once fails there (``MemoryError``), not in
the test runner. The figures are printed (``pytest -s``).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import cast

import orjson
import pytest

from finetune_sdk import APIResponseValidationError

from .conftest import MODEL, call
from .hostile import Conn, HostileServer, Request, encoded, gzip_bomb, head, job, sse_event, text_chunk

MB = 1 << 20
#: What each bomb inflates to; far past the 32 MiB cap, and past what the child may allocate.
INFLATED = 2048 * MB
#: The most the child's peak resident memory may grow by while it reads every bomb of a kind, in MiB: an
#: answer is held to the 32 MiB cap (its pieces, then their join); a stream's line buffer to the same cap,
#: copied a few times as a line grows (the cost of a cap-sized line, not of the bomb: inflated whole it
#: would be 2048).
GROWTH_BOUND_MIB = {"json": 100, "sse": 150}

# Run with the root of the tree as the working directory, so that the SDK under test is the tree's own.
CHILD = textwrap.dedent(
    """
    import json, resource, sys
    import anyio
    from finetune_sdk import AsyncClient, Client
    from tests.reliability.hostile import HostileServer, head, job, json_answer, sse_event, text_chunk

    bomb = open(sys.argv[1], "rb").read()
    encoding, kind = sys.argv[2], sys.argv[3]

    def status(field):  # this process's own figures, in MiB
        with open("/proc/self/status") as lines:
            return int(next(x for x in lines if x.startswith(field + ":")).split()[1]) // 1024

    def handler(request, conn):
        if "warm" in request.path or b"warm" in request.body:  # a normal answer, to load every module
            if kind == "json":
                return conn.send(json_answer(200, job()))
            body = sse_event(text_chunk("hi", finish="stop")) + sse_event("[DONE]")
            return conn.send(head(content_type="text/event-stream", content_length=len(body)) + body)
        content_type = "application/json" if kind == "json" else "text/event-stream"
        return conn.send(
            head(content_type=content_type, content_length=len(bomb), content_encoding=encoding) + bomb
        )

    def action(client, what):
        if kind == "json":
            return client.jobs.retrieve("ftjob-" + what)
        return client.chat("m", what).read()

    async def in_async(base_url, what):
        async with AsyncClient(api_key="k", base_url=base_url, max_retries=0) as client:
            return await action(client, what)

    def once(mode, base_url, what):
        if mode == "sync":
            with Client(api_key="k", base_url=base_url, max_retries=0) as client:
                return action(client, what)
        return anyio.run(in_async, base_url, what, backend=mode)

    modes = ["sync", "asyncio", "trio"]
    with HostileServer(handler) as server:
        for mode in modes:
            once(mode, server.base_url, "warm")
        before = status("VmHWM")
        # A decoder that inflates a whole coding at once fails here rather than taking the machine.
        room = (status("VmSize") + 1536) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (room, resource.getrlimit(resource.RLIMIT_AS)[1]))
        outcomes = {}
        for mode in modes:
            try:
                once(mode, server.base_url, "bomb")
                outcomes[mode] = "no error"
            except BaseException as exc:
                outcomes[mode] = type(exc).__name__ + ": " + str(exc)[:160]
        after = status("VmHWM")
    print(json.dumps({"before": before, "after": after, "outcomes": outcomes}))
    """
)


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The inner bombs, made once: a JSON answer and an event stream's endless first line, each as gzip
    and as deflate."""
    folder = tmp_path_factory.mktemp("bombs")
    made: dict[str, Path] = {}
    for kind, prefix in (("json", b'{"id": "'), ("sse", b"data: ")):
        for coding in ("gzip", "deflate"):
            path = folder / f"{kind}-{coding}"
            path.write_bytes(gzip_bomb(INFLATED, prefix, coding=coding))
            made[f"{kind}-{coding}"] = path
    return made


def read_bomb(path: Path, encoding: str, kind: str) -> dict[str, object]:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), encoding, kind],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=100,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = orjson.loads(done.stdout.splitlines()[-1])
    return result


CHAINS = [("gzip", "gzip"), ("deflate", "deflate")]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak from /proc")
@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", ["json", "sse"], ids=["answer", "chat-stream"])
@pytest.mark.parametrize("chain", CHAINS, ids=", ".join)
def test_a_nested_bomb_stops_at_the_cap_with_flat_memory(
    bombs: dict[str, Path], tmp_path: Path, chain: tuple[str, str], kind: str
) -> None:
    """2 GiB behind two codings, about 5 KiB on the wire, read by the sync client and the async one
    (asyncio and trio) with the default 32 MiB cap."""
    inner, outer = chain
    wire = encoded(bombs[f"{kind}-{inner}"].read_bytes(), outer)
    path = tmp_path / "bomb"
    path.write_bytes(wire)
    result = read_bomb(path, f"{inner}, {outer}", kind)
    before, after = int(str(result["before"])), int(str(result["after"]))
    print(
        f"{kind} Content-Encoding: {inner}, {outer}: {len(wire)} bytes on the wire, {INFLATED // MB} MiB "
        f"inflated; peak RSS {before} MiB -> {after} MiB; {result['outcomes']}"
    )
    outcomes = result["outcomes"]
    assert isinstance(outcomes, dict)
    for mode, outcome in cast("dict[str, str]", outcomes).items():
        assert str(outcome).startswith("ResponseTooLargeError: "), (mode, outcome)
        assert "33554432 bytes" in str(outcome), (mode, outcome)
    assert after - before < GROWTH_BOUND_MIB[kind], f"peak RSS grew by {after - before} MiB"


def coded_server(encoding: str, body: bytes, content_type: str = "application/json") -> HostileServer:
    def handler(request: Request, conn: Conn) -> bool:
        return conn.send(
            head(content_type=content_type, content_length=len(body), content_encoding=encoding) + body
        )

    return HostileServer(handler)


@pytest.mark.parametrize(
    "chain", [("gzip", "gzip"), ("deflate", "deflate"), ("gzip", "deflate", "gzip", "deflate")], ids=", ".join
)
def test_a_small_answer_behind_a_chain_is_read(mode: str, chain: tuple[str, ...]) -> None:
    body = encoded(orjson.dumps(job(id="ftjob-nested")), *chain)
    with coded_server(", ".join(chain), body) as server:
        found = call(mode, server.base_url, lambda c: c.jobs.retrieve("ftjob-nested"))
    assert found.id == "ftjob-nested"


def test_a_chat_stream_behind_a_chain_is_read(mode: str) -> None:
    words = [f"w{i} " for i in range(50)]
    events = b"".join(sse_event(text_chunk(w)) for w in words)
    events += sse_event(text_chunk(finish="stop")) + sse_event("[DONE]")
    body = encoded(events, "gzip", "gzip")
    with coded_server("gzip, gzip", body, "text/event-stream") as server:
        text = call(mode, server.base_url, lambda c: c.chat(MODEL, "hi").read())
    assert text == "".join(words)


@pytest.mark.parametrize(
    ("encoding", "says"),
    [
        ("gzip, gzip, gzip, gzip, gzip", "at most 4"),
        ("br", "br is not one the SDK asked for"),
        ("gzip, zstd", "zstd is not one the SDK asked for"),
    ],
)
def test_a_chain_too_long_or_a_coding_not_asked_for_is_refused(mode: str, encoding: str, says: str) -> None:
    codings = [c.strip() for c in encoding.split(",")]
    body = encoded(orjson.dumps(job()), *(c for c in codings if c in ("gzip", "deflate")))
    with coded_server(encoding, body) as server, pytest.raises(APIResponseValidationError) as info:
        call(mode, server.base_url, lambda c: c.jobs.retrieve("ftjob-1"))
    assert says in str(info.value)
    assert info.value.status_code == 200


def test_the_sdk_asks_only_for_codings_it_inflates_itself(mode: str) -> None:
    with coded_server("", orjson.dumps(job())) as server:
        call(mode, server.base_url, lambda c: c.jobs.retrieve("ftjob-1"))
        sent = server.requests[0].headers["accept-encoding"]
    assert {c.strip() for c in sent.split(",")} == {"gzip", "deflate"}
