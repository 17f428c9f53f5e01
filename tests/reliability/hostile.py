"""A hostile HTTP server on 127.0.0.1 for reliability tests: each request is answered by a handler that
writes whatever bytes it likes, as slowly as it likes (dripping headers, bodies, keep-alive comments),
or bombs (a gzip answer inflating far past its size on the wire).

Bounded: every handler's drip stops when the server closes (``stop`` is set) or after ``MAX_DRIP``
seconds, threads are daemons, and the server counts requests so a test can assert none was sent.
"""

from __future__ import annotations

import dataclasses
import select
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterable

import orjson

#: The longest any drip lasts, whatever the client does (the tests expect the client to stop far sooner).
MAX_DRIP = 8.0


@dataclasses.dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclasses.dataclass
class Conn:
    """What a handler writes to: ``send`` raw bytes, ``drip`` them one by one, ``stopped`` to end."""

    sock: socket.socket
    stop: threading.Event

    def send(self, data: bytes) -> bool:
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        return True

    def drip(self, data: bytes | Iterable[bytes], every: float = 0.05) -> float:
        """Send ``data`` a byte (or a piece) at a time, ``every`` seconds apart, until done, the client
        hangs up, the server stops or ``MAX_DRIP`` passes; returns how long it dripped."""
        started = time.monotonic()
        pieces = [data[i : i + 1] for i in range(len(data))] if isinstance(data, bytes) else data
        for piece in pieces:
            if self.stop.is_set() or time.monotonic() - started > MAX_DRIP or not self.send(piece):
                break
            self.stop.wait(every)
        return time.monotonic() - started


Handler = Callable[[Request, Conn], bool | None]
"""Answers one request; returns True to keep the connection for another request."""


