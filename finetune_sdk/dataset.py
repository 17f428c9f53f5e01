"""Training data: :class:`Message`, :class:`Conversation` and :class:`Dataset`, and their validation.

The implementation lives in :mod:`finetune_sdk.data`; this module keeps the public names importing from
where they always have.
"""

from .data._dedupe import DroppedDuplicate, Leak, LeakageReport, leakage
from .data._lines import NotARegularFileError
from .data._schema import (
    Conversation,
    Message,
    Role,
    StrPath,
    ValidationIssue,
    ValidationReport,
    explain_error,
    file_issue,
    is_blank,
    role_order_issue,
)
from .data._stats import DatasetStats
from .data._tokens import ExactTokens
from .data.dataset import Dataset, Deduplication

__all__ = [
    "Conversation",
    "Dataset",
    "DatasetStats",
    "Deduplication",
    "DroppedDuplicate",
    "ExactTokens",
    "Leak",
    "LeakageReport",
    "Message",
    "NotARegularFileError",
    "Role",
    "StrPath",
    "ValidationIssue",
    "ValidationReport",
    "explain_error",
    "file_issue",
    "is_blank",
    "leakage",
    "role_order_issue",
]
