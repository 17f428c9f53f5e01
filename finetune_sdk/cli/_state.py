"""What every command shares: the global options and the client made from them (only when needed)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import click

from .._core.env import API_KEY_ENV
from ._output import CliError

if TYPE_CHECKING:
    from .._client import Client

__all__ = ["NO_KEY_LINE", "State", "pass_state"]

NO_KEY_LINE = (
    f"no API key: set {API_KEY_ENV} (or pass --api-key) to the platform's key, or start the local "
    'emulator and use its key: eval "$(finetune emulator --env &)"'
)
"""What a command that needs the platform says without a key: both ways forward."""


@dataclasses.dataclass
class State:
    """The root group's options; the :class:`Client` is made on first use, so ``validate`` or
    ``emulator`` work without a key."""

    api_key: str | None = dataclasses.field(default=None, repr=False)
    base_url: str | None = None
    debug: bool = False
    max_retries: int | None = None  # None: the client's default
    _client: Client | None = dataclasses.field(default=None, repr=False)

    def client(self) -> Client:
        if self._client is None:
            if not self.api_key:
                raise CliError(NO_KEY_LINE)
            from .._client import Client  # the commands that need no platform never load the client

            if self.max_retries is None:
                self._client = Client(api_key=self.api_key, base_url=self.base_url)
            else:
                self._client = Client(
                    api_key=self.api_key, base_url=self.base_url, max_retries=self.max_retries
                )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


pass_state = click.make_pass_decorator(State)
