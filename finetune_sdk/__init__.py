"""finetune-sdk: fine-tune Qwen2.5 chat models with LoRA on the hosted platform, then chat with them.

The public names are imported on first use (module ``__getattr__``), so ``import finetune_sdk`` costs
little and a program pays only for the parts it touches; type checkers see ordinary imports. The table
``_EXPORTS`` (module -> names), the imports below and ``__all__`` say the same thing three ways, for the
interpreter, the type checkers and ``import *``; tests/unit/test_exports.py holds them to it.
"""

from __future__ import annotations

import logging as _logging
from typing import TYPE_CHECKING

from ._lazy import ModuleDir, ModuleGetattr, module_hooks
from ._version import __version__

if TYPE_CHECKING:
    from ._client import AsyncClient, Client
    from ._core.config import NOT_GIVEN
    from ._core.options import PostOptions, RequestOptions
    from ._core.retry import RetryBudget
    from ._core.schedule import PollSchedule
    from ._many import JobOutcome
    from ._response import APIResponse
    from .chat import AsyncChatStream, ChatOptions, ChatStream
    from .data import (
        Conversation,
        ConversionReport,
        CostEstimate,
        Dataset,
        DatasetStats,
        DatasetValidationError,
        Deduplication,
        DroppedDuplicate,
        ExactTokens,
        Leak,
        LeakageReport,
        Message,
        NotARegularFileError,
        ValidationIssue,
        ValidationReport,
        convert_file,
        estimate_cost,
        leakage,
    )
    from .errors import (
        APIConnectionError,
        APIError,
        APIResponseValidationError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        ConfigurationError,
        ConflictError,
        CostLimitError,
        FineTuneError,
        InternalServerError,
        JobCancelledError,
        JobError,
        JobFailedError,
        NotFoundError,
        OutputConflictError,
        PermissionDeniedError,
        RateLimitError,
        ResponseTooLargeError,
        StreamInterruptedError,
        UnprocessableEntityError,
        WaitTimeoutError,
    )
    from .evaluate import Comparison, ComparisonRow
    from .hyperparameters import Hyperparameters, PresetName
    from .pagination import AsyncCursorPage, AsyncPaginator, SyncCursorPage
    from .tuning import TuneResult, tune
    from .types import (
        BaseModelName,
        Checkpoint,
        EventLevel,
        FileDeleted,
        FileObject,
        FineTuneJob,
        JobEvent,
        JobStatus,
        MetricsHistory,
        MetricsRow,
        SucceededJob,
    )
    from .types.chat import ChatCompletion, ChatUsage

# module (relative to this package) -> the public names it defines
_EXPORTS: dict[str, str] = {
    "._client": "AsyncClient Client",
    "._core.config": "NOT_GIVEN",
    "._core.options": "PostOptions RequestOptions",
    "._core.retry": "RetryBudget",
    "._core.schedule": "PollSchedule",
    "._many": "JobOutcome",
    "._response": "APIResponse",
    ".chat": "AsyncChatStream ChatOptions ChatStream",
    ".data": (
        "ConversionReport Conversation CostEstimate Dataset DatasetStats DatasetValidationError "
        "Deduplication DroppedDuplicate "
        "ExactTokens Leak LeakageReport Message NotARegularFileError ValidationIssue ValidationReport "
        "convert_file estimate_cost leakage"
    ),
    ".errors": (
        "APIConnectionError APIError APIResponseValidationError APIStatusError APITimeoutError "
        "AuthenticationError BadRequestError ConfigurationError ConflictError CostLimitError "
        "FineTuneError InternalServerError JobCancelledError JobError JobFailedError NotFoundError "
        "OutputConflictError PermissionDeniedError RateLimitError ResponseTooLargeError "
        "StreamInterruptedError UnprocessableEntityError WaitTimeoutError"
    ),
    ".evaluate": "Comparison ComparisonRow",
    ".hyperparameters": "Hyperparameters PresetName",
    ".pagination": "AsyncCursorPage AsyncPaginator SyncCursorPage",
    ".tuning": "TuneResult tune",
    ".types": (
        "BaseModelName Checkpoint EventLevel FileDeleted FileObject FineTuneJob JobEvent JobStatus "
        "MetricsHistory MetricsRow SucceededJob"
    ),
    ".types.chat": "ChatCompletion ChatUsage",
}

__all__ = [
    "NOT_GIVEN",
    "APIConnectionError",
    "APIError",
    "APIResponse",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncChatStream",
    "AsyncClient",
    "AsyncCursorPage",
    "AsyncPaginator",
    "AuthenticationError",
    "BadRequestError",
    "BaseModelName",
    "ChatCompletion",
    "ChatOptions",
    "ChatStream",
    "ChatUsage",
    "Checkpoint",
    "Client",
    "Comparison",
    "ComparisonRow",
    "ConfigurationError",
    "ConflictError",
    "Conversation",
    "ConversionReport",
    "CostEstimate",
    "CostLimitError",
    "Dataset",
    "DatasetStats",
    "DatasetValidationError",
    "Deduplication",
    "DroppedDuplicate",
    "EventLevel",
    "ExactTokens",
    "FileDeleted",
    "FileObject",
    "FineTuneError",
    "FineTuneJob",
    "Hyperparameters",
    "InternalServerError",
    "JobCancelledError",
    "JobError",
    "JobEvent",
    "JobFailedError",
    "JobOutcome",
    "JobStatus",
    "Leak",
    "LeakageReport",
    "Message",
    "MetricsHistory",
    "MetricsRow",
    "NotARegularFileError",
    "NotFoundError",
    "OutputConflictError",
    "PermissionDeniedError",
    "PollSchedule",
    "PostOptions",
    "PresetName",
    "RateLimitError",
    "RequestOptions",
    "ResponseTooLargeError",
    "RetryBudget",
    "StreamInterruptedError",
    "SucceededJob",
    "SyncCursorPage",
    "TuneResult",
    "UnprocessableEntityError",
    "ValidationIssue",
    "ValidationReport",
    "WaitTimeoutError",
    "__version__",
    "convert_file",
    "estimate_cost",
    "leakage",
    "tune",
]

# Subpackages and modules reachable as attributes (``finetune_sdk.relay``), imported on first use.
__getattr__: ModuleGetattr
__dir__: ModuleDir
__getattr__, __dir__ = module_hooks(
    __name__,
    _EXPORTS,
    globals(),
    __all__,
    ("chat", "data", "errors", "evaluate", "hyperparameters", "pagination", "relay", "resources", "types"),
)


# A library logs and lets the application decide where logs go: without this, Python's last-resort
# handler would print the SDK's retry warnings on stderr of programs that configured no logging.
_logging.getLogger("finetune_sdk").addHandler(_logging.NullHandler())
