"""``SyncAPIClient`` and ``AsyncAPIClient``: the one request path every resource sends through.

A resource describes a call as a :class:`~finetune_sdk._wire.RequestSpec` (with the call's options
merged in by ``_options``); :meth:`SyncAPIClient.request` sends it with retries and returns the model,
:meth:`SyncAPIClient.get_page` one page of a list. One function sends one attempt and reads its body
(``_attempt``); one loop (tenacity's) retries it. These are thin shells around the pure pieces in
``_wire`` (building requests, decoding answers) and ``_retry`` (the policy tenacity applies); the
async client mirrors the sync one line for line, only the I/O calls differ.
"""

# pyright: reportPrivateUsage=false
# pyright: reportUnnecessaryIsInstance=false, reportUnnecessaryComparison=false
from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

import httpx
import tenacity
from typing_extensions import Self

if TYPE_CHECKING:
    import pydantic

from ._attempt import asend_attempt, send_attempt
from ._config import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_WAIT,
    DEFAULT_TIMEOUT,
    NOT_GIVEN,
    ClientConfig,
    NotGiven,
    PollTypes,
    TimeoutTypes,
)
from ._limits import DEFAULT_MAX_ANSWER_BYTES, install_deadline
from ._response import Sent, record, request_id_of
from ._retry import RetryHistory, RetryPolicy
from ._schedule import PollSchedule
from ._wire import Answer, RequestSpec, parse_model, request_args, with_idempotency_key
from .errors import APIError, ConfigurationError
from .pagination import AsyncCursorPage, PageQuery, SyncCursorPage, Walk

__all__ = ["AsyncAPIClient", "SyncAPIClient"]

logger: Final = logging.getLogger("finetune_sdk")
ModelT = TypeVar("ModelT", bound="pydantic.BaseModel")
HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)

# Generous: a service relaying many chat streams keeps many connections open at once.
DEFAULT_LIMITS: Final = httpx.Limits(max_connections=100, max_keepalive_connections=20)


