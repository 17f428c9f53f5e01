"""finetune-sdk: fine-tune Qwen2.5 chat models with LoRA on the hosted platform, then chat with them."""

import logging as _logging

from ._client import AsyncClient, Client
from ._config import NOT_GIVEN
from ._version import __version__
from .chat import AsyncChatStream, ChatStream, ChatUsage
from .compare import Comparison, ComparisonRow
from .dataset import (
    Conversation,
    Dataset,
    DatasetStats,
    Message,
    ValidationIssue,
    ValidationReport,
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
    DatasetValidationError,
    FineTuneError,
    InternalServerError,
    JobCancelledError,
    JobError,
    JobFailedError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    StreamInterruptedError,
    UnprocessableEntityError,
    WaitTimeoutError,
)
from .hyperparameters import Hyperparameters, PresetName
from .types import (
    BaseModelName,
    FileDeleted,
    FileObject,
    FineTuneJob,
    JobEvent,
    JobStatus,
)

__all__ = [
    "NOT_GIVEN",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncChatStream",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "BaseModelName",
    "ChatStream",
    "ChatUsage",
    "Client",
    "Comparison",
    "ComparisonRow",
    "ConfigurationError",
    "ConflictError",
    "Conversation",
    "Dataset",
    "DatasetStats",
    "DatasetValidationError",
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
    "JobStatus",
    "Message",
    "NotFoundError",
    "PermissionDeniedError",
    "PresetName",
    "RateLimitError",
    "ResponseTooLargeError",
    "StreamInterruptedError",
    "UnprocessableEntityError",
    "ValidationIssue",
    "ValidationReport",
    "WaitTimeoutError",
    "__version__",
]

# A library logs and lets the application decide where logs go: without this, Python's last-resort
# handler would print the SDK's retry warnings on stderr of programs that configured no logging.
_logging.getLogger("finetune_sdk").addHandler(_logging.NullHandler())
