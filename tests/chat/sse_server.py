"""A raw HTTP/1.1 server on 127.0.0.1 that answers with canned bytes: third-party SSE quirks on demand.

A real server (sockets, a thread per connection, keep-alive, chunked bodies) rather than a mock transport,
so the SDK's real httpx path is exercised: partial reads, a connection cut in the middle of a chunked
body, connection reuse. Each request is answered by ``respond(request) -> Reply``.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import orjson

Part = bytes | float | threading.Event
"""bytes are sent as one chunk; a float sleeps that long; an Event is waited for (max 10 s)."""


@dataclasses.dataclass
class Reply:
    status: int = 200
    parts: Sequence[Part] = ()
    content_type: str = "text/event-stream"
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    abort: bool = False
    """Close the connection without ending the chunked body: a stream broken midway."""
    waited: list[bool] = dataclasses.field(default_factory=list)
    """For each Event part: whether it was set in time (False: the 10 s wait ran out)."""


@dataclasses.dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


def sse(*events: object, crlf: bool = False) -> bytes:
    """``data:`` events; dicts are JSON-encoded, strings sent as they are."""
    end = b"\r\n" if crlf else b"\n"
    out = b""
    for event in events:
        data = event.encode() if isinstance(event, str) else orjson.dumps(event)
        out += b"data: " + data + end + end
    return out


def chunk(
    content: str | None = None, *, finish: str | None = None, index: int = 0, **delta: Any
) -> dict[str, Any]:
    """One ``chat.completion.chunk`` with one choice."""
    if content is not None:
        delta["content"] = content
    choice = {"index": index, "delta": delta, "finish_reason": finish}
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "m", "choices": [choice]}


def usage_chunk(prompt: int = 7, completion: int = 3) -> dict[str, Any]:
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": "m",
        "choices": [],
        "usage": usage,
    }


def standard_stream(words: Sequence[str] = ("Hel", "lo", " there"), *, usage: bool = True) -> bytes:
    """What a well-behaved OpenAI-compatible server sends."""
    events: list[object] = [chunk(role="assistant", content=""), *(chunk(w) for w in words)]
    events.append(chunk(finish="stop"))
    if usage:
        events.append(usage_chunk())
    events.append("[DONE]")
    return sse(*events)


class RawServer:
    """``with RawServer(respond) as server:`` serves on ``server.base_url`` (ending in ``/v1``)."""

    def __init__(self, respond: Callable[[Request], Reply]) -> None:
        self.respond = respond
        self.requests: list[Request] = []
        self.connections = 0
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._stop = False
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> RawServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop = True
        self._sock.close()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = _Reader(conn)
        try:
            while True:
                request = reader.request()
                if request is None:
                    return
                self.requests.append(request)
                reply = self.respond(request)
                if not _send(conn, reply):
                    return
        except OSError:
            return
        finally:
            conn.close()


class _Reader:
    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.buffer = b""

    def _fill(self) -> bool:
        data = self.conn.recv(65536)
        self.buffer += data
        return bool(data)

    def request(self) -> Request | None:
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                return None
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            if not self._fill():
                return None
        raw, self.buffer = self.buffer[:length], self.buffer[length:]
        return Request(method, path, headers, orjson.loads(raw) if raw else None)


def _parts(reply: Reply) -> Iterator[bytes | None]:
    """The body's pieces; None after a wait (the caller sends nothing then)."""
    for part in reply.parts:
        if isinstance(part, bytes):
            yield part
        elif isinstance(part, threading.Event):
            reply.waited.append(part.wait(10))
            yield None
        else:
            threading.Event().wait(part)
            yield None


def _send(conn: socket.socket, reply: Reply) -> bool:
    """Send one answer; False when the connection must close afterwards."""
    head = (
        f"HTTP/1.1 {reply.status} X\r\ncontent-type: {reply.content_type}\r\ntransfer-encoding: chunked\r\n"
    )
    head += "".join(f"{k}: {v}\r\n" for k, v in reply.headers.items())
    conn.sendall(head.encode() + b"\r\n")
    for piece in _parts(reply):
        if piece:
            conn.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    if reply.abort:
        conn.shutdown(socket.SHUT_RDWR)
        return False
    conn.sendall(b"0\r\n\r\n")
    return True


def json_reply(status: int, body: object, **headers: str) -> Reply:
    return Reply(status=status, parts=[orjson.dumps(body)], content_type="application/json", headers=headers)
