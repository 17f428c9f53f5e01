"""The transports the SDK builds for its own connection pools (a caller's ``http_client`` is used as it is).

:class:`Transport` and :class:`AsyncTransport` are httpx transports over an httpcore connection pool made
through httpcore's public API, with

* network streams bounded by the current deadline (``backend``), so a server that trickles cannot hold
  an attempt past its deadline;
* the proxy chosen for the base URL: none for this machine (``localhost``, 127.0.0.0/8, ``::1``), else
  the environment's (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``, ``NO_PROXY``) unless
  ``trust_env=False``; a SOCKS proxy needs the ``socks`` extra;
* fresh connections in a forked process (a kept-alive socket shared by parent and child would mix their
  answers) and, for the async transport, on another event loop than the one its connections were made on
  (they cannot be used there, and the loop they belong to may be closed).
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import ssl
import sys
import urllib.request
import weakref
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from typing import Any, Final, Generic, TypedDict, TypeVar, cast

import httpcore
import httpx

from .._core.config import is_loopback
from ..errors import ConfigurationError
from .backend import AsyncDeadlineBackend, DeadlineBackend

__all__ = ["AsyncTransport", "Transport", "proxy_for"]

PoolT = TypeVar("PoolT", httpcore.ConnectionPool, httpcore.AsyncConnectionPool)

_EXCEPTIONS: Final[tuple[tuple[type[Exception], type[httpx.TransportError]], ...]] = (
    # Most specific first: the first match is used.
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


class _HttpxErrors:
    """Raises httpx's exception for an httpcore one leaving the block (others pass unchanged); a failed
    connection says ``connecting`` (the proxy it went to), if given."""

    def __init__(self, connecting: str = "") -> None:
        self._connecting = connecting

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, Exception):
            for source, target in _EXCEPTIONS:
                if isinstance(exc, source):
                    message = str(exc)
                    if self._connecting and isinstance(exc, httpcore.ConnectError | httpcore.ConnectTimeout):
                        message = f"{message or 'no connection'} {self._connecting}"
                    raise target(message) from exc


_httpx_errors: Final = _HttpxErrors()


_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


def _bypassed(url: httpx.URL, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` names the host: ``*``, the host itself, a domain it is in (``example.com``
    or ``.example.com``), ``host:port``, or an address range (``10.0.0.0/8``)."""
    host = url.host.strip("[]").lower()
    # httpx leaves a scheme's default port out of the URL: ``host:443`` names it all the same.
    port_used = url.port if url.port is not None else _DEFAULT_PORTS.get(url.scheme)
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        name, _, port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if port and port.isdigit() and int(port) != port_used:
            continue
        name = name.lstrip(".")
        if host == name or host.endswith("." + name):
            return True
        try:
            if ipaddress.ip_address(host) in ipaddress.ip_network(name, strict=False):
                return True
        except ValueError:
            continue
    return False


def _proxy_url(raw: str, name: str) -> httpx.URL:
    """The proxy URL the environment variable ``name`` holds, or a ``ConfigurationError``."""
    try:
        proxy = httpx.URL(raw)
    except httpx.InvalidURL as exc:
        problem = str(exc)
    else:
        if not proxy.host:
            problem = "it names no host"
        elif proxy.port is not None and not 0 < proxy.port < 65536:
            problem = f"port {proxy.port} is out of range"
        else:
            return proxy
    # The value is not quoted: a proxy URL may hold a password.
    raise ConfigurationError(
        f"The environment's proxy ({name}) is not a valid URL: {problem}. Fix it, or pass "
        "Client(trust_env=False) to connect directly."
    )


