"""``client.checkpoints``: the checkpoints a job saved (``GET /fine_tuning/jobs/{id}/checkpoints``)."""

from __future__ import annotations

from typing_extensions import Unpack

from .._core.create import JobRef, job_id_of
from .._core.events import job_path
from .._core.options import RequestOptions
from .._core.pages import PageQuery
from .._resource import AsyncAPIResource, SyncAPIResource
from .._response import RawResponseView, async_raw_method, raw_method
from ..pagination import AsyncPaginator, SyncCursorPage
from ..types.checkpoint import Checkpoint

__all__ = ["AsyncCheckpoints", "Checkpoints"]


def _query(job: JobRef, limit: int | None, options: RequestOptions) -> PageQuery[Checkpoint]:
    return PageQuery(f"{job_path(job_id_of(job))}/checkpoints", Checkpoint, limit, options=options)


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
        """The same methods, returning an :class:`~finetune_sdk.APIResponse` (status, headers ...)."""
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
        """The same methods, returning an :class:`~finetune_sdk.APIResponse` (status, headers ...)."""
        return AsyncCheckpointsWithRawResponse(self)


class CheckpointsWithRawResponse(RawResponseView):
    """The methods of :class:`Checkpoints`, each returning an :class:`~finetune_sdk.APIResponse`."""

    @raw_method(Checkpoints.list)
    def list(self) -> None:
        """:meth:`Checkpoints.list`, with its raw response."""


class AsyncCheckpointsWithRawResponse(RawResponseView):
    """The methods of :class:`AsyncCheckpoints`, each returning an :class:`~finetune_sdk.APIResponse`."""

    @async_raw_method(AsyncCheckpoints.list)
    def list(self) -> None:
        """:meth:`AsyncCheckpoints.list`, with its raw response."""
