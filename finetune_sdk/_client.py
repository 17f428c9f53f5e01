"""``Client`` and ``AsyncClient``: own the HTTP connection pool, send requests with retries, hold the
resources (``files``, ``jobs``, chat).

These are thin shells around the pure pieces in ``_wire`` (building requests, decoding answers) and
``_retry`` (the policy tenacity applies). ``AsyncClient`` mirrors ``Client`` line for line; only the
I/O calls differ (``await``, ``AsyncRetrying``, ``anyio.sleep``).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Final, Generic, TypeVar

import anyio
import httpx
import pydantic
import tenacity
from typing_extensions import Self

from ._attempt import asend_attempt, send_attempt
from ._chat_client import AsyncChatMixin, ChatMixin
from ._config import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_WAIT,
    DEFAULT_TIMEOUT,
    NOT_GIVEN,
    ClientConfig,
    NotGiven,
    TimeoutTypes,
)
from ._limits import DEFAULT_MAX_ANSWER_BYTES, install_deadline
from ._retry import RetryHistory, RetryPolicy
from ._wire import Answer, RequestSpec, parse_model, request_args, with_idempotency_key
from .errors import APIError, ConfigurationError
from .files import AsyncFiles, Files
from .jobs import AsyncJobs, Jobs

__all__ = ["AsyncClient", "Client"]

logger: Final = logging.getLogger("finetune_sdk")
ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)
HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)

# Generous: a service relaying many chat streams keeps many connections open at once.
DEFAULT_LIMITS: Final = httpx.Limits(max_connections=100, max_keepalive_connections=20)


class _BaseClient(Generic[HttpT]):
    """What both clients share and that does no I/O: settings, the retry policy, repr.

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
        deadline: float | None = None,
        idle_timeout: float | None = None,
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
        allow_insecure_http: bool = False,
    ) -> None:
        self._configure(
            ClientConfig.resolve(
                api_key=api_key,
                base_url=base_url,
                timeout=timeout,
                max_retries=max_retries,
                max_retry_wait=max_retry_wait,
                default_headers=default_headers,
                deadline=deadline,
                idle_timeout=idle_timeout,
                max_answer_bytes=max_answer_bytes,
                allow_insecure_http=allow_insecure_http,
            )
        )
        if http_client is not None and not isinstance(http_client, self._http_type):
            raise ConfigurationError(
                f"http_client must be an {self._http_type.__module__}.{self._http_type.__name__} for "
                f"{type(self).__name__}, got {type(http_client).__name__}"
            )
        self._owns_http = http_client is None
        self._http = self._new_http() if http_client is None else http_client
        install_deadline(self._http)  # sync pools: every read and write then ends by the attempt's deadline
        self._bind_resources()

    def _new_http(self) -> HttpT:
        raise NotImplementedError

    def _configure(self, config: ClientConfig) -> None:
        # The retry policy and tenacity's retrying object are built once per setting, not per call.
        self._config = config
        self._policy = RetryPolicy(config.max_retries, max_wait=config.max_retry_wait)
        self._make_retrying()

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
        deadline: float | NotGiven | None = NOT_GIVEN,
        idle_timeout: float | NotGiven | None = NOT_GIVEN,
        max_answer_bytes: int | NotGiven = NOT_GIVEN,
    ) -> Self:
        """A copy with other settings for some calls, sharing this client's connection pool::

        client.with_options(timeout=5, max_retries=0).jobs.retrieve(job_id)
        """
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._configure(
            self._config.replace(
                timeout=timeout,
                max_retries=max_retries,
                max_retry_wait=max_retry_wait,
                deadline=deadline,
                idle_timeout=idle_timeout,
                max_answer_bytes=max_answer_bytes,
            )
        )
        clone._owns_http = False  # the original closes the pool
        clone._bind_resources()
        return clone

    def _bind_resources(self) -> None:
        """Create the resource objects (``files``, ``jobs`` ...) bound to this client."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={str(self._config.base_url)!r})"

    def _answer_logger(self, attempt: int) -> Callable[[httpx.Request, httpx.Response], None]:
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


class Client(ChatMixin, _BaseClient[httpx.Client]):
    """The synchronous client of the fine-tuning platform.

    Settings come from the arguments, then the environment (``FINETUNE_API_KEY``,
    ``FINETUNE_BASE_URL``), then defaults. Use it as a context manager, or call :meth:`close`.
    A client given an ``http_client`` uses it as it is and leaves it open.

    Args:
        api_key: the platform key; sent as ``Authorization: Bearer``. Never printed.
        base_url: defaults to ``https://api.openapi.cn/v1``.
        timeout: seconds, an ``httpx.Timeout``, or None for no limit. It limits each network operation
            and, unless ``deadline`` / ``idle_timeout`` say otherwise, each attempt as a whole (its
            longest value) and the pause between two events of a chat stream.
        max_retries: how many times a failed call (connection lost, timeout, 408, 429, 5xx, overload)
            is tried again; 0 turns retries off.
        max_retry_wait: the longest single pause between attempts, ``Retry-After`` included.
        http_client: an ``httpx.Client`` to send through (proxies, custom transports ...).
        default_headers: extra headers sent with every request.
        deadline: seconds one attempt may take in all (connecting, sending, the answer's headers and
            body, a stream up to its first text), however slowly the server sends; ``inf`` for no
            total limit. Defaults to the longest value of ``timeout``.
        idle_timeout: the longest pause between two events of a chat stream (keep-alive comments do
            not count); defaults to the longest value of ``timeout``.
        max_answer_bytes: the largest answer read, decompressed (default 32 MiB), and the longest line
            of a stream; a larger one raises :class:`~finetune_sdk.ResponseTooLargeError`.
        allow_insecure_http: allow a plain ``http://`` base URL on a host other than this machine (the
            key would travel unencrypted); also ``FINETUNE_ALLOW_INSECURE_HTTP=1``.
    """

    files: Files
    """Upload, list, retrieve and delete training files."""
    jobs: Jobs
    """Create, inspect, cancel, follow and wait for fine-tuning jobs."""

    _http_type = httpx.Client

    def _new_http(self) -> httpx.Client:
        return httpx.Client(timeout=self._config.timeout, limits=DEFAULT_LIMITS)

    def _bind_resources(self) -> None:
        self.files = Files(self)
        self.jobs = Jobs(self)

    def _make_retrying(self) -> None:
        self._retrying = tenacity.Retrying(**self._policy.tenacity_args())

    def close(self) -> None:
        """Close the connection pool (unless it was given by the caller)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- sending ----------------------------------------------------------------------------------

    def _request(self, spec: RequestSpec) -> Any:
        """Send ``spec`` with retries; return the decoded payload (unwrapped from any envelope)."""
        return self._send(spec).payload

    def _request_model(self, spec: RequestSpec, model: type[ModelT]) -> ModelT:
        answer = self._send(spec)
        return parse_model(model, answer.payload, response=answer.response)

    def _stream(self, spec: RequestSpec) -> httpx.Response:
        """Send a streaming ``spec`` with retries; return the open response (the caller closes it).

        Retries cover everything up to the first byte of the stream; an error answer is read, decoded
        and raised like any other.
        """
        return self._send(dataclasses.replace(spec, stream=True)).response

    def _stream_started(self, spec: RequestSpec, start: Callable[[httpx.Response], Any]) -> Answer:
        """Like :meth:`_stream`, and run ``start(response)`` inside each attempt (to read the first
        events of the stream): what it raises is retried like any failed attempt, after the response
        is closed; what it returns is the answer's payload."""
        return self._send(dataclasses.replace(spec, stream=True), start)

    def _send(self, spec: RequestSpec, start: Callable[[httpx.Response], Any] | None = None) -> Answer:
        spec = with_idempotency_key(spec)
        history = RetryHistory(f"{spec.method} {self._config.base_url.path}{spec.path}")
        try:
            return self._retrying(self._attempt, spec, start, history)
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