def proxy_for(url: httpx.URL, *, trust_env: bool, allow_insecure_http: bool) -> httpx.URL | None:
    """The proxy to reach ``url`` through, from the environment; None for a direct connection.

    This machine is always reached directly. A plain ``http://`` base URL beyond it sends the key in
    clear text to the proxy too: that counts as leaving the machine, refused unless
    ``allow_insecure_http``.
    """
    if not trust_env or is_loopback(url.host):
        return None
    proxies = urllib.request.getproxies_environment()
    if _bypassed(url, proxies.get("no", "")):
        return None
    name = f"{url.scheme.upper()}_PROXY" if proxies.get(url.scheme) else "ALL_PROXY"
    raw = proxies.get(url.scheme) or proxies.get("all")
    if not raw:
        return None
    if "://" not in raw:
        raw = f"http://{raw}"
    proxy = _proxy_url(raw, name)
    if url.scheme == "http" and not allow_insecure_http:
        raise ConfigurationError(
            f"base_url {str(url)!r} is plain http:// and the environment sends it through a proxy: the API "
            "key would travel unencrypted. Use https://, set NO_PROXY for the host, or pass "
            "Client(trust_env=False)."
        )
    if proxy.scheme.startswith("socks"):
        if importlib.util.find_spec("socksio") is None:
            raise ConfigurationError(
                f"The environment names a SOCKS proxy ({proxy.scheme}://{proxy.host}:{proxy.port}), which "
                "needs the socks extra: pip install 'finetune-sdk[socks]'. Or pass Client(trust_env=False) "
                "to connect directly."
            )
    elif proxy.scheme not in ("http", "https"):
        raise ConfigurationError(f"The environment names a proxy of an unknown kind: {proxy.scheme}://")
    return proxy


def _proxy(url: httpx.URL | None) -> httpcore.Proxy | None:
    if url is None:
        return None
    auth = (url.username, url.password) if url.username else None
    bare = url.copy_with(username=None, password=None)
    return httpcore.Proxy(url=str(bare), auth=auth)


def _connecting_note(proxy: httpx.URL | None) -> str:
    if proxy is None:
        return ""
    port = f":{proxy.port}" if proxy.port is not None else ""
    return (
        f"(connecting to the proxy {proxy.scheme}://{proxy.host}{port} the environment names; "
        "Client(trust_env=False) connects directly)"
    )


class _Settings:
    """How to make a pool: the same for every pool a transport makes over its life."""

    def __init__(
        self, base_url: httpx.URL, limits: httpx.Limits, *, trust_env: bool, allow_insecure_http: bool
    ) -> None:
        self.limits = limits
        chosen = proxy_for(base_url, trust_env=trust_env, allow_insecure_http=allow_insecure_http)
        self.proxy = _proxy(chosen)
        # Every connection goes to the proxy: a failure to connect is the proxy's, which the error must
        # say, or the base URL is all one would check. (Its address only: a proxy URL may hold a password.)
        self.errors = _HttpxErrors(_connecting_note(chosen))
        self.trust_env = trust_env
        self._ssl: ssl.SSLContext | None = None
        # Loading the certificate store takes time: an http:// base URL (the emulator) never needs it.
        self.needs_tls = base_url.scheme == "https" or self.proxy is not None

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        if self._ssl is None and self.needs_tls:
            self._ssl = httpx.create_ssl_context(trust_env=self.trust_env)
        return self._ssl

    def pool_options(self) -> _PoolOptions:
        """What every pool of the transport is made with (its network backend aside)."""
        return _PoolOptions(
            ssl_context=self.ssl_context,
            proxy=self.proxy,
            max_connections=self.limits.max_connections,
            max_keepalive_connections=self.limits.max_keepalive_connections,
            keepalive_expiry=self.limits.keepalive_expiry,
        )


class _PoolOptions(TypedDict):
    ssl_context: ssl.SSLContext | None
    proxy: httpcore.Proxy | None
    max_connections: int | None
    max_keepalive_connections: int | None
    keepalive_expiry: float | None


class _OwnPool(Generic[PoolT]):
    """What both transports share: the settings, the pool they own, the process it belongs to."""

    def __init__(
        self, base_url: httpx.URL, limits: httpx.Limits, *, trust_env: bool, allow_insecure_http: bool
    ) -> None:
        self._settings = _Settings(
            base_url, limits, trust_env=trust_env, allow_insecure_http=allow_insecure_http
        )
        self._pool: PoolT = self._new_pool()
        self._pid = os.getpid()
        _live.add(self)

    def _new_pool(self) -> PoolT:
        raise NotImplementedError

    def forget_connections(self) -> None:
        """Start over with no connection: in a forked child (the parent's sockets are left to it), and
        for the async transport on another event loop (the connections of the old one cannot be used
        here, nor closed if that loop is gone)."""
        self._pool = self._new_pool()
        self._pid = os.getpid()


