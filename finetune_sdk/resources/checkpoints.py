"""``client.checkpoints``: the checkpoints a job saved (``GET /fine_tuning/jobs/{id}/checkpoints``)."""

from __future__ import annotations

from typing_extensions import Unpack

from .._calls import pages
from .._core.create import JobRef, job_id_of
from .._core.events import job_path
from .._core.options import RequestOptions
from .._core.pages import PageQuery
from .._resource import AsyncAPIResource, Listing, Settings, SyncAPIResource
from .._response import AsyncRawResponseView, SyncRawResponseView
from ..types.checkpoint import Checkpoint

__all__ = ["AsyncCheckpoints", "Checkpoints"]


def _list(
    client: Settings,
    job: JobRef,
    *,
    limit: int | None = None,
    after: str | None = None,
    **options: Unpack[RequestOptions],
) -> Listing[Checkpoint]:
    """The job's checkpoints, newest first, ``limit`` per page after the checkpoint id ``after``;
    iterate for all (``async for`` on the async client, where ``await`` gives the first page)."""
    path = f"{job_path(job_id_of(job))}/checkpoints"
    return Listing(PageQuery(path, Checkpoint, limit, options=options), after)


class _CheckpointCalls:
    """The methods of the checkpoints resources and of their raw-response views, written once."""

    list = pages(_list)


class Checkpoints(_CheckpointCalls, SyncAPIResource):
    """Job checkpoints: ``client.checkpoints``."""

    @property
    def with_raw_response(self) -> CheckpointsWithRawResponse:
        """The same methods, returning an :class:`~finetune_sdk.APIResponse` (status, headers ...)."""
        return CheckpointsWithRawResponse(self)


class AsyncCheckpoints(_CheckpointCalls, AsyncAPIResource):
    """Job checkpoints: ``async_client.checkpoints``."""

    @property
    def with_raw_response(self) -> AsyncCheckpointsWithRawResponse:
        """The same methods, returning an :class:`~finetune_sdk.APIResponse` (status, headers ...)."""
        return AsyncCheckpointsWithRawResponse(self)


class CheckpointsWithRawResponse(_CheckpointCalls, SyncRawResponseView):
    """The methods of :class:`Checkpoints`, each returning an :class:`~finetune_sdk.APIResponse`."""


class AsyncCheckpointsWithRawResponse(_CheckpointCalls, AsyncRawResponseView):
    """The methods of :class:`AsyncCheckpoints`, each returning an :class:`~finetune_sdk.APIResponse`."""
