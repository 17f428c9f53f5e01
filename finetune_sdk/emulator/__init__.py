"""A local emulator of the fine-tuning platform: the whole wire contract over real HTTP.

An emulation, not the platform: jobs run in simulated time and a tuned model answers with the reply
of its nearest training example. Needs the ``emulator`` extra (starlette, uvicorn, python-multipart)::

    from finetune_sdk.emulator import Emulator

    with Emulator(time_scale=50) as emu:
        print(emu.base_url, emu.api_key)

From a shell: ``python -m finetune_sdk.emulator --port 8000``. See ``docs/emulator.md``.
"""

from .server import Emulator
from .settings import BASE_MODELS, FAULT_KINDS, FaultKind, Settings

__all__ = ["BASE_MODELS", "FAULT_KINDS", "Emulator", "FaultKind", "Settings"]
