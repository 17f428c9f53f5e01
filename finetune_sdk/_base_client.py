"""``SyncAPIClient`` and ``AsyncAPIClient``: the one door between the resources and the network.

A resource describes a call as a :class:`~finetune_sdk._core.wire.RequestSpec` (or a flow of several,
see :mod:`finetune_sdk._core.flow`) and hands it to one of these methods, the whole API a resource
uses:

* ``send(spec)`` sends with retries and returns the :class:`~finetune_sdk._core.wire.Answer`;
* ``request(spec, cast)`` is ``send`` decoded into a model;
* ``get_page(query)`` fetches one page of a list;
* ``open_stream(spec, start)`` sends a streaming request and runs ``start`` on each attempt's open
  stream (so a stream that fails before its first text is retried like any call);
* ``run(flow)`` drives a multi-step flow to its result, ``iterate(flow)`` yields what it emits;
* ``config`` (the settings), ``policy`` (retries) and ``http_client`` (the pool) to read.

One function sends one attempt (``_transport.attempt``); tenacity's loop retries it, as
:class:`~finetune_sdk._core.retry.RetryPolicy` says. The async client mirrors the sync one line for line;
only the I/O calls differ. What both share without I/O (settings, ``with_options``, copies) is
:class:`~finetune_sdk._client_common.BaseClient`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import tenacity
from typing_extensions import Self

if TYPE_CHECKING:
    import pydantic

from ._client_common import DEFAULT_LIMITS, BaseClient
from ._core.flow import Emit, Flow, Open, Send, Sleep
from ._core.pages import PageQuery, Walk, page_flow
from ._core.retry import RetryHistory
from ._core.wire import Answer, RequestSpec, parse_model, with_idempotency_key
from ._transport.attempt import asend_attempt, send_attempt
from ._transport.transport import AsyncTransport, Transport
from .errors import APIError
from .pagination import AsyncCursorPage, SyncCursorPage

__all__ = ["AsyncAPIClient", "SyncAPIClient"]

ModelT = TypeVar("ModelT", bound="pydantic.BaseModel")
T = TypeVar("T")


class _Outcome:
    """What a flow run returned (one per run, so threads and tasks sharing a client never mix them)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: Any = None


