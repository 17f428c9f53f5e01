"""Training data, the one face of the dataset side: the example and report models, the streaming
validator, statistics, tokens and cost, duplicates and leak-free splits, and the converter of other
formats. Every public name of the dataset side is here (the most used are re-exported by
:mod:`finetune_sdk` too); async twins of the functions that read files carry an ``a`` prefix and take the
same arguments.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import ModuleDir, ModuleGetattr, module_hooks

if TYPE_CHECKING:
    from ._dedupe import DroppedDuplicate, GroupBy, Leak, LeakageReport, leakage
    from ._duplicates import Key
    from ._files import (
        SplitReport,
        adedupe_file,
        asha256_file,
        asplit_file,
        dedupe_file,
        sha256_file,
        split_file,
    )
    from ._inspect import avalidate_file, validate_file
    from ._lines import NotARegularFileError, ValidationCancelledError
    from ._price import (
        PRICE_ENV,
        PRICE_TABLE_ENV,
        CostEstimate,
        aestimate_cost,
        estimate_cost,
        load_price_table,
    )
    from ._schema import (
        Conversation,
        DatasetValidationError,
        Message,
        Role,
        ValidationIssue,
        ValidationReport,
    )
    from ._stats import DatasetStats, estimate_text_tokens
    from ._tokens import ExactTokens
    from .convert import (
        Change,
        ConversionReport,
        FieldMap,
        Preview,
        Rejection,
        Repairs,
        SourceName,
        aconvert_file,
        convert_file,
        convert_records,
    )
    from .dataset import Dataset, Deduplication

# Each name loads from its module on first use: ``finetune validate`` does not pay for the converter's
# readers, a client call for none of it (see finetune_sdk._lazy; the imports above say the same).
_EXPORTS = {
    "._dedupe": "DroppedDuplicate GroupBy Leak LeakageReport leakage",
    "._duplicates": "Key",
    "._files": "SplitReport adedupe_file asha256_file asplit_file dedupe_file sha256_file split_file",
    "._inspect": "avalidate_file validate_file",
    "._lines": "NotARegularFileError ValidationCancelledError",
    "._price": "CostEstimate PRICE_ENV PRICE_TABLE_ENV aestimate_cost estimate_cost load_price_table",
    "._schema": "Conversation DatasetValidationError Message Role ValidationIssue ValidationReport",
    "._stats": "DatasetStats estimate_text_tokens",
    "._tokens": "ExactTokens",
    ".convert": (
        "Change ConversionReport FieldMap Preview Rejection Repairs SourceName aconvert_file convert_file "
        "convert_records"
    ),
    ".dataset": "Dataset Deduplication",
}

__all__ = [
    "PRICE_ENV",
    "PRICE_TABLE_ENV",
    "Change",
    "Conversation",
    "ConversionReport",
    "CostEstimate",
    "Dataset",
    "DatasetStats",
    "DatasetValidationError",
    "Deduplication",
    "DroppedDuplicate",
    "ExactTokens",
    "FieldMap",
    "GroupBy",
    "Key",
    "Leak",
    "LeakageReport",
    "Message",
    "NotARegularFileError",
    "Preview",
    "Rejection",
    "Repairs",
    "Role",
    "SourceName",
    "SplitReport",
    "ValidationCancelledError",
    "ValidationIssue",
    "ValidationReport",
    "aconvert_file",
    "adedupe_file",
    "aestimate_cost",
    "asha256_file",
    "asplit_file",
    "avalidate_file",
    "convert_file",
    "convert_records",
    "dedupe_file",
    "estimate_cost",
    "estimate_text_tokens",
    "leakage",
    "load_price_table",
    "sha256_file",
    "split_file",
    "validate_file",
]

__getattr__: ModuleGetattr
__dir__: ModuleDir
__getattr__, __dir__ = module_hooks(__name__, _EXPORTS, globals(), __all__)
