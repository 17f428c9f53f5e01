"""What a job creation sends besides its files, and which rules check it: the platform's or OpenAI's.

The platform's base models (:data:`~finetune_sdk.types.BaseModelName`) are trained with the guide's LoRA
hyperparameters: without any given, the guide's ``standard`` preset is sent (its seven keys); a mapping
is checked against the guide's ranges and completed with the suggested values. Any other model is taken
to be served by another OpenAI-shaped server: its settings follow OpenAI's published schema (``n_epochs``
1 to 50, ``batch_size`` 1 to 256, ``learning_rate_multiplier`` above 0, each of them also ``"auto"``; a
suffix of up to 64 characters), and nothing is sent that the caller did not give. A preset or a
:class:`~finetune_sdk.Hyperparameters` given for any model is sent as it is: the caller asked for it.
``method`` and ``integrations`` pass through as given (typed models or mappings).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final, Union, cast, get_args

import orjson

from ..hyperparameters import Hyperparameters, PresetName
from ..types import BaseModelName
from ..types.method import Integration, JobMethod
from .checks import is_number, is_str, is_str_mapping, is_whole

__all__ = [
    "PLATFORM_MODELS",
    "SEED_MAX",
    "HyperparametersInput",
    "IntegrationsInput",
    "MethodInput",
    "check_settings",
    "epochs_of",
    "hyperparameters_body",
    "integrations_body",
    "method_body",
]

#: The base models the platform trains with its LoRA hyperparameters.
PLATFORM_MODELS: Final = frozenset(get_args(BaseModelName))
#: The largest seed OpenAI's schema allows (and the platform takes).
SEED_MAX: Final = 2**31 - 1
_PLATFORM_SUFFIX: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
_AUTO: Final = "auto"

#: A :class:`~finetune_sdk.Hyperparameters`, a preset name, a mapping of values, or None.
HyperparametersInput = Union[Hyperparameters, PresetName, Mapping[str, Any], None]  # noqa: UP007
#: OpenAI's ``method``: a :class:`~finetune_sdk.types.JobMethod` or the same as a mapping.
MethodInput = Union[JobMethod, Mapping[str, Any], None]  # noqa: UP007
#: OpenAI's ``integrations``: :class:`~finetune_sdk.types.Integration` objects or mappings.
IntegrationsInput = Union[Sequence[Union[Integration, Mapping[str, Any]]], None]  # noqa: UP007


def _schema_value(name: str, value: object) -> object:
    """One of OpenAI's hyperparameters, checked by its schema (``"auto"`` or a number in range)."""
    if value == _AUTO:
        return value
    if name == "learning_rate_multiplier":
        if not is_number(value) or not value > 0:
            raise ValueError(f'learning_rate_multiplier must be "auto" or a number > 0, got {value!r}')
        return value
    high = 50 if name == "n_epochs" else 256
    if not is_whole(value) or not 1 <= value <= high:
        raise ValueError(f'{name} must be "auto" or a whole number from 1 to {high}, got {value!r}')
    return value


_SCHEMA_KEYS: Final = ("n_epochs", "batch_size", "learning_rate_multiplier")


def hyperparameters_body(model: str, value: HyperparametersInput) -> dict[str, Any] | None:
    """The ``hyperparameters`` to send for ``model`` (None: none), by the rules above."""
    platform = model in PLATFORM_MODELS
    if value is None:
        return Hyperparameters.preset("standard").model_dump(mode="json") if platform else None
    if isinstance(value, str):
        return Hyperparameters.preset(value).model_dump(mode="json")
    if isinstance(value, Hyperparameters):
        return value.model_dump(mode="json")
    if not is_str_mapping(value):
        raise TypeError(f"hyperparameters is a Hyperparameters, a preset name or a mapping, got {value!r}")
    if platform:
        return Hyperparameters.from_values(value).model_dump(mode="json")
    return {k: _schema_value(k, v) if k in _SCHEMA_KEYS else v for k, v in value.items()}


def epochs_of(body: Mapping[str, Any]) -> int | None:
    """The epochs a create body asks for (its hyperparameters, or its method's), if a number."""
    hyperparameters: object = body.get("hyperparameters")
    found: object = hyperparameters.get("n_epochs") if is_str_mapping(hyperparameters) else None
    method: object = body.get("method")
    if found is None and is_str_mapping(method):
        kind = method.get("type")
        section: object = method.get(kind) if is_str(kind) else None
        if is_str_mapping(section) and is_str_mapping(section.get("hyperparameters")):
            found = section["hyperparameters"].get("n_epochs")
    return found if is_whole(found) else None


def _plain(value: object, what: str) -> dict[str, Any]:
    if isinstance(value, (JobMethod, Integration)):
        dumped: dict[str, Any] = value.model_dump(mode="json", exclude_none=True)
        return dumped
    if not is_str_mapping(value):
        raise TypeError(f"{what} must be a mapping or its model, got {value!r}")
    return dict(value)


def method_body(method: MethodInput) -> dict[str, Any] | None:
    """OpenAI's ``method`` as sent (``{"type": "supervised", "supervised": {...}}``)."""
    if method is None:
        return None
    body = _plain(method, "method")
    kind: object = body.get("type")
    if not is_str(kind):
        raise ValueError(f"method needs a 'type' ('supervised', 'dpo' ...), got {method!r}")
    return body


def integrations_body(integrations: IntegrationsInput) -> list[dict[str, Any]] | None:
    """OpenAI's ``integrations`` as sent."""
    if integrations is None:
        return None
    if not _is_list(integrations):
        raise TypeError("integrations must be a list, e.g. [{'type': 'wandb', 'wandb': {...}}]")
    return [_plain(item, "an integration") for item in cast("Sequence[object]", integrations)]


def _is_list(value: object) -> bool:
    return not is_str(value) and not is_str_mapping(value) and isinstance(value, Sequence)


def check_settings(*, model: str, suffix: object, seed: object, metadata: object) -> None:
    """The suffix, seed and metadata, by the rules of the model's server (see the module)."""
    if suffix is not None:
        if model in PLATFORM_MODELS:
            if not is_str(suffix) or not _PLATFORM_SUFFIX.fullmatch(suffix):
                raise ValueError(f"suffix must be 1 to 64 of the characters A-Z a-z 0-9 _ -, got {suffix!r}")
        elif not is_str(suffix) or not 0 < len(suffix) <= 64 or not suffix.isprintable():
            raise ValueError(f"suffix must be 1 to 64 printable characters, got {suffix!r}")
    if seed is not None and (not is_whole(seed) or not 0 <= seed <= SEED_MAX):
        raise ValueError(f"seed must be a whole number from 0 to {SEED_MAX}, got {seed!r}")
    if metadata is not None:
        if not is_str_mapping(metadata):
            raise ValueError("metadata must be a mapping with string keys")
        try:
            orjson.dumps(dict(metadata))
        except TypeError as exc:
            raise ValueError(f"metadata cannot be sent as JSON: {exc}") from None
