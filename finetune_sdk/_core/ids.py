"""Ids in URLs, the request id of an answer, idempotency keys: small checks every resource shares."""

from __future__ import annotations

import urllib.parse
import uuid
from collections.abc import Mapping
from typing import Final, cast

__all__ = [
    "IDEMPOTENCY_KEY_MAX",
    "MAX_CURSOR_LENGTH",
    "MAX_ID_LENGTH",
    "check_idempotency_key",
    "cursor_fits",
    "new_idempotency_key",
    "path_segment",
    "request_id_of",
    "resource_id",
]

_UNSAFE_IN_ID: Final = frozenset("/?#% \t\r\n")
#: The longest id accepted: real ids are a few dozen characters; a huge one only makes a huge URL.
MAX_ID_LENGTH: Final = 256
#: The longest cursor (the last id of a page a server sent, sent back as ``?after=``), percent-encoded:
#: far above any real id, well under the longest URL httpx builds (65,536 characters).
MAX_CURSOR_LENGTH: Final = 16384
#: The longest idempotency key sent (a header value; real keys are a few dozen characters).
IDEMPOTENCY_KEY_MAX: Final = 200


def resource_id(value: object, what: str) -> str:
    """``value`` as an id to put in a URL path, or a clear error: a non-string is a ``TypeError``; an
    empty id, one that would change the path (``/``, ``?``, ``#``, ``%``, ``..``), one with white space or
    other control characters, or longer than ``MAX_ID_LENGTH``, a ``ValueError``. Everything else is
    sent percent-escaped (see :func:`path_segment`)."""
    if not isinstance(value, str):
        raise TypeError(f"{what} id must be a string, got {type(value).__name__}: {value!r}")
    if len(value) > MAX_ID_LENGTH:
        raise ValueError(f"not a {what} id: {len(value)} characters long (at most {MAX_ID_LENGTH})")
    if not value or value in (".", "..") or not _UNSAFE_IN_ID.isdisjoint(value) or not value.isprintable():
        raise ValueError(f"not a {what} id: {value!r}")
    return value


def cursor_fits(value: str) -> bool:
    """Whether a server's id can be sent back as the ``after`` of the next page (``MAX_CURSOR_LENGTH``
    once percent-encoded); a longer one would make a URL httpx refuses to build."""
    return len(value) <= MAX_CURSOR_LENGTH and len(path_segment(value)) <= MAX_CURSOR_LENGTH


def path_segment(value: str) -> str:
    """``value`` escaped to be one segment of a URL path: every character but letters, digits and
    ``-._~`` is percent-encoded, so ``/ ? # % \\ ; : @`` and the like cannot change the path."""
    return urllib.parse.quote(value, safe="")


def request_id_of(headers: Mapping[str, str], body: object = None) -> str | None:
    """The platform's id of a request, to quote when asking for help: the ``x-request-id`` header (or
    ``request-id``, as some compatible servers name it), else a ``request_id`` in an error body."""
    found = headers.get("x-request-id") or headers.get("request-id")
    if found:
        return found
    if isinstance(body, dict):
        fields = cast("dict[str, object]", body)
        for key in ("request_id", "requestId"):
            value = fields.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
                return str(value)
    return None


def new_idempotency_key() -> str:
    return f"finetune-sdk-{uuid.uuid4()}"


def check_idempotency_key(key: object) -> None:
    """An idempotency key is sent as a header: 1 to ``IDEMPOTENCY_KEY_MAX`` printable ASCII characters
    (None: one is made), else a ``ValueError`` before anything is sent."""
    if key is not None and (
        not isinstance(key, str)
        or not 0 < len(key) <= IDEMPOTENCY_KEY_MAX
        or not (key.isascii() and key.isprintable())
    ):
        raise ValueError(
            f"idempotency_key must be 1 to {IDEMPOTENCY_KEY_MAX} printable ASCII characters, got {key!r}"
        )
