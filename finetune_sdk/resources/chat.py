"""``client.chat``: stream a reply (``client.chat(model, messages)``), get it whole (``complete``), and
``compare`` a base and a tuned model.

The request is built and checked by ``chat.request``; the stream's bytes are read by ``chat.stream``;
the client's door sends it with retries (a stream is retried until its first text).

Why not wrap the official ``openai`` client: it builds a pydantic model for every chunk (about 80 µs of
CPU each, measured); reading the stream ourselves costs a few µs per chunk. The official client stays
one attribute away (``client.openai``), for everything beyond text chat (tools, JSON mode, logprobs).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any, Concatenate, TypeVar

import httpx
from typing_extensions import ParamSpec, Unpack

from .._calls import runs
from .._core.config import DEFAULT_COMPARE_CONCURRENCY
from .._core.flow import Flow, open_stream, send
from .._core.wire import Answer, RequestSpec, parse_model
from .._resource import AsyncAPIResource, Settings, SyncAPIResource, named
from .._response import AsyncRawResponseView, SyncRawResponseView
from ..chat.request import ChatOptions, Messages, chat_request, without_stream_options
from ..chat.state import answer_error
from ..chat.stream import AsyncChatStream, ChatStream
from ..errors import APIStatusError
from ..types.chat import ChatCompletion

if TYPE_CHECKING:
    from ..evaluate._checks import CheckLike
    from ..evaluate._comparison import Comparison
    from ..evaluate._rows import Reply, Setup
    from ..evaluate._run import OnProgress

__all__ = ["AsyncChat", "Chat"]

P = ParamSpec("P")
R = TypeVar("R")


def _opened(spec: RequestSpec, start: Callable[[httpx.Response], Any]) -> Flow[Answer]:
    """Open the stream of ``spec``; a server refusing ``stream_options`` (some OpenAI-compatible servers
    predate it) is asked once more without it, and the stream then has no usage."""
    try:
        return (yield from open_stream(spec, start))
    except APIStatusError as exc:
        fallback = without_stream_options(spec, exc)
        if fallback is None:
            raise
        return (yield from open_stream(fallback, start))


@dataclasses.dataclass(frozen=True)
class _Comparing:
    """A comparison's arguments, checked: what both clients run, each with its own runner."""

    prompts: Iterable[str]
    base: Setup
    tuned: Setup
    checks: Iterable[CheckLike]
    samples: int
    concurrency: int
    on_progress: OnProgress | None
    options: ChatOptions

    def run(self, runner: Callable[..., R], timed: Callable[[Setup, str, ChatOptions], Any]) -> R:
        """Run the comparison with ``runner`` (``run_comparison`` or ``arun_comparison``), each call
        timed by ``timed(setup, prompt, options)``."""

        def call(setup: Setup, prompt: str) -> Any:
            with_system = self.options.copy()
            with_system["system"] = setup[1]
            return timed(setup, prompt, with_system)

        return runner(
            call,
            self.prompts,
            base=self.base,
            tuned=self.tuned,
            checks=self.checks,
            samples=self.samples,
            concurrency=self.concurrency,
            on_progress=self.on_progress,
        )


def _complete(
    client: Settings, model: str, messages: Messages, **options: Unpack[ChatOptions]
) -> Flow[ChatCompletion]:
    """The whole reply in one answer (not streamed): a :class:`~finetune_sdk.ChatCompletion` with
    ``text``, ``finish_reason``, ``usage`` and ``request_id``. Same arguments as calling
    ``client.chat``."""
    spec = chat_request(model, messages, stream=False, **options)
    answer = yield from send(spec)
    error = answer_error(answer.payload, model, answer.response)
    if error is not None:
        raise error
    return parse_model(ChatCompletion, answer.payload, response=answer.response)


