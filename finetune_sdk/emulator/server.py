"""``Emulator``: the app served by uvicorn on a socket of its own, in a background thread or in front."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import socket
import threading
import time
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

import uvicorn
import uvicorn.config

from .app import build_app
from .connection import guarded_h11
from .faults import quiet_drops
from .settings import BASE_MODELS, DEFAULT_FAULT_KINDS, FaultKind, Settings, new_api_key
from .state import Store

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
BACKGROUND_GRACE = 2.0
"""``stop()`` lets requests in flight finish for this long."""
KEEP_ALIVE = 5
"""Seconds an idle kept-alive connection stays open between requests (uvicorn's default, stated)."""
MAX_HEAD_BYTES = 16 * 1024
"""The longest request head (request line and headers) h11 reads; longer is answered 431/400."""
FOREGROUND_GRACE = 0.1
"""After Ctrl-C, requests in flight (a stream, a slow answer) get this long before they are cut: the
person who pressed it wants the prompt back."""


def _log_config(*, access_log: bool) -> dict[str, Any]:
    """uvicorn's logging set-up with every line on stderr: stdout is for what to export."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    if not access_log:
        config["loggers"]["uvicorn.access"]["handlers"] = []
        config["loggers"]["uvicorn.access"]["propagate"] = False
    return config


class _NoCancelledTraceback(logging.Filter):
    """Drops the traceback uvicorn logs for each request it cut on the way out (a ``CancelledError``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError))


_CUT = _NoCancelledTraceback()


def _quiet_cuts() -> None:
    """Keep the requests cut by a stop out of uvicorn's error log, in the foreground and in a background
    thread alike (a stream still open when ``stop()`` runs is cut: that is no error of the server's)."""
    logger = logging.getLogger("uvicorn.error")
    if _CUT not in logger.filters:
        logger.addFilter(_CUT)


