"""Bounds that keep one emulator usable as a shared test server: request bodies read up to a cap (413
beyond it), and uploaded file names checked before anything is stored (400 with the reason: a 500 would
make a client upload the file again)."""

from __future__ import annotations

import re

from starlette.requests import Request

from .responses import ApiError

MAX_NAME_BYTES = 255
"""The longest file name most file systems store."""
_HTML5_ESCAPES = re.compile(r"%(0[0-9A-F]|1[0-9A-F]|22|7F)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def too_large(limit: int, what: str = "the request body", code: str = "request_too_large") -> ApiError:
    """A 413 saying what is larger than ``limit`` bytes."""
    return ApiError(413, f"{what} is larger than {limit} bytes", code)


async def read_body(request: Request, limit: int) -> list[bytes]:
    """The whole body, in the pieces it came in (join them off the event loop: joining megabytes holds
    it up), or a 413 as soon as it is known to be larger than ``limit`` bytes (from its
    ``Content-Length``, or while it streams in)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        parts.append(chunk)
    return parts


def file_name(raw: bytes) -> str:
    """The name of an uploaded file, from the ``filename`` of its multipart part: the last path part,
    with the HTML5 form escapes (``%22`` for a quote, ``%0A`` ... for control characters, as browsers and
    httpx send them) decoded. A name that is not UTF-8, holds a control character (NUL ...), or is longer
    than 255 bytes is a 400 saying so."""
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad_name("is not UTF-8") from None
    name = _HTML5_ESCAPES.sub(lambda m: chr(int(m.group(1), 16)), name)
    base = re.split(r"[\\/]", name)[-1]
    control = _CONTROL.search(base)
    if control:
        raise _bad_name(f"holds a control character (U+{ord(control.group()):04X})")
    size = len(base.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        raise _bad_name(f"is {size} bytes long; the longest allowed is {MAX_NAME_BYTES}")
    if not base.strip() or base in (".", ".."):
        raise _bad_name(f"is {'empty' if not base.strip() else repr(base)}")
    return base


def _bad_name(why: str) -> ApiError:
    return ApiError(400, f"file: the file name {why}", "invalid_file_name", param="file")
