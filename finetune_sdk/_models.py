"""The base of the SDK's response models: tolerant of new fields, reads camelCase as well, and carries
the request id of the answer it came from."""

from __future__ import annotations

from typing import ClassVar, TypeVar

from pydantic import AliasChoices, AliasGenerator, BaseModel, ConfigDict, PrivateAttr
from pydantic.alias_generators import to_camel

__all__ = ["APIModel", "APIPart", "request_id_of_model", "retyped", "tag"]

ModelT = TypeVar("ModelT", bound=BaseModel)


def _either_case(name: str) -> AliasChoices:
    return AliasChoices(name, to_camel(name))


class APIPart(BaseModel):
    """A part of an object the platform sends (a job's hyperparameters, an event's data ...). Fields it
    adds later are kept (``model_extra``), not refused, and ``createdAt`` is read as ``created_at``, since
    the live platform answers in both cases."""

    model_config: ClassVar[ConfigDict] = ConfigDict(
        extra="allow",
        populate_by_name=True,
        alias_generator=AliasGenerator(validation_alias=_either_case),
        protected_namespaces=(),
        # A model's validator is built on its first use, not at import: a process that only retrieves a
        # job builds the job's models and none of the others (a quicker first answer).
        defer_build=True,
    )

    def __eq__(self, other: object) -> bool:
        # The same data is equal whichever request it came from: the request id is not compared.
        if not isinstance(other, BaseModel):
            return NotImplemented
        return (
            type(self) is type(other)
            and self.__dict__ == other.__dict__
            and self.__pydantic_extra__ == other.__pydantic_extra__
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, as pydantic's models are


class APIModel(APIPart):
    """An object the platform answers with (a job, a file, an event ...): an :class:`APIPart` that also
    keeps the request id of the answer it came from. (Only the answer's own object keeps it: the parts
    inside it do not pay for a private attribute, which pydantic sets up per instance.)"""

    _request_id: str | None = PrivateAttr(default=None)
    """The ``x-request-id`` of the answer this object came from (quote it when asking for help)."""


def tag(model: ModelT, request_id: str | None) -> ModelT:
    """``model``, marked with the id of the request it came from (models that keep none are left as
    they are); the request id is private, so dumps and equality are unchanged."""
    if isinstance(model, APIModel):
        setattr(model, "_request_id", request_id)  # noqa: B010 - a private attribute of this module's class
    return model


def request_id_of_model(model: BaseModel) -> str | None:
    """The request id ``model`` came with, if it keeps one."""
    found: str | None = getattr(model, "_request_id", None) if isinstance(model, APIModel) else None
    return found


def retyped(cls: type[ModelT], model: BaseModel) -> ModelT:
    """``model``'s data as a ``cls`` (a narrower type of the same object), keeping its request id."""
    return tag(cls.model_validate(model.model_dump(by_alias=False)), request_id_of_model(model))
