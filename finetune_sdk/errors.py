"""The exception hierarchy of finetune-sdk.

Every error the SDK raises on purpose is a :class:`FineTuneError`::

    FineTuneError
    ├── ConfigurationError            no API key, bad base URL ...
    ├── DatasetValidationError        a dataset broke the platform's rules (carries the report; defined
    │                                 with the report in finetune_sdk.data, which it belongs to)
    ├── OutputConflictError           an output file is an input, or another output (nothing written)
    ├── CostLimitError                a job's estimated cost is above the max_cost given (nothing sent)
    ├── APIError                      something went wrong talking to the platform
    │   ├── APIStatusError            the platform answered with an error
    │   │   ├── BadRequestError           400
    │   │   ├── AuthenticationError       401
    │   │   ├── PermissionDeniedError     403
    │   │   ├── NotFoundError             404
    │   │   ├── ConflictError             409
    │   │   ├── UnprocessableEntityError  422
    │   │   ├── RateLimitError            429
    │   │   └── InternalServerError       5xx (and the platform's "overloaded" envelope code)
    │   ├── APIConnectionError        no answer at all (refused, reset, broken stream)
    │   │   ├── APITimeoutError
    │   │   └── StreamInterruptedError  a chat stream broke midway (carries the partial text)
    │   └── APIResponseValidationError  an answer came but could not be understood
    │       └── ResponseTooLargeError     an answer (or a stream's line) passed max_answer_bytes
    └── JobError                      a job ended in a way the caller did not ask for
        ├── JobFailedError
        ├── JobCancelledError
        └── WaitTimeoutError

Errors that come from a request carry ``status_code`` and ``request_id`` (when the platform sent an
answer, and an id with it), and the retry history: ``attempts`` (how many times the request was sent) and
``retry_waits`` (the seconds slept in between). No error ever holds or prints the API key: an answer
that echoes it has it replaced by ``***`` in the message and the body.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from ._core.ids import request_id_of

if TYPE_CHECKING:
    import httpx

    from .types import FineTuneJob

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "CostLimitError",
    "FineTuneError",
    "InternalServerError",
    "JobCancelledError",
    "JobError",
    "JobFailedError",
    "NotFoundError",
    "OutputConflictError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "StreamInterruptedError",
    "UnprocessableEntityError",
    "WaitTimeoutError",
]


class FineTuneError(Exception):
    """The base of every error raised by finetune-sdk."""

    message: str

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors cross process boundaries (multiprocessing, task queues): rebuild them from their
        # attributes, since their constructors take keyword arguments. The HTTP request and response
        # stay behind: they hold a connection and cannot be pickled.
        state = {k: (None if k in ("request", "response") else v) for k, v in self.__dict__.items()}
        return (_rebuild, (type(self), self.args, state))


class ConfigurationError(FineTuneError, ValueError):
    """The client is missing a setting it needs (most often the API key), or a setting is malformed."""


class APIError(FineTuneError):
    """A request to the platform did not succeed.

    ``status_code`` and ``request_id`` repeat the answer's HTTP status and ``x-request-id`` when there
    was an answer (None otherwise). ``attempts`` counts how many times it was sent and ``retry_waits``
    lists the pauses between attempts, so a log or a bug report shows the whole retry history.
    """

    request: httpx.Request | None
    response: httpx.Response | None
    status_code: int | None
    request_id: str | None
    attempts: int
    retry_waits: tuple[float, ...]

    def __init__(
        self,
        message: str,
        *,
        request: httpx.Request | None = None,
        response: httpx.Response | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
    ) -> None:
        if request is None and response is not None:
            request = response.request
        super().__init__(_redact(message, _key_of(request)))
        self.request = request
        self.response = response
        self.status_code = status_code if status_code is not None else _status_of(response)
        self.request_id = request_id if request_id is not None else _request_id_of(response)
        self.attempts = 1
        self.retry_waits = ()

    def _redacted(self, value: Any) -> Any:
        """``value`` (text, or JSON data) with the request's API key replaced by ``***``."""
        return _redact(value, _key_of(self.request))

    def __str__(self) -> str:
        if self.attempts > 1:
            waited = sum(self.retry_waits)
            return f"{self.message} (after {self.attempts} attempts, {waited:.1f}s of retry waits)"
        return self.message


