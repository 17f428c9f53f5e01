"""The hyperparameters a job reports: the platform's seven, and OpenAI's, each possibly ``"auto"``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, TypeGuard

from pydantic import ConfigDict

from .._core import guide
from .._models import APIPart
from ._common import Auto, Lenient

__all__ = ["JobHyperparameters"]

_OPTIONAL = ("learning_rate_multiplier",)
"""Fields shown (in ``==``, ``[]``, ``str``) only when the server sent them."""


def _is_mapping(value: object) -> TypeGuard[Mapping[Any, Any]]:
    return isinstance(value, Mapping)


class JobHyperparameters(APIPart):
    """The hyperparameters a job reports, read leniently: what the server says it used, even outside
    today's ranges.

    ``n_epochs`` and ``batch_size`` (OpenAI's and the platform's) and ``learning_rate_multiplier``
    (OpenAI's) may be ``"auto"`` (the server chooses) or None; the platform's ``learning_rate``,
    ``max_tokens`` and LoRA settings are numbers (a value of another kind, from another server, reads as
    None). A key the server did not send holds the platform's suggested value, as in
    :class:`~finetune_sdk.Hyperparameters` (``bool(hp)`` is False when none was sent); keys a server adds
    are kept in ``model_extra``. Subscripting, ``get`` and ``==`` with a dict work as on the dict earlier
    versions returned.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)  # merged with APIModel's

    learning_rate: Lenient[float] = guide.LEARNING_RATE
    n_epochs: int | Auto | None = guide.N_EPOCHS
    batch_size: int | Auto | None = guide.BATCH_SIZE
    max_tokens: Lenient[int] = guide.MAX_TOKENS
    lora_rank: Lenient[int] = guide.LORA_RANK
    lora_alpha: Lenient[int] = guide.LORA_ALPHA
    lora_dropout: Lenient[float] = guide.LORA_DROPOUT
    learning_rate_multiplier: float | Auto | None = None

    def as_dict(self) -> dict[str, Any]:
        """Every value as a dict: the seven platform keys, OpenAI's ``learning_rate_multiplier`` when the
        server sent it, and keys the server added."""
        values = self.model_dump()
        for name in _OPTIONAL:
            if name not in self.model_fields_set:
                values.pop(name)
        return values

    def __getitem__(self, key: str) -> Any:
        values = self.as_dict()
        if key not in values:
            raise KeyError(key)
        return values[key]

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key`` (a field or a key the server added), or ``default``."""
        return self.as_dict().get(key, default)

    def __eq__(self, other: object) -> bool:
        # Equal to the dict of the same values, as the dict earlier versions returned was.
        if _is_mapping(other):
            return self.as_dict() == dict(other)
        return super().__eq__(other)

    __hash__ = None  # equal to a dict, which has no hash either

    def __bool__(self) -> bool:
        # Falsy when the server reported none (the defaults then stand in), like the empty dict was.
        return bool(self.model_fields_set or self.model_extra)

    def __str__(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.as_dict().items())
