"""Network streams bounded by the deadline of the work in progress.

httpcore takes a network backend (its public ``network_backend`` argument); these wrap the standard ones
so that every read and write gets at most the time left before the current deadline, and fails once it
has passed. The deadline is a context variable: an attempt sets its total deadline around the whole
request (:func:`deadline_scope`), a stream reader its idle deadline around each read; the sooner one
applies. Outside such a scope the streams behave as the standard ones do.
"""

from __future__ import annotations

import contextlib
import contextvars
import ssl
from collections.abc import Generator, Iterable
from typing import Any, Final, cast

import httpcore

from .._core.durations import Deadline

__all__ = [
    "AsyncDeadlineBackend",
    "DeadlineBackend",
    "current_deadline",
    "deadline_scope",
    "enter_deadline",
    "leave_deadline",
]

_current: Final[contextvars.ContextVar[Deadline | None]] = contextvars.ContextVar(
    "finetune_sdk_deadline", default=None
)


def current_deadline() -> Deadline | None:
    """The deadline of the I/O in progress here (None outside the SDK's calls)."""
    return _current.get()


def enter_deadline(deadline: Deadline) -> contextvars.Token[Deadline | None]:
    """Make ``deadline`` (or an enclosing sooner one) bound the reads and writes from here on; undo with
    :func:`leave_deadline` (the form for a hot loop, where a context manager costs too much)."""
    return _current.set(deadline.sooner(_current.get()))


def leave_deadline(token: contextvars.Token[Deadline | None]) -> None:
    _current.reset(token)


@contextlib.contextmanager
def deadline_scope(deadline: Deadline) -> Generator[None, None, None]:
    """Bound the reads and writes of the block by ``deadline`` (an enclosing sooner deadline still
    applies)."""
    token = enter_deadline(deadline)
    try:
        yield
    finally:
        _current.reset(token)


def _time_left(timeout: float | None) -> float | None:
    deadline = _current.get()
    if deadline is None or deadline.at is None:
        return timeout
    left = deadline.left()
    if left is None:
        return timeout
    if left <= 0:
        raise httpcore.ReadTimeout(f"the {deadline.what} has passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    """A network stream whose every read and write ends by the current deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _time_left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _time_left(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _time_left(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's sync backend, its streams bounded by the current deadline."""

    def __init__(self, inner: httpcore.NetworkBackend | None = None) -> None:
        self._inner = inner if inner is not None else httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(
            self._inner.connect_tcp(host, port, _time_left(timeout), local_address, socket_options)
        )

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _AsyncStream(httpcore.AsyncNetworkStream):
    """An async network stream whose every read and write ends by the current deadline."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, _time_left(timeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, _time_left(timeout))

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        return _AsyncStream(await self._inner.start_tls(ssl_context, server_hostname, _time_left(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class AsyncDeadlineBackend(httpcore.AsyncNetworkBackend):
    """httpcore's anyio backend (asyncio or trio), its streams bounded by the current deadline."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        # httpcore declares a stand-in AnyIOBackend when anyio is missing; anyio is a dependency here.
        self._inner = (
            inner if inner is not None else cast(httpcore.AsyncNetworkBackend, httpcore.AnyIOBackend())
        )

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(host, port, _time_left(timeout), local_address, socket_options)
        return _AsyncStream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
