"""The SDK's log records in the ``finetune`` command.

The SDK logs each retry at INFO on the ``finetune_sdk`` logger (and each answer at DEBUG). The command
shows a retry as one short line on stderr, ``retrying GET /v1/files (attempt 2 of 4) in 0.5s: connection
refused``, when stderr is a terminal or with ``--debug``; in a log or a pipe only the final ``error:``
line is printed. ``--debug`` adds every request as ``finetune_sdk: <message>``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from ._output import note, stderr

__all__ = ["SDK_LOGGER", "SdkLogHandler", "install", "retry_line"]

SDK_LOGGER = "finetune_sdk"

# The SDK's retry record: "<call> failed (attempt N of M), retrying in S.SSs: <reason>".
_RETRY = re.compile(
    r"^(?P<call>.+?) failed \(attempt (?P<attempt>\d+) of (?P<attempts>\d+)\), "
    r"retrying in (?P<pause>[\d.]+)s: (?P<reason>.*)$",
    re.DOTALL,
)
# An exception's class name leading a message ("APIConnectionError: ", "ConnectError: ").
_CLASS_NAME = re.compile(r"^\w*(?:Error|Exception|Timeout|Interrupted)\w*: ")


def _short_reason(reason: str) -> str:
    """``connection refused`` from ``APIConnectionError: GET ... failed: ConnectError: [Errno 111]
    Connection refused. Check the base URL and the network.``: the cause, without the advice."""
    text = reason.rpartition(" failed: ")[2] or reason
    while _CLASS_NAME.match(text):
        text = _CLASS_NAME.sub("", text, count=1)
    text = re.sub(r"^\[Errno -?\d+\] ", "", text)
    text = text.split(". ", 1)[0].strip().rstrip(".") or reason
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]
    return text


def retry_line(message: str) -> str:
    """The SDK's retry message as ``retrying CALL (attempt NEXT of M) in S.Ss: REASON``; any other
    message as it is."""
    found = _RETRY.match(message)
    if found is None:
        return message
    attempt, attempts = int(found["attempt"]) + 1, found["attempts"]
    pause = float(found["pause"])
    return (
        f"retrying {found['call']} (attempt {attempt} of {attempts}) in {pause:.1f}s: "
        f"{_short_reason(found['reason'])}"
    )


class SdkLogHandler(logging.Handler):
    """Prints the SDK's retries as short lines (when ``retries``) and, with ``debug``, its other records."""

    def __init__(self, *, retries: bool, debug: bool) -> None:
        super().__init__(logging.DEBUG if debug else logging.INFO)
        self.retries = retries
        self.debug = debug

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.levelno >= logging.WARNING or _RETRY.match(message):
                if self.retries:
                    note(retry_line(message))
            elif getattr(record, "user_note", False):  # what was done to the user's data
                note(message)
            elif self.debug:
                note(f"{record.name}: {message}")
        except Exception:  # logging must never break the command
            self.handleError(record)


def install(*, debug: bool) -> Callable[[], None]:
    """Route the SDK's records to a :class:`SdkLogHandler` for one command; returns the undo.

    The handler is the only one the SDK's records reach (they do not propagate to the root logger, which
    ``--debug`` gives a handler for other libraries' warnings), so nothing is printed twice.
    """
    logger = logging.getLogger(SDK_LOGGER)
    handler = SdkLogHandler(retries=debug or stderr().is_terminal, debug=debug)
    saved = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG if debug else logging.INFO)  # retries are INFO records

    def undo() -> None:
        logger.removeHandler(handler)
        logger.level, logger.propagate = saved

    return undo
