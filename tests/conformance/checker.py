"""Check every answer a client receives against the platform's contract, through an httpx transport.

:class:`CheckingTransport` (sync) and :class:`AsyncCheckingTransport` wrap httpx's own transports with its
public API: each answer's bytes are passed on to the client untouched as they arrive, and checked once the
answer has been read whole: a JSON answer against its operation's schema (an error against
``ErrorResponse``), each ``data:`` event of a stream against ``CreateChatCompletionStreamResponse``, a
metrics file for its media type and columns. :class:`Checker` counts what was checked per schema and
keeps every problem.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from . import schema

BASE_PATH = "/v1"
METRICS_COLUMNS = ["step", "train_loss", "train_accuracy", "valid_loss", "valid_mean_token_accuracy"]


@dataclass
class Checker:
    """What the transports saw: answers checked per schema, and every problem found."""

    checked: Counter[str] = field(default_factory=Counter[str])
    problems: list[str] = field(default_factory=list[str])
    unread: int = 0
    """Answers closed before they were read whole (not checked)."""

    def _against(self, name: str, value: Any, where: str) -> None:
        self.checked[name] += 1
        self.problems += [f"{where} ({name}): {problem}" for problem in schema.errors(name, value)]

    def answer(self, request: httpx.Request, status: int, headers: httpx.Headers, body: bytes) -> None:
        """Check one answer, read whole."""
        path = request.url.path.removeprefix(BASE_PATH) if request.url.path.startswith(BASE_PATH) else None
        where = f"{request.method} {request.url.path} -> {status}"
        if path is None:
            self.checked["(not the API)"] += 1
            return
        if headers.get("content-encoding"):
            self.problems.append(f"{where}: an encoded answer ({headers['content-encoding']}) is not checked")
            return
        media = headers.get("content-type", "").split(";")[0].strip()
        if not 200 <= status < 300:
            self._against("ErrorResponse", self._json(body, where), where)
            return
        found = schema.operation(request.method, path)
        if found is None:
            self.problems.append(f"{where}: not an operation of OpenAI's document")
            return
        template, op = found
        if template == "/files/{file_id}/content":
            self._content(media, body, where)
            return
        if media == "text/event-stream":
            self._stream(op, body, where)
            return
        name = schema.answer_schema(op, "application/json")
        if media != "application/json" or name is None:
            self.problems.append(f"{where}: a {media or 'typeless'} answer where the document has JSON")
            return
        self._against(name, self._json(body, where), where)

    def _json(self, body: bytes, where: str) -> Any:
        try:
            return json.loads(body)
        except ValueError as exc:
            self.problems.append(f"{where}: not JSON ({exc})")
            return None

    def _stream(self, op: schema.Schema, body: bytes, where: str) -> None:
        name = schema.answer_schema(op, "text/event-stream")
        assert name is not None
        events = [line[5:].strip() for line in body.decode().splitlines() if line.startswith("data:")]
        if not events or events[-1] != "[DONE]":
            self.problems.append(f"{where}: a stream that does not end with data: [DONE]")
        for data in events:
            if data != "[DONE]":
                self._against(name, self._json(data.encode(), where), where)

    def _content(self, media: str, body: bytes, where: str) -> None:
        """The contract's difference for file contents: the bytes as stored; a metrics file is CSV."""
        if media == "application/octet-stream":
            self.checked["file content (bytes)"] += 1
            return
        self.checked["metrics file (text/csv)"] += 1
        if media != "text/csv":
            self.problems.append(f"{where}: a file content of type {media!r}")
            return
        rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
        if rows[0][: len(METRICS_COLUMNS)] != METRICS_COLUMNS:
            self.problems.append(f"{where}: metrics columns {rows[0]} do not start with OpenAI's")
        for number, row in enumerate(rows[1:], 2):
            if len(row) != len(rows[0]):
                self.problems.append(f"{where}: line {number} has {len(row)} cells")
            elif not row[0].isdigit() or any(cell and not _is_number(cell) for cell in row[1:]):
                self.problems.append(f"{where}: line {number} holds a value that is not a number: {row}")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class _Tee:
    """Collects an answer's bytes as they pass, and hands them to the checker once read whole."""

    def __init__(self, done: Callable[[bytes], None], checker: Checker) -> None:
        self._parts: list[bytes] = []
        self._done = done
        self._checker = checker
        self._complete = False
        self._reported = False

    def keep(self, chunk: bytes) -> bytes:
        self._parts.append(chunk)
        return chunk

    def finish(self) -> None:
        self._complete = True

    def report(self) -> None:
        if self._reported:
            return
        self._reported = True
        if self._complete:
            self._done(b"".join(self._parts))
        else:
            self._checker.unread += 1


class _SyncStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, tee: _Tee) -> None:
        self._inner = inner
        self._tee = tee

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            yield self._tee.keep(chunk)
        self._tee.finish()

    def close(self) -> None:
        self._inner.close()
        self._tee.report()


class _AsyncStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, tee: _Tee) -> None:
        self._inner = inner
        self._tee = tee

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield self._tee.keep(chunk)
        self._tee.finish()

    async def aclose(self) -> None:
        await self._inner.aclose()
        self._tee.report()


def _tee(checker: Checker, request: httpx.Request, response: httpx.Response) -> _Tee:
    status, headers = response.status_code, response.headers
    return _Tee(lambda body: checker.answer(request, status, headers, body), checker)


class CheckingTransport(httpx.BaseTransport):
    """httpx's transport, with every answer checked by ``checker``."""

    def __init__(self, checker: Checker, inner: httpx.BaseTransport | None = None) -> None:
        self.checker = checker
        self._inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        assert isinstance(response.stream, httpx.SyncByteStream)
        stream = _SyncStream(response.stream, _tee(self.checker, request, response))
        return httpx.Response(
            response.status_code, headers=response.headers, stream=stream, extensions=response.extensions
        )

    def close(self) -> None:
        self._inner.close()


class AsyncCheckingTransport(httpx.AsyncBaseTransport):
    """httpx's async transport, with every answer checked by ``checker``."""

    def __init__(self, checker: Checker, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.checker = checker
        self._inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        stream = _AsyncStream(response.stream, _tee(self.checker, request, response))
        return httpx.Response(
            response.status_code, headers=response.headers, stream=stream, extensions=response.extensions
        )

    async def aclose(self) -> None:
        await self._inner.aclose()
