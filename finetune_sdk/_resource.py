"""The base of every resource (``client.files``, ``client.jobs``, ``client.chat``): it holds the base
client whose door (``send``, ``request``, ``get_page``, ``open_stream``, ``run``, ``iterate``,
``config``) it goes through, never the concrete ``Client``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._base_client import AsyncAPIClient, SyncAPIClient

__all__ = ["AsyncAPIResource", "SyncAPIResource"]


class SyncAPIResource:
    """A group of endpoints on the synchronous client."""

    def __init__(self, client: SyncAPIClient) -> None:
        self._client = client


class AsyncAPIResource:
    """A group of endpoints on the asynchronous client."""

    def __init__(self, client: AsyncAPIClient) -> None:
        self._client = client
