"""``client.jobs``; the resource lives in :mod:`finetune_sdk.resources.jobs` (kept importable here)."""

from .resources.jobs import *  # noqa: F403
from .resources.jobs import __all__  # noqa: F401 - re-exported, for star imports and type checkers
