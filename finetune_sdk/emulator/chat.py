"""``/v1/chat/completions``: OpenAI shapes, streaming (SSE) or not, for base and tuned models.

A tuned model (or one of its checkpoints) answers with the reply of its nearest training example, a base
model with a plain deterministic reply (see :mod:`.text`). Streams send a role chunk, content deltas of
a few characters, a finish chunk, a usage chunk when ``stream_options.include_usage``, then
``data: [DONE]``. The body is read up to ``max_request_bytes`` (413 beyond), and parsing it and
composing the reply run in a worker thread: a long prompt never holds up other requests.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from .context import Context, context, ok
from .faults import DropResponse, PlannedDropError
from .gate import STREAM_BREAK
from .limits import read_body
from .responses import ApiError, encode
from .schemas import ChatRequest, parse_body
from .state import JobRecord, new_id
from .text import base_reply, chunks, estimate_tokens, nearest_reply, truncate_to_tokens

MESSAGE_OVERHEAD = 4
"""Tokens a chat template adds around each message, in the estimate."""


@dataclass(frozen=True)
class _Asked:
    """A parsed request: the body, the prompt it answers, and that prompt's digest (a short key)."""

    body: ChatRequest
    prompt: str
    key: str
    prompt_tokens: int


def _parse(raw: list[bytes]) -> _Asked:
    body = parse_body(ChatRequest, raw)
    prompt = body.last_user_text()
    tokens = sum(estimate_tokens(m.text()) + MESSAGE_OVERHEAD for m in body.messages) + 3
    return _Asked(body, prompt, hashlib.sha256(prompt.encode("utf-8", "surrogatepass")).hexdigest(), tokens)


def _source(ctx: Context, asked: _Asked) -> tuple[JobRecord | None, int | None]:
    """Who answers (a tuned model's job, or None for a base model) and the sample a sampled base-model
    call draws (it drifts call by call); a 404 for a model that is neither."""
    body = asked.body
    if body.model in ctx.settings.base_models:
        temperature = (body.model_extra or {}).get("temperature")
        if isinstance(temperature, (int, float)) and temperature > 0:
            sample = ctx.draws[body.model, asked.key]
            ctx.draws[body.model, asked.key] += 1
            return None, sample
        return None, None
    job = ctx.store.tuned_model(body.model)
    if job is None:
        raise ApiError(
            404, f"model: '{body.model}' does not exist or is not ready", "model_not_found", param="model"
        )
    return job, None


@dataclass(frozen=True)
class _Reply:
    content: str
    finish: str
    usage: dict[str, int]


def _compose(ctx: Context, asked: _Asked, job: JobRecord | None, sample: int | None) -> _Reply:
    """The reply, its finish reason and the usage."""
    body = asked.body
    if job is None:
        content = base_reply(body.model, asked.prompt, ctx.settings.base_reply_chars, sample=sample)
    else:
        content = nearest_reply(job.examples, asked.prompt) or base_reply(body.model, asked.prompt)
    cut = False
    limit = body.token_limit()
    if limit is not None:
        content, cut = truncate_to_tokens(content, limit)
    completion = estimate_tokens(content)
    usage = {
        "prompt_tokens": asked.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": asked.prompt_tokens + completion,
    }
    return _Reply(content, "length" if cut else "stop", usage)


def _chunk(head: dict[str, Any], delta: dict[str, str], finish: str | None) -> bytes:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return b"data: " + encode({**head, "choices": [choice]}) + b"\n\n"


async def _stream(
    request: Request, body: ChatRequest, head: dict[str, Any], reply: _Reply
) -> AsyncIterator[bytes]:
    settings = context(request).settings
    pieces = list(chunks(reply.content, settings.chunk_chars))
    break_at = len(pieces) // 2 if request.scope.get("state", {}).get(STREAM_BREAK) else None
    yield _chunk(head, {"role": "assistant", "content": ""}, None)
    for index, piece in enumerate(pieces):
        if index == break_at:
            raise PlannedDropError
        if settings.chunk_delay:
            await anyio.sleep(settings.chunk_delay)
        yield _chunk(head, {"content": piece}, None)
    yield _chunk(head, {}, reply.finish)
    if body.stream_options is not None and body.stream_options.include_usage:
        yield b"data: " + encode({**head, "choices": [], "usage": reply.usage}) + b"\n\n"
    yield b"data: [DONE]\n\n"


async def chat_completions(request: Request) -> Response:
    ctx = context(request)
    settings = ctx.settings
    raw = await read_body(request, settings.max_request_bytes)
    asked = await anyio.to_thread.run_sync(_parse, raw)
    job, sample = _source(ctx, asked)
    reply = await anyio.to_thread.run_sync(_compose, ctx, asked, job, sample)
    if settings.prompt_token_delay:
        await anyio.sleep(settings.prompt_token_delay * asked.prompt_tokens)
    body = asked.body
    head = {
        "id": new_id("chatcmpl-"),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.model,
    }
    if body.stream:
        stream = _stream(request, body, head, reply)
        return StreamingResponse(
            stream, media_type="text/event-stream", headers={"cache-control": "no-cache"}
        )
    if request.scope.get("state", {}).get(STREAM_BREAK):
        return DropResponse()
    completion = {
        **head,
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.content, "refusal": None},
                "logprobs": None,
                "finish_reason": reply.finish,
            }
        ],
        "usage": reply.usage,
    }
    return ok(request, completion, envelope=settings.envelope and settings.envelope_chat)


routes: list[Route] = [Route("/v1/chat/completions", chat_completions, methods=["POST"])]