class _BaseClient(Generic[HttpT]):
    """What both clients share and that does no I/O: settings, the retry policy, decoding, repr.

    ``HttpT`` is the httpx client a subclass sends through (``httpx.Client`` or ``httpx.AsyncClient``).
    """

    _config: ClientConfig
    _policy: RetryPolicy
    _owns_http: bool
    _http: HttpT
    _http_type: type[HttpT]

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
        http_client: HttpT | None = None,
        default_headers: Mapping[str, str] | None = None,
        poll_interval: PollTypes = None,
        deadline: float | None = None,
        idle_timeout: float | None = None,
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
        allow_insecure_http: bool = False,
    ) -> None:
        self._config = ClientConfig.resolve(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            max_retry_wait=max_retry_wait,
            default_headers=default_headers,
            poll_interval=poll_interval,
            deadline=deadline,
            idle_timeout=idle_timeout,
            max_answer_bytes=max_answer_bytes,
            allow_insecure_http=allow_insecure_http,
        )
        # The retry policy and tenacity's retrying object are built once per client, not per call.
        self._policy = RetryPolicy(self._config.max_retries, max_wait=self._config.max_retry_wait)
        self._make_retrying()
        if http_client is not None and not isinstance(http_client, self._http_type):
            raise ConfigurationError(
                f"http_client must be an {self._http_type.__module__}.{self._http_type.__name__} for "
                f"{type(self).__name__}, got {type(http_client).__name__}"
            )
        self._owns_http = http_client is None
        self._http = self._new_http() if http_client is None else http_client
        install_deadline(self._http)  # sync pools: every read and write then ends by the attempt's deadline

    def _new_http(self) -> HttpT:
        raise NotImplementedError

    def _make_retrying(self) -> None:
        raise NotImplementedError

    @property
    def base_url(self) -> httpx.URL:
        """The platform's base URL, ending in ``/``."""
        return self._config.base_url

    @property
    def timeout(self) -> httpx.Timeout:
        return self._config.timeout

    @property
    def max_retries(self) -> int:
        return self._config.max_retries

    def with_options(
        self,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        max_retry_wait: float | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
        poll_interval: float | PollSchedule | NotGiven = NOT_GIVEN,
        deadline: float | NotGiven | None = NOT_GIVEN,
        idle_timeout: float | NotGiven | None = NOT_GIVEN,
        max_answer_bytes: int | NotGiven = NOT_GIVEN,
    ) -> Self:
        """A new client with other settings for some calls, sharing this client's connection pool
        (which it never closes)::

            client.with_options(timeout=5, max_retries=0).jobs.retrieve(job_id)
            client.with_options(poll_interval=2.0).jobs.wait(job_id)
            client.with_options(deadline=900).files.create(file="big.jsonl")
        """
        config = self._config.replace(
            timeout=timeout,
            max_retries=max_retries,
            max_retry_wait=max_retry_wait,
            poll_interval=poll_interval,
            deadline=deadline,
            idle_timeout=idle_timeout,
            max_answer_bytes=max_answer_bytes,
        )
        return type(self)(
            api_key=config.api_key.get() if config.api_key is not None else None,
            base_url=str(config.base_url),
            timeout=config.timeout,
            max_retries=config.max_retries,
            max_retry_wait=config.max_retry_wait,
            http_client=self._http,
            default_headers=(
                config.default_headers if isinstance(default_headers, NotGiven) else default_headers
            ),
            poll_interval=config.poll,
            deadline=config.deadline,
            idle_timeout=config.idle_timeout,
            max_answer_bytes=config.max_answer_bytes,
            allow_insecure_http=config.allow_insecure_http,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={str(self._config.base_url)!r})"

    @staticmethod
    def _answer_logger(attempt: int) -> Callable[[httpx.Request, httpx.Response], None]:
        """What an attempt calls when its answer's headers arrive: one DEBUG line, timed from now."""
        started = time.perf_counter()

        def log(request: httpx.Request, response: httpx.Response) -> None:
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "%s %s -> %d (attempt %d, %.1f ms)",
                    request.method,
                    request.url.path,
                    response.status_code,
                    attempt,
                    (time.perf_counter() - started) * 1000,
                )

        return log

    def _history(self, spec: RequestSpec) -> RetryHistory:
        return RetryHistory(f"{spec.method} {self._config.base_url.path}{spec.path}")

    @staticmethod
    def _sent(answer: Answer, history: RetryHistory, started: float) -> Answer:
        record(Sent(answer.response, history.attempts - 1, time.perf_counter() - started))
        return answer

    @staticmethod
    def _model(answer: Answer, cast: type[ModelT]) -> ModelT:
        model = parse_model(cast, answer.payload, response=answer.response)
        _tag(model, request_id_of(answer.response))
        return model

    @staticmethod
    def _page_items(
        query: PageQuery[ModelT], walk: Walk, after: str | None, answer: Answer
    ) -> tuple[list[ModelT], bool, str | None, str | None, Walk]:
        items, more, next_after, walk = query.read(walk, after, answer.payload, answer.response)
        request_id = request_id_of(answer.response)
        for item in items:
            _tag(item, request_id)
        return items, more, next_after, request_id, walk


def _tag(model: pydantic.BaseModel, request_id: str | None) -> None:
    # Every model the SDK returns carries the id of the request it came from (a private attribute,
    # so dumps and equality are unchanged). Checked by name, so that importing the client does not
    # build the models.
    if "_request_id" in model.__private_attributes__:
        setattr(model, "_request_id", request_id)  # noqa: B010


