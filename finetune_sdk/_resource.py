"""The base of every resource (``client.files``, ``client.jobs``, ``client.chat``): it holds the base
client whose one request path it sends through, never the concrete ``Client``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Concatenate, TypeVar

from typing_extensions import ParamSpec

if TYPE_CHECKING:
    from ._base_client import AsyncAPIClient, SyncAPIClient

__all__ = ["AsyncAPIResource", "SyncAPIResource", "delegate"]

P = ParamSpec("P")
R = TypeVar("R")


class SyncAPIResource:
    """A group of endpoints on the synchronous client."""

    def __init__(self, client: SyncAPIClient) -> None:
        self._client = client


class AsyncAPIResource:
    """A group of endpoints on the asynchronous client."""

    def __init__(self, client: AsyncAPIClient) -> None:
        self._client = client


def delegate(
    method: Callable[Concatenate[Any, P], R],
) -> Callable[[Callable[..., object]], Callable[Concatenate[Any, P], R]]:
    """Type a client's stub as a resource's method (``client.complete`` is ``client.chat.complete``),
    so the two cannot drift apart; for type checkers only (the clients bind the method at run time)."""

    def decorate(stub: Callable[..., object]) -> Callable[Concatenate[Any, P], R]:
        return method

    return decorate
