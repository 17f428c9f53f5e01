"""Training data, the one face of the dataset side: the example and report models, the streaming
validator, statistics, duplicates and leakage, exact token counts, the :class:`Dataset`, and the
converter from other formats. Public names are re-exported from :mod:`finetune_sdk` too."""

from ._dedupe import DroppedDuplicate, Leak, LeakageReport, leakage
from ._lines import NotARegularFileError
from ._schema import Conversation, Message, Role, ValidationIssue, ValidationReport
from ._stats import DatasetStats
from ._tokens import ExactTokens
from .convert import ConversionReport, FieldMap, Repairs, aconvert_file, convert_file
from .dataset import Dataset, Deduplication

__all__ = [
    "Conversation",
    "ConversionReport",
    "Dataset",
    "DatasetStats",
    "Deduplication",
    "DroppedDuplicate",
    "ExactTokens",
    "FieldMap",
    "Leak",
    "LeakageReport",
    "Message",
    "NotARegularFileError",
    "Repairs",
    "Role",
    "ValidationIssue",
    "ValidationReport",
    "aconvert_file",
    "convert_file",
    "leakage",
]
