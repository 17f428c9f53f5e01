"""A small relay service (Starlette) in front of the platform, and a way to serve it on 127.0.0.1.

``relay_app("async", ...)`` holds an ``AsyncClient``; ``relay_app("sync", ...)`` a ``Client`` whose calls
run in worker threads. Both open the chat stream (or look the job up) before answering, so an unknown
model or job is a JSON error with its status, and only then stream the SDK's frames.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal

import anyio.to_thread
import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from finetune_sdk import APIError, AsyncClient, Client
from finetune_sdk.relay import SSE_HEADERS, ajob_event_frames, error_body, error_status, job_event_frames

Kind = Literal["sync", "async"]
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


def _refused(exc: APIError | ValueError | TypeError) -> Response:
    return JSONResponse(error_body(exc), status_code=error_status(exc))


def _sse(frames: Any) -> Response:
    return StreamingResponse(frames, media_type="text/event-stream", headers=SSE_HEADERS)


def relay_app(kind: Kind, *, connections: int | None = None, **client_options: Any) -> Starlette:
    """The relay: ``POST /v1/chat/completions`` (OpenAI's path and body) and ``GET /jobs/{id}/events``.

    ``connections``: the most connections its client opens to the platform (a pool made, and closed, in
    the app's lifespan, on the app's event loop).
    """
    pool_options: dict[str, Any] = {"timeout": httpx.Timeout(10, pool=3)}
    if connections is not None:
        pool_options["limits"] = httpx.Limits(max_connections=connections)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if kind == "async":
            async with (
                httpx.AsyncClient(**pool_options) as pool,
                AsyncClient(http_client=pool, **client_options) as client,
            ):
                app.state.client = client
                yield
        else:
            with (
                httpx.Client(**pool_options) as sync_pool,
                Client(http_client=sync_pool, **client_options) as sync_client,
            ):
                app.state.client = sync_client
                yield

    async def chat(request: Request) -> Response:
        body = await request.json()
        model, messages = body.get("model"), body.get("messages")
        options = {"max_tokens": body.get("max_tokens")}
        try:
            if kind == "async":
                client: AsyncClient = request.app.state.client
                stream: Any = await client.chat(model, messages, **options).open()
            else:
                sync_client: Client = request.app.state.client
                stream = await anyio.to_thread.run_sync(
                    lambda: sync_client.chat(model, messages, **options).open()
                )
        except (APIError, ValueError, TypeError) as exc:
            return _refused(exc)
        return _sse(stream.sse())

    async def job_events(request: Request) -> Response:
        job_id = request.path_params["job_id"]
        try:
            if kind == "async":
                client: AsyncClient = request.app.state.client
                await client.jobs.retrieve(job_id)
                return _sse(ajob_event_frames(client.jobs.follow(job_id, poll_interval=0.02)))
            sync_client: Client = request.app.state.client
            await anyio.to_thread.run_sync(lambda: sync_client.jobs.retrieve(job_id))
        except APIError as exc:
            return _refused(exc)
        return _sse(job_event_frames(sync_client.jobs.follow(job_id, poll_interval=0.02)))

    routes = [
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/jobs/{job_id}/events", job_events),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


@contextlib.contextmanager
def served(app: Starlette) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 (a free port) in a thread; yields ``http://127.0.0.1:port``."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, http="h11", ws="none", lifespan="on", log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the relay did not start")
            time.sleep(0.005)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT)
        if thread.is_alive():
            server.force_exit = True
            thread.join(STOP_TIMEOUT)
        sock.close()
