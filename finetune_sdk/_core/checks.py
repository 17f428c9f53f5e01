"""Checks of argument types at run time, for callers without a type checker.

Signatures say what a parameter takes, but a Python caller may pass anything; these tests let the code
that checks an argument say so plainly (``if not is_whole(seed) or seed < 0: raise ...``) whatever the
parameter's declared type.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypeGuard, cast

__all__ = ["is_finite_number", "is_number", "is_str", "is_str_mapping", "is_whole"]


def is_whole(value: object) -> TypeGuard[int]:
    """An ``int`` (a ``bool`` is not one)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> TypeGuard[float]:
    """An ``int`` or a ``float`` (a ``bool`` is not one); NaN and infinities included."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_finite_number(value: object) -> TypeGuard[float]:
    """A number that is neither NaN nor infinite."""
    return is_number(value) and math.isfinite(value)


def is_str(value: object) -> TypeGuard[str]:
    return isinstance(value, str)


def is_str_mapping(value: object) -> TypeGuard[Mapping[str, Any]]:
    """A mapping whose keys are all strings."""
    if not isinstance(value, Mapping):
        return False
    return all(isinstance(key, str) for key in cast("Mapping[object, object]", value))
