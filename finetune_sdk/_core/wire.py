"""The wire contract, sans I/O: what a request looks like, and what an answer means.

Nothing here sends or receives. Resources describe a call as a :class:`RequestSpec`; the base client
turns it into an ``httpx.Request`` with :func:`request_args`, sends it, and hands the answer back to
:func:`decode_answer`, which returns the payload or raises the SDK's typed error. Both of the platform's
answer forms decode the same way: the plain one (``{"error": {...}}`` on failure) and the envelope
``{"code": 20000, "message": "Ok", "status": true, "data": {...}}`` (where any other code is an error,
even under HTTP 200).
"""

from __future__ import annotations

import dataclasses
import platform
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, NamedTuple, TypeVar, cast

import httpx
import orjson

if TYPE_CHECKING:
    import pydantic

from .._version import __version__
from ..errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    status_error_class,
)
from .config import ClientConfig
from .ids import new_idempotency_key, request_id_of
from .limits import ACCEPT_ENCODING, LIMITS_EXTENSION
from .retry import parse_retry_after

__all__ = [
    "BINARY_EXTENSION",
    "ENVELOPE_OK_CODES",
    "Answer",
    "RequestSpec",
    "decode_answer",
    "decode_json",
    "envelope_status",
    "error_fields",
    "is_stream_answer",
    "parse_model",
    "request_args",
    "status_error",
    "transport_error",
    "with_idempotency_key",
]

ModelT = TypeVar("ModelT", bound="pydantic.BaseModel")

USER_AGENT: Final = f"finetune-sdk/{__version__} python/{platform.python_version()} httpx/{httpx.__version__}"
#: Envelope codes that mean success.
ENVELOPE_OK_CODES: Final = frozenset({0, 200, 20000})
#: The request extension that marks a download: a successful answer's payload is its bytes, not JSON.
BINARY_EXTENSION: Final = "finetune_sdk.binary"

#: Builds a fresh multipart body for one attempt, so a retried upload starts from the first byte.
FilesFactory = Callable[[], Mapping[str, Any]]


@dataclasses.dataclass(frozen=True)
class RequestSpec:
    """One logical call to the platform, before any I/O: the request, and how the call is sent.

    ``files`` is a factory rather than a body so that every attempt opens (or rewinds) the file anew.
    ``idempotency_key`` is fixed once per logical call, so all retries share it. ``timeout``,
    ``deadline`` (seconds for one attempt in all) and ``max_retries`` override the client's settings
    for this call only (a wait's polls use them to end by the wait's own deadline).
    """

    method: str
    path: str
    params: Mapping[str, object] | None = None
    json: object = None
    files: FilesFactory | None = None
    data: Mapping[str, str] | None = None
    idempotency_key: str | None = None
    stream: bool = False
    headers: Mapping[str, str] | None = None
    """Per-call headers (``extra_headers``): they win over the client's, except ``Authorization``."""
    timeout: httpx.Timeout | None = None
    deadline: float | None = None
    max_retries: int | None = None
    binary: bool = False
    """A download: the answer's payload is its bytes (an error answer is still decoded as JSON)."""
    max_answer_bytes: int | None = None
    """The largest answer taken for this call (None: the client's ``max_answer_bytes``)."""


class Answer(NamedTuple):
    """A response and its decoded payload (``None`` for an open stream)."""

    response: httpx.Response
    payload: Any


def with_idempotency_key(spec: RequestSpec) -> RequestSpec:
    """Every POST carries a key; one is made for the logical call unless the caller chose one."""
    if spec.method != "POST" or spec.idempotency_key is not None:
        return spec
    return dataclasses.replace(spec, idempotency_key=new_idempotency_key())


