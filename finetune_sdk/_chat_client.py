"""Chat on the clients: ``chat``, ``chat_stream``, ``complete``, ``compare`` and ``openai``.

Mixins that ``Client`` and ``AsyncClient`` inherit. They only build requests (with the pure helpers of
``_chat_wire``) and hand them to the client's ``_stream_started`` / ``_request``, which own retries,
timeouts and logging; the async mixin mirrors the sync one line for line.

Why not wrap the official ``openai`` client: it builds a pydantic model for every chunk (about 80 µs of
CPU each, measured); reading the stream ourselves with httpx-sse and orjson costs a few µs per chunk. The
official client stays one attribute away, for everything beyond text chat (tools, JSON mode, logprobs).
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, NoReturn

import anyio

from ._chat_wire import DEFAULT_MAX_TOKENS, Messages, chat_spec, completion_text, without_stream_options
from .chat import AsyncChatStream, ChatStream
from .compare import Clock, Comparison, ComparisonRow, Reply, Setup, prepare_prompts
from .errors import APIStatusError, FineTuneError

if sys.version_info < (3, 11):  # the backport anyio itself depends on there
    from exceptiongroup import BaseExceptionGroup  # type: ignore[import-not-found, unused-ignore]

if TYPE_CHECKING:
    import httpx
    import openai

    from ._config import ClientConfig
    from ._wire import Answer, RequestSpec

__all__ = ["AsyncChatMixin", "ChatMixin"]

#: How many chat calls ``compare`` runs at once by default.
DEFAULT_COMPARE_CONCURRENCY = 4


def _check_concurrency(concurrency: int) -> None:
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")


def _first_sdk_error(group: BaseExceptionGroup[BaseException]) -> FineTuneError | None:
    """The first of the SDK's errors in a task group's exception group (nested groups searched)."""
    for exc in group.exceptions:
        if isinstance(exc, FineTuneError):
            return exc
        if isinstance(exc, BaseExceptionGroup):
            found = _first_sdk_error(exc)
            if found is not None:
                return found
    return None


def _raise_sdk_error(group: BaseExceptionGroup[BaseException]) -> NoReturn:
    """Raise what the sync ``compare`` would: the first typed error, the whole group as its cause."""
    error = _first_sdk_error(group)
    if error is None:
        raise group
    raise error from group


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


class _ChatBase:
    """Where the official client is cached: keyed by the settings, so ``with_options`` copies (which
    share this object's ``__dict__`` at first) get one with their own timeout and retries."""

    _config: ClientConfig

    def _cached_openai(self, build: Any) -> Any:
        cached = self.__dict__.get("_openai_cache")
        if cached is None or cached[0] is not self._config:
            cached = (self._config, build())
            self.__dict__["_openai_cache"] = cached
        return cached[1]


class ChatMixin(_ChatBase):
    """Chat methods of :class:`~finetune_sdk.Client`."""

    if TYPE_CHECKING:
        _http: httpx.Client

        def _stream_started(self, spec: RequestSpec, start: Callable[[httpx.Response], Any]) -> Answer: ...
        def _send(self, spec: RequestSpec) -> Answer: ...

    def chat(
        self,
        model: str,
        messages: Messages,
        *,
        system: str | None = None,
        max_tokens: int | None = DEFAULT_MAX_TOKENS,
        temperature: float | None = None,
        **extra: Any,
    ) -> ChatStream:
        """Stream a reply: iterate the result for its text deltas as they arrive.

        ``messages`` is a string (one user turn), a list of message dicts or ``Message`` objects, or a
        ``Conversation`` (sent without its final assistant reply). ``system`` prepends a system
        message. Other keywords (``top_p``, ``stop``, ``seed`` ...) go into the request body as given;
        ``stream_options=None`` leaves out the usage request for servers that refuse it.

        The request goes out on the first iteration. After the loop the stream holds ``text``,
        ``finish_reason`` and ``usage``. Until the first text delta has arrived, a failure is retried
        like any call: a 408, 429 or 5xx (or the overload code), answered outright or as an error event
        in the stream, a lost connection, a stream that ends before any text. After it nothing is:
        a break raises :class:`~finetune_sdk.StreamInterruptedError` with the partial text.
        """
        spec = chat_spec(
            model,
            messages,
            system=system,
            max_tokens=max_tokens,
            temperature=temperature,
            stream=True,
            extra=extra,
        )
        return ChatStream(model, lambda start: self._open_stream(spec, start))

    def _open_stream(self, spec: RequestSpec, start: Callable[[httpx.Response], Any]) -> Answer:
        try:
            return self._stream_started(spec, start)
        except APIStatusError as exc:
            fallback = without_stream_options(spec, exc)
            if fallback is None:
                raise
            return self._stream_started(fallback, start)  # usage stays None: the server cannot send it

    def chat_stream(
        self,
        model: str,
        messages: Messages,
        *,
        system: str | None = None,
        max_tokens: int | None = DEFAULT_MAX_TOKENS,
        temperature: float | None = None,
        **extra: Any,
    ) -> ChatStream:
        """Like :meth:`chat`, but sends the request now and waits for the first text (which the stream
        yields first): an unknown model, a bad key or a stream failing before any text raises here
        (useful to relay a stream only once it has started)."""
        return self.chat(
            model, messages, system=system, max_tokens=max_tokens, temperature=temperature, **extra
        ).open()

    def complete(
        self,
        model: str,
        messages: Messages,
        *,
        system: str | None = None,
        max_tokens: int | None = DEFAULT_MAX_TOKENS,
        temperature: float | None = None,
        **extra: Any,
    ) -> str:
        """The whole reply in one answer (not streamed). Same arguments as :meth:`chat`."""
        spec = chat_spec(
            model,
            messages,
            system=system,
            max_tokens=max_tokens,
            temperature=temperature,
            stream=False,
            extra=extra,
        )
        answer = self._send(spec)
        return completion_text(answer.payload, model, answer.response)[0]

    def _timed(self, setup: Setup, prompt: str, options: dict[str, Any]) -> Reply:
        clock = Clock()
        with self.chat_stream(setup[0], prompt, system=setup[1], **options) as stream:
            for _ in stream:
                clock.tick()
        return clock.reply(stream)

    def compare(
        self,
        prompts: Iterable[str],
        *,
        base: Setup,
        tuned: Setup,
        concurrency: int = DEFAULT_COMPARE_CONCURRENCY,
        **options: Any,
    ) -> Comparison:
        """Send each prompt to ``base`` and to ``tuned`` (each a ``(model, system_prompt)`` pair) and
        measure both. ``options`` (``max_tokens``, ``temperature`` ...) apply to every call.

        The calls run on a pool of ``concurrency`` threads sharing this client's connection pool
        (``concurrency=1``: one after the other, in this thread); latencies then include the wait for the
        server under that load. Rows keep the order of ``prompts``. The first failed call (in that order)
        raises its error; calls not yet started are dropped.
        """
        _check_concurrency(concurrency)
        todo = prepare_prompts(prompts)
        calls = [(prompt, setup) for prompt in todo for setup in (base, tuned)]
        if concurrency == 1:
            replies = [self._timed(setup, prompt, options) for prompt, setup in calls]
        else:
            pool = ThreadPoolExecutor(min(concurrency, len(calls)), thread_name_prefix="finetune-compare")
            try:
                futures = [pool.submit(self._timed, setup, prompt, options) for prompt, setup in calls]
                replies = [future.result() for future in futures]
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
        rows = [ComparisonRow(p, replies[2 * i], replies[2 * i + 1]) for i, p in enumerate(todo)]
        return Comparison(base=base, tuned=tuned, rows=tuple(rows))

    @property
    def openai(self) -> openai.OpenAI:
        """The official ``openai.OpenAI`` client, for what goes beyond text chat (tools, JSON mode,
        logprobs ...). Made on first use (``openai`` is imported only then) with this client's base URL,
        key, timeout, retries and headers, and sharing its connection pool; do not close it on its own
        (closing this client closes the pool)."""
        import openai

        return self._cached_openai(lambda: _make_openai(openai.OpenAI, self._config, self._http))  # type: ignore[no-any-return]


class AsyncChatMixin(_ChatBase):
    """Chat methods of :class:`~finetune_sdk.AsyncClient`: :class:`ChatMixin` with ``await``."""

    if TYPE_CHECKING:
        _http: httpx.AsyncClient

        async def _stream_started(
            self, spec: RequestSpec, start: Callable[[httpx.Response], Awaitable[Any]]
        ) -> Answer: ...
        async def _send(self, spec: RequestSpec) -> Answer: ...

    def chat(
        self,
        model: str,
        messages: Messages,
        *,
        system: str | None = None,
        max_tokens: int | None = DEFAULT_MAX_TOKENS,
        temperature: float | None = None,
        **extra: Any,
    ) -> AsyncChatStream:
        """Stream a reply: ``async for delta in client.chat(...)`` (no ``await``: the request goes out
        on the first iteration). See :meth:`ChatMixin.chat`. To leave the loop early, use
        ``async with client.chat(...) as stream:`` so the connection is released at once."""
        spec = chat_spec(
            model,
            messages,
            system=system,
            max_tokens=max_tokens,
            temperature=temperature,
            stream=True,
            extra=extra,
        )
        return AsyncChatStream(model, lambda start: self._open_stream(spec, start))

    async def _open_stream(
        self, spec: RequestSpec, start: Callable[[httpx.Response], Awaitable[Any]]
    ) -> Answer:
        try:
            return await self._stream_started(spec, start)
        except APIStatusError as exc:
            fallback = without_stream_options(spec, exc)
            if fallback is None:
                raise
            return await self._stream_started(fallback, start)

    async def chat_stream(
        self,
        model: str,
        messages: Messages,
        *,
        system: str | None = None,
        max_tokens: int | None = DEFAULT_MAX_TOKENS,
        temperature: float | None = None,
        **extra: Any,
    ) -> AsyncChatStream:
        """Like :meth:`chat`, but sends the request and waits for the first text before returning:
        errors before any text raise at the ``await``."""
        return await self.chat(
            model, messages, system=system, max_tokens=max_tokens, temperature=temperature, **extra
        ).open()

    async def complete(
        self,
        model: str,
        messages: Messages,
        *,
        system: str | None = None,
        max_tokens: int | None = DEFAULT_MAX_TOKENS,
        temperature: float | None = None,
        **extra: Any,
    ) -> str:
        """The whole reply in one answer (not streamed). Same arguments as :meth:`chat`."""
        spec = chat_spec(
            model,
            messages,
            system=system,
            max_tokens=max_tokens,
            temperature=temperature,
            stream=False,
            extra=extra,
        )
        answer = await self._send(spec)
        return completion_text(answer.payload, model, answer.response)[0]

    async def _timed(self, setup: Setup, prompt: str, options: dict[str, Any]) -> Reply:
        clock = Clock()
        async with await self.chat_stream(setup[0], prompt, system=setup[1], **options) as stream:
            async for _ in stream:
                clock.tick()
        return clock.reply(stream)

    async def compare(
        self,
        prompts: Iterable[str],
        *,
        base: Setup,
        tuned: Setup,
        concurrency: int = DEFAULT_COMPARE_CONCURRENCY,
        **options: Any,
    ) -> Comparison:
        """:meth:`ChatMixin.compare`, with the calls run as tasks (anyio, on asyncio or trio), at most
        ``concurrency`` at once. A failed call cancels the others and raises its typed error, as the sync
        ``compare`` does (not the task group's ``ExceptionGroup``, which is its ``__cause__``)."""
        _check_concurrency(concurrency)
        todo = prepare_prompts(prompts)
        replies: dict[tuple[int, int], Reply] = {}
        limiter = anyio.CapacityLimiter(concurrency)

        async def one(index: int, side: int, setup: Setup) -> None:
            async with limiter:
                replies[index, side] = await self._timed(setup, todo[index], options)

        try:
            async with anyio.create_task_group() as group:
                for index in range(len(todo)):
                    group.start_soon(one, index, 0, base)
                    group.start_soon(one, index, 1, tuned)
        except BaseExceptionGroup as exc:
            _raise_sdk_error(exc)
        rows = [ComparisonRow(p, replies[i, 0], replies[i, 1]) for i, p in enumerate(todo)]
        return Comparison(base=base, tuned=tuned, rows=tuple(rows))

    @property
    def openai(self) -> openai.AsyncOpenAI:
        """The official ``openai.AsyncOpenAI`` client; see :attr:`ChatMixin.openai`."""
        import openai

        return self._cached_openai(lambda: _make_openai(openai.AsyncOpenAI, self._config, self._http))  # type: ignore[no-any-return]
