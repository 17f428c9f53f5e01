"""One page of a list answer."""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from .._models import APIModel

__all__ = ["Page"]

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list answer: ``data`` and whether more follows (``has_more``); ``first_id`` and
    ``last_id`` where the server names the ends of the page (OpenAI's file and checkpoint lists do)."""

    model_config: ClassVar[ConfigDict] = APIModel.model_config

    data: list[T]
    has_more: bool = False
    object: str = "list"
    first_id: str | None = None
    last_id: str | None = None