def request_args(config: ClientConfig, spec: RequestSpec) -> dict[str, Any]:
    """Keyword arguments for ``httpx.Client.build_request`` (identical for the async client)."""
    # The body first: a value that cannot be sent fails here, before the key is in any local variable.
    content = _json_body(spec.json) if spec.json is not None else None
    # httpx.Headers, not a dict: names match whatever their case (a caller's "user-agent" is replaced,
    # not doubled), and its repr hides the key from tracebacks that print locals.
    accept = "text/event-stream" if spec.stream else "*/*" if spec.binary else "application/json"
    # Only the codings the SDK inflates itself, in bounded steps (see limits.BodyDecoder).
    headers = httpx.Headers({"Accept": accept, "Accept-Encoding": ACCEPT_ENCODING})
    headers.update(config.default_headers)
    if spec.headers:
        headers.update(spec.headers)
    # The caller's User-Agent is kept, after the SDK's token (servers and logs still see the SDK).
    given_agent = headers.get("User-Agent")
    headers["User-Agent"] = f"{USER_AGENT} {given_agent}" if given_agent else USER_AGENT
    # The key comes from api_key only: a stray header cannot send another account's key.
    headers["Authorization"] = f"Bearer {config.require_key()}"
    if spec.idempotency_key is not None:
        headers["Idempotency-Key"] = spec.idempotency_key
    args: dict[str, Any] = {
        "method": spec.method,
        "url": config.url(spec.path),
        "headers": headers,
        "timeout": config.timeout if spec.timeout is None else spec.timeout,
        # The attempt's own bounds travel with the request, for the transport and the reader.
        "extensions": {
            LIMITS_EXTENSION: config.limits_for(spec.timeout, spec.deadline, spec.max_answer_bytes)
        },
    }
    if spec.binary:
        args["extensions"][BINARY_EXTENSION] = True
    if spec.params:
        args["params"] = {k: v for k, v in spec.params.items() if v is not None}
    if content is not None:
        args["content"] = content
        headers["Content-Type"] = "application/json"
    if spec.files is not None:
        args["files"] = spec.files()
        if spec.data:
            args["data"] = dict(spec.data)
    return args


def _json_body(value: object) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError as exc:
        raise ValueError(f"the request body cannot be sent as JSON: {exc}") from None


def transport_error(exc: httpx.TransportError, request: httpx.Request | None) -> APIError:
    """The SDK's error for a request that got no (complete) answer."""
    where = f"{request.method} {request.url}" if request is not None else "the request"
    if isinstance(exc, httpx.TimeoutException):
        kind = type(exc).__name__.replace("Timeout", " timeout").strip().lower()
        return APITimeoutError(
            f"{where} timed out ({kind}). Raise the limit with Client(timeout=...) or "
            "client.with_options(timeout=...).",
            request=request,
        )
    return APIConnectionError(
        f"{where} failed: {type(exc).__name__}: {str(exc) or 'connection lost'}. "
        "Check the base URL and the network.",
        request=request,
    )


def decode_json(content: bytes) -> Any:
    """Parse a JSON body; an empty body is ``None``. Raises ``ValueError`` on malformed JSON."""
    if not content.strip():
        return None
    return orjson.loads(content)


def _is_envelope(body: object) -> bool:
    if not isinstance(body, dict):
        return False
    fields = cast("dict[str, object]", body)
    code = fields.get("code")
    return (
        isinstance(code, int)
        and not isinstance(code, bool)
        and "message" in fields
        and "id" not in fields
        and "object" not in fields
        and "error" not in fields
    )


def _is_success(status: int) -> bool:
    # Only 2xx is a success: a 3xx is a redirect the SDK does not follow, and a status outside the
    # standard range (600 ...) is no success either, whatever its body looks like.
    return 200 <= status < 300


def decode_answer(response: httpx.Response) -> Any:
    """The payload of a read answer, unwrapped from the envelope; or the typed error it stands for.
    A successful download (``RequestSpec.binary``) is its bytes."""
    ok = _is_success(response.status_code)
    if ok and response.request.extensions.get(BINARY_EXTENSION):
        return response.content
    try:
        body = decode_json(response.content)
    except ValueError:
        if not ok:
            raise status_error(response, response.status_code, response.text) from None
        raise APIResponseValidationError(
            f"{response.request.method} {response.request.url.path} answered {response.status_code} "
            f"with a body that is not JSON: {response.text[:200]!r}",
            body=response.text,
            response=response,
        ) from None
    if not ok:
        raise status_error(response, response.status_code, body)
    if _is_envelope(body):
        code: int = body["code"]
        if code in ENVELOPE_OK_CODES and body.get("status", True) is not False:
            return body.get("data")
        raise status_error(response, envelope_status(code, response.status_code), body)
    return body


def envelope_status(code: int, http_status: int) -> int:
    """Envelope codes are an HTTP status times 100 plus a detail (50505 -> 505, 40401 -> 404)."""
    derived = code // 100
    if 400 <= derived < 600:
        return derived
    return http_status if http_status >= 400 else 500


