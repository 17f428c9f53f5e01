"""``client.chat``: stream a reply (``client.chat(...)``), get it whole (``complete``), ``compare``.

:class:`Chat` and :class:`AsyncChat` are resources like the others: they build requests with the pure
helpers of ``_chat_wire`` (which check every argument first) and hand them to the base client's one
request path (``_stream_started`` / ``_request``), which owns retries, timeouts and logging.

Why not wrap the official ``openai`` client: it builds a pydantic model for every chunk (about 80 µs of
CPU each, measured); reading the stream ourselves with httpx-sse and orjson costs a few µs per chunk. The
official client stays one attribute away, for everything beyond text chat (tools, JSON mode, logprobs).
"""

# pyright: reportPrivateUsage=false
from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

import httpx
from typing_extensions import Unpack

from .._chat_wire import (
    ChatCompletion,
    ChatOptions,
    Messages,
    chat_request,
    completion_text,
    without_stream_options,
)
from .._config import ClientConfig
from .._resource import AsyncAPIResource, SyncAPIResource
from .._response import async_raw_method, raw_method, request_id_of
from .._wire import Answer, RequestSpec
from ..chat import AsyncChatStream, ChatStream
from ..errors import APIStatusError
from ..evaluate._checks import CheckLike
from ..evaluate._comparison import Clock, Comparison, Reply, Setup
from ..evaluate._run import DEFAULT_CONCURRENCY, OnProgress, arun_comparison, run_comparison

if TYPE_CHECKING:
    import openai

__all__ = ["AsyncChat", "Chat"]

#: How many chat calls ``compare`` runs at once by default.
DEFAULT_COMPARE_CONCURRENCY = DEFAULT_CONCURRENCY


def _openai_options(config: ClientConfig) -> dict[str, Any]:
    """The official client's settings, copied from ours (imports openai: call only when asked)."""
    import openai

    t = config.timeout
    return {
        "api_key": config.require_key(),
        "base_url": str(config.base_url),
        "timeout": openai.Timeout(connect=t.connect, read=t.read, write=t.write, pool=t.pool),
        "max_retries": config.max_retries,
        "default_headers": dict(config.default_headers) or None,
    }


def _make_openai(factory: Any, config: ClientConfig, http: object) -> Any:
    """An official client sharing our httpx pool when the installed openai accepts it.

    openai 1.x is built on httpx and takes an ``httpx.Client`` natively. openai 3.x is built on httpx2:
    its signature says ``httpx2.Client`` but it also accepts an ``httpx.Client`` (checked at run time,
    and tested here), so the pool is shared too. A version that refuses it gets its own pool.
    """
    options = _openai_options(config)
    try:
        return factory(**options, http_client=http)
    except TypeError:
        return factory(**options)


def _completion(answer: Answer, model: str) -> ChatCompletion:
    text, finish_reason, usage = completion_text(answer.payload, model, answer.response)
    return ChatCompletion(
        text, model=model, finish_reason=finish_reason, usage=usage, request_id=request_id_of(answer.response)
    )


def _compare_options(
    max_tokens: int | None, temperature: float | None, top_p: float | None, seed: int | None
) -> ChatOptions:
    options = ChatOptions(max_tokens=max_tokens)
    for name, value in (("temperature", temperature), ("top_p", top_p), ("seed", seed)):
        if value is not None:
            options[name] = value  # type: ignore[literal-required]
    return options


def _with_system(options: ChatOptions, system: str | None) -> ChatOptions:
    with_system = options.copy()
    with_system["system"] = system
    return with_system