class _Server(uvicorn.Server):
    """uvicorn's server, made to stop at once: uvicorn looks for an exit request every 0.1 s and then
    pauses a fixed 0.1 s more while connections close; here a request wakes the loop, and the shutdown
    waits only as long as connections and requests are still open (up to the grace period)."""

    _loop: asyncio.AbstractEventLoop | None = None
    _wake: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)

    def request_exit(self) -> None:
        """Ask the server to stop (from any thread); the first request is graceful, a second forces."""
        if self.should_exit:
            self.force_exit = True
        self.should_exit = True
        self._wake_up()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:  # Ctrl-C in the foreground
        super().handle_exit(sig, frame)
        self._wake_up()

    def _wake_up(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                loop.call_soon_threadsafe(wake.set)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()  # idle keep-alive connections close now, busy ones after their answer
        try:
            await asyncio.wait_for(self._drained(), timeout=self.config.timeout_graceful_shutdown)
        except asyncio.TimeoutError:
            for task in self.server_state.tasks:
                task.cancel()  # what is still being answered after the grace period is cut
        if not self.force_exit:
            await self.lifespan.shutdown()

    async def _drained(self) -> None:
        state = self.server_state
        # uvicorn offers no event for "all connections closed": look often, for a short while.
        while (state.connections or state.tasks) and not self.force_exit:  # noqa: ASYNC110
            await asyncio.sleep(0.002)
        for server in self.servers:
            await server.wait_closed()


class Emulator:
    """A local stand-in for the platform, over real HTTP.

    >>> with Emulator(time_scale=50) as emu:           # doctest: +SKIP
    ...     client = Client(base_url=emu.base_url, api_key=emu.api_key)

    ``start()`` binds ``host:port`` (port 0: a free one), serves in a background thread and returns
    once the server accepts connections; ``stop()`` shuts it down and deletes the uploaded files.
    Every keyword but ``host``/``port`` is a field of :class:`~.settings.Settings` (documented there).
    """

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        fault_rate: float = 0.0,
        seed: int = 0,
        envelope: bool = False,
        latency: float = 0.0,
        api_key: str | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
        envelope_chat: bool = True,
        retry_after: float = 0.0,
        fault_kinds: tuple[FaultKind, ...] = DEFAULT_FAULT_KINDS,
        fault_paths: tuple[str, ...] = (),
        base_models: tuple[str, ...] = BASE_MODELS,
        org: str = "emulator-org",
        validate_seconds: float = 0.5,
        queue_seconds: float = 0.5,
        step_seconds: float = 0.05,
        chunk_chars: int = 4,
        chunk_delay: float = 0.0,
        prompt_token_delay: float = 0.0,
        base_reply_chars: int = 0,
        max_file_bytes: int = 512 * 1024 * 1024,
        poll_hints: bool = True,
        max_request_bytes: int = 8 * 1024 * 1024,
        header_timeout: float = 10.0,
    ) -> None:
        self.settings: Settings = Settings(
            api_key=api_key or new_api_key(),
            time_scale=time_scale,
            fault_rate=fault_rate,
            seed=seed,
            envelope=envelope,
            envelope_chat=envelope_chat,
            latency=latency,
            retry_after=retry_after,
            fault_kinds=tuple(fault_kinds),
            fault_paths=tuple(fault_paths),
            base_models=tuple(base_models),
            org=org,
            validate_seconds=validate_seconds,
            queue_seconds=queue_seconds,
            step_seconds=step_seconds,
            chunk_chars=chunk_chars,
            chunk_delay=chunk_delay,
            prompt_token_delay=prompt_token_delay,
            base_reply_chars=base_reply_chars,
            max_file_bytes=max_file_bytes,
            poll_hints=poll_hints,
            max_request_bytes=max_request_bytes,
            header_timeout=header_timeout,
        )
        self.host = host
        self.port: int = port
        self._store: Store | None = None
        self._server: _Server | None = None
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        where = self.url if self._socket is not None else "stopped"
        return f"<Emulator {where} time_scale={self.settings.time_scale}>"

    @property
    def api_key(self) -> str:
        """The key clients must send (``Authorization: Bearer <key>``)."""
        return self.settings.api_key

    @property
    def url(self) -> str:
        """``http://host:port`` of the running server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The base URL for the SDK or the openai client (ends in ``/v1``)."""
        return f"{self.url}/v1"

    @property
    def state(self) -> Store:
        """The files and jobs the emulator holds (for tests: ``emu.state.counts()``)."""
        if self._store is None:
            raise RuntimeError("the emulator is not running")
        return self._store

    def _prepare(self, *, quiet: bool, access_log: bool = False) -> _Server:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP: asyncio sets TCP_NODELAY
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(256)
        except OSError:
            sock.close()
            raise
        self._socket = sock
        self.port = int(sock.getsockname()[1])
        self._store = Store(self.settings)
        quiet_drops()
        _quiet_cuts()
        config = uvicorn.Config(
            build_app(self.settings, self._store),
            http=guarded_h11(self.settings.header_timeout),
            timeout_keep_alive=KEEP_ALIVE,
            h11_max_incomplete_event_size=MAX_HEAD_BYTES,
            ws="none",
            lifespan="off",
            loop="asyncio",
            log_config=None if quiet else _log_config(access_log=access_log),
            log_level="warning" if quiet else "info",
            access_log=access_log,
            # Annotated int, used as asyncio.wait_for's timeout: a fraction of a second works.
            timeout_graceful_shutdown=BACKGROUND_GRACE if quiet else FOREGROUND_GRACE,  # type: ignore[arg-type]
        )
        self._server = _Server(config)
        return self._server

    def start(self) -> Emulator:
        """Serve in a background thread; return once connections are accepted."""
        if self._thread is not None:
            raise RuntimeError("the emulator is already running")
        server = self._prepare(quiet=True)
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [self._socket]}, name="finetune-emulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the emulator did not start")
            time.sleep(0.002)
        return self

    def run(self, on_ready: Callable[[Emulator], None] | None = None, *, access_log: bool = False) -> None:
        """Serve in this thread until interrupted (Ctrl-C), then clean up.

        ``on_ready(emulator)`` is called once the port is bound (e.g. to print the base URL). uvicorn's
        lines go to stderr; ``access_log`` adds one per request. Binding raises ``OSError`` (``errno``
        ``EADDRINUSE`` when the port is taken). Ctrl-C cuts requests still in flight after
        ``FOREGROUND_GRACE`` seconds.
        """
        server = self._prepare(quiet=False, access_log=access_log)
        if on_ready is not None:
            on_ready(self)
        try:
            server.run(sockets=[self._socket] if self._socket else None)
        finally:
            self._cleanup()

    def stop(self) -> None:
        """Shut the server down, wait for its thread, delete uploaded files. Safe to call twice."""
        if self._server is not None:
            self._server.request_exit()
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(STOP_TIMEOUT)
            self._thread = None
        self._cleanup()

    def _cleanup(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self._store is not None:
            self._store.close()
            self._store = None
        self._server = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
