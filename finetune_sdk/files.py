"""``client.files``; the resource lives in :mod:`finetune_sdk.resources.files` (kept importable here)."""

from .resources.files import *  # noqa: F403
from .resources.files import __all__  # noqa: F401 - re-exported, for star imports and type checkers
