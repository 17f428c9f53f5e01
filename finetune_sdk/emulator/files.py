"""``/v1/files``: upload (streamed to disk), list, retrieve, delete."""

from __future__ import annotations

import shutil
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .context import context, from_path, ok
from .responses import ApiError
from .state import FileRecord, Store, new_id
from .upload import receive_upload

PURPOSES = ("fine-tune",)


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
            if upload.too_big:
                raise ApiError(
                    413,
                    f"file: larger than {ctx.settings.max_file_bytes} bytes",
                    "file_too_large",
                    param="file",
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
        ctx.store.add_file(record)
        return ok(request, record.render())

    key = request.headers.get("idempotency-key")
    return await ctx.idempotency.run("files.create", key, work)


def _file(request: Request) -> FileRecord:
    return from_path(request, "file_id", Store.get_file, "file")


async def list_files(request: Request) -> Response:
    purpose = request.query_params.get("purpose")
    records = context(request).store.list_files(purpose)
    return ok(request, {"object": "list", "data": [r.render() for r in records], "has_more": False})


async def retrieve_file(request: Request) -> Response:
    return ok(request, _file(request).render())


async def delete_file(request: Request) -> Response:
    record = _file(request)
    context(request).store.delete_file(record.id)
    return ok(request, {"id": record.id, "object": "file", "deleted": True})


routes: list[Route] = [
    Route("/v1/files", upload_file, methods=["POST"]),
    Route("/v1/files", list_files, methods=["GET"]),
    Route("/v1/files/{file_id}", retrieve_file, methods=["GET"]),
    Route("/v1/files/{file_id}", delete_file, methods=["DELETE"]),
]
