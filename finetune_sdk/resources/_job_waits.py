"""The pieces of ``jobs.wait`` and ``jobs.events(follow=True)`` around ``_polling``, sans I/O: the
waiter and follower of a call (on the client's poll schedule), the client of one poll, what a poll
answered, and the typed job of a successful wait."""

# pyright: reportPrivateUsage=false, reportUnusedFunction=false
from __future__ import annotations

from typing import TypeVar

from .._base_client import AsyncAPIClient, SyncAPIClient
from .._polling import FOLLOW_POLL, EventCursor, EventFollower, Waiter, read_poll
from .._response import request_id_of
from .._wire import Answer
from ..errors import APIResponseValidationError
from ..types import FineTuneJob, SucceededJob
from ._job_params import JobRef, _job_id


def _succeeded(job: FineTuneJob) -> SucceededJob:
    """The job of a successful wait, typed so that ``fine_tuned_model`` is a ``str``."""
    if not job.fine_tuned_model:
        raise APIResponseValidationError(
            f"job {job.id} succeeded but the platform named no fine_tuned_model to chat with",
            body=job.model_dump(mode="json"),
            request_id=job._request_id,
        )
    succeeded = SucceededJob.model_validate(job.model_dump(by_alias=False))
    succeeded._request_id = job._request_id
    return succeeded


ClientT = TypeVar("ClientT", SyncAPIClient, AsyncAPIClient)


def _poller(client: ClientT, waiter: Waiter) -> ClientT:
    """The client for one poll of ``wait``: with a deadline, its timeouts and its total deadline are
    capped to the time left and it does not retry (the waiter backs off and polls again), so a wait
    never outlasts its timeout by more than a moment, whatever the server does."""
    timeout = waiter.poll_timeout(client.timeout)
    if timeout is None:
        return client
    return client.with_options(timeout=timeout, deadline=waiter.time_left(), max_retries=0)


def _waiter(
    job: JobRef, timeout: float | None, poll_interval: float | None, client: SyncAPIClient | AsyncAPIClient
) -> Waiter:
    return Waiter(_job_id(job), timeout, poll_interval, client._policy, schedule=client._config.poll)


def _polled(answer: Answer) -> tuple[FineTuneJob, float | None]:
    """The job of one poll, carrying its request id as every returned model does, and the pause its
    server hinted."""
    job, hint = read_poll(answer)
    job._request_id = request_id_of(answer.response)
    return job, hint


def _follower(
    job: JobRef, cursor: EventCursor, poll_interval: float | None, client: SyncAPIClient | AsyncAPIClient
) -> EventFollower:
    pacer = Waiter(_job_id(job), None, poll_interval or FOLLOW_POLL, client._policy)
    return EventFollower(pacer.job_id, True, pacer, cursor)
