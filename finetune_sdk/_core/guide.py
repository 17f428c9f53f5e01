"""The guide's suggested training values, in one place: :class:`~finetune_sdk.Hyperparameters` takes its
defaults from here, and so do the job's reported hyperparameters, the token and price estimates and
``create`` (each used to keep its own copy). Plain constants, so that reading a job loads no
hyperparameter model."""

from __future__ import annotations

from typing import Final

__all__ = [
    "BATCH_SIZE",
    "LEARNING_RATE",
    "LORA_ALPHA",
    "LORA_DROPOUT",
    "LORA_RANK",
    "MAX_TOKENS",
    "N_EPOCHS",
]

LEARNING_RATE: Final = 1e-4
"""The step size of the LoRA weights' updates (range: above 0, up to 0.1)."""
N_EPOCHS: Final = 3
"""Passes over the training data (1 to 10); the billed tokens are the data's times this."""
BATCH_SIZE: Final = 8
"""Examples per training step (1 to 32)."""
MAX_TOKENS: Final = 4096
"""Tokens per training example: the longest the platform trains on (longer ones are cut)."""
LORA_RANK: Final = 8
"""The rank of the LoRA matrices (1 to 64)."""
LORA_ALPHA: Final = 32
"""The LoRA scaling factor (1 to 128)."""
LORA_DROPOUT: Final = 0.05
"""Dropout on the LoRA layers (0 up to, not including, 1)."""