class SyncAPIClient(_BaseClient[httpx.Client]):
    """The synchronous request path: retries, one attempt at a time, decoding."""

    _http_type = httpx.Client

    def _new_http(self) -> httpx.Client:
        return httpx.Client(timeout=self._config.timeout, limits=DEFAULT_LIMITS)

    def _make_retrying(self) -> None:
        self._retrying = tenacity.Retrying(**self._policy.tenacity_args())

    def close(self) -> None:
        """Close the connection pool (unless it was given by the caller)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- sending ----------------------------------------------------------------------------------

    def request(self, spec: RequestSpec, cast: type[ModelT]) -> ModelT:
        """Send ``spec`` with retries; return the answer as ``cast``, carrying ``_request_id``."""
        return self._model(self._send(spec), cast)

    def get_page(
        self, query: PageQuery[ModelT], walk: Walk | None = None, after: str | None = None
    ) -> SyncCursorPage[ModelT]:
        """One page of a list (the first unless ``after`` is given)."""
        walk = Walk() if walk is None else walk
        spec = query.spec(after)
        items: list[ModelT] = []
        more, next_after, request_id = False, None, None
        if spec is not None:
            answer = self._send(spec)
            items, more, next_after, request_id, walk = self._page_items(query, walk, after, answer)
        return SyncCursorPage(
            items, more, next_after, request_id, functools.partial(self.get_page, query, walk)
        )

    def _request(self, spec: RequestSpec) -> Any:
        """Send ``spec`` with retries; return the decoded payload (unwrapped from any envelope)."""
        return self._send(spec).payload

    def _stream_started(self, spec: RequestSpec, start: Callable[[httpx.Response], Any]) -> Answer:
        """Send a streaming ``spec`` and run ``start(response)`` inside each attempt (to read the first
        events of the stream): what it raises is retried like any failed attempt, after the response
        is closed; what it returns is the answer's payload. An error answer is read, decoded and
        raised like any other."""
        return self._send(dataclasses.replace(spec, stream=True), start)

    def _send(self, spec: RequestSpec, start: Callable[[httpx.Response], Any] | None = None) -> Answer:
        spec = with_idempotency_key(spec)
        history = self._history(spec)
        started = time.perf_counter()
        try:
            return self._sent(self._retrying(self._attempt, spec, start, history), history, started)
        except APIError as exc:
            history.record(exc)
            raise

    def _attempt(
        self, spec: RequestSpec, start: Callable[[httpx.Response], Any] | None, history: RetryHistory
    ) -> Answer:
        history.attempts += 1
        request = self._http.build_request(**request_args(self._config, spec))
        log = self._answer_logger(history.attempts)
        return send_attempt(self._http, request, stream=spec.stream, start=start, on_answer=log)


class AsyncAPIClient(_BaseClient[httpx.AsyncClient]):
    """The asynchronous request path: :class:`SyncAPIClient` with ``await`` (asyncio or trio)."""

    _http_type = httpx.AsyncClient

    def _new_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self._config.timeout, limits=DEFAULT_LIMITS)

    def _make_retrying(self) -> None:
        import anyio  # only the async client needs it

        self._retrying = tenacity.AsyncRetrying(sleep=anyio.sleep, **self._policy.tenacity_args())

    async def aclose(self) -> None:
        """Close the connection pool (unless it was given by the caller)."""
        if self._owns_http:
            await self._http.aclose()

    async def close(self) -> None:
        """The same as :meth:`aclose` (the name openai's async client uses)."""
        await self.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- sending ----------------------------------------------------------------------------------

    async def request(self, spec: RequestSpec, cast: type[ModelT]) -> ModelT:
        """Send ``spec`` with retries; return the answer as ``cast``, carrying ``_request_id``."""
        return self._model(await self._send(spec), cast)

    async def get_page(
        self, query: PageQuery[ModelT], walk: Walk | None = None, after: str | None = None
    ) -> AsyncCursorPage[ModelT]:
        """One page of a list (the first unless ``after`` is given)."""
        walk = Walk() if walk is None else walk
        spec = query.spec(after)
        items: list[ModelT] = []
        more, next_after, request_id = False, None, None
        if spec is not None:
            answer = await self._send(spec)
            items, more, next_after, request_id, walk = self._page_items(query, walk, after, answer)
        return AsyncCursorPage(
            items, more, next_after, request_id, functools.partial(self.get_page, query, walk)
        )

    async def _request(self, spec: RequestSpec) -> Any:
        return (await self._send(spec)).payload

    async def _stream_started(
        self, spec: RequestSpec, start: Callable[[httpx.Response], Awaitable[Any]]
    ) -> Answer:
        """See :meth:`SyncAPIClient._stream_started`; ``start`` is awaited."""
        return await self._send(dataclasses.replace(spec, stream=True), start)

    async def _send(
        self, spec: RequestSpec, start: Callable[[httpx.Response], Awaitable[Any]] | None = None
    ) -> Answer:
        spec = with_idempotency_key(spec)
        history = self._history(spec)
        started = time.perf_counter()
        try:
            # A copy per call: tenacity keeps its loop state per thread, and concurrent tasks share one.
            answer: Answer = await self._retrying.copy()(self._attempt, spec, start, history)
            return self._sent(answer, history, started)
        except APIError as exc:
            history.record(exc)
            raise

    async def _attempt(
        self,
        spec: RequestSpec,
        start: Callable[[httpx.Response], Awaitable[Any]] | None,
        history: RetryHistory,
    ) -> Answer:
        history.attempts += 1
        request = self._http.build_request(**request_args(self._config, spec))
        log = self._answer_logger(history.attempts)
        return await asend_attempt(self._http, request, stream=spec.stream, start=start, on_answer=log)
