"""What the type modules share: open enums, timestamps, numbers, and fields read leniently."""

from __future__ import annotations

import enum
import math
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, Union

from pydantic import AfterValidator, BeforeValidator, Field
from typing_extensions import Self

__all__ = ["Auto", "Lenient", "Number", "OpenEnum", "Timestamp"]

T = TypeVar("T")


class OpenEnum(str, enum.Enum):
    """A string enum that also accepts values this SDK version does not know yet (a platform adds
    statuses and levels over time): such a value is kept rather than failing to read the object."""

    @classmethod
    def _missing_(cls, value: object) -> Self | None:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value.upper()
        member._value_ = value
        return member

    def __str__(self) -> str:
        return str(self.value)


def _whole_seconds(value: object) -> object:
    # Some servers send fractional timestamps; the contract's are whole Unix seconds.
    return int(value) if isinstance(value, float) and math.isfinite(value) else value


Timestamp = Annotated[int, BeforeValidator(_whole_seconds)]
"""Unix seconds; a fractional value is truncated."""

Number = Union[int, float]  # noqa: UP007 - a runtime alias, valid on 3.10
"""What the schema calls a ``number``: read whatever its kind (``88`` stays an int, ``88.5`` a float)."""

Auto = Literal["auto"]
"""OpenAI's ``"auto"``: the server chooses the value (a job reports what it chose once it runs)."""


def _none(_: object) -> None:
    return None


if TYPE_CHECKING:
    Lenient = Union[T, None]  # noqa: UP007 - a runtime alias, as above
else:
    # The union's second arm takes any value (None too) and reads it as None, so a value of another type
    # ends as None instead of failing the object. Tried left to right, the arms give what a wrap validator
    # catching the error of ``T | None`` would, all in pydantic's core: a Python wrap validator per field
    # cost twice as much, about 4 µs of a job's decoding. Type checkers see ``T | None``.
    Lenient = Annotated[T | Annotated[Any, AfterValidator(_none)], Field(union_mode="left_to_right")]
"""A field the platform adds beside OpenAI's schema (or one the schema gives no shape): read when it has the
platform's type, None otherwise. Another OpenAI-shaped server may send the same name with another meaning,
and an object the schema allows must always decode."""
