"""Waits that fit the job: the server's poll hints, the client's schedule, and where the testing
helpers set it; over real sockets, through Client and AsyncClient (asyncio and trio).

No wall-clock assertion: a wait whose schedule alone would poll too late is given a ``timeout`` it
would run out of, so the hint (or the client setting) is what lets it succeed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from finetune_sdk import BadRequestError, Client, JobStatus, PollSchedule
from finetune_sdk.emulator import Emulator
from finetune_sdk.testing import POLL_INTERVAL, running_emulator

from .conftest import make_api, write_dataset

MODEL = "Qwen/Qwen2.5-7B-Instruct"
SLOW_SCHEDULE = PollSchedule(first=5.0, growth=1.0, cap=5.0)
"""A first pause of 5 s: a wait that follows only this schedule cannot end within a second."""


@pytest.fixture(scope="module")
def hinting() -> Iterator[Emulator]:
    with Emulator(time_scale=10.0) as emu:  # phases of 50 ms: each one is seen even on a busy machine
        yield emu


@pytest.fixture(scope="module")
def silent() -> Iterator[Emulator]:
    with Emulator(time_scale=10.0, poll_hints=False) as emu:
        yield emu


def test_a_running_jobs_answer_hints_when_its_status_next_changes(hinting: Emulator, tmp_path: Path) -> None:
    with Client(api_key=hinting.api_key, base_url=hinting.base_url) as client:
        job = client.jobs.create(model=MODEL, training_file=write_dataset(tmp_path / "t.jsonl"))
        client.jobs.wait(job)
        done = httpx.get(f"{hinting.base_url}/fine_tuning/jobs/{job.id}", headers=_auth(hinting))
    assert done.json()["status"] == "succeeded"
    assert "retry-after" not in done.headers and "retry-after-ms" not in done.headers
    with Emulator(time_scale=1.0) as slow, Client(api_key=slow.api_key, base_url=slow.base_url) as client:
        job = client.jobs.create(model=MODEL, training_file=write_dataset(tmp_path / "t.jsonl"))
        going = httpx.get(f"{slow.base_url}/fine_tuning/jobs/{job.id}", headers=_auth(slow))
    assert going.json()["status"] == "validating_files"
    # validation takes 0.5 s at time_scale 1: the hint is what is left of it, in ms, and in whole seconds
    assert 0 < int(going.headers["retry-after-ms"]) <= 502
    assert going.headers["retry-after"] == "1"


def _auth(emu: Emulator) -> dict[str, str]:
    return {"Authorization": f"Bearer {emu.api_key}"}


def _statuses(api: Any, train: Path, timeout: float) -> list[JobStatus]:
    """The statuses a wait paced by its schedule and the hints alone sees (no progress interval, so
    ``on_update`` is called only when a poll finds a change)."""
    job = api.jobs.create(model=MODEL, training_file=train)
    seen: list[JobStatus] = []
    done = api.jobs.wait(
        job, timeout=timeout, on_update=lambda j: seen.append(j.status), progress_interval=None
    )
    assert done.status is JobStatus.SUCCEEDED
    return seen


@pytest.mark.parametrize("mode", ["sync", "asyncio", "trio"])
def test_a_wait_follows_the_servers_hints_past_a_slow_schedule(
    mode: str, hinting: Emulator, tmp_path: Path
) -> None:
    # The schedule alone would look at the start and then 5 s later; the hints bring a poll just after
    # each status change, so the wait sees every phase of the job.
    train = write_dataset(tmp_path / "t.jsonl")
    for api in make_api(mode, hinting, poll_interval=SLOW_SCHEDULE):
        seen = _statuses(api, train, timeout=10.0)
        assert {JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED} <= set(seen), seen


@pytest.mark.parametrize("mode", ["sync", "asyncio", "trio"])
def test_without_hints_the_clients_schedule_paces_the_wait(
    mode: str, silent: Emulator, tmp_path: Path
) -> None:
    train = write_dataset(tmp_path / "t.jsonl")
    for api in make_api(mode, silent, poll_interval=SLOW_SCHEDULE):
        # one look at the start, the next at the deadline (1 s, before the schedule's 5 s)
        seen = _statuses(api, train, timeout=1.0)
        assert len(seen) == 2 and seen[-1] is JobStatus.SUCCEEDED and JobStatus.RUNNING not in seen
    longer = write_dataset(tmp_path / "longer.jsonl", n=200)  # a running phase no stall can hide
    for api in make_api(mode, silent, poll_interval=0.005):
        assert JobStatus.RUNNING in _statuses(api, longer, timeout=10.0)


def test_polls_of_a_hinted_wait_are_about_one_per_status_change(hinting: Emulator, tmp_path: Path) -> None:
    polls: list[str] = []

    def count(request: httpx.Request) -> None:
        if request.method == "GET" and "/fine_tuning/jobs/" in request.url.path:
            polls.append(request.url.path)

    train = write_dataset(tmp_path / "t.jsonl")
    with (
        httpx.Client(event_hooks={"request": [count]}) as http,
        Client(
            api_key=hinting.api_key, base_url=hinting.base_url, http_client=http, poll_interval=SLOW_SCHEDULE
        ) as client,
    ):
        _statuses(client, train, timeout=10.0)
    # the look at the start, then one poll per hint: validating -> queued -> running -> succeeded (a
    # poll that lands a hair early costs one more)
    assert 3 <= len(polls) <= 6, polls


def test_a_client_default_comes_from_the_argument_the_environment_or_the_schedule(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FINETUNE_POLL_INTERVAL", raising=False)
    assert Client(api_key="k").config.poll == PollSchedule()
    assert Client(api_key="k", poll_interval=0.5).config.poll == PollSchedule.fixed(0.5)
    client = Client(api_key="k", poll_interval=PollSchedule(first=1.0))
    assert client.with_options(poll_interval=0.2).config.poll == PollSchedule.fixed(0.2)
    assert client.with_options(timeout=3).config.poll == PollSchedule(first=1.0)
    monkeypatch.setenv("FINETUNE_POLL_INTERVAL", "0.05")
    assert Client(api_key="k").config.poll == PollSchedule.fixed(0.05)
    monkeypatch.setenv("FINETUNE_POLL_INTERVAL", "soon")
    with pytest.raises(ValueError, match="FINETUNE_POLL_INTERVAL must be a number of seconds, got 'soon'"):
        Client(api_key="k")
    with pytest.raises(
        ValueError, match="poll_interval: poll_interval must be a finite number of seconds > 0"
    ):
        Client(api_key="k", poll_interval=0)


def test_the_testing_helpers_set_a_fast_pace_for_clients_from_the_environment(tmp_path: Path) -> None:
    with running_emulator(poll_hints=False) as emu, Client() as client:
        assert client.config.poll == PollSchedule.fixed(POLL_INTERVAL)
        job = client.jobs.create(model=MODEL, training_file=write_dataset(tmp_path / "t.jsonl"))
        assert client.jobs.wait(job, timeout=2.0).fine_tuned_model
        assert str(client.base_url).startswith(emu.base_url)


@pytest.mark.parametrize("mode", ["sync", "asyncio", "trio"])
def test_a_bare_name_that_is_no_file_says_no_local_file_was_found_either(
    mode: str, hinting: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no file named "support" here
    for api in make_api(mode, hinting):
        with pytest.raises(BadRequestError) as info:
            api.jobs.create(model=MODEL, training_file="support")
    message = str(info.value)
    assert "no file with id 'support'" in message
    assert "no local file 'support' exists" in message and "'support.jsonl'" in message
    assert info.value.code == "file_not_found"


def test_an_unknown_file_id_keeps_the_platforms_message(hinting: Emulator) -> None:
    with (
        Client(api_key=hinting.api_key, base_url=hinting.base_url) as client,
        pytest.raises(BadRequestError) as info,
    ):
        client.jobs.create(model=MODEL, training_file="file-nope")
    assert "local file" not in str(info.value)