class APIStatusError(APIError):
    """The platform answered with an error status (or an error envelope).

    ``status_code`` is the HTTP status; when the platform wraps an error in its ``{"code", "message"}``
    envelope under HTTP 200, it is the status that the envelope's code stands for (``50505`` -> 505).
    ``code`` is the platform's error code (``"model_not_found"``, ``"50505"`` ...), ``body`` the decoded
    error payload, ``request_id`` the ``x-request-id`` header when present and ``retry_after`` the
    seconds the platform asked to wait (``Retry-After``), if it did.
    """

    # Narrower than APIError's: a status error always has its answer's status.
    status_code: int  # pyright: ignore[reportIncompatibleVariableOverride]
    code: str | None
    body: object
    retry_after: float | None

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        body: object = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        response: httpx.Response | None = None,
        request: httpx.Request | None = None,
    ) -> None:
        super().__init__(
            message, request=request, response=response, status_code=status_code, request_id=request_id
        )
        self.code = code
        self.body = self._redacted(body)
        self.retry_after = retry_after

    def __str__(self) -> str:
        detail = f"Error {self.status_code}"
        if self.code:
            detail += f" ({self.code})"
        text = f"{detail}: {super().__str__()}"
        if self.request_id:
            text += f" [request id: {self.request_id}]"
        return text


class BadRequestError(APIStatusError):
    """400: the request was malformed; the message names the field."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, wrong or revoked."""


class PermissionDeniedError(APIStatusError):
    """403: the key is valid but may not do this."""


class NotFoundError(APIStatusError):
    """404: no such file, job or model."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the current state (for example cancelling a finished job)."""


class UnprocessableEntityError(APIStatusError):
    """422: the request was well formed but its values were refused."""


class RateLimitError(APIStatusError):
    """429: too many requests; retried automatically, raised when retries are exhausted."""


class InternalServerError(APIStatusError):
    """5xx or the platform's overload code: retried automatically, raised when retries are exhausted."""