class HostileServer:
    """``with HostileServer(handler) as server:`` serves on ``server.base_url`` (ending in ``/v1``)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self.stop = threading.Event()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(512)  # bursts of connections (hundreds of calls at once) are not dropped
        self._sock.settimeout(0.05)  # so that the accepting thread sees ``stop`` soon
        self.base_url = f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1"
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> HostileServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self._sock.close()
        for thread in self._threads:
            thread.join(MAX_DRIP + 2)

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(MAX_DRIP)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = b""
        try:
            while not self.stop.is_set():
                while b"\r\n\r\n" not in buffer:
                    data = _recv(sock, self.stop)
                    if not data:
                        return
                    buffer += data
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines[1:])}
                length = int(headers.get("content-length", "0"))
                while len(buffer) < length:
                    data = _recv(sock, self.stop)
                    if not data:
                        return
                    buffer += data
                body, buffer = buffer[:length], buffer[length:]
                request = Request(method, path, headers, body)
                self.requests.append(request)
                if not self.handler(request, Conn(sock, self.stop)):
                    return
        except OSError:
            return
        finally:
            sock.close()


def _recv(sock: socket.socket, stop: threading.Event) -> bytes:
    """The next bytes from the client; empty once it hung up or the server stops."""
    while not stop.is_set():
        if select.select([sock], [], [], 0.05)[0]:
            return sock.recv(65536)
    return b""


def head(status: int = 200, content_type: str | int = "application/json", **headers: str | int) -> bytes:
    """A response head; ``content_length=`` or ``transfer_encoding=`` etc. as keywords."""
    lines = [f"HTTP/1.1 {status} X", f"content-type: {content_type}"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def json_answer(status: int, body: object, **headers: str | int) -> bytes:
    data = orjson.dumps(body)
    return head(status, content_length=len(data), **headers) + data


def gzip_bomb(inflated: int, prefix: bytes = b'{"id": "', coding: str = "gzip") -> bytes:
    """A valid gzip body (``coding="deflate"``: zlib-wrapped deflate) of ``prefix`` and then ``0``
    digits, about ``inflated`` bytes in all (whole MiB), about a thousandth of that on the wire.

    Made fast: after a full flush the compressor forgets what came before, so every MiB of zeros
    compresses to the same bytes; those are repeated, and the trailer's checksum and size written for
    the whole.
    """
    block = b"0" * (1 << 20)
    blocks = max(1, (inflated - len(prefix)) >> 20)
    gzip = coding == "gzip"
    packer = zlib.compressobj(9, zlib.DEFLATED, 31 if gzip else 15)
    start = packer.compress(prefix) + packer.flush(zlib.Z_FULL_FLUSH)
    unit = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    end = packer.flush()
    check = zlib.crc32 if gzip else zlib.adler32
    total = check(prefix)
    for _ in range(blocks):
        total = check(block, total)
    if not gzip:
        return start + unit * blocks + end[:-4] + struct.pack(">I", total)
    size = (len(prefix) + blocks * len(block)) & 0xFFFFFFFF
    return start + unit * blocks + end[:-8] + struct.pack("<II", total, size)


def encoded(data: bytes, *codings: str) -> bytes:
    """``data`` with each coding applied in turn (``gzip`` or ``deflate``), as ``Content-Encoding:
    <codings in that order>`` says; a bomb wrapped once more shrinks about a thousandfold again."""
    for coding in codings:
        if coding == "gzip":
            packer = zlib.compressobj(9, zlib.DEFLATED, 31)
            data = packer.compress(data) + packer.flush()
        else:
            data = zlib.compress(data, 9)
    return data


def job(status: str = "running", **fields: object) -> dict[str, object]:
    """A fine-tuning job as the platform sends it."""
    return {
        "id": "ftjob-1",
        "object": "fine_tuning.job",
        "model": "Qwen/Qwen2.5-7B-Instruct",
        "created_at": 1700000000,
        "status": status,
        "training_file": "file-1",
        **fields,
    }


def sse_event(data: object) -> bytes:
    raw = data.encode() if isinstance(data, str) else orjson.dumps(data)
    return b"data: " + raw + b"\n\n"


def text_chunk(content: str | None = None, finish: str | None = None) -> dict[str, object]:
    delta = {"content": content} if content is not None else {}
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return {"id": "c1", "object": "chat.completion.chunk", "model": "m", "choices": [choice]}


#: The commands that print what :func:`tainted_platform` sends (its job, events, files, a chat reply,
#: and a 404 for ``file-2``).
TAINTED_COMMANDS = [
    ["jobs", "get", "ftjob-1"],
    ["jobs", "get", "--json", "ftjob-1"],
    ["jobs", "list"],
    ["jobs", "events", "ftjob-1"],
    ["files", "list"],
    ["files", "get", "file-1"],
    ["files", "get", "file-2"],
    ["chat", "-m", "m", "hello"],
]


def tainted_platform(text: str, filename: str) -> HostileServer:
    """A platform whose every string carries ``text`` (a terminal escape, a bidi control ...): a job (its
    status, models, error and metadata), its events, a chat reply, the file ``file-1`` named
    ``filename``, and a 404 naming ``text`` for any other file."""
    tainted_job = job(
        f"running{text}",
        model=f"Qwen{text}",
        fine_tuned_model=f"ft:{text}",
        suffix=f"s{text}",
        error={"code": f"c{text}", "message": f"m{text}"},
        metadata={f"k{text}": f"v{text}"},
    )
    file = {"id": "file-1", "object": "file", "bytes": 1, "created_at": 1, "filename": filename}
    event = {
        "id": "ev-1",
        "object": "fine_tuning.job.event",
        "created_at": 1,
        "level": "info",
        "message": text,
    }

    def handler(request: Request, conn: Conn) -> bool:
        path = request.path.split("?")[0]
        if path.endswith("/chat/completions"):
            body = (
                sse_event(text_chunk(f"hi{text}"))
                + sse_event(text_chunk(finish="stop"))
                + sse_event("[DONE]")
            )
            return conn.send(head(content_type="text/event-stream", content_length=len(body)) + body)
        if path.endswith("/events"):
            return conn.send(json_answer(200, {"object": "list", "data": [event], "has_more": False}))
        if path.endswith("/fine_tuning/jobs"):
            return conn.send(json_answer(200, {"object": "list", "data": [tainted_job], "has_more": False}))
        if path.endswith("/files"):
            return conn.send(json_answer(200, {"object": "list", "data": [file], "has_more": False}))
        if path.endswith("/files/file-1"):
            return conn.send(json_answer(200, file))
        if "/files/" in path:
            return conn.send(json_answer(404, {"error": {"message": f"no such file {text}", "code": text}}))
        return conn.send(json_answer(200, tainted_job))

    return HostileServer(handler)