def _core_request(
    request: httpx.Request, content: Iterable[bytes] | AsyncIterable[bytes]
) -> httpcore.Request:
    return httpcore.Request(
        method=request.method,
        url=httpcore.URL(
            scheme=request.url.raw_scheme,
            host=request.url.raw_host,
            port=request.url.port,
            target=request.url.raw_path,
        ),
        headers=request.headers.raw,
        content=content,
        extensions=request.extensions,
    )


def _response(
    answer: httpcore.Response, body: httpx.SyncByteStream | httpx.AsyncByteStream
) -> httpx.Response:
    """httpx's response for httpcore's answer, its body read through ``body``."""
    # httpcore's attribute is typed loosely (its default is a bare dict): name what it holds.
    extensions = cast("Mapping[str, Any]", answer.extensions)  # pyright: ignore[reportUnknownMemberType]
    return httpx.Response(
        status_code=answer.status, headers=answer.headers, stream=body, extensions=dict(extensions)
    )


# Transports to give fresh pools in a forked child; weak, so that a dropped client is not kept alive.
_live: Final[weakref.WeakSet[_OwnPool[Any]]] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for transport in list(_live):
        transport.forget_connections()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class _SyncBody(httpx.SyncByteStream):
    def __init__(self, stream: httpcore.Response) -> None:
        self._response = stream

    def __iter__(self) -> Iterator[bytes]:
        with _httpx_errors:
            yield from self._response.iter_stream()

    def close(self) -> None:
        self._response.close()


class Transport(_OwnPool[httpcore.ConnectionPool], httpx.BaseTransport):
    """The sync transport of a client's own pool; see the module's docstring."""

    def _new_pool(self) -> httpcore.ConnectionPool:
        return httpcore.ConnectionPool(**self._settings.pool_options(), network_backend=DeadlineBackend())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._pid != os.getpid():  # a fork that register_at_fork could not see (os.fork from C)
            self.forget_connections()
        with self._settings.errors:
            answer = self._pool.handle_request(_core_request(request, request.stream))
        return _response(answer, _SyncBody(answer))

    def close(self) -> None:
        if self._pid == os.getpid():
            self._pool.close()


class _AsyncBody(httpx.AsyncByteStream):
    def __init__(self, stream: httpcore.Response) -> None:
        self._response = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors:
            async for part in self._response.aiter_stream():
                yield part

    async def aclose(self) -> None:
        await self._response.aclose()


def _current_loop() -> object:
    """The running event loop (asyncio) or trio run, as an identity to compare. Neither library is
    imported here: one whose loop runs is imported already, and a program that never runs asyncio need not
    load it (12 ms of a new process's first answer)."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None:
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            pass  # not in asyncio: in trio, then
    trio = sys.modules.get("trio")
    return trio.lowlevel.current_trio_token() if trio is not None else None


class AsyncTransport(_OwnPool[httpcore.AsyncConnectionPool], httpx.AsyncBaseTransport):
    """The async transport of a client's own pool; see the module's docstring."""

    _loop: object = None  # the event loop (or trio run) the pool's connections belong to

    def _new_pool(self) -> httpcore.AsyncConnectionPool:
        return httpcore.AsyncConnectionPool(
            **self._settings.pool_options(), network_backend=AsyncDeadlineBackend()
        )

    def forget_connections(self) -> None:
        super().forget_connections()
        self._loop = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        loop = _current_loop()
        if self._pid != os.getpid() or (self._loop is not None and loop is not self._loop):
            self.forget_connections()
        self._loop = loop
        with self._settings.errors:
            answer = await self._pool.handle_async_request(_core_request(request, request.stream))
        return _response(answer, _AsyncBody(answer))

    async def aclose(self) -> None:
        if self._pid == os.getpid() and (self._loop is None or self._loop is _current_loop()):
            await self._pool.aclose()
