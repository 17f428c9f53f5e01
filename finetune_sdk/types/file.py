"""Uploaded files: :class:`FileObject` and the answer to a deletion, :class:`FileDeleted`."""

from __future__ import annotations

from .._models import APIModel
from ._common import OpenEnum, Timestamp

__all__ = ["FileDeleted", "FileObject", "FileStatus"]


class FileStatus(OpenEnum):
    """OpenAI's (deprecated) processing status of a file: ``uploaded``, ``processed`` or ``error``; a
    value added later is still accepted."""

    UPLOADED = "uploaded"
    PROCESSED = "processed"
    ERROR = "error"


class FileObject(APIModel):
    """An uploaded file, or a result file a job wrote (``purpose`` ``fine-tune-results``)."""

    id: str
    object: str = "file"
    bytes: int = 0
    created_at: Timestamp = 0
    filename: str = ""
    purpose: str = "fine-tune"
    status: FileStatus | None = None
    status_details: str | None = None
    expires_at: Timestamp | None = None


class FileDeleted(APIModel):
    """The answer to a file deletion."""

    id: str
    object: str = "file"
    deleted: bool