class Chat(SyncAPIResource):
    """Chat on :class:`~finetune_sdk.Client`: ``client.chat(model, messages)`` streams a reply."""

    def __call__(self, model: str, messages: Messages, **options: Unpack[ChatOptions]) -> ChatStream:
        """Stream a reply: iterate the result for its text deltas as they arrive.

        ``messages`` is a string (one user turn), a list of message dicts or ``Message`` objects, or a
        ``Conversation`` (sent without its final assistant reply). The keyword arguments are those of
        :class:`~finetune_sdk._chat_wire.ChatOptions`: ``system`` (prepends a system message),
        ``max_tokens``, ``temperature``, ``top_p``, ``stop``, ``seed``, ``presence_penalty``,
        ``frequency_penalty``, ``stream_options`` (None leaves out the usage request for servers that
        refuse it), and ``timeout``, ``extra_headers``, ``extra_query``, ``extra_body``. A misspelt or
        out-of-range one raises ``TypeError``/``ValueError`` before anything is sent.

        The request goes out on the first iteration. After the loop the stream holds ``text``,
        ``finish_reason`` and ``usage``. Until the first text delta has arrived, a failure is retried
        like any call: a 408, 429 or 5xx (or the overload code), answered outright or as an error event
        in the stream, a lost connection, a stream that ends before any text. After it nothing is:
        a break raises :class:`~finetune_sdk.StreamInterruptedError` with the partial text.
        """
        spec = chat_request(model, messages, stream=True, **options)
        return ChatStream(model, lambda start: self._open_stream(spec, start))

    create = __call__

    def _open_stream(self, spec: RequestSpec, start: Callable[[httpx.Response], Any]) -> Answer:
        try:
            return self._client._stream_started(spec, start)
        except APIStatusError as exc:
            fallback = without_stream_options(spec, exc)
            if fallback is None:
                raise
            return self._client._stream_started(
                fallback, start
            )  # usage stays None: the server cannot send it

    def stream(self, model: str, messages: Messages, **options: Unpack[ChatOptions]) -> ChatStream:
        """Like calling the resource, but sends the request now and waits for the first text (which the
        stream yields first): an unknown model, a bad key or a stream failing before any text raises
        here (useful to relay a stream only once it has started). ``client.chat_stream`` is this."""
        return self(model, messages, **options).open()

    def complete(self, model: str, messages: Messages, **options: Unpack[ChatOptions]) -> ChatCompletion:
        """The whole reply in one answer (not streamed): a ``str`` with ``finish_reason``, ``usage``
        and ``request_id``. Same arguments as calling the resource."""
        return _completion(self._client._send(chat_request(model, messages, stream=False, **options)), model)

    def _timed(self, setup: Setup, prompt: str, options: ChatOptions) -> Reply:
        clock = Clock()
        with self.stream(setup[0], prompt, **_with_system(options, setup[1])) as stream:
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

    @functools.cached_property
    def openai(self) -> openai.OpenAI:
        """The official ``openai.OpenAI`` client (see :attr:`finetune_sdk.Client.openai`)."""
        import openai

        return _make_openai(openai.OpenAI, self._client._config, self._client._http)  # type: ignore[no-any-return]

    @property
    def with_raw_response(self) -> ChatWithRawResponse:
        """``complete`` and ``stream`` returning an :class:`~finetune_sdk.APIResponse`."""
        return ChatWithRawResponse(self)


class AsyncChat(AsyncAPIResource):
    """Chat on :class:`~finetune_sdk.AsyncClient`: :class:`Chat` with ``await``."""

    def __call__(self, model: str, messages: Messages, **options: Unpack[ChatOptions]) -> AsyncChatStream:
        """Stream a reply: ``async for delta in client.chat(...)`` (no ``await``: the request goes out
        on the first iteration). See :meth:`Chat.__call__`. To leave the loop early, use
        ``async with client.chat(...) as stream:`` so the connection is released at once."""
        spec = chat_request(model, messages, stream=True, **options)
        return AsyncChatStream(model, lambda start: self._open_stream(spec, start))

    create = __call__

    async def _open_stream(
        self, spec: RequestSpec, start: Callable[[httpx.Response], Awaitable[Any]]
    ) -> Answer:
        try:
            return await self._client._stream_started(spec, start)
        except APIStatusError as exc:
            fallback = without_stream_options(spec, exc)
            if fallback is None:
                raise
            return await self._client._stream_started(fallback, start)

    async def stream(self, model: str, messages: Messages, **options: Unpack[ChatOptions]) -> AsyncChatStream:
        """Like calling the resource, but sends the request and waits for the first text before
        returning: errors before any text raise at the ``await``."""
        return await self(model, messages, **options).open()

    async def complete(
        self, model: str, messages: Messages, **options: Unpack[ChatOptions]
    ) -> ChatCompletion:
        """The whole reply in one answer (not streamed); see :meth:`Chat.complete`."""
        answer = await self._client._send(chat_request(model, messages, stream=False, **options))
        return _completion(answer, model)

    async def _timed(self, setup: Setup, prompt: str, options: ChatOptions) -> Reply:
        clock = Clock()
        async with await self.stream(setup[0], prompt, **_with_system(options, setup[1])) as stream:
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

    @functools.cached_property
    def openai(self) -> openai.AsyncOpenAI:
        """The official ``openai.AsyncOpenAI`` client (see :attr:`finetune_sdk.Client.openai`)."""
        import openai

        return _make_openai(openai.AsyncOpenAI, self._client._config, self._client._http)  # type: ignore[no-any-return]

    @property
    def with_raw_response(self) -> AsyncChatWithRawResponse:
        """``complete`` and ``stream`` returning an :class:`~finetune_sdk.APIResponse`."""
        return AsyncChatWithRawResponse(self)


class ChatWithRawResponse:
    """The methods of :class:`Chat`, each returning an :class:`~finetune_sdk.APIResponse`."""

    def __init__(self, resource: Chat) -> None:
        self._resource = resource

    @raw_method(Chat.complete)
    def complete(self) -> None:
        """:meth:`Chat.complete`, with its raw response."""

    @raw_method(Chat.stream)
    def stream(self) -> None:
        """:meth:`Chat.stream`, with its raw response."""


class AsyncChatWithRawResponse:
    """The methods of :class:`AsyncChat`, each returning an :class:`~finetune_sdk.APIResponse`."""

    def __init__(self, resource: AsyncChat) -> None:
        self._resource = resource

    @async_raw_method(AsyncChat.complete)
    def complete(self) -> None:
        """:meth:`AsyncChat.complete`, with its raw response."""

    @async_raw_method(AsyncChat.stream)
    def stream(self) -> None:
        """:meth:`AsyncChat.stream`, with its raw response."""
