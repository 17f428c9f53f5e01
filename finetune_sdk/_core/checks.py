"""Checks of argument types at run time, for callers without a type checker.

Signatures say what a parameter takes, but a Python caller may pass anything; these tests let the code
that checks an argument say so plainly (``if not is_whole(seed) or seed < 0: raise ...``) whatever the
parameter's declared type.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeGuard, cast

from typing_extensions import TypeIs

if TYPE_CHECKING:
    from ..data._schema import Conversation, DatasetValidationError, Message
    from ..data.dataset import Dataset

__all__ = [
    "is_conversation",
    "is_dataset",
    "is_dataset_error",
    "is_finite_number",
    "is_message",
    "is_number",
    "is_str",
    "is_str_mapping",
    "is_whole",
]


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


# The data side's classes exist only once their module is loaded: asking ``sys.modules`` answers "is this
# one of them" without importing the data package, so a call given a file id, a dict or a job never pays
# for it (``import finetune_sdk`` and a first request stay light).
def _is_loaded_instance(value: object, module: str, name: str) -> bool:
    found = sys.modules.get(module)
    return found is not None and isinstance(value, getattr(found, name))


def is_dataset(value: object) -> TypeIs[Dataset]:
    """A :class:`~finetune_sdk.Dataset`."""
    return _is_loaded_instance(value, "finetune_sdk.data.dataset", "Dataset")


def is_message(value: object) -> TypeIs[Message]:
    """A :class:`~finetune_sdk.Message`."""
    return _is_loaded_instance(value, "finetune_sdk.data._schema", "Message")


def is_conversation(value: object) -> TypeIs[Conversation]:
    """A :class:`~finetune_sdk.Conversation`."""
    return _is_loaded_instance(value, "finetune_sdk.data._schema", "Conversation")


def is_dataset_error(value: object) -> TypeIs[DatasetValidationError]:
    """A :class:`~finetune_sdk.DatasetValidationError` (a dataset that broke the platform's rules)."""
    return _is_loaded_instance(value, "finetune_sdk.data._schema", "DatasetValidationError")
