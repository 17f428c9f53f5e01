"""Training data: the example and report models, the streaming validator, statistics and the
:class:`Dataset`. Public names are re-exported from :mod:`finetune_sdk` and :mod:`finetune_sdk.dataset`."""

from ._schema import Conversation, Message, ValidationIssue, ValidationReport
from ._stats import DatasetStats
from .dataset import Dataset

__all__ = ["Conversation", "Dataset", "DatasetStats", "Message", "ValidationIssue", "ValidationReport"]
