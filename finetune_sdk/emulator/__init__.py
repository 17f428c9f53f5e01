"""A local emulator of the fine-tuning platform: the whole wire contract over real HTTP.

An emulation, not the platform: jobs run in simulated time and a tuned model answers with the reply
of its nearest training example. Needs the ``emulator`` extra (starlette, uvicorn, python-multipart)::

    from finetune_sdk.emulator import Emulator

    with Emulator(time_scale=50) as emu:
        print(emu.base_url, emu.api_key)

From a shell: ``python -m finetune_sdk.emulator --port 8000``. See ``docs/emulator.md``.
"""

from .settings import BASE_MODELS, FAULT_KINDS, FaultKind, Settings

MISSING_EXTRA = 'the emulator needs the emulator extra: pip install "finetune-sdk[emulator]"'
_EXTRA_MODULES = frozenset({"uvicorn", "starlette", "python_multipart", "multipart"})

try:
    from .server import Emulator
except ModuleNotFoundError as _missing:  # a base install: say which extra brings the missing module
    if _missing.name is None or _missing.name.partition(".")[0] not in _EXTRA_MODULES:
        raise
    raise ImportError(f"{MISSING_EXTRA} (missing: {_missing.name})", name=_missing.name) from _missing

__all__ = ["BASE_MODELS", "FAULT_KINDS", "MISSING_EXTRA", "Emulator", "FaultKind", "Settings"]
