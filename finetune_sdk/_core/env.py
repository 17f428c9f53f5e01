"""The environment variables the SDK reads, by name (a module of its own: the command line needs the
names without the client's settings and httpx)."""

from __future__ import annotations

from typing import Final

__all__ = ["ALLOW_HTTP_ENV", "API_KEY_ENV", "BASE_URL_ENV", "POLL_INTERVAL_ENV"]

API_KEY_ENV: Final = "FINETUNE_API_KEY"
BASE_URL_ENV: Final = "FINETUNE_BASE_URL"
#: Seconds between the polls of ``jobs.wait``, a steady pace (the emulator's test helpers set it).
POLL_INTERVAL_ENV: Final = "FINETUNE_POLL_INTERVAL"
#: Set to 1 (or true/yes) to allow a plain http:// base URL on a host other than this machine.
ALLOW_HTTP_ENV: Final = "FINETUNE_ALLOW_INSECURE_HTTP"
