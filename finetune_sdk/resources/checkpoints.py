"""``client.checkpoints``: the checkpoints a job saved (``GET /fine_tuning/jobs/{id}/checkpoints``)."""

# pyright: reportPrivateUsage=false
from __future__ import annotations

from typing_extensions import Unpack

from .._options import RequestOptions
from .._resource import AsyncAPIResource, SyncAPIResource
from .._response import async_raw_method, raw_method
from ..pagination import AsyncPaginator, PageQuery, SyncCursorPage
from ..types.checkpoint import Checkpoint
from ._job_params import JobRef, _job_path

__all__ = ["AsyncCheckpoints", "Checkpoints"]


def _query(job: JobRef, limit: int | None, options: RequestOptions) -> PageQuery[Checkpoint]:
    return PageQuery(f"{_job_path(job)}/checkpoints", Checkpoint, limit, options=options)


class Checkpoints(SyncAPIResource):
    """Job checkpoints: ``client.checkpoints``."""

    def list(
        self,
        job: JobRef,
        *,
        limit: int | None = None,
        after: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> SyncCursorPage[Checkpoint]:
        """The job's checkpoints, ``limit`` per page after the checkpoint id ``after``; iterate for all."""
        return self._client.get_page(_query(job, limit, options), after=after)

    @property
    def with_raw_response(self) -> CheckpointsWithRawResponse:
        return CheckpointsWithRawResponse(self)


class AsyncCheckpoints(AsyncAPIResource):
    """Job checkpoints: ``async_client.checkpoints``."""

    def list(
        self,
        job: JobRef,
        *,
        limit: int | None = None,
        after: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[Checkpoint]:
        """See :meth:`Checkpoints.list`: ``await`` for the first page, ``async for`` for all."""
        query = _query(job, limit, options)
        return AsyncPaginator(lambda: self._client.get_page(query, after=after))

    @property
    def with_raw_response(self) -> AsyncCheckpointsWithRawResponse:
        return AsyncCheckpointsWithRawResponse(self)


class CheckpointsWithRawResponse:
    """The methods of :class:`Checkpoints`, each returning an :class:`~finetune_sdk.APIResponse`."""

    def __init__(self, resource: Checkpoints) -> None:
        self._resource = resource

    @raw_method(Checkpoints.list)
    def list(self) -> None:
        """:meth:`Checkpoints.list`, with its raw response."""


class AsyncCheckpointsWithRawResponse:
    """The methods of :class:`AsyncCheckpoints`, each returning an :class:`~finetune_sdk.APIResponse`."""

    def __init__(self, resource: AsyncCheckpoints) -> None:
        self._resource = resource

    @async_raw_method(AsyncCheckpoints.list)
    def list(self) -> None:
        """:meth:`AsyncCheckpoints.list`, with its raw response."""