class APIConnectionError(APIError):
    """No (complete) answer came back: the connection was refused, reset or broke mid-stream."""

    def __init__(
        self,
        message: str = "Connection error.",
        *,
        request: httpx.Request | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(message, request=request, response=response)


class StreamInterruptedError(APIConnectionError):
    """A chat stream stopped before it was complete: the connection broke, or the stream ended without
    ``[DONE]`` or a finish reason. Before the first text it is retried like a lost connection (the caller
    only sees it when retries ran out, with ``partial_text == ""``); after text has been handed out it is
    raised at once, never retried, since that text cannot be unsaid.

    ``partial_text`` is the text that had arrived, ``deltas`` how many pieces it came in, ``model`` the
    model that was answering.
    """

    partial_text: str
    deltas: int
    model: str

    def __init__(
        self,
        message: str,
        *,
        partial_text: str,
        deltas: int,
        model: str,
        request: httpx.Request | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(message, request=request, response=response)
        self.partial_text = partial_text
        self.deltas = deltas
        self.model = model


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read, write or pool); see ``Client(timeout=...)``."""

    def __init__(self, message: str = "Request timed out.", *, request: httpx.Request | None = None) -> None:
        super().__init__(message, request=request)


class APIResponseValidationError(APIError):
    """The platform answered with success, but the answer was not the JSON shape the contract promises."""

    body: object

    def __init__(
        self,
        message: str,
        *,
        body: object = None,
        request: httpx.Request | None = None,
        response: httpx.Response | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(
            message, request=request, response=response, status_code=status_code, request_id=request_id
        )
        self.body = self._redacted(body)


class ResponseTooLargeError(APIResponseValidationError):
    """An answer, or one line of a chat stream, was larger (decompressed) than ``max_answer_bytes``;
    reading stopped there. ``limit`` is that limit."""

    limit: int

    def __init__(self, message: str, *, limit: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.limit = limit


class OutputConflictError(FineTuneError, ValueError):
    """An output file would overwrite an input (through a link too) or another output of the same call;
    refused before anything is read or written. ``path`` is the output's path."""

    path: str

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class CostLimitError(FineTuneError, ValueError):
    """``jobs.create(max_cost=...)`` refused: the estimated cost of training is higher. Nothing was
    uploaded or created. ``cost`` and ``max_cost`` are in the price's currency; ``billed_tokens`` is what
    the estimate counted."""

    cost: float
    max_cost: float
    billed_tokens: int

    def __init__(self, message: str, *, cost: float, max_cost: float, billed_tokens: int) -> None:
        super().__init__(message)
        self.cost = cost
        self.max_cost = max_cost
        self.billed_tokens = billed_tokens


class JobError(FineTuneError):
    """A fine-tuning job did not end the way the caller waited for.

    ``job_id`` names it; ``job`` is its last known state (None only if it was never seen).
    """

    job: FineTuneJob | None
    job_id: str

    def __init__(self, message: str, *, job: FineTuneJob | None, job_id: str | None = None) -> None:
        super().__init__(message)
        self.job = job
        self.job_id = job_id if job_id is not None else (job.id if job is not None else "")


class JobFailedError(JobError):
    """The job failed; ``code`` and ``error_message`` repeat the platform's reason
    (``invalid_training_file`` names the first bad line)."""

    job: FineTuneJob  # pyright: ignore[reportIncompatibleVariableOverride]  # never None here
    code: str | None
    error_message: str | None

    def __init__(
        self,
        message: str,
        *,
        job: FineTuneJob,
        code: str | None = None,
        error_message: str | None = None,
    ) -> None:
        super().__init__(message, job=job)
        self.code = code
        self.error_message = error_message


class JobCancelledError(JobError):
    """The job was cancelled before it finished."""

    job: FineTuneJob  # pyright: ignore[reportIncompatibleVariableOverride]  # never None here

    def __init__(self, message: str, *, job: FineTuneJob) -> None:
        super().__init__(message, job=job)


class WaitTimeoutError(JobError, TimeoutError):
    """``wait()`` gave up after its ``timeout``; the job itself keeps running on the platform.

    Resume with ``client.jobs.wait(err.job_id)``.
    """

    timeout: float

    def __init__(self, message: str, *, job: FineTuneJob | None, job_id: str, timeout: float) -> None:
        super().__init__(message, job=job, job_id=job_id)
        self.timeout = timeout


def _key_of(request: httpx.Request | None) -> str | None:
    """The API key a request carried (in its ``Authorization`` header), if any."""
    if request is None:
        return None
    token = request.headers.get("authorization", "").partition(" ")[2].strip()
    return token if len(token) >= 4 else None


def _redact(value: Any, key: str | None) -> Any:
    """``value`` with every occurrence of ``key`` replaced by ``***``, in strings at any depth of JSON
    data (dict keys included); other values as they are."""
    if key is None:
        return value
    if isinstance(value, str):
        return value.replace(key, "***") if key in value else value
    if isinstance(value, dict):
        items = cast("dict[object, object]", value).items()
        return {_redact(k, key): _redact(v, key) for k, v in items}
    if isinstance(value, (list, tuple)):
        redacted = [_redact(v, key) for v in cast("list[object] | tuple[object, ...]", value)]
        return redacted if isinstance(value, list) else tuple(redacted)
    return value


def _status_of(response: httpx.Response | None) -> int | None:
    return response.status_code if response is not None else None


def _request_id_of(response: httpx.Response | None) -> str | None:
    return None if response is None else request_id_of(response.headers)


def _rebuild(cls: type[FineTuneError], args: tuple[Any, ...], state: dict[str, Any]) -> FineTuneError:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


def status_error_class(status: int) -> type[APIStatusError]:
    """The error class for an HTTP status (any status outside 2xx)."""
    return _STATUS_CLASSES.get(status, InternalServerError if status >= 500 else APIStatusError)


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}
