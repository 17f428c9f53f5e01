"""What the sync and async clients share and that does no I/O: the settings, the retry policy and budget,
``with_options``, copies, the repr, and the small steps of a send (the request built, the history kept,
the answer recorded and logged). The doors that send are in :mod:`finetune_sdk._base_client`.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Mapping
from typing import Final, Generic, TypeVar

import httpx
from typing_extensions import Self

from ._core.config import (
    DEFAULT_MAX_ANSWER_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_WAIT,
    DEFAULT_TIMEOUT,
    NOT_GIVEN,
    ClientConfig,
    NotGiven,
    PollTypes,
    TimeoutTypes,
)
from ._core.retry import RetryBudget, RetryHistory, RetryPolicy
from ._core.schedule import PollSchedule
from ._core.wire import Answer, RequestSpec, request_args
from ._response import Sent, record
from .errors import ConfigurationError

__all__ = ["DEFAULT_LIMITS", "BaseClient", "logger"]

logger: Final = logging.getLogger("finetune_sdk")
HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)

# Generous: a service relaying many chat streams keeps many connections open at once.
DEFAULT_LIMITS: Final = httpx.Limits(max_connections=100, max_keepalive_connections=20)


def _is_instance(value: object, kind: type[object]) -> bool:
    return isinstance(value, kind)


def _no_log(request: httpx.Request, response: httpx.Response) -> None:
    return None


class BaseClient(Generic[HttpT]):
    """What both clients share and that does no I/O: settings, the retry policy, repr, copies.

    ``HttpT`` is the httpx client a subclass sends through (``httpx.Client`` or ``httpx.AsyncClient``).
    """

    _http_type: type[HttpT]

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
        retry_budget: RetryBudget | NotGiven | None = NOT_GIVEN,
        http_client: HttpT | None = None,
        default_headers: Mapping[str, str] | None = None,
        poll_interval: PollTypes = None,
        deadline: float | None = None,
        idle_timeout: float | None = None,
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
        allow_insecure_http: bool = False,
        trust_env: bool = True,
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
            trust_env=trust_env,
        )
        if isinstance(retry_budget, NotGiven):  # a budget of its own (see RetryBudget)
            budget: RetryBudget | None = RetryBudget()
        elif retry_budget is None or _is_instance(retry_budget, RetryBudget):
            budget = retry_budget
        else:
            raise ConfigurationError(f"retry_budget must be a RetryBudget or None, got {retry_budget!r}")
        # The retry policy and tenacity's retrying object are built once per client, not per call.
        self._policy = RetryPolicy(
            self._config.max_retries, max_wait=self._config.max_retry_wait, budget=budget
        )
        if http_client is not None and not _is_instance(http_client, self._http_type):
            raise ConfigurationError(
                f"http_client must be an {self._http_type.__module__}.{self._http_type.__name__} for "
                f"{type(self).__name__}, got {type(http_client).__name__}"
            )
        self._owns_http = http_client is None
        self._http: HttpT = self._new_http() if http_client is None else http_client
        # Whether the transport is the SDK's own, bounding every read by the attempt's deadline.
        self._bounded = http_client is None

    def _new_http(self) -> HttpT:
        raise NotImplementedError

    @property
    def config(self) -> ClientConfig:
        """The client's settings, resolved (the key is a :class:`~finetune_sdk._core.config.Secret`)."""
        return self._config

    @property
    def policy(self) -> RetryPolicy:
        """How failed calls are retried (with the client's retry budget)."""
        return self._policy

    @property
    def http_client(self) -> HttpT:
        """The httpx client this client sends through (its own, or the one it was given)."""
        return self._http

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
        (which it never closes) and retry budget::

            client.with_options(timeout=5, max_retries=0).jobs.retrieve(job_id)
            client.with_options(poll_interval=2.0).jobs.wait(job_id)
            client.with_options(deadline=900).files.upload("big.jsonl")
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
        clone = type(self)(
            api_key=config.api_key.get() if config.api_key is not None else None,
            base_url=str(config.base_url),
            timeout=config.timeout,
            max_retries=config.max_retries,
            max_retry_wait=config.max_retry_wait,
            retry_budget=self._policy.budget,
            http_client=self._http,
            default_headers=(
                config.default_headers if isinstance(default_headers, NotGiven) else default_headers
            ),
            poll_interval=config.poll,
            deadline=config.deadline,
            idle_timeout=config.idle_timeout,
            max_answer_bytes=config.max_answer_bytes,
            allow_insecure_http=config.allow_insecure_http,
            trust_env=config.trust_env,
        )
        clone._bounded = self._bounded
        return clone

    def __copy__(self) -> Self:
        # A copy shares the pool and never closes it: closing the copy leaves the original working.
        return self.with_options()

    def __deepcopy__(self, memo: dict[int, object]) -> Self:
        # A deep copy is a client of its own, with a pool of its own (a caller's http_client is shared).
        clone = copy.copy(self)
        if self._owns_http:
            clone._http = clone._new_http()
            clone._owns_http = clone._bounded = True
        return clone

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={str(self._config.base_url)!r})"

    def _history(self, spec: RequestSpec) -> RetryHistory:
        retries = self._config.max_retries if spec.max_retries is None else spec.max_retries
        return RetryHistory(f"{spec.method} {self._config.base_url.path}{spec.path}", retries + 1)

    def _build(self, spec: RequestSpec) -> httpx.Request:
        return self._http.build_request(**request_args(self._config, spec))

    def _done(self, answer: Answer, history: RetryHistory, started: float) -> Answer:
        if self._policy.budget is not None:
            self._policy.budget.succeeded()
        record(Sent(answer.response, history.attempts - 1, time.perf_counter() - started))
        return answer

    @staticmethod
    def _answer_logger(attempt: int) -> Callable[[httpx.Request, httpx.Response], None]:
        """What an attempt calls when its answer's headers arrive: one DEBUG line, timed from now."""
        if not logger.isEnabledFor(logging.DEBUG):
            return _no_log
        started = time.perf_counter()

        def log(request: httpx.Request, response: httpx.Response) -> None:
            logger.debug(
                "%s %s -> %d (attempt %d, %.1f ms)",
                request.method,
                request.url.path,
                response.status_code,
                attempt,
                (time.perf_counter() - started) * 1000,
            )

        return log
