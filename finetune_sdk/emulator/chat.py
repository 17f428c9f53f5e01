"""``/v1/chat/completions``: OpenAI shapes, streaming (SSE) or not, for base and tuned models.

A tuned model answers with the reply of its nearest training example, a base model with a plain
deterministic reply (see :mod:`.text`). Streams send a role chunk, content deltas of a few characters,
a finish chunk, a usage chunk when ``stream_options.include_usage``, then ``data: [DONE]``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from .context import context, ok
from .faults import DropResponse, PlannedDropError
from .gate import STREAM_BREAK
from .responses import ApiError, encode
from .schemas import ChatRequest, parse_body
from .state import new_id
from .text import base_reply, chunks, estimate_tokens, nearest_reply, truncate_to_tokens

MESSAGE_OVERHEAD = 4
"""Tokens a chat template adds around each message, in the estimate."""


def _reply(request: Request, body: ChatRequest) -> str:
    ctx = context(request)
    prompt = body.last_user_text()
    if body.model in ctx.settings.base_models:
        temperature = (body.model_extra or {}).get("temperature")
        sample = None
        if isinstance(temperature, (int, float)) and temperature > 0:  # sampled: drifts call by call
            sample = ctx.draws[body.model, prompt]
            ctx.draws[body.model, prompt] += 1
        return base_reply(body.model, prompt, ctx.settings.base_reply_chars, sample=sample)
    job = ctx.store.tuned_model(body.model)
    if job is None:
        raise ApiError(
            404, f"model: '{body.model}' does not exist or is not ready", "model_not_found", param="model"
        )
    return nearest_reply(job.examples, prompt) or base_reply(body.model, prompt)


def _usage(body: ChatRequest, content: str) -> dict[str, int]:
    prompt = sum(estimate_tokens(m.text()) + MESSAGE_OVERHEAD for m in body.messages) + 3
    completion = estimate_tokens(content)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _chunk(head: dict[str, Any], delta: dict[str, str], finish: str | None) -> bytes:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return b"data: " + encode({**head, "choices": [choice]}) + b"\n\n"


async def _stream(
    request: Request, body: ChatRequest, head: dict[str, Any], content: str, finish: str
) -> AsyncIterator[bytes]:
    settings = context(request).settings
    pieces = list(chunks(content, settings.chunk_chars))
    break_at = len(pieces) // 2 if request.scope.get("state", {}).get(STREAM_BREAK) else None
    yield _chunk(head, {"role": "assistant", "content": ""}, None)
    for index, piece in enumerate(pieces):
        if index == break_at:
            raise PlannedDropError
        if settings.chunk_delay:
            await anyio.sleep(settings.chunk_delay)
        yield _chunk(head, {"content": piece}, None)
    yield _chunk(head, {}, finish)
    if body.stream_options is not None and body.stream_options.include_usage:
        yield b"data: " + encode({**head, "choices": [], "usage": _usage(body, content)}) + b"\n\n"
    yield b"data: [DONE]\n\n"


async def chat_completions(request: Request) -> Response:
    body = parse_body(ChatRequest, await request.body())
    content, cut = _reply(request, body), False
    limit = body.token_limit()
    if limit is not None:
        content, cut = truncate_to_tokens(content, limit)
    finish = "length" if cut else "stop"
    settings = context(request).settings
    if settings.prompt_token_delay:
        await anyio.sleep(settings.prompt_token_delay * _usage(body, "")["prompt_tokens"])
    head = {
        "id": new_id("chatcmpl-"),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.model,
    }
    if body.stream:
        stream = _stream(request, body, head, content, finish)
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
                "message": {"role": "assistant", "content": content},
                "logprobs": None,
                "finish_reason": finish,
            }
        ],
        "usage": _usage(body, content),
    }
    return ok(request, completion, envelope=settings.envelope and settings.envelope_chat)


routes: list[Route] = [Route("/v1/chat/completions", chat_completions, methods=["POST"])]
