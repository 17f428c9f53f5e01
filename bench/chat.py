"""Benchmark ``client.chat()`` against raw httpx line reading with orjson, and against the official client.

    python bench/chat.py                 # 200-chunk stream, 300 rounds
    python bench/chat.py --chunks 1000 --rounds 100

A minimal HTTP/1.1 server on 127.0.0.1 (sockets, in a child process, so it takes no GIL from the readers)
answers every request with the same canned SSE body, prepared once, so the server's own cost stays small
and equal for all readers. Each reader
consumes the whole stream through its own keep-alive connection; each runs in blocks of consecutive
streams (a relay's steady state), the readers' blocks in alternation, and the figure is the median over
all its streams (ms per stream) plus the median time to the first delta:

- ``raw httpx+orjson``: ``httpx.Client.stream`` + ``iter_lines`` + ``orjson.loads`` on each ``data:``
  line: the floor for a reader that still uses httpx. Goal: ``chat()`` within 1.15x of it.
- ``httpx-sse+orjson``: ``EventSource.iter_sse`` + ``orjson.loads``: the parsing ``chat()`` is built on.
- ``openai``: ``OpenAI.chat.completions.create(stream=True)``. Goal: ``chat()`` at least 4x faster.
"""

from __future__ import annotations

import argparse
import gc
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import orjson
from httpx_sse import EventSource

from finetune_sdk import Client

MODEL = "Qwen/Qwen2.5-7B-Instruct"
KEY = "sk-bench"
MESSAGES = [{"role": "user", "content": "Tell me a story."}]


def sse_body(chunks: int) -> bytes:
    """A stream like the platform's: role chunk, ``chunks`` deltas, finish, usage, ``[DONE]``."""
    head = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 0, "model": MODEL}

    def event(choices: list[object], **extra: object) -> bytes:
        return b"data: " + orjson.dumps({**head, "choices": choices, **extra}) + b"\n\n"

    def choice(delta: dict[str, str], finish: str | None = None) -> dict[str, object]:
        return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}

    out = [event([choice({"role": "assistant", "content": ""})])]
    out += [event([choice({"content": f"word{i} "})]) for i in range(chunks)]
    out.append(event([choice({}, "stop")]))
    out.append(
        event([], usage={"prompt_tokens": 12, "completion_tokens": chunks, "total_tokens": 12 + chunks})
    )
    out.append(b"data: [DONE]\n\n")
    return b"".join(out)


class CannedServer:
    """Answers every request on every keep-alive connection with the same response bytes.

    Run in its own process (``--serve``), so that its threads do not compete with the readers for the GIL.
    """

    def __init__(self, body: bytes) -> None:
        head = f"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {len(body)}\r\n\r\n"
        self.response = head.encode() + body
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def serve_forever(self) -> None:
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                buffer = buffer[length:]
                conn.sendall(self.response)


# A reader is a generator function: called, it sends one request and yields the content of every chunk.
Reader = Callable[[], Iterator["str | None"]]


def timed(reader: Reader) -> tuple[float, float, int]:
    """Consume one stream: (seconds in all, seconds to the first text, characters of text)."""
    start = time.perf_counter()
    first = 0.0
    n = 0
    for content in reader():
        if content:
            if not n:
                first = time.perf_counter() - start
            n += len(content)
    return time.perf_counter() - start, first, n


def chat_reader(base_url: str) -> Reader:
    client = Client(api_key=KEY, base_url=base_url)
    return lambda: iter(client.chat(MODEL, MESSAGES))  # type: ignore[arg-type]


