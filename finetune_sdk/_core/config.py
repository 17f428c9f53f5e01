"""Client settings: where they come from (arguments, then the environment, then defaults), every
default in one place, and how the API key is kept out of every repr, log line and exception."""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import os
from collections.abc import Mapping
from typing import Final, Union

import httpx

from ..errors import ConfigurationError
from .durations import check_seconds
from .env import ALLOW_HTTP_ENV, API_KEY_ENV, BASE_URL_ENV, POLL_INTERVAL_ENV
from .limits import Limits
from .schedule import DEFAULT_SCHEDULE, PollSchedule

__all__ = [
    "ALLOW_HTTP_ENV",
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "DEFAULT_COMPARE_CONCURRENCY",
    "DEFAULT_MAX_ANSWER_BYTES",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_RETRY_WAIT",
    "DEFAULT_TIMEOUT",
    "DEFAULT_WAIT_CONCURRENCY",
    "NOT_GIVEN",
    "POLL_INTERVAL_ENV",
    "ClientConfig",
    "NotGiven",
    "PollTypes",
    "Secret",
    "TimeoutTypes",
    "as_timeout",
    "is_loopback",
]

# -- defaults ----------------------------------------------------------------------------------------
DEFAULT_BASE_URL: Final = "https://api.openapi.cn/v1"
#: Connecting should be quick; reading may wait while the platform checks a large upload.
DEFAULT_TIMEOUT: Final = httpx.Timeout(300.0, connect=5.0)
DEFAULT_MAX_RETRIES: Final = 3
#: The longest single pause between two attempts; a server asking for a longer one is not waited for.
DEFAULT_MAX_RETRY_WAIT: Final = 60.0
#: The largest answer (after decompression) read by default: far above any real list or job.
DEFAULT_MAX_ANSWER_BYTES: Final = 32 * 1024 * 1024
#: Jobs waited on at once by ``wait_all`` / ``as_completed``: each wait is a cheap poll every few seconds.
DEFAULT_WAIT_CONCURRENCY: Final = 32
#: Chat calls ``compare`` runs at once: each makes the server generate a reply, so far fewer.
DEFAULT_COMPARE_CONCURRENCY: Final = 4


class NotGiven:
    """The type of ``NOT_GIVEN``: "leave this setting as it is", as distinct from ``None``
    (which, for a timeout, means "no timeout")."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> bool:
        return False


NOT_GIVEN: Final = NotGiven()

TimeoutTypes = Union[float, httpx.Timeout, None]  # noqa: UP007 - a runtime alias, valid on 3.10
PollTypes = Union[float, PollSchedule, None]  # noqa: UP007 - a runtime alias, valid on 3.10


class Secret:
    """A string that never shows itself: repr, str and format print ``'***'``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _configured(name: str, value: object, *, infinite: bool = False) -> float:
    """A setting in seconds, checked like any duration; a bad one is a :class:`ConfigurationError`."""
    try:
        return check_seconds(name, value, infinite=infinite)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(str(exc)) from None


def as_timeout(value: TimeoutTypes) -> httpx.Timeout:
    """``timeout=`` as an ``httpx.Timeout``: seconds > 0, a Timeout, or None for no limit."""
    if isinstance(value, httpx.Timeout):
        return value
    if value is not None:
        try:
            check_seconds("timeout", value)
        except (TypeError, ValueError):
            raise ConfigurationError(
                f"timeout must be a number of seconds > 0, an httpx.Timeout or None, got {value!r}"
            ) from None
    return httpx.Timeout(value)


def _as_schedule(value: PollTypes, env: Mapping[str, str]) -> PollSchedule:
    """A schedule from ``poll_interval=`` (a number is a steady pace), else the environment, else the
    default; a bad value is a ``ConfigurationError`` naming where it came from."""
    source = "poll_interval"
    if value is None:
        raw = env.get(POLL_INTERVAL_ENV)
        if not raw:
            return DEFAULT_SCHEDULE
        source = POLL_INTERVAL_ENV
        try:
            value = float(raw)
        except ValueError:
            message = f"{POLL_INTERVAL_ENV} must be a number of seconds, got {raw!r}"
            raise ConfigurationError(message) from None
    try:
        return PollSchedule.of(value)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"{source}: {exc}") from None