def error_fields(body: object) -> tuple[str | None, str | None]:
    """(message, code) from any of the error forms the platform and compatible servers use."""
    if isinstance(body, dict):
        fields = cast("dict[str, object]", body)
        error = fields.get("error")
        if isinstance(error, dict):
            detail = cast("dict[str, object]", error)
            message = detail.get("message")
            code = detail.get("code") or detail.get("type")
            return (str(message) if message else None, str(code) if code is not None else None)
        if isinstance(error, str):
            return error, None
        errors = fields.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict) and "message" not in fields:
            # The list form some gateways use: {"errors": [{"message": ..., "code": ...}, ...]}.
            return error_fields(cast("list[dict[str, object]]", errors)[0])
        message = fields.get("message") or fields.get("detail") or fields.get("msg")
        code = fields.get("code")
        return (
            str(message) if message else None,
            str(code) if code is not None and not isinstance(code, bool) else None,
        )
    if isinstance(body, str) and body.strip():
        return body.strip()[:500], None
    return None, None


_COLLECTIONS: Final = ("/files", "/fine_tuning/jobs", "/chat/completions")


def _advice(status: int, code: str | None, path: str) -> str | None:
    """What to do about an error answer, in words that fit the Python API and the CLI alike."""
    if 300 <= status < 400:
        return (
            "The SDK does not follow redirects (the key must not travel to another address): "
            "check the base URL (FINETUNE_BASE_URL)."
        )
    if status == 401:
        return "Check the API key (FINETUNE_API_KEY)."
    if status == 403:
        return "The key is valid but not allowed to do this; check the account's permissions."
    if status == 404:
        if code == "model_not_found":
            return (
                "Check the model name: the base models are Qwen/Qwen2.5-7B-Instruct, -14B-, -32B- and "
                "-72B-Instruct, and a tuned model answers once its job has succeeded."
            )
        if path.rstrip("/").endswith(_COLLECTIONS):
            # A list or create endpoint cannot be missing on the platform: the base URL is off.
            return "Check the base URL (FINETUNE_BASE_URL): it usually ends in /v1."
        return "Check the id: list what exists to find it."
    if status == 429:
        return (
            "Too many requests: slow down, or allow more retries (max_retries= on the client, "
            "finetune --max-retries N on the command line)."
        )
    if 500 <= status < 600:
        return "The platform had a problem; try again later."
    return None


def status_error(response: httpx.Response, status: int, body: object) -> APIStatusError:
    """The typed error for an error answer (plain or enveloped)."""
    message, code = error_fields(body)
    request = response.request
    text = message or f"{request.method} {request.url.path} failed with HTTP {status}"
    advice = _advice(status, code, request.url.path)
    if advice:
        text = f"{text} {advice}" if text.endswith((".", "!", "?")) else f"{text}. {advice}"
    return status_error_class(status)(
        text,
        status_code=status,
        code=code,
        body=body,
        request_id=request_id_of(response.headers, body),
        retry_after=parse_retry_after(response.headers),
        response=response,
        request=request,
    )


def parse_model(model: type[ModelT], data: object, *, response: httpx.Response | None = None) -> ModelT:
    """Validate a decoded payload into ``model``, marked with the request id of ``response``; a mismatch
    is an ``APIResponseValidationError`` (with the answer's status and request id)."""
    # pydantic (and the models) load with the first answer parsed, not with the client.
    import pydantic

    from .._models import tag

    try:
        parsed = model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise APIResponseValidationError(
            _error_instead(model.__name__, data)
            or f"The answer is not a valid {model.__name__}: {exc.errors(include_url=False)[:3]}",
            body=data,
            response=response,
        ) from None
    return tag(parsed, request_id_of(response.headers) if response is not None else None)


def _error_instead(name: str, data: object) -> str | None:
    """What to say of a successful answer that holds an error object instead of the ``name`` asked for
    (some servers answer 200 with ``{"error": {...}}``): the server's own message, not missing fields."""
    if not isinstance(data, dict):
        return None
    fields = cast("dict[str, object]", data)
    if "id" in fields or not (fields.get("error") or fields.get("errors")):
        return None  # a failed job has an id and an ``error`` of its own
    message, code = error_fields(fields)
    if message is None:
        return None
    return f"The answer is an error, not a {name}{f' ({code})' if code else ''}: {message}"


def is_stream_answer(response: httpx.Response) -> bool:
    """A successful answer to a streaming request that really is a stream (not a JSON error envelope)."""
    if not _is_success(response.status_code):
        return False
    return "json" not in response.headers.get("content-type", "")
