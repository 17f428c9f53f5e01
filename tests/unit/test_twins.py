"""Sync and async twins have the same surface: the same public methods, each with the same parameters
(names, kinds, defaults), so that an async twin differs from its sync twin only in ``await``."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from finetune_sdk import AsyncChatStream, AsyncClient, AsyncCursorPage, ChatStream, Client, SyncCursorPage
from finetune_sdk._many import AsyncOutcomes, Outcomes
from finetune_sdk.resources.chat import AsyncChat, AsyncChatWithRawResponse, Chat, ChatWithRawResponse
from finetune_sdk.resources.checkpoints import (
    AsyncCheckpoints,
    AsyncCheckpointsWithRawResponse,
    Checkpoints,
    CheckpointsWithRawResponse,
)
from finetune_sdk.resources.files import AsyncFiles, AsyncFilesWithRawResponse, Files, FilesWithRawResponse
from finetune_sdk.resources.jobs import AsyncJobs, AsyncJobsWithRawResponse, Jobs, JobsWithRawResponse

TWINS: list[tuple[type, type]] = [
    (Client, AsyncClient),
    (Files, AsyncFiles),
    (Jobs, AsyncJobs),
    (Checkpoints, AsyncCheckpoints),
    (Chat, AsyncChat),
    (FilesWithRawResponse, AsyncFilesWithRawResponse),
    (JobsWithRawResponse, AsyncJobsWithRawResponse),
    (CheckpointsWithRawResponse, AsyncCheckpointsWithRawResponse),
    (ChatWithRawResponse, AsyncChatWithRawResponse),
    (ChatStream, AsyncChatStream),
    (SyncCursorPage, AsyncCursorPage),
    (Outcomes, AsyncOutcomes),
]

# What only one twin has, and why.
ONLY_ASYNC = {
    "aclose",  # httpx's name for an async close; `close` is there too, awaitable, as openai's
}
ONLY_SYNC = {
    "close",  # Outcomes: stop taking jobs; AsyncOutcomes does that by leaving its `async with` block
}
PROTOCOL = {
    "__iter__",
    "__next__",
    "__enter__",
    "__exit__",
    "__aiter__",
    "__anext__",
    "__aenter__",
    "__aexit__",
}


def _public(cls: type) -> dict[str, Callable[..., Any]]:
    return {
        name: member
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_") and (callable(member) or isinstance(member, property))
    }


def _parameters(member: object) -> list[tuple[str, object, object]]:
    if isinstance(member, property):
        return []
    signature = inspect.signature(member)  # type: ignore[arg-type]
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


@pytest.mark.parametrize(("sync", "async_"), TWINS, ids=lambda cls: cls.__name__)
def test_twins_have_the_same_methods_with_the_same_parameters(sync: type, async_: type) -> None:
    mine, theirs = _public(sync), _public(async_)
    assert set(theirs) - set(mine) - ONLY_ASYNC == set(), f"{async_.__name__} has more"
    assert set(mine) - set(theirs) - ONLY_SYNC == set(), f"{sync.__name__} has more"
    for name in set(mine) & set(theirs):
        assert _parameters(mine[name]) == _parameters(theirs[name]), f"{sync.__name__}.{name}"


@pytest.mark.parametrize(("sync", "async_"), TWINS, ids=lambda cls: cls.__name__)
def test_async_methods_are_awaitable_where_the_sync_ones_do_io(sync: type, async_: type) -> None:
    """A sync method that returns a value is a coroutine function on the async twin, unless it returns
    something to iterate or await later (a stream, a paginator, an iterator of events)."""
    lazy = {"list", "events", "follow", "as_completed", "__call__", "sse", "iter_pages"}
    for name, member in _public(async_).items():
        if isinstance(member, property) or name in lazy or name in ("with_options", "all"):
            continue
        if name in _public(sync) and not inspect.iscoroutinefunction(_public(sync)[name]):
            assert inspect.iscoroutinefunction(member) or inspect.isasyncgenfunction(member), (
                f"{async_.__name__}.{name} should be awaited"
            )


def test_the_naming_rule_for_async_functions() -> None:
    """Async twins of classes are named Async*; of functions beside their sync twin, with an ``a``."""
    from finetune_sdk import data, relay

    assert callable(data.aconvert_file) and callable(data.convert_file)
    assert callable(relay.achat_frames) and callable(relay.chat_frames)
    assert callable(relay.ajob_event_frames) and callable(relay.job_event_frames)
    for module in (data, relay):
        for name in dir(module):
            assert not name.startswith("async_"), f"{module.__name__}.{name}: async twins start with 'a'"