def _compare(
    client: Settings,
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
) -> _Comparing:
    """Send each prompt to ``base`` and to ``tuned`` (each a ``(model, system_prompt)`` pair) and
    measure both; the sampling settings apply to every call.

    ``checks``: callables ``(prompt, reply) -> bool | float`` or named checks of
    :mod:`finetune_sdk.evaluate` (``ends_with("。")``, ``no_latin()`` ...), scored on every reply.
    ``samples``: how many times each prompt is asked on each side (for the stability figures).
    ``on_progress(done, total)`` is called after each finished call.

    The calls run ``concurrency`` at a time (a pool of threads sharing this client's connection pool,
    or tasks of one task group on the async client; ``concurrency=1``: one after the other);
    latencies then include the wait for the server under that load. Rows keep the order of
    ``prompts``. The first failed call (in that order) raises its typed error; calls not yet started
    are dropped, and the replies under way stop at their next delta, as on Ctrl-C (on the async
    client, the others are cancelled; the task group's ``ExceptionGroup`` is the error's
    ``__cause__``).
    """
    options = ChatOptions(max_tokens=max_tokens)
    if temperature is not None:
        options["temperature"] = temperature
    if top_p is not None:
        options["top_p"] = top_p
    if seed is not None:
        options["seed"] = seed
    return _Comparing(prompts, base, tuned, checks, samples, concurrency, on_progress, options)


class _ChatCalls:
    """The methods of the chat resources and of their raw-response views, written once."""

    complete = runs(_complete)


class Chat(_ChatCalls, SyncAPIResource):
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
        return ChatStream(model, lambda start: self._client.run(_opened(spec, start)))

    def _timed(self, setup: Setup, prompt: str, options: ChatOptions) -> Reply:
        from ..evaluate._rows import Clock  # the evaluation side loads when a comparison runs
        from ..evaluate._run import stopping

        clock, stop = Clock(), stopping.get()
        with self(setup[0], prompt, **options) as stream:
            for _ in stream:
                clock.tick()
                if stop is not None and stop.is_set():
                    break  # the comparison is over (a failure elsewhere, or Ctrl-C): no need to read on
        return clock.reply(stream)

    @staticmethod
    def _comparing(
        build: Callable[Concatenate[Settings, P], _Comparing],
    ) -> Callable[Concatenate[Chat, P], Comparison]:
        def compare(self: Chat, /, *args: P.args, **kwargs: P.kwargs) -> Comparison:
            from ..evaluate._run import run_comparison  # the evaluation side loads when a comparison runs

            return build(self._client, *args, **kwargs).run(run_comparison, self._timed)

        return named(compare, build)

    compare = _comparing(_compare)

    @property
    def with_raw_response(self) -> ChatWithRawResponse:
        """``complete`` returning an :class:`~finetune_sdk.APIResponse`."""
        return ChatWithRawResponse(self)


class AsyncChat(_ChatCalls, AsyncAPIResource):
    """Chat on :class:`~finetune_sdk.AsyncClient`: :class:`Chat` with ``await``."""

    def __call__(self, model: str, messages: Messages, **options: Unpack[ChatOptions]) -> AsyncChatStream:
        """Stream a reply: ``async for delta in client.chat(...)`` (no ``await``: the request goes out
        on the first iteration, or at ``await stream.open()``). See :meth:`Chat.__call__`. To leave the
        loop early, use ``async with client.chat(...) as stream:`` so the connection is released at once."""
        spec = chat_request(model, messages, stream=True, **options)
        return AsyncChatStream(model, lambda start: self._client.run(_opened(spec, start)))

    async def _timed(self, setup: Setup, prompt: str, options: ChatOptions) -> Reply:
        from ..evaluate._rows import Clock

        clock = Clock()
        async with self(setup[0], prompt, **options) as stream:
            async for _ in stream:
                clock.tick()
        return clock.reply(stream)

    @staticmethod
    def _comparing(
        build: Callable[Concatenate[Settings, P], _Comparing],
    ) -> Callable[Concatenate[AsyncChat, P], Coroutine[Any, Any, Comparison]]:
        async def compare(self: AsyncChat, /, *args: P.args, **kwargs: P.kwargs) -> Comparison:
            from ..evaluate._run import arun_comparison

            return await build(self._client, *args, **kwargs).run(arun_comparison, self._timed)

        return named(compare, build)

    compare = _comparing(_compare)

    @property
    def with_raw_response(self) -> AsyncChatWithRawResponse:
        """``complete`` returning an :class:`~finetune_sdk.APIResponse`."""
        return AsyncChatWithRawResponse(self)


class ChatWithRawResponse(_ChatCalls, SyncRawResponseView):
    """The methods of :class:`Chat`, each returning an :class:`~finetune_sdk.APIResponse`."""


class AsyncChatWithRawResponse(_ChatCalls, AsyncRawResponseView):
    """The methods of :class:`AsyncChat`, each returning an :class:`~finetune_sdk.APIResponse`."""
