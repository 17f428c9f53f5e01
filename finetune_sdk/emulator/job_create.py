"""``POST /fine_tuning/jobs``: the body OpenAI's schema defines, with the platform's additions, checked.

What the emulator runs is supervised training, so ``method`` of type ``supervised`` is the same as plain
``hyperparameters`` (its values are used); ``"auto"`` takes the suggested value. What it cannot do is
refused with a 400 whose ``param`` names the field, never ignored: another ``method`` type, a
``learning_rate_multiplier`` other than ``"auto"`` (the platform sets an absolute ``learning_rate``),
``integrations`` (it reports to no Weights & Biases), and any field it does not know.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, TypeGuard

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..hyperparameters import Hyperparameters
from .responses import ApiError
from .schemas import pydantic_message

SUFFIX = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SEED_MAX = 2**31 - 1
AUTO = "auto"
OPENAI_ONLY = ("learning_rate_multiplier",)
"""OpenAI's hyperparameters the platform has no counterpart for (accepted as ``"auto"`` only)."""


class JobCreate(BaseModel):
    """The body of ``POST /fine_tuning/jobs``; a field not listed here is a 400 naming it."""

    model_config: ClassVar[ConfigDict] = ConfigDict(extra="forbid")

    model: str
    training_file: str
    validation_file: str | None = None
    validation_split: float | None = Field(None, gt=0, le=0.5)
    hyperparameters: dict[str, Any] | None = None
    method: dict[str, Any] | None = None
    integrations: list[Any] | None = None
    suffix: str | None = None
    name: str | None = None
    seed: int | None = Field(None, ge=0, le=SEED_MAX)
    metadata: dict[str, str] | None = None

    @field_validator("suffix")
    @classmethod
    def _suffix(cls, value: str | None) -> str | None:
        if value is not None and not SUFFIX.match(value):
            raise ValueError("must be 1-64 characters of letters, digits, '_' or '-'")
        return value

    def effective_suffix(self) -> str:
        """The suffix in the tuned model's name: ``suffix``, else the name's safe characters, else ft."""
        if self.suffix:
            return self.suffix
        safe = re.sub(r"[^A-Za-z0-9_-]+", "-", self.name or "").strip("-")[:64]
        return safe or "ft"

    def check_integrations(self) -> None:
        """None or ``[]``; an integration would be promised and never honoured."""
        if self.integrations:
            kinds = sorted({str(i.get("type")) for i in self.integrations if _is_object(i)})
            raise _refuse(
                "integrations",
                f"the emulator reports to no integration ({', '.join(kinds) or 'given'}); leave it out",
            )

    def resolved_hyperparameters(self) -> dict[str, Any]:
        """All seven hyperparameters: from ``hyperparameters`` and ``method.supervised.hyperparameters``,
        ``"auto"`` and missing keys taking the suggested values, checked by the SDK's own rules. A bad
        value is a 400 whose ``param`` names it, e.g. ``hyperparameters.n_epochs``."""
        given = _object(self.hyperparameters, "hyperparameters")
        where = dict.fromkeys(given, "hyperparameters")
        from_method = self._method_hyperparameters()
        for key, value in from_method.items():
            if key in given and given[key] != value:
                field = f"{METHOD_PATH}.{key}"
                raise _refuse(field, f"{value!r} differs from hyperparameters.{key} ({given[key]!r})")
            where[key] = METHOD_PATH
        merged = {**given, **from_method}
        chosen: dict[str, Any] = {}
        for key, value in merged.items():
            field = f"{where[key]}.{key}"
            if value is None or value == AUTO:
                continue  # the suggested value stands
            if key in OPENAI_ONLY:
                raise _refuse(
                    field,
                    'only "auto" is implemented: the platform sets an absolute learning_rate; send '
                    "hyperparameters.learning_rate (0 < x <= 0.1) instead",
                )
            try:
                Hyperparameters.model_validate({key: value})
            except ValidationError as exc:
                first = exc.errors()[0]
                message = pydantic_message(first)
                if first["type"] == "extra_forbidden":
                    message = "not a hyperparameter of the platform"
                raise ApiError(400, f"{field}: {message}", "invalid_value", param=field) from exc
            chosen[key] = value
        return Hyperparameters.model_validate(chosen).model_dump()

    def _method_hyperparameters(self) -> dict[str, Any]:
        if self.method is None:
            return {}
        kind = self.method.get("type")
        if kind != "supervised":
            raise _refuse(
                "method.type", f"{kind!r} is not implemented: the emulator trains with 'supervised'"
            )
        other = sorted(set(self.method) - {"type", "supervised"})
        if other:
            raise _refuse(f"method.{other[0]}", "not used by a supervised method; leave it out")
        supervised = _object(self.method.get("supervised"), "method.supervised")
        unknown = sorted(set(supervised) - {"hyperparameters"})
        if unknown:
            raise _refuse(f"method.supervised.{unknown[0]}", "not a field of method.supervised")
        return _object(supervised.get("hyperparameters"), METHOD_PATH)

    def method_echo(self, hyperparameters: dict[str, Any]) -> dict[str, Any]:
        """The job's ``method``: supervised, with the hyperparameters it runs with."""
        return {"type": "supervised", "supervised": {"hyperparameters": hyperparameters}}


METHOD_PATH = "method.supervised.hyperparameters"


def _is_object(value: object) -> TypeGuard[dict[str, Any]]:
    return isinstance(value, dict)  # a JSON object: its keys are strings


def _object(value: object, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not _is_object(value):
        raise ApiError(400, f"{field}: must be an object", "invalid_value", param=field)
    return dict(value)


def _refuse(field: str, why: str) -> ApiError:
    return ApiError(400, f"{field}: {why}", "unsupported_value", param=field)
