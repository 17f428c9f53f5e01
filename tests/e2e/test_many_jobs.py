"""Waiting for many jobs at once, and one client shared by many threads; over real sockets."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import anyio
import pytest

from finetune_sdk import (
    AsyncClient,
    Client,
    JobCancelledError,
    JobFailedError,
    JobOutcome,
    JobStatus,
    NotFoundError,
    WaitTimeoutError,
)
from finetune_sdk.emulator import Emulator

from .conftest import POLL, write_dataset

MODEL = "Qwen/Qwen2.5-7B-Instruct"
LONG = {"n_epochs": 10, "batch_size": 1}
"""With ``long_file``: a job of several seconds on the e2e emulator."""


@pytest.fixture
def long_file(tmp_path: Path) -> Path:
    return write_dataset(tmp_path / "long.jsonl", n=400)


def _bad_file(tmp_path: Path) -> Path:
    path = write_dataset(tmp_path / "bad.jsonl", n=4)
    with path.open("a", encoding="utf-8") as f:
        f.write('{"messages": [{"role": "user", "content": "only a question"}]}\n')
    return path


def _mixed(api: Any, tmp_path: Path, train: Path) -> list[Any]:
    """A job that succeeds, one that fails, one cancelled, an unknown id, another that succeeds."""
    bad = api.files.upload(_bad_file(tmp_path), validate=False)
    # A job of several seconds, so that it is still running when the cancel arrives on a busy machine.
    long = write_dataset(tmp_path / "long.jsonl", n=400)
    cancelled = api.jobs.create(model=MODEL, training_file=long, hyperparameters=LONG)
    api.jobs.cancel(cancelled)
    return [
        api.jobs.create(model=MODEL, training_file=train),
        api.jobs.create(model=MODEL, training_file=bad.id).id,
        cancelled,
        "ftjob-unknown",
        api.jobs.create(model=MODEL, training_file=train),
    ]


def _check_mixed(outcomes: list[JobOutcome], jobs: list[Any]) -> None:
    assert [o.index for o in outcomes] == list(range(5))
    assert [o.job_id for o in outcomes] == [j if isinstance(j, str) else j.id for j in jobs]
    ok, failed, cancelled, unknown, ok_too = outcomes
    assert ok.ok and ok.result().status is JobStatus.SUCCEEDED and ok.error is None
    assert ok_too.ok and ok_too.job is not None and ok_too.job.fine_tuned_model
    assert isinstance(failed.error, JobFailedError) and failed.error.code == "invalid_training_file"
    assert failed.job is not None and failed.job.status is JobStatus.FAILED and not failed.ok
    assert isinstance(cancelled.error, JobCancelledError)
    assert isinstance(unknown.error, NotFoundError) and unknown.job is None
    with pytest.raises(NotFoundError):
        unknown.result()


def test_wait_all_returns_every_outcome_in_order(api: Any, tmp_path: Path, train_file: Path) -> None:
    jobs = _mixed(api, tmp_path, train_file)
    _check_mixed(api.jobs.wait_all(jobs, poll_interval=POLL), jobs)


def test_wait_all_with_a_few_workers_still_waits_for_all(api: Any, train_file: Path) -> None:
    jobs = [api.jobs.create(model=MODEL, training_file=train_file) for _ in range(5)]
    outcomes = api.jobs.wait_all(jobs, poll_interval=POLL, max_concurrency=2)
    assert [o.job_id for o in outcomes] == [j.id for j in jobs] and all(o.ok for o in outcomes)


def test_one_timeout_covers_the_whole_set(api: Any, train_file: Path, long_file: Path) -> None:
    quick = api.jobs.create(model=MODEL, training_file=train_file)
    api.jobs.wait(quick, poll_interval=POLL)
    long = api.jobs.create(model=MODEL, training_file=long_file, hyperparameters=LONG)
    outcomes = api.jobs.wait_all([long, quick, long], timeout=0.3, poll_interval=POLL, max_concurrency=1)
    assert outcomes[1].ok
    for outcome in (outcomes[0], outcomes[2]):
        assert isinstance(outcome.error, WaitTimeoutError) and outcome.job is not None
        assert not outcome.job.is_final
    with pytest.raises(WaitTimeoutError):
        outcomes[0].result()
    api.jobs.cancel(long)


def test_bad_arguments_are_refused_before_any_wait(api: Any) -> None:
    with pytest.raises(TypeError, match="a list of jobs"):
        api.jobs.wait_all("ftjob-1")
    with pytest.raises(ValueError, match="max_concurrency"):
        api.jobs.wait_all(["ftjob-1"], max_concurrency=0)
    with pytest.raises(ValueError, match="timeout"):
        api.jobs.wait_all(["ftjob-1"], timeout=-1)
    assert api.jobs.wait_all([]) == []


def test_as_completed_hands_out_each_outcome_as_it_comes(
    emu: Emulator, tmp_path: Path, train_file: Path
) -> None:
    with Client(api_key=emu.api_key, base_url=emu.base_url) as client:
        jobs = _mixed(client, tmp_path, train_file)
        with client.jobs.as_completed(jobs, poll_interval=POLL) as outcomes:
            found = list(outcomes)
    assert sorted(o.index for o in found) == list(range(5))
    _check_mixed(sorted(found, key=lambda o: o.index), jobs)


def test_leaving_as_completed_early_starts_no_more_waits(emu: Emulator, train_file: Path) -> None:
    with Client(api_key=emu.api_key, base_url=emu.base_url) as client:
        quick = client.jobs.create(model=MODEL, training_file=train_file)
        long = [
            client.jobs.create(model=MODEL, training_file=train_file, hyperparameters=LONG) for _ in range(3)
        ]
        outcomes = client.jobs.as_completed([quick, *long], timeout=5, poll_interval=POLL, max_concurrency=2)
        with outcomes:
            first = next(outcomes)
        assert first.job_id == quick.id and first.ok
        assert list(outcomes) == []  # closed: nothing more is handed out
        for job in long:
            client.jobs.cancel(job)


@pytest.mark.anyio
async def test_async_as_completed_in_a_task_group(emu: Emulator, tmp_path: Path, train_file: Path) -> None:
    async with AsyncClient(api_key=emu.api_key, base_url=emu.base_url) as client:
        bad = await client.files.upload(_bad_file(tmp_path), validate=False)
        jobs = [
            await client.jobs.create(model=MODEL, training_file=train_file),
            await client.jobs.create(model=MODEL, training_file=bad.id),
            "ftjob-unknown",
        ]
        found: list[JobOutcome] = []
        async with client.jobs.as_completed(jobs, poll_interval=POLL) as outcomes:
            async for outcome in outcomes:
                found.append(outcome)
    by_index = sorted(found, key=lambda o: o.index)
    assert [o.job_id for o in by_index] == [jobs[0].id, jobs[1].id, "ftjob-unknown"]  # type: ignore[union-attr]
    assert by_index[0].ok
    assert isinstance(by_index[1].error, JobFailedError)
    assert isinstance(by_index[2].error, NotFoundError)


@pytest.mark.anyio
async def test_leaving_async_as_completed_cancels_the_waits_left(
    emu: Emulator, train_file: Path, long_file: Path
) -> None:
    async with AsyncClient(api_key=emu.api_key, base_url=emu.base_url) as client:
        quick = await client.jobs.create(model=MODEL, training_file=train_file)
        long = await client.jobs.create(model=MODEL, training_file=long_file, hyperparameters=LONG)
        with anyio.fail_after(5):  # the long job's wait must not hold the block open
            async with client.jobs.as_completed([long, quick], poll_interval=POLL) as outcomes:
                async for outcome in outcomes:
                    assert outcome.job_id == quick.id
                    break
        assert not (await client.jobs.retrieve(long)).is_final  # only the wait was cancelled
        await client.jobs.cancel(long)


@pytest.mark.anyio
async def test_async_outcomes_need_the_async_with(emu: Emulator) -> None:
    async with AsyncClient(api_key=emu.api_key, base_url=emu.base_url) as client:
        outcomes = client.jobs.as_completed(["ftjob-1"])
        with pytest.raises(RuntimeError, match="async with"):
            await outcomes.__anext__()


def test_one_client_shared_by_many_threads(train_file: Path) -> None:
    """Eight threads share one client against a server where a fifth of the requests fail: each call's
    retries are its own (the retry state is per thread), and no answer goes to the wrong caller."""
    results: dict[int, str] = {}
    errors: list[BaseException] = []
    faulty = Emulator(time_scale=50.0, fault_rate=0.2, seed=5, fault_kinds=("429", "500", "503", "drop"))
    with (
        faulty,
        Client(
            api_key=faulty.api_key, base_url=faulty.base_url, max_retries=10, max_retry_wait=0.05
        ) as client,
    ):
        uploaded = client.files.upload(train_file)

        def work(n: int) -> None:
            try:
                job = client.jobs.create(model=MODEL, training_file=uploaded.id, suffix=f"t{n}")
                done = client.jobs.wait(job, poll_interval=POLL)
                assert client.jobs.retrieve(job.id).fine_tuned_model == done.fine_tuned_model
                results[n] = done.fine_tuned_model or ""
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert errors == []
    assert sorted(results) == list(range(8))
    assert len(set(results.values())) == 8
    assert all(f":t{n}:" in name for n, name in results.items())


def test_a_job_whose_wait_starts_when_the_time_is_up_still_gets_one_look(train_file: Path) -> None:
    # Its one look is a round trip (0.1 s here, as to a distant server): the set's time being up must not
    # cut it short, or a job already done reads as "not seen yet".
    with (
        Emulator(time_scale=1000.0, latency=0.1) as emu,
        Client(api_key=emu.api_key, base_url=emu.base_url) as c,
    ):
        job = c.jobs.wait(c.jobs.create(model=MODEL, training_file=train_file), poll_interval=POLL)
        (outcome,) = c.jobs.wait_all([job], timeout=0, poll_interval=POLL)
    assert outcome.ok, outcome.error