def _check_key(raw: object) -> Secret | None:
    """The key, stripped of surrounding white space (a key read from a file ends in a newline).

    A key with other control or non-ASCII characters could not be sent as a header, and the error
    would quote it: refuse it here, without repeating it.
    """
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ConfigurationError(f"api_key must be a string, got {type(raw).__name__}")
    key = raw.strip()
    if not key:
        return None
    if not key.isascii() or not key.isprintable():
        raise ConfigurationError(
            f"The API key (from api_key= or {API_KEY_ENV}) holds characters that cannot be sent in a "
            "header (control or non-ASCII characters); check how it was copied."
        )
    return Secret(key)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _env_flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _check_transport_security(url: httpx.URL, allow_insecure_http: bool) -> None:
    """The key goes in a header: refuse to send it in clear text beyond this machine unless asked."""
    if url.scheme == "http" and not is_loopback(url.host) and not allow_insecure_http:
        raise ConfigurationError(
            f"base_url {str(url)!r} is plain http:// to another host: the API key would cross the network "
            f"unencrypted. Use https://, or allow it with Client(allow_insecure_http=True) or "
            f"{ALLOW_HTTP_ENV}=1."
        )


def _check_size(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"max_answer_bytes must be a whole number of bytes >= 1, got {value!r}")
    return value


def _check_retries(max_retries: object, max_retry_wait: object) -> tuple[int, float]:
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ConfigurationError(f"max_retries must be a whole number >= 0, got {max_retries!r}")
    try:
        wait = check_seconds("max_retry_wait", max_retry_wait, zero=True)
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"max_retry_wait must be a number of seconds >= 0, got {max_retry_wait!r}"
        ) from None
    return max_retries, wait


def _check_base_url(given: str) -> httpx.URL:
    raw = given.strip()  # a space pasted with it would become part of every path
    try:
        url = httpx.URL(raw)
    except httpx.InvalidURL as exc:
        raise ConfigurationError(f"base_url {_shown(raw)} is not a valid URL: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(
            f"base_url {_shown(raw)} must be an http:// or https:// URL, "
            f"for example {DEFAULT_BASE_URL!r} (set it with base_url= or {BASE_URL_ENV})."
        )
    # A trailing slash makes relative joining keep the /v1 prefix.
    path = url.raw_path.decode("ascii").split("?")[0]
    return url.copy_with(raw_path=(path.rstrip("/") + "/").encode("ascii"))


def _shown(raw: str) -> str:
    """``raw`` for a message about a base URL, unless it may be a key: a value without ``://`` is often
    the key given in the URL's place (the two arguments swapped), and a key is never shown."""
    if "://" in raw:
        return repr(raw)
    return f"({len(raw)} characters, not shown: without a scheme it may be the API key, given in its place)"


def _optional(name: str, value: object) -> float | None:
    return None if value is None else _configured(name, value, infinite=True)


