"""A deadline on every request head, so that slow or silent connections (slowloris) are closed.

uvicorn times out a connection that idles between requests (``timeout_keep_alive``) and h11 bounds the
size of a head, but nothing bounds how long a head may take to arrive: a client sending one byte every
few seconds keeps its connection, and its slot, forever. :func:`guarded_h11` wraps uvicorn's h11
protocol: from the moment a connection opens, and from the first byte after each answer, the head must
be complete (its blank line seen) within ``header_timeout`` seconds, or the connection is closed. The body
that follows a head is not timed here (an upload may be slow); the emulator answers only once the whole
body has been read, so the first byte after an answer starts the next head.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

_HEAD_ENDS = (b"\r\n\r\n", b"\n\n")
_INTERIM = b"HTTP/1.1 1"
"""The start of an interim answer (``100 Continue``): sent before the body, not an answer."""


class _Watched(asyncio.Transport):
    """The connection's transport, telling the guard when an answer starts going out."""

    def __init__(self, inner: asyncio.Transport, guard: _GuardedH11) -> None:
        super().__init__()
        self._inner = inner
        self._guard = guard

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not bytes(data[: len(_INTERIM)]).startswith(_INTERIM):
            self._guard.answered = True
        self._inner.write(data)

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def close(self) -> None:
        self._inner.close()

    def abort(self) -> None:
        self._inner.abort()

    def is_closing(self) -> bool:
        return self._inner.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._inner.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._inner.pause_reading()

    def resume_reading(self) -> None:
        self._inner.resume_reading()

    def is_reading(self) -> bool:
        return self._inner.is_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._inner.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._inner.get_protocol()

    def can_write_eof(self) -> bool:
        return self._inner.can_write_eof()

    def write_eof(self) -> None:
        self._inner.write_eof()

    def get_write_buffer_size(self) -> int:
        return self._inner.get_write_buffer_size()

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._inner.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._inner.set_write_buffer_limits(high, low)


class _GuardedH11(asyncio.Protocol):
    """uvicorn's h11 protocol behind a head deadline (see the module's doc)."""

    header_timeout: ClassVar[float] = 10.0

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._inner = H11Protocol(config=config, server_state=server_state, app_state=app_state, _loop=_loop)
        self._loop = _loop or asyncio.get_event_loop()
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._awaiting_head = True
        self._tail = b""
        self.answered = False

    def _arm(self) -> None:
        self._disarm()
        self._timer = self._loop.call_later(self.header_timeout, self._expire)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        if self._transport is not None and not self._transport.is_closing():
            self._transport.abort()  # nothing worth flushing: the client never finished asking

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._arm()
        self._inner.connection_made(_Watched(transport, self))

    def data_received(self, data: bytes) -> None:
        if not self._awaiting_head and self.answered:
            self._awaiting_head, self._tail, self.answered = True, b"", False
            self._arm()
        if self._awaiting_head:
            window = self._tail + data
            if any(end in window for end in _HEAD_ENDS):
                self._awaiting_head = False
                self._disarm()
            else:
                self._tail = window[-3:]
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        self._inner.eof_received()
        return None  # close the transport once the client has finished sending, as uvicorn does

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


def guarded_h11(header_timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol class, with a deadline of ``header_timeout`` seconds on each request head:
    give it to ``uvicorn.Config(http=...)``."""

    class GuardedH11(_GuardedH11):
        pass

    GuardedH11.header_timeout = header_timeout
    return GuardedH11