class AsyncClient(AsyncChatMixin, _BaseClient[httpx.AsyncClient]):
    """The asynchronous client: the same surface as :class:`Client`, with ``await``.

    Runs on asyncio and trio (through anyio). Use ``async with``, or call :meth:`aclose`. A client
    given an ``http_client`` (an ``httpx.AsyncClient``) uses it as it is and leaves it open.
    """

    files: AsyncFiles
    """Upload, list, retrieve and delete training files."""
    jobs: AsyncJobs
    """Create, inspect, cancel, follow and wait for fine-tuning jobs."""

    _http_type = httpx.AsyncClient

    def _new_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self._config.timeout, limits=DEFAULT_LIMITS)

    def _bind_resources(self) -> None:
        self.files = AsyncFiles(self)
        self.jobs = AsyncJobs(self)

    def _make_retrying(self) -> None:
        self._retrying = tenacity.AsyncRetrying(sleep=anyio.sleep, **self._policy.tenacity_args())

    async def aclose(self) -> None:
        """Close the connection pool (unless it was given by the caller)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- sending ----------------------------------------------------------------------------------

    async def _request(self, spec: RequestSpec) -> Any:
        return (await self._send(spec)).payload

    async def _request_model(self, spec: RequestSpec, model: type[ModelT]) -> ModelT:
        answer = await self._send(spec)
        return parse_model(model, answer.payload, response=answer.response)

    async def _stream(self, spec: RequestSpec) -> httpx.Response:
        return (await self._send(dataclasses.replace(spec, stream=True))).response

    async def _stream_started(
        self, spec: RequestSpec, start: Callable[[httpx.Response], Awaitable[Any]]
    ) -> Answer:
        """Like :meth:`_stream`, and await ``start(response)`` inside each attempt (see ``Client``)."""
        return await self._send(dataclasses.replace(spec, stream=True), start)

    async def _send(
        self, spec: RequestSpec, start: Callable[[httpx.Response], Awaitable[Any]] | None = None
    ) -> Answer:
        spec = with_idempotency_key(spec)
        history = RetryHistory(f"{spec.method} {self._config.base_url.path}{spec.path}")
        try:
            # A copy per call: tenacity keeps its loop state per thread, and concurrent tasks share one.
            return await self._retrying.copy()(self._attempt, spec, start, history)
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
