# pyright: strict
"""A backend service (Starlette) on the SDK's ``AsyncClient``, as a web service would be written.

- ``POST /datasets`` (a multipart ``file`` field, or the raw body with ``?filename=``): validated as it
  is read, under the name the user gave, then uploaded. A bad file is a 422 whose report names that
  file and its lines.
- ``POST /jobs`` (``{"model", "training_file", "suffix"?}``): the job is created, and waited for in
  the service's task group; ``GET /jobs/{id}`` says how that wait ended (the tuned model, or why not).
- ``GET /jobs/{id}/events``: the job's events as Server-Sent Events until it ends, resumed after the
  ``Last-Event-ID`` a reconnecting browser sends.
- ``POST /v1/chat/completions``: a chat reply relayed in OpenAI's streaming format.

Every answer that can fail (an unknown model, job or event id) is decided before the stream starts.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import anyio
from anyio.abc import TaskGroup
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from finetune_sdk import APIError, AsyncClient, FineTuneError, SucceededJob
from finetune_sdk.relay import SSE_HEADERS, RelayedError, ajob_event_frames, error_body, error_status
from finetune_sdk.resources.files import FileInput


def _refused(exc: RelayedError) -> Response:
    return JSONResponse(error_body(exc), status_code=error_status(exc))


def _not_found(what: str) -> Response:
    body = {"error": {"message": what, "type": "invalid_request_error", "param": None, "code": "not_found"}}
    return JSONResponse(body, status_code=404)


def _sse(frames: AsyncIterator[bytes]) -> Response:
    return StreamingResponse(frames, media_type="text/event-stream", headers=SSE_HEADERS)


class Service:
    """The client, the background waits and how each ended (kept for the service's life)."""

    def __init__(self, client: AsyncClient, group: TaskGroup) -> None:
        self.client = client
        self.group = group
        self.waits: dict[str, SucceededJob | FineTuneError | None] = {}  # None: still waiting

    async def keep_wait(self, job_id: str) -> None:
        try:
            self.waits[job_id] = await self.client.jobs.wait(job_id)
        except FineTuneError as exc:  # failed, cancelled, or the platform gave up answering
            self.waits[job_id] = exc

    def wait_body(self, job_id: str) -> dict[str, Any]:
        outcome = self.waits[job_id]
        if outcome is None:
            return {"id": job_id, "wait": "running"}
        if isinstance(outcome, SucceededJob):
            return {"id": job_id, "wait": "succeeded", "fine_tuned_model": outcome.fine_tuned_model}
        return {"id": job_id, "wait": "failed", "error": f"{type(outcome).__name__}: {outcome}"}


def service_app(**client_options: Any) -> Starlette:
    """The service; ``client_options`` go to its ``AsyncClient`` (made, and closed, in the lifespan)."""
    services: list[Service] = []

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncGenerator[None]:
        async with AsyncClient(**client_options) as client, anyio.create_task_group() as group:
            services.append(Service(client, group))
            yield
            group.cancel_scope.cancel()  # waits still running end with the service (the jobs go on)

    async def upload_dataset(request: Request) -> Response:
        service = services[0]
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            form = await request.form()
            field = form.get("file")
            if not isinstance(field, UploadFile):
                return JSONResponse({"error": {"message": "no file field", "code": None}}, status_code=400)
            content: FileInput = (field.filename or "upload.jsonl", field.file)
        else:
            content = (request.query_params.get("filename", "upload.jsonl"), await request.body())
        try:
            uploaded = await service.client.files.upload(content)
        except (APIError, ValueError, TypeError) as exc:  # a bad file: a 422 with its report
            return _refused(exc)
        return JSONResponse(uploaded.model_dump(mode="json"), status_code=201)

    async def create_job(request: Request) -> Response:
        service = services[0]
        body = await request.json()
        try:
            job = await service.client.jobs.create(
                model=body.get("model"), training_file=body.get("training_file"), suffix=body.get("suffix")
            )
        except (APIError, ValueError, TypeError) as exc:
            return _refused(exc)
        service.waits[job.id] = None
        service.group.start_soon(service.keep_wait, job.id)
        return JSONResponse(job.model_dump(mode="json"), status_code=201)

    async def get_job(request: Request) -> Response:
        service, job_id = services[0], request.path_params["job_id"]
        if job_id not in service.waits:
            return _not_found(f"this service started no job {job_id!r}")
        return JSONResponse(service.wait_body(job_id))

    async def job_events(request: Request) -> Response:
        client, job_id = services[0].client, request.path_params["job_id"]
        after = request.headers.get("last-event-id") or None
        try:
            # One page first: an unknown job (404) or event id (400) is an answer, not a broken stream.
            await client.jobs.events(job_id, after=after, limit=1)
        except (APIError, ValueError) as exc:
            return _refused(exc)
        return _sse(ajob_event_frames(client.jobs.follow(job_id, after=after)))

    async def chat(request: Request) -> Response:
        body = await request.json()
        try:
            stream = await services[0].client.chat(body.get("model"), body.get("messages")).open()
        except (APIError, ValueError, TypeError) as exc:
            return _refused(exc)
        return _sse(stream.sse())

    routes = [
        Route("/datasets", upload_dataset, methods=["POST"]),
        Route("/jobs", create_job, methods=["POST"]),
        Route("/jobs/{job_id}", get_job),
        Route("/jobs/{job_id}/events", job_events),
        Route("/v1/chat/completions", chat, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
