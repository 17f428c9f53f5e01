"""The sync connection pool's network streams, bounded by the deadline of the attempt in progress.

:func:`~finetune_sdk._limits.install_deadline` wraps a pool's network backend in :class:`_DeadlineBackend`;
each read and write of its streams then gets at most the time left before the current deadline (set by
:meth:`~finetune_sdk._limits.Deadline.scope`), and fails once it has passed. Kept apart from ``_limits``
so that importing the client does not import httpcore.
"""

from __future__ import annotations

from typing import Any

import httpcore

from ._limits import current_deadline

__all__ = ["install"]


def _time_left(timeout: float | None) -> float | None:
    deadline = current_deadline()
    left = deadline.left() if deadline is not None else None
    if left is None:
        return timeout
    if left <= 0:
        raise httpcore.ReadTimeout(f"the {deadline.what if deadline else 'deadline'} has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
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
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, _time_left(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(host, port, _time_left(timeout), local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_unix_socket(path, _time_left(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def install(http: object) -> None:
    """See :func:`~finetune_sdk._limits.install_deadline`."""
    mounts = getattr(http, "_mounts", None)  # proxies from the environment have transports of their own
    transports = [getattr(http, "_transport", None), *(mounts.values() if isinstance(mounts, dict) else ())]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, httpcore.NetworkBackend) and not isinstance(backend, _DeadlineBackend):
            pool._network_backend = _DeadlineBackend(backend)  # type: ignore[union-attr]
