"""``client.chat``: stream a reply (``client.chat(model, messages)``), get it whole (``complete``), and
``compare`` a base and a tuned model.

The request is built and checked by ``chat.request``; the stream's bytes are read by ``chat.stream``;
the client's door sends it with retries (``open_stream``: a stream is retried until its first text).

Why not wrap the official ``openai`` client: it builds a pydantic model for every chunk (about 80 µs of
CPU each, measured); reading the stream ourselves costs a few µs per chunk. The official client stays
one attribute away (``client.openai``), for everything beyond text chat (tools, JSON mode, logprobs).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpx
from typing_extensions import Unpack

from .._core.config import DEFAULT_COMPARE_CONCURRENCY
from .._core.wire import Answer, RequestSpec, parse_model
from .._resource import AsyncAPIResource, SyncAPIResource
from .._response import RawResponseView, async_raw_method, raw_method
from ..chat.request import ChatOptions, Messages, chat_request, without_stream_options
from ..chat.stream import AsyncChatStream, ChatStream
from ..errors import APIStatusError
from ..evaluate._checks import CheckLike
from ..evaluate._comparison import Clock, Comparison, Reply, Setup
from ..evaluate._run import OnProgress, arun_comparison, run_comparison
from ..types.chat import ChatCompletion

__all__ = ["AsyncChat", "Chat"]


def _compare_options(
    max_tokens: int | None, temperature: float | None, top_p: float | None, seed: int | None
) -> ChatOptions:
    options = ChatOptions(max_tokens=max_tokens)
    if temperature is not None:
        options["temperature"] = temperature
    if top_p is not None:
        options["top_p"] = top_p
    if seed is not None:
        options["seed"] = seed
    return options


def _with_system(options: ChatOptions, system: str | None) -> ChatOptions:
    with_system = options.copy()
    with_system["system"] = system
    return with_system


def _completion(answer: Answer) -> ChatCompletion:
    return parse_model(ChatCompletion, answer.payload, response=answer.response)


class Chat(SyncAPIResource):
    """Chat on :class:`~finetune_sdk.Client`: ``client.chat(model, messages)`` streams a reply."""

    def __call__(self, model: str, messages: Messages, **options: Unpack[ChatOptions]) -> ChatStream:
        """Stream a reply: iterate the result for its text deltas as they arrive.

        ``messages`` is a string (one user turn), a list of message dicts or ``Message`` objects, or a
        ``Conversation`` (sent without its final assistant reply). The keyword arguments are those of
        :class:`~finetune_sdk.ChatOptions`: ``system`` (prepends a system message), ``max_tokens``,
        ``temperature``, ``top_p``, ``stop``, ``seed``, ``presence_penalty``, ``frequency_penalty``,
        ``stream_options`` (None leaves out the usage request for servers that refuse it), and
        ``timeout``, ``extra_headers``, ``extra_query``, ``extra_body``. A misspelt or out-of-range one
        raises ``TypeError``/``ValueError`` before anything is sent.

        The request goes out on the first iteration, or at once with ``.open()`` (or ``with``): errors
        before any text then raise there, which is what a relay wants before it answers. After the loop
        the stream holds ``text``, ``finish_reason`` and ``usage``. Until the first text delta has
        arrived, a failure is retried like any call: a 408, 429 or 5xx (or the overload code), answered
        outright or as an error event in the stream, a lost connection, a stream that ends before any
        text. After it nothing is: a break raises :class:`~finetune_sdk.StreamInterruptedError` with the
        partial text.
        """
        spec = chat_request(model, messages, stream=True, **options)
        return ChatStream(model, lambda start: self._open(spec, start))

    def _open(self, spec: RequestSpec, start: Callable[[httpx.Response], Any]) -> Answer:
        try:
            return self._client.open_stream(spec, start)
        except APIStatusError as exc:
            fallback = without_stream_options(spec, exc)
            if fallback is None:
                raise
            return self._client.open_stream(fallback, start)  # usage stays None: the server cannot send it

    def complete(self, model: str, messages: Messages, **options: Unpack[ChatOptions]) -> ChatCompletion:
        """The whole reply in one answer (not streamed): a :class:`~finetune_sdk.ChatCompletion` with
        ``text``, ``finish_reason``, ``usage`` and ``request_id``. Same arguments as calling the
        resource."""
        return _completion(self._client.send(chat_request(model, messages, stream=False, **options)))

    def _timed(self, setup: Setup, prompt: str, options: ChatOptions) -> Reply:
        clock = Clock()
        with self(setup[0], prompt, **_with_system(options, setup[1])) as stream:
            for _ in stream:
                clock.tick()
        return clock.reply(stream)

    def compare(
        self,
        prompts: Iterable[str],
        *,
        base: Setup,
        tuned: Setup,
        checks: Iterable[CheckLike] = (),
        samples: int = 1,
        concurrency: int = DEFAULT_COMPARE_CONCURRENCY,
        on_progress: OnProgress | None = None,
        max_tokens: int | None = 4096,
        temperature: float | None = None,
        top_p: float | None = None,
        seed: int | None = None,
    ) -> Comparison:
        """Send each prompt to ``base`` and to ``tuned`` (each a ``(model, system_prompt)`` pair) and
        measure both; the sampling settings apply to every call.

        ``checks``: callables ``(prompt, reply) -> bool | float`` or named checks of
        :mod:`finetune_sdk.evaluate` (``ends_with("。")``, ``no_latin()`` ...), scored on every reply.
        ``samples``: how many times each prompt is asked on each side (for the stability figures).
        ``on_progress(done, total)`` is called after each finished call.

        The calls run on a pool of ``concurrency`` threads sharing this client's connection pool
        (``concurrency=1``: one after the other, in this thread); latencies then include the wait for the
        server under that load. Rows keep the order of ``prompts``. The first failed call (in that order)
        raises its error; calls not yet started are dropped.
        """
        options = _compare_options(max_tokens, temperature, top_p, seed)
        return run_comparison(
            lambda setup, prompt: self._timed(setup, prompt, options),
            prompts,
            base=base,
            tuned=tuned,
            checks=checks,
            samples=samples,
            concurrency=concurrency,
            on_progress=on_progress,
        )

    @property
    def with_raw_response(self) -> ChatWithRawResponse:
        """``complete`` returning an :class:`~finetune_sdk.APIResponse`."""
        return ChatWithRawResponse(self)


class AsyncChat(AsyncAPIResource):
    """Chat on :class:`~finetune_sdk.AsyncClient`: :class:`Chat` with ``await``."""

    def __call__(self, model: str, messages: Messages, **options: Unpack[ChatOptions]) -> AsyncChatStream:
        """Stream a reply: ``async for delta in client.chat(...)`` (no ``await``: the request goes out
        on the first iteration, or at ``await stream.open()``). See :meth:`Chat.__call__`. To leave the
        loop early, use ``async with client.chat(...) as stream:`` so the connection is released at once."""
        spec = chat_request(model, messages, stream=True, **options)
        return AsyncChatStream(model, lambda start: self._open(spec, start))

    async def _open(self, spec: RequestSpec, start: Callable[[httpx.Response], Awaitable[Any]]) -> Answer:
        try:
            return await self._client.open_stream(spec, start)
        except APIStatusError as exc:
            fallback = without_stream_options(spec, exc)
            if fallback is None:
                raise
            return await self._client.open_stream(fallback, start)

    async def complete(
        self, model: str, messages: Messages, **options: Unpack[ChatOptions]
    ) -> ChatCompletion:
        """The whole reply in one answer (not streamed); see :meth:`Chat.complete`."""
        return _completion(await self._client.send(chat_request(model, messages, stream=False, **options)))

    async def _timed(self, setup: Setup, prompt: str, options: ChatOptions) -> Reply:
        clock = Clock()
        async with self(setup[0], prompt, **_with_system(options, setup[1])) as stream:
            async for _ in stream:
                clock.tick()
        return clock.reply(stream)

    async def compare(
        self,
        prompts: Iterable[str],
        *,
        base: Setup,
        tuned: Setup,
        checks: Iterable[CheckLike] = (),
        samples: int = 1,
        concurrency: int = DEFAULT_COMPARE_CONCURRENCY,
        on_progress: OnProgress | None = None,
        max_tokens: int | None = 4096,
        temperature: float | None = None,
        top_p: float | None = None,
        seed: int | None = None,
    ) -> Comparison:
        """:meth:`Chat.compare`, with the calls run as tasks (anyio, on asyncio or trio), at most
        ``concurrency`` at once. A failed call cancels the others and raises its typed error, as the sync
        ``compare`` does (not the task group's ``ExceptionGroup``, which is its ``__cause__``)."""
        options = _compare_options(max_tokens, temperature, top_p, seed)
        return await arun_comparison(
            lambda setup, prompt: self._timed(setup, prompt, options),
            prompts,
            base=base,
            tuned=tuned,
            checks=checks,
            samples=samples,
            concurrency=concurrency,
            on_progress=on_progress,
        )

    @property
    def with_raw_response(self) -> AsyncChatWithRawResponse:
        """``complete`` returning an :class:`~finetune_sdk.APIResponse`."""
        return AsyncChatWithRawResponse(self)


class ChatWithRawResponse(RawResponseView):
    """The methods of :class:`Chat`, each returning an :class:`~finetune_sdk.APIResponse`."""

    @raw_method(Chat.complete)
    def complete(self) -> None:
        """:meth:`Chat.complete`, with its raw response."""


class AsyncChatWithRawResponse(RawResponseView):
    """The methods of :class:`AsyncChat`, each returning an :class:`~finetune_sdk.APIResponse`."""

    @async_raw_method(AsyncChat.complete)
    def complete(self) -> None:
        """:meth:`AsyncChat.complete`, with its raw response."""
