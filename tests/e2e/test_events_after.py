"""``jobs.events(job, after=...)``: a reader resumes after the last event it got (a relay's Last-Event-ID).

Through Client and AsyncClient (asyncio, trio) against the emulator, which pages events with ``?after=``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from finetune_sdk import BadRequestError, JobStatus
from finetune_sdk.emulator import Emulator

from .conftest import POLL, make_api, write_dataset

MODEL = "Qwen/Qwen2.5-7B-Instruct"


def test_events_after_an_event_are_the_tail_of_the_log(api: Any, train_file: Path) -> None:
    job = api.jobs.create(model=MODEL, training_file=train_file, hyperparameters="fast")
    api.jobs.wait(job, poll_interval=POLL)
    log = list(api.jobs.events(job))
    assert len(log) >= 4
    for cut in (0, 1, len(log) // 2, len(log) - 2):
        assert list(api.jobs.events(job, after=log[cut].id)) == log[cut + 1 :]
    assert list(api.jobs.events(job, after=log[1])) == log[2:]  # a JobEvent works as well as its id
    assert list(api.jobs.events(job, after=log[-1].id)) == []
    assert list(api.jobs.follow(job, after=log[-1].id, poll_interval=POLL)) == []


def test_follow_from_an_event_yields_each_later_event_once(api: Any, tmp_path: Path) -> None:
    path = write_dataset(tmp_path / "t.jsonl", n=60)
    job = api.jobs.create(model=MODEL, training_file=path)
    first = next(iter(api.jobs.events(job)))
    followed = list(api.jobs.follow(job, after=first.id, poll_interval=POLL))
    assert api.jobs.retrieve(job).status is JobStatus.SUCCEEDED
    ids = [e.id for e in followed]
    assert len(ids) == len(set(ids))
    assert ids == [e.id for e in api.jobs.events(job)][1:]  # everything after the first, nothing before


def test_resuming_a_follow_part_way_misses_and_repeats_nothing(api: Any, tmp_path: Path) -> None:
    path = write_dataset(tmp_path / "t.jsonl", n=60)
    job = api.jobs.create(model=MODEL, training_file=path)
    first_part = []
    for event in api.jobs.follow(job, poll_interval=POLL):
        first_part.append(event)
        if len(first_part) == 3:
            break
    rest = list(api.jobs.follow(job, after=first_part[-1].id, poll_interval=POLL))
    assert [e.id for e in first_part + rest] == [e.id for e in api.jobs.events(job)]


def test_follow_after_an_event_through_faults(
    mode: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="finetune_sdk")
    path = write_dataset(tmp_path / "t.jsonl", n=60)
    faults = {"fault_rate": 0.3, "seed": 5, "fault_kinds": ("500", "503"), "fault_paths": ("/v1/fine",)}
    with Emulator(time_scale=10, **faults) as emu:  # slow enough for many reads while it runs
        for steady in make_api(mode, emu, max_retries=20, max_retry_wait=0.01):
            job = steady.jobs.create(model=MODEL, training_file=path)
            first = next(iter(steady.jobs.events(job)))
            # Without retries in the client, the follower itself carries on through each failed read.
            for api in make_api(mode, emu, max_retries=0, max_retry_wait=0.01):
                followed = [e.id for e in api.jobs.follow(job, after=first, poll_interval=POLL)]
            whole = [e.id for e in steady.jobs.events(job)]
    assert followed == whole[1:]
    assert " -> 500 " in caplog.text or " -> 503 " in caplog.text, "the follow should have met faults"


def test_an_unknown_or_malformed_event_id_is_refused(api: Any, train_file: Path) -> None:
    job = api.jobs.create(model=MODEL, training_file=train_file, hyperparameters="fast")
    with pytest.raises(BadRequestError, match="after: no item with id 'ftevent-nope'"):
        list(api.jobs.events(job, after="ftevent-nope"))
    with pytest.raises(BadRequestError, match="after"):
        list(api.jobs.follow(job, after="ftevent-nope", poll_interval=POLL))
    with pytest.raises(TypeError, match="job event id must be a string"):
        list(api.jobs.events(job, after=7))
    with pytest.raises(ValueError, match="not a job event id"):
        list(api.jobs.events(job, after="a/b"))
