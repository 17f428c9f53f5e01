"""The base of the SDK's response models: tolerant of new fields, reads camelCase as well."""

from __future__ import annotations

from pydantic import AliasChoices, AliasGenerator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

__all__ = ["APIModel"]


def _either_case(name: str) -> AliasChoices:
    return AliasChoices(name, to_camel(name))


class APIModel(BaseModel):
    """An object the platform sends. Fields it adds later are kept (``model_extra``), not refused,
    and ``createdAt`` is read as ``created_at``, since the live platform answers in both cases."""

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        alias_generator=AliasGenerator(validation_alias=_either_case),
        protected_namespaces=(),
    )
