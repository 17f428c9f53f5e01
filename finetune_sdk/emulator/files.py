"""``/v1/files``: upload (streamed to disk), list (OpenAI's paging), retrieve, delete, download."""

from __future__ import annotations

import shutil
import time

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from .context import context, from_path, ok
from .listing import page
from .responses import ApiError
from .state import FileRecord, Store, new_id
from .upload import receive_upload

PURPOSES = ("fine-tune",)
MAX_LIMIT = 10_000
"""OpenAI's range for a files list's ``limit`` (1 to 10,000, the default)."""


async def upload_file(request: Request) -> Response:
    ctx = context(request)

    async def work() -> Response:
        file_id = new_id("file-")
        folder = ctx.store.file_folder(file_id)
        try:
            upload = await receive_upload(request, folder, ctx.settings.max_file_bytes)
            if upload.path is None or upload.filename is None:
                raise ApiError(
                    400, "file: the upload has no file part", "missing_required_parameter", param="file"
                )
            purpose = upload.fields.get("purpose")
            if purpose not in PURPOSES:
                raise ApiError(
                    400, f"purpose: must be one of {', '.join(PURPOSES)}", "invalid_value", param="purpose"
                )
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        record = FileRecord(file_id, upload.filename, purpose, upload.size, int(time.time()), upload.path)
        return ok(request, ctx.store.add_file(record).render())

    key = request.headers.get("idempotency-key")
    return await ctx.idempotency.run("files.create", key, work)


def _file(request: Request) -> FileRecord:
    return from_path(request, "file_id", Store.get_file, "file")


async def list_files(request: Request) -> Response:
    """Files newest first (``order=asc``: oldest first), ``purpose`` and OpenAI's paging applied."""
    query = request.query_params
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise ApiError(400, "order: must be asc or desc", "invalid_value", param="order")
    records = context(request).store.list_files(query.get("purpose"))
    if order == "desc":
        records.reverse()
    return ok(request, page(query, [r.render() for r in records], default=MAX_LIMIT, most=MAX_LIMIT))


async def retrieve_file(request: Request) -> Response:
    return ok(request, _file(request).render())


async def file_content(request: Request) -> Response:
    """The file's bytes as stored: an upload as ``application/octet-stream``, a metrics file as
    ``text/csv``."""
    record = _file(request)
    if record.path is not None:
        return FileResponse(record.path, media_type="application/octet-stream")
    return Response((record.text or "").encode(), media_type="text/csv; charset=utf-8")


async def delete_file(request: Request) -> Response:
    record = _file(request)
    context(request).store.delete_file(record.id)
    return ok(request, {"id": record.id, "object": "file", "deleted": True})


routes: list[Route] = [
    Route("/v1/files", upload_file, methods=["POST"]),
    Route("/v1/files", list_files, methods=["GET"]),
    Route("/v1/files/{file_id}", retrieve_file, methods=["GET"]),
    Route("/v1/files/{file_id}", delete_file, methods=["DELETE"]),
    Route("/v1/files/{file_id}/content", file_content, methods=["GET"]),
]