@dataclasses.dataclass(frozen=True)
class ClientConfig:
    """Everything a client needs to build requests, resolved once. Immutable: ``replace`` makes a copy."""

    api_key: Secret | None
    base_url: httpx.URL
    timeout: httpx.Timeout
    max_retries: int
    max_retry_wait: float
    default_headers: Mapping[str, str]
    poll: PollSchedule = DEFAULT_SCHEDULE
    """How ``jobs.wait`` paces its polls unless a call says otherwise."""
    deadline: float | None = None
    idle_timeout: float | None = None
    max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES
    allow_insecure_http: bool = False
    """Whether a plain ``http://`` base URL beyond this machine was allowed (kept for ``with_options``)."""
    trust_env: bool = True
    """Whether proxies (and certificates) named by the environment apply; see ``docs/requests.md``."""

    @functools.cached_property  # read on every request: made once per setting
    def limits(self) -> Limits:
        """The bounds of each attempt. The deadline and the idle limit default to the longest of the
        timeout's values: ``timeout=2`` ends an attempt after 2 s, however the server trickles."""
        longest = _longest(self.timeout)
        return Limits(
            deadline=self.deadline if self.deadline is not None else longest,
            idle_timeout=self.idle_timeout if self.idle_timeout is not None else longest,
            max_answer_bytes=self.max_answer_bytes,
        )

    def limits_for(
        self,
        timeout: httpx.Timeout | None,
        deadline: float | None = None,
        max_answer_bytes: int | None = None,
    ) -> Limits:
        """The bounds of an attempt sent with a per-call ``timeout``, total ``deadline`` and answer size
        (None: the client's). A per-call timeout caps the attempt's deadline and idle limit as the
        client's ``timeout`` does (an explicit client ``deadline`` / ``idle_timeout`` still applies when
        sooner); a per-call deadline (a wait's time left) caps the attempt's."""
        if timeout is None and deadline is None and max_answer_bytes is None:
            return self.limits
        base = self.limits
        if max_answer_bytes is not None:
            base = dataclasses.replace(base, max_answer_bytes=max_answer_bytes)
        if timeout is not None:
            longest = _longest(timeout)
            base = Limits(
                deadline=_sooner(self.deadline, longest),
                idle_timeout=_sooner(self.idle_timeout, longest),
                max_answer_bytes=base.max_answer_bytes,
            )
        return (
            base if deadline is None else dataclasses.replace(base, deadline=_sooner(base.deadline, deadline))
        )

    @classmethod
    def resolve(
        cls,
        *,
        api_key: str | None,
        base_url: str | None,
        timeout: TimeoutTypes,
        max_retries: int,
        max_retry_wait: float,
        default_headers: Mapping[str, str] | None,
        poll_interval: PollTypes = None,
        environ: Mapping[str, str] | None = None,
        deadline: float | None = None,
        idle_timeout: float | None = None,
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
        allow_insecure_http: bool = False,
        trust_env: bool = True,
    ) -> ClientConfig:
        env = os.environ if environ is None else environ
        key = _check_key(api_key if api_key is not None else env.get(API_KEY_ENV))
        url = _check_base_url(base_url or env.get(BASE_URL_ENV) or DEFAULT_BASE_URL)
        insecure_ok = bool(allow_insecure_http) or _env_flag(env.get(ALLOW_HTTP_ENV))
        _check_transport_security(url, insecure_ok)
        retries, wait = _check_retries(max_retries, max_retry_wait)
        return cls(
            api_key=key,
            base_url=url,
            timeout=as_timeout(timeout),
            max_retries=retries,
            max_retry_wait=wait,
            default_headers=dict(default_headers or {}),
            poll=_as_schedule(poll_interval, env),
            deadline=_optional("deadline", deadline),
            idle_timeout=_optional("idle_timeout", idle_timeout),
            max_answer_bytes=_check_size(max_answer_bytes),
            allow_insecure_http=insecure_ok,
            trust_env=bool(trust_env),
        )

    def replace(
        self,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        max_retry_wait: float | NotGiven = NOT_GIVEN,
        poll_interval: float | PollSchedule | NotGiven = NOT_GIVEN,
        deadline: float | NotGiven | None = NOT_GIVEN,
        idle_timeout: float | NotGiven | None = NOT_GIVEN,
        max_answer_bytes: int | NotGiven = NOT_GIVEN,
    ) -> ClientConfig:
        """A copy with the given settings changed, each checked as at construction."""
        retries, wait = _check_retries(
            self.max_retries if isinstance(max_retries, NotGiven) else max_retries,
            self.max_retry_wait if isinstance(max_retry_wait, NotGiven) else max_retry_wait,
        )
        return dataclasses.replace(
            self,
            timeout=self.timeout if isinstance(timeout, NotGiven) else as_timeout(timeout),
            max_retries=retries,
            max_retry_wait=wait,
            poll=self.poll if isinstance(poll_interval, NotGiven) else _as_schedule(poll_interval, {}),
            deadline=self.deadline if isinstance(deadline, NotGiven) else _optional("deadline", deadline),
            idle_timeout=(
                self.idle_timeout
                if isinstance(idle_timeout, NotGiven)
                else _optional("idle_timeout", idle_timeout)
            ),
            max_answer_bytes=(
                self.max_answer_bytes
                if isinstance(max_answer_bytes, NotGiven)
                else _check_size(max_answer_bytes)
            ),
        )

    def require_key(self) -> str:
        """The API key, or a ``ConfigurationError`` that says how to provide one."""
        if self.api_key is None:
            raise ConfigurationError(
                f"No API key: pass Client(api_key=...) or set the {API_KEY_ENV} environment variable "
                "to the platform's key. To try the SDK without an account, run the local emulator and "
                'point the client at it: `eval "$(finetune emulator --env &)"` (or use '
                "finetune_sdk.emulator.Emulator in Python)."
            )
        return self.api_key.get()

    def url(self, path: str) -> str:
        # Plain concatenation: base_url ends in "/", and httpx parses the result once when it builds the
        # request (URL.join would parse twice more, a third of the SDK's per-call cost).
        return f"{self.base_url}{path.lstrip('/')}"


def _longest(timeout: httpx.Timeout) -> float | None:
    """The longest of a timeout's values (None when none is set)."""
    values = (timeout.connect, timeout.read, timeout.write, timeout.pool)
    return max((v for v in values if v), default=None)


def _sooner(a: float | None, b: float | None) -> float | None:
    """The shorter of two limits, None being no limit."""
    if a is None:
        return b
    return a if b is None else min(a, b)
