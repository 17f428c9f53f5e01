"""JSON lines seen through types: a line's bytes (:data:`Line`), and parsed JSON (``orjson`` gives ``Any``;
these say what a value is, or ``None``)."""

from __future__ import annotations

from typing import Any, TypeGuard, cast

__all__ = ["Line", "as_array", "as_object", "as_pair_list"]

Line = bytes | memoryview
"""A line as the validator reads it: the first line of a block is ``bytes`` (it may join the end of the
block before), the others are views of the block (never copied)."""


def _is_array(value: object) -> TypeGuard[list[Any]]:
    return isinstance(value, list)


def _is_tuple(value: object) -> TypeGuard[tuple[Any, ...]]:
    return isinstance(value, tuple)


def as_object(value: object) -> dict[str, Any] | None:
    """``value`` when it is a JSON object (a dict; its keys are strings in JSON), else ``None``."""
    return cast("dict[str, Any]", value) if isinstance(value, dict) else None


def as_array(value: object) -> list[Any] | None:
    """``value`` when it is a JSON array (a list), else ``None``."""
    return value if _is_array(value) else None


def as_pair_list(value: object) -> list[Any] | None:
    """``value`` as a list when it is a list or a tuple (records built in memory), else ``None``."""
    if _is_tuple(value):
        return list(value)
    return as_array(value)
