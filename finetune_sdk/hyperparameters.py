"""Training hyperparameters: :class:`Hyperparameters` and the guide's named presets.

The defaults are the guide's suggested values; ``docs/hyperparameters.md`` explains each and the presets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal, cast, get_args

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from ._core import guide

__all__ = ["Hyperparameters", "PresetName"]

PresetName = Literal["standard", "quality", "fast"]
"""The guide's three scenarios: ``standard`` (标准方案), ``quality`` (效果优先) and ``fast`` (轻量快速)."""

# name -> (type, lowest, lowest allowed?, highest, highest allowed?)
_RANGES: dict[str, tuple[type, float, bool, float, bool]] = {
    "learning_rate": (float, 0, False, 0.1, True),
    "n_epochs": (int, 1, True, 10, True),
    "batch_size": (int, 1, True, 32, True),
    "max_tokens": (int, 1, True, 4096, True),
    "lora_rank": (int, 1, True, 64, True),
    "lora_alpha": (int, 1, True, 128, True),
    "lora_dropout": (float, 0, True, 1, False),
}


def _range_text(name: str) -> str:
    kind, low, low_ok, high, high_ok = _RANGES[name]
    if kind is int:
        return f"an integer from {low} to {high}"
    return f"a number with {low} {'<=' if low_ok else '<'} {name} {'<=' if high_ok else '<'} {high}"


def _problem(name: str, value: object) -> str | None:
    """Why ``value`` is not allowed for ``name``, or ``None``. Strict: no bools, no 2.5 epochs, no strings."""
    kind, low, low_ok, high, high_ok = _RANGES[name]
    allowed = (int,) if kind is int else (int, float)
    if type(value) not in allowed:
        return f"{name} must be {_range_text(name)}, got {value!r} ({type(value).__name__})"
    number: float = value  # type: ignore[assignment]
    above = number > low if not low_ok else number >= low
    below = number < high if not high_ok else number <= high
    if not (above and below):  # also false for NaN
        return f"{name} must be {_range_text(name)}, got {value!r}"
    return None


class Hyperparameters(BaseModel):
    """How the platform trains a LoRA adapter; every field has the guide's suggested value as default.

    ================ ================================== =========
    field            allowed                            default
    ================ ================================== =========
    learning_rate    0 < learning_rate <= 0.1           1e-4
    n_epochs         integer 1-10                       3
    batch_size       integer 1-32                       8
    max_tokens       integer 1-4096                     4096
    lora_rank        integer 1-64                       8
    lora_alpha       integer 1-128                      32
    lora_dropout     0 <= lora_dropout < 1              0.05
    ================ ================================== =========

    Types are strict (``n_epochs=2.5`` or ``True`` is refused, an ``int`` is fine for a float field). A value
    out of range raises a ``ValueError`` (pydantic's ``ValidationError``) naming the field and its range.
    Frozen and hashable; ``model_dump()`` gives the wire contract's dict of the seven keys. Start from a
    preset with :meth:`preset`.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(
        strict=True, frozen=True, extra="forbid", defer_build=True
    )

    learning_rate: float = guide.LEARNING_RATE
    n_epochs: int = guide.N_EPOCHS
    batch_size: int = guide.BATCH_SIZE
    max_tokens: int = guide.MAX_TOKENS
    lora_rank: int = guide.LORA_RANK
    lora_alpha: int = guide.LORA_ALPHA
    lora_dropout: float = guide.LORA_DROPOUT

    @model_validator(mode="before")
    @classmethod
    def _check_ranges(cls, data: Any) -> Any:
        given: object = data
        if isinstance(given, dict):
            values = cast("dict[str, object]", given).items()
            problems = [p for name, value in values if name in _RANGES and (p := _problem(name, value))]
            if problems:
                raise ValueError("; ".join(problems))
        return data

    @classmethod
    def preset(cls, name: PresetName, **overrides: Any) -> Hyperparameters:
        """The guide's preset ``name`` (``standard``, ``quality`` or ``fast``), with ``overrides`` applied.

        ``Hyperparameters.preset("quality", n_epochs=4)``. An unknown name raises ``ValueError`` listing the
        known ones.
        """
        if name not in _PRESETS:
            known = ", ".join(repr(n) for n in get_args(PresetName))
            raise ValueError(f"unknown preset {name!r}: choose one of {known}")
        return cls.from_values({**_PRESETS[name], **overrides})

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Hyperparameters:
        """Build from a mapping (a config file, command-line ``key=value`` pairs ...).

        A problem raises a plain ``ValueError`` whose message is one line per field, e.g.
        ``n_epochs must be an integer from 1 to 10, got 11``, or names an unknown key and the known ones.
        """
        unknown = sorted(set(values) - set(_RANGES))
        if unknown:
            known = ", ".join(_RANGES)
            raise ValueError(
                f"unknown hyperparameter {', '.join(map(repr, unknown))}: the known ones are {known}"
            )
        try:
            return cls(**values)
        except ValidationError as exc:
            messages = [
                str(error["ctx"]["error"]) if "ctx" in error and "error" in error["ctx"] else error["msg"]
                for error in exc.errors(include_url=False)
            ]
            raise ValueError("; ".join(messages)) from None

    @classmethod
    def presets(cls) -> dict[PresetName, Hyperparameters]:
        """Every preset by name, for listing them (``finetune presets``)."""
        return {name: cls.preset(name) for name in get_args(PresetName)}


_PRESETS: dict[str, dict[str, Any]] = {
    "standard": {},
    "quality": {"n_epochs": 5, "batch_size": 16, "lora_rank": 16, "lora_alpha": 64, "lora_dropout": 0.1},
    "fast": {"n_epochs": 2, "lora_rank": 4, "lora_alpha": 16},
}
