"""The pieces every repair and reader shares: a :class:`Turn` as a source gave it, :class:`Reject` for a
record that cannot be converted, and :data:`Note`, how a change is reported."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Note", "Reject", "Turn"]

Note = Callable[[str, str], None]
"""``note(code, action)``: how a repair reports a change to the record being converted."""


class Reject(Exception):  # noqa: N818 (a verdict, not a failure of the program)
    """The record cannot be converted: ``code`` and ``reason`` go to the rejects file."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass
class Turn:
    """One turn as a source gave it: ``content`` may still be a list of parts or ``None`` (beside
    ``calls``, an OpenAI ``tool_calls`` list); ``weight`` is the OpenAI per-turn training weight."""

    role: str
    content: Any
    calls: list[Any] | None = None
    weight: Any = None
    number: int = field(default=0)  # the position in the record, for the notes
