"""``/v1/fine_tuning/jobs``: create (idempotent), list (with filters), retrieve, cancel, events,
checkpoints.

Lists page with ``?after=<id>&limit=<n>`` (limit 1-100, default 20; checkpoints default 10): jobs and
checkpoints newest first, events oldest first, so a follower asks for ``after=<last event id seen>`` and
never misses or repeats one.
"""

from __future__ import annotations

import math
import time

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .context import Context, context, from_path, ok
from .job_create import JobCreate
from .limits import read_body
from .listing import job_filter, job_matches, page
from .responses import ApiError
from .schemas import parse_body
from .simulate import make_plan
from .state import FileRecord, JobRecord, Store, new_id
from .text import learn
from .training import prepare

DEFAULT_SPLIT = 0.1


def _input_file(ctx: Context, file_id: str | None, field: str) -> FileRecord | None:
    if file_id is None:
        return None
    record = ctx.store.get_file(file_id)
    if record is None:
        raise ApiError(400, f"{field}: no file with id '{file_id}'", "file_not_found", param=field)
    if record.path is None:
        why = f"{field}: '{file_id}' is a job's {record.filename} ({record.purpose}), not training data"
        raise ApiError(400, why, "invalid_value", param=field)
    return record


def _build_job(ctx: Context, body: JobCreate, train: FileRecord, valid: FileRecord | None) -> JobRecord:
    """Check the files and plan the job's life (the slow part: run in a worker thread)."""
    settings = ctx.settings
    hyper = body.resolved_hyperparameters()
    split = None if valid is not None else (body.validation_split or DEFAULT_SPLIT)
    seed = settings.seed if body.seed is None else body.seed
    assert train.path is not None
    data = prepare(
        train.path,
        None if valid is None else valid.path,
        split=split,
        seed=seed,
        max_tokens=hyper["max_tokens"],
    )
    job_id = new_id("ftjob-")
    suffix = body.effective_suffix()
    plan = make_plan(
        settings,
        train_examples=data.examples,
        train_tokens=data.billed_per_epoch,
        hyperparameters=hyper,
        seed=seed,
        error=data.error,
        warnings=data.warnings,
        validation=data.validation,
    )
    fields = {
        "model": body.model,
        "training_file": train.id,
        "validation_file": None if valid is None else valid.id,
        "validation_split": split,
        "hyperparameters": hyper,
        "method": body.method_echo(hyper),
        "integrations": body.integrations,
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
        examples=learn(data.pairs),
        result_file_id=new_id("file-"),
    )


async def create_job(request: Request) -> Response:
    ctx = context(request)
    parts = await read_body(request, ctx.settings.max_request_bytes)
    raw = await anyio.to_thread.run_sync(b"".join, parts)  # joining megabytes would hold the loop up

    async def work() -> Response:
        body = await anyio.to_thread.run_sync(parse_body, JobCreate, raw)  # a large body: off the loop
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
        body.resolved_hyperparameters()  # a bad value is refused before the files are looked at
        body.check_integrations()
        train = _input_file(ctx, body.training_file, "training_file")
        valid = _input_file(ctx, body.validation_file, "validation_file")
        assert train is not None
        job = await anyio.to_thread.run_sync(_build_job, ctx, body, train, valid)
        ctx.store.add_job(job)
        return ok(request, ctx.store.render_job(job))

    key = request.headers.get("idempotency-key")
    return await ctx.idempotency.run("jobs.create", key, work, body=raw)


def _job(request: Request) -> JobRecord:
    return from_path(request, "job_id", Store.get_job, "job")


async def list_jobs(request: Request) -> Response:
    store = context(request).store
    wanted = job_filter(request.query_params)
    jobs = [store.render_job(job) for job in store.jobs_newest_first()]
    return ok(request, page(request.query_params, [job for job in jobs if job_matches(job, wanted)]))


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
    return ok(request, page(request.query_params, context(request).store.render_events(job)))


async def list_checkpoints(request: Request) -> Response:
    job = _job(request)
    checkpoints = context(request).store.render_checkpoints(job)
    return ok(request, page(request.query_params, checkpoints, default=10))


routes: list[Route] = [
    Route("/v1/fine_tuning/jobs", create_job, methods=["POST"]),
    Route("/v1/fine_tuning/jobs", list_jobs, methods=["GET"]),
    Route("/v1/fine_tuning/jobs/{job_id}", retrieve_job, methods=["GET"]),
    Route("/v1/fine_tuning/jobs/{job_id}/cancel", cancel_job, methods=["POST"]),
    Route("/v1/fine_tuning/jobs/{job_id}/events", list_events, methods=["GET"]),
    Route("/v1/fine_tuning/jobs/{job_id}/checkpoints", list_checkpoints, methods=["GET"]),
]
