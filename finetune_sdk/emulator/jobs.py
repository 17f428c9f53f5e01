"""``/v1/fine_tuning/jobs``: create (idempotent), list, retrieve, cancel, events.

Lists page with ``?after=<id>&limit=<n>`` (limit 1-100, default 20): jobs newest first, events oldest
first, so a follower asks for ``after=<last event id seen>`` and never misses or repeats one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .context import Context, context, from_path, ok
from .responses import ApiError
from .schemas import JobCreate, parse_body
from .simulate import make_plan
from .state import FileRecord, JobRecord, Store, new_id
from .text import learn
from .training import check_file, read_pairs

DEFAULT_SPLIT = 0.1
DEFAULT_LIMIT, MAX_LIMIT = 20, 100


def page(request: Request, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One page of ``items`` after the ``after`` cursor, ``limit`` long, as a list object."""
    raw_limit = request.query_params.get("limit", str(DEFAULT_LIMIT))
    try:
        limit = int(raw_limit)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(
            400, f"limit: must be an integer from 1 to {MAX_LIMIT}", "invalid_value", param="limit"
        )
    start = 0
    after = request.query_params.get("after")
    if after:
        ids = [item["id"] for item in items]
        if after not in ids:
            raise ApiError(
                400, f"after: no item with id '{after}' in this list", "invalid_value", param="after"
            )
        start = ids.index(after) + 1
    data = list(items[start : start + limit])
    return {"object": "list", "data": data, "has_more": start + limit < len(items)}


def _input_file(ctx: Context, file_id: str | None, field: str) -> FileRecord | None:
    if file_id is None:
        return None
    record = ctx.store.get_file(file_id)
    if record is None:
        raise ApiError(400, f"{field}: no file with id '{file_id}'", "file_not_found", param=field)
    return record


def _build_job(
    ctx: Context, body: JobCreate, hyper: dict[str, Any], train: FileRecord, valid: FileRecord | None
) -> JobRecord:
    """Check the files (the slow part: run in a worker thread) and plan the job's life."""
    settings = ctx.settings
    checked = check_file(train.path, role="training", max_tokens=hyper["max_tokens"])
    error = checked.error
    if error is None and valid is not None:
        error = check_file(valid.path, role="validation", max_tokens=hyper["max_tokens"]).error
    split = None if valid is not None else (body.validation_split or DEFAULT_SPLIT)
    held_out = 0
    if split is not None and checked.examples > 1:
        # as Dataset.split: n * split rounded to the nearest (halves down), at least 1, at most n - 1
        held_out = min(checked.examples - 1, max(1, math.ceil(checked.examples * split - 0.5)))
    train_examples = checked.examples - held_out
    tokens = checked.tokens * train_examples // max(1, checked.examples)
    seed = settings.seed if body.seed is None else body.seed
    job_id = new_id("ftjob-")
    suffix = body.effective_suffix()
    plan = make_plan(
        settings,
        train_examples=train_examples,
        train_tokens=tokens,
        hyperparameters=hyper,
        seed=seed,
        error=error,
        warnings=checked.warnings,
    )
    fields = {
        "model": body.model,
        "training_file": train.id,
        "validation_file": None if valid is None else valid.id,
        "validation_split": split,
        "hyperparameters": hyper,
        "suffix": suffix,
        "seed": seed,
        "metadata": body.metadata,
    }
    return JobRecord(
        id=job_id,
        created_wall=time.time(),
        created_clock=ctx.store.clock(),
        fields=fields,
        fine_tuned_model=f"ft:LoRA/{body.model}:{settings.org}:{suffix}:{job_id}",
        plan=plan,
        examples=learn(read_pairs(train.path)) if error is None else (),
    )


async def create_job(request: Request) -> Response:
    ctx = context(request)
    raw = await request.body()

    async def work() -> Response:
        body = parse_body(JobCreate, raw)
        if body.model not in ctx.settings.base_models:
            raise ApiError(
                404,
                f"model: '{body.model}' is not a base model that can be tuned",
                "model_not_found",
                param="model",
            )
        if body.validation_file is not None and body.validation_split is not None:
            raise ApiError(
                400,
                "validation_split: give validation_file or validation_split, not both",
                "invalid_value",
                param="validation_split",
            )
        hyper = body.checked_hyperparameters()
        train = _input_file(ctx, body.training_file, "training_file")
        valid = _input_file(ctx, body.validation_file, "validation_file")
        assert train is not None
        job = await anyio.to_thread.run_sync(_build_job, ctx, body, hyper, train, valid)
        ctx.store.add_job(job)
        return ok(request, ctx.store.render_job(job))

    key = request.headers.get("idempotency-key")
    return await ctx.idempotency.run("jobs.create", key, work, body=raw)


def _job(request: Request) -> JobRecord:
    return from_path(request, "job_id", Store.get_job, "job")


async def list_jobs(request: Request) -> Response:
    store = context(request).store
    return ok(request, page(request, [store.render_job(job) for job in store.jobs_newest_first()]))


#: Added to a poll hint so that the poll it paces lands just after the change, not just before.
HINT_MARGIN = 0.002


async def retrieve_job(request: Request) -> Response:
    """The job; while it has not ended, ``Retry-After`` (whole seconds, rounded up) and
    ``retry-after-ms`` say when its status is next due to change: the pace a waiter may poll at."""
    ctx = context(request)
    job = _job(request)
    response = ok(request, ctx.store.render_job(job))
    ahead = ctx.store.next_change(job) if ctx.settings.poll_hints else None
    if ahead is not None:
        response.headers["retry-after-ms"] = str(math.ceil((ahead + HINT_MARGIN) * 1000))
        response.headers["retry-after"] = str(math.ceil(ahead + HINT_MARGIN))
    return response


async def cancel_job(request: Request) -> Response:
    ctx = context(request)
    job = _job(request)

    async def work() -> Response:
        if not ctx.store.cancel(job.id):
            status = ctx.store.render_job(job)["status"]
            raise ApiError(
                409,
                f"Job {job.id} has already ended ({status}); it cannot be cancelled",
                "job_not_cancellable",
            )
        return ok(request, ctx.store.render_job(job))

    key = request.headers.get("idempotency-key")
    return await ctx.idempotency.run(f"jobs.cancel:{job.id}", key, work)


async def list_events(request: Request) -> Response:
    job = _job(request)
    return ok(request, page(request, context(request).store.render_events(job)))


routes: list[Route] = [
    Route("/v1/fine_tuning/jobs", create_job, methods=["POST"]),
    Route("/v1/fine_tuning/jobs", list_jobs, methods=["GET"]),
    Route("/v1/fine_tuning/jobs/{job_id}", retrieve_job, methods=["GET"]),
    Route("/v1/fine_tuning/jobs/{job_id}/cancel", cancel_job, methods=["POST"]),
    Route("/v1/fine_tuning/jobs/{job_id}/events", list_events, methods=["GET"]),
]