class SyncAPIClient(BaseClient[httpx.Client]):
    """The synchronous door: retries, one attempt at a time, flows driven with plain calls."""

    _http_type = httpx.Client

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._retrying = tenacity.Retrying(**self._policy.tenacity_args())

    def _new_http(self) -> httpx.Client:
        transport = Transport(
            self._config.base_url,
            DEFAULT_LIMITS,
            trust_env=self._config.trust_env,
            allow_insecure_http=self._config.allow_insecure_http,
        )
        return httpx.Client(
            timeout=self._config.timeout, transport=transport, trust_env=self._config.trust_env
        )

    def close(self) -> None:
        """Close the connection pool (unless it was given by the caller, or shared from another client)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the door ---------------------------------------------------------------------------------

    def send(self, spec: RequestSpec, start: Callable[[httpx.Response], Any] | None = None) -> Answer:
        """Send ``spec`` with retries; the answer (payload decoded, unwrapped from any envelope)."""
        spec = with_idempotency_key(spec)
        history = self._history(spec)
        started = time.perf_counter()
        try:
            answer: Answer = self._retrying(self._attempt, spec, start, history)
        except APIError as exc:
            history.record(exc)
            raise
        return self._done(answer, history, started)

    def request(self, spec: RequestSpec, cast: type[ModelT]) -> ModelT:
        """Send ``spec`` with retries; the answer as ``cast``, carrying ``_request_id``."""
        answer = self.send(spec)
        return parse_model(cast, answer.payload, response=answer.response)

    def open_stream(self, spec: RequestSpec, start: Callable[[httpx.Response], Any]) -> Answer:
        """Send a streaming ``spec`` and run ``start(response)`` inside each attempt (to read the first
        events of the stream): what it raises is retried like any failed attempt, after the response is
        closed; what it returns is the answer's payload. An error answer is read, decoded and raised
        like any other."""
        return self.send(spec if spec.stream else _streamed(spec), start)

    def get_page(
        self, query: PageQuery[ModelT], walk: Walk | None = None, after: str | None = None
    ) -> SyncCursorPage[ModelT]:
        """One page of a list (the first unless ``after`` is given)."""
        page = self.run(page_flow(query, walk or Walk(), after))
        fetch = functools.partial(self.get_page, query, page.walk)
        return SyncCursorPage(page.items, page.has_more, page.next_after, page.request_id, fetch)

    def run(self, flow: Flow[T]) -> T:
        """Drive ``flow`` to its end and return its result (it may not emit)."""
        outcome = _Outcome()
        for _ in self._drive(flow, outcome):
            raise TypeError("a flow run for its result emitted items; iterate it instead")
        result: T = outcome.value
        return result

    def iterate(self, flow: Flow[Any]) -> Iterator[Any]:
        """Drive ``flow`` and yield each item it emits, as the loop asks for them."""
        for items in self._drive(flow, _Outcome()):
            yield from items

    def _drive(self, flow: Flow[Any], outcome: _Outcome) -> Iterator[Sequence[Any]]:
        reply: Any = None
        error: BaseException | None = None
        try:
            while True:
                try:
                    effect = flow.send(reply) if error is None else flow.throw(error)
                except StopIteration as done:
                    outcome.value = done.value
                    return
                reply, error = None, None
                if isinstance(effect, Emit):
                    yield effect.items  # outside the try: a caller leaving the loop closes the flow
                    continue
                try:
                    if isinstance(effect, Send):
                        reply = self.send(effect.spec)
                    elif isinstance(effect, Open):
                        reply = self.open_stream(effect.spec, effect.start)
                    elif isinstance(effect, Sleep):
                        time.sleep(effect.seconds)
                    else:
                        reply = effect.function(*effect.args)
                        if inspect.isawaitable(reply):
                            _refuse_awaitable(reply, effect.function)
                except BaseException as exc:  # the flow sees it first: it may clean up, handle or re-raise
                    error = exc
        finally:
            flow.close()

    def _attempt(
        self, spec: RequestSpec, start: Callable[[httpx.Response], Any] | None, history: RetryHistory
    ) -> Answer:
        history.attempts += 1
        request = self._build(spec)
        log = self._answer_logger(history.attempts)
        return send_attempt(
            self._http, request, stream=spec.stream, start=start, on_answer=log, bounded=self._bounded
        )


class AsyncAPIClient(BaseClient[httpx.AsyncClient]):
    """The asynchronous door: :class:`SyncAPIClient` with ``await`` (asyncio or trio)."""

    _http_type = httpx.AsyncClient

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        import anyio  # only the async client needs it

        self._retrying = tenacity.AsyncRetrying(sleep=anyio.sleep, **self._policy.tenacity_args())

    def _new_http(self) -> httpx.AsyncClient:
        transport = AsyncTransport(
            self._config.base_url,
            DEFAULT_LIMITS,
            trust_env=self._config.trust_env,
            allow_insecure_http=self._config.allow_insecure_http,
        )
        return httpx.AsyncClient(
            timeout=self._config.timeout, transport=transport, trust_env=self._config.trust_env
        )

    async def aclose(self) -> None:
        """Close the connection pool (unless it was given by the caller, or shared from another client)."""
        if self._owns_http:
            await self._http.aclose()

    async def close(self) -> None:
        """The same as :meth:`aclose` (the name openai's async client uses)."""
        await self.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- the door ---------------------------------------------------------------------------------

    async def send(
        self, spec: RequestSpec, start: Callable[[httpx.Response], Awaitable[Any]] | None = None
    ) -> Answer:
        """Send ``spec`` with retries; the answer (payload decoded, unwrapped from any envelope)."""
        spec = with_idempotency_key(spec)
        history = self._history(spec)
        started = time.perf_counter()
        try:
            # A copy per call: tenacity keeps its loop state per thread, and concurrent tasks share one.
            answer: Answer = await self._retrying.copy()(self._attempt, spec, start, history)
        except APIError as exc:
            history.record(exc)
            raise
        return self._done(answer, history, started)

    async def request(self, spec: RequestSpec, cast: type[ModelT]) -> ModelT:
        """Send ``spec`` with retries; the answer as ``cast``, carrying ``_request_id``."""
        answer = await self.send(spec)
        return parse_model(cast, answer.payload, response=answer.response)

    async def open_stream(
        self, spec: RequestSpec, start: Callable[[httpx.Response], Awaitable[Any]]
    ) -> Answer:
        """See :meth:`SyncAPIClient.open_stream`; ``start`` is awaited."""
        return await self.send(spec if spec.stream else _streamed(spec), start)

    async def get_page(
        self, query: PageQuery[ModelT], walk: Walk | None = None, after: str | None = None
    ) -> AsyncCursorPage[ModelT]:
        """One page of a list (the first unless ``after`` is given)."""
        page = await self.run(page_flow(query, walk or Walk(), after))
        fetch = functools.partial(self.get_page, query, page.walk)
        return AsyncCursorPage(page.items, page.has_more, page.next_after, page.request_id, fetch)

    async def run(self, flow: Flow[T]) -> T:
        """Drive ``flow`` to its end and return its result (it may not emit)."""
        outcome = _Outcome()
        async with contextlib.aclosing(self._drive(flow, outcome)) as batches:
            async for _ in batches:
                raise TypeError("a flow run for its result emitted items; iterate it instead")
        result: T = outcome.value
        return result

    async def iterate(self, flow: Flow[Any]) -> AsyncIterator[Any]:
        """Drive ``flow`` and yield each item it emits, as the loop asks for them."""
        async with contextlib.aclosing(self._drive(flow, _Outcome())) as batches:
            async for items in batches:
                for item in items:
                    yield item

    async def _drive(self, flow: Flow[Any], outcome: _Outcome) -> AsyncGenerator[Sequence[Any], None]:
        import anyio
        import anyio.to_thread

        reply: Any = None
        error: BaseException | None = None
        try:
            while True:
                try:
                    effect = flow.send(reply) if error is None else flow.throw(error)
                except StopIteration as done:
                    outcome.value = done.value
                    return
                reply, error = None, None
                if isinstance(effect, Emit):
                    yield effect.items  # outside the try: a caller leaving the loop closes the flow
                    continue
                try:
                    if isinstance(effect, Send):
                        if effect.shielded:
                            with anyio.CancelScope(shield=True):
                                reply = await self.send(effect.spec)
                        else:
                            reply = await self.send(effect.spec)
                    elif isinstance(effect, Open):
                        reply = await self.open_stream(effect.spec, effect.start)
                    elif isinstance(effect, Sleep):
                        await anyio.sleep(effect.seconds)
                    elif effect.awaitable is not None:
                        reply = await effect.awaitable(*effect.args)
                    elif effect.blocking:
                        reply = await anyio.to_thread.run_sync(effect.function, *effect.args)
                    else:
                        reply = effect.function(*effect.args)
                        if inspect.isawaitable(reply):
                            reply = await reply
                except BaseException as exc:  # the flow sees it first: it may clean up, handle or re-raise
                    error = exc
        finally:
            flow.close()

    async def _attempt(
        self,
        spec: RequestSpec,
        start: Callable[[httpx.Response], Awaitable[Any]] | None,
        history: RetryHistory,
    ) -> Answer:
        history.attempts += 1
        request = self._build(spec)
        log = self._answer_logger(history.attempts)
        return await asend_attempt(
            self._http, request, stream=spec.stream, start=start, on_answer=log, bounded=self._bounded
        )


def _refuse_awaitable(result: Awaitable[Any], function: Callable[..., Any]) -> None:
    """A coroutine function given to the sync client as a callback would never run: say so."""
    close = getattr(result, "close", None)
    if callable(close):
        close()  # no "coroutine was never awaited" warning on top of the error
    name = getattr(function, "__name__", repr(function))
    raise TypeError(
        f"{name} is a coroutine function: the sync Client calls it without awaiting; use AsyncClient"
    )


def _streamed(spec: RequestSpec) -> RequestSpec:
    return dataclasses.replace(spec, stream=True)
