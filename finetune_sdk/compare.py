"""Where :class:`Comparison` and its parts were first defined; they live in :mod:`finetune_sdk.evaluate`."""

from .evaluate._comparison import Clock, Comparison, ComparisonRow, Reply, Setup, prepare_prompts

__all__ = ["Clock", "Comparison", "ComparisonRow", "Reply", "Setup", "prepare_prompts"]