def _raw_request(base_url: str) -> Callable[[], Any]:
    http = httpx.Client()
    body = {"model": MODEL, "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}}
    headers = {"Authorization": f"Bearer {KEY}"}
    return lambda: http.stream("POST", f"{base_url}/chat/completions", json=body, headers=headers)


def raw_reader(base_url: str) -> Reader:
    request = _raw_request(base_url)

    def read() -> Iterator[str | None]:
        with request() as response:
            for line in response.iter_lines():
                if not line.startswith("data: "):
                    continue
                data = line[6:]
                if data == "[DONE]":
                    break
                choices = orjson.loads(data)["choices"]
                if choices:
                    yield choices[0]["delta"].get("content")

    return read


def sse_reader(base_url: str) -> Reader:
    request = _raw_request(base_url)

    def read() -> Iterator[str | None]:
        with request() as response:
            for sse in EventSource(response).iter_sse():
                if sse.data == "[DONE]":
                    break
                choices = orjson.loads(sse.data)["choices"]
                if choices:
                    yield choices[0]["delta"].get("content")

    return read


def openai_reader(base_url: str) -> Reader:
    client = openai.OpenAI(api_key=KEY, base_url=base_url, max_retries=0)

    def read() -> Iterator[str | None]:
        stream = client.chat.completions.create(
            model=MODEL,
            messages=MESSAGES,  # type: ignore[arg-type]
            stream=True,
            stream_options={"include_usage": True},
        )
        for chunk in stream:
            if chunk.choices:
                yield chunk.choices[0].delta.content

    return read


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chunks", type=int, default=200, help="text deltas per stream (default 200)")
    parser.add_argument("--rounds", type=int, default=300, help="streams per reader (default 300)")
    parser.add_argument("--blocks", type=int, default=10, help="alternating blocks per reader (default 10)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve:
        server = CannedServer(sse_body(args.chunks))
        print(server.port, flush=True)
        server.serve_forever()
        return
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--chunks", str(args.chunks)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        run(args, f"http://127.0.0.1:{int(child.stdout.readline())}/v1")
    finally:
        child.kill()


def run(args: argparse.Namespace, base_url: str) -> None:
    readers = {
        "chat()": chat_reader(base_url),
        "raw httpx+orjson": raw_reader(base_url),
        "httpx-sse+orjson": sse_reader(base_url),
        "openai": openai_reader(base_url),
    }
    totals: dict[str, list[float]] = {name: [] for name in readers}
    firsts: dict[str, list[float]] = {name: [] for name in readers}
    lengths = {name: timed(read)[2] for name, read in readers.items()}  # warm up: connections, imports
    assert len(set(lengths.values())) == 1, f"readers disagree on the text: {lengths}"
    # Blocks of consecutive streams per reader (a relay's steady state: the same code path, warm), the
    # readers' blocks in alternation so that drift on a busy machine hits each alike. Between blocks the
    # collector is emptied (untimed): the official client's garbage is collected in its own blocks.
    block = max(1, args.rounds // args.blocks)
    for _ in range(args.blocks):
        for name, read in readers.items():
            gc.collect()
            for _ in range(block):
                total, first, _n = timed(read)
                totals[name].append(total)
                firsts[name].append(first)

    ms = {name: statistics.median(values) * 1000 for name, values in totals.items()}
    first_ms = {name: statistics.median(values) * 1000 for name, values in firsts.items()}
    print(
        f"{args.chunks} chunks per stream, {args.rounds} rounds, median ms per stream (time to first delta)"
    )
    for name in readers:
        print(f"  {name:<18} {ms[name]:7.2f} ms   first delta {first_ms[name]:6.2f} ms")
    per_chunk = {
        name: (ms[name] - ms["raw httpx+orjson"]) * 1000 / args.chunks for name in ("chat()", "openai")
    }
    ratio = ms["chat()"] / ms["raw httpx+orjson"]
    speedup = ms["openai"] / ms["chat()"]
    print(
        f"chat(): {ms['chat()']:.2f} ms/stream  raw httpx+orjson: {ms['raw httpx+orjson']:.2f} ms  "
        f"ratio {ratio:.2f}x (goal <= 1.15x)  openai: {ms['openai']:.2f} ms  "
        f"speedup {speedup:.1f}x (goal >= 4x)"
    )
    print(
        f"extra cost per chunk over the raw reader: chat() {per_chunk['chat()']:.1f} us, "
        f"openai {per_chunk['openai']:.1f} us"
    )


if __name__ == "__main__":
    main()
