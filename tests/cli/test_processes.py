"""Long-running commands: ``finetune emulator``, Ctrl-C during ``jobs wait``, cancelling a running job.

The jobs here run on an emulator whose training steps take a real second each, so they are still
running when the command acts on them.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from finetune_sdk import Client, FineTuneJob, JobStatus
from finetune_sdk.cli._output import INTERRUPTED, TIMED_OUT
from finetune_sdk.emulator import Emulator
from tests.cli.conftest import BASE_MODEL, Run, cli_env, command, make_runner, start, write_dataset
from tests.emulator.helpers import exports_of
from tests.emulator.helpers import stop as _stop


@pytest.fixture(scope="module")
def slow() -> Iterator[Emulator]:
    with Emulator(time_scale=1.0, validate_seconds=0.05, queue_seconds=0.05, step_seconds=1.0) as running:
        yield running


@pytest.fixture(scope="module")
def client(slow: Emulator) -> Iterator[Client]:
    with Client(api_key=slow.api_key, base_url=slow.base_url) as running:
        yield running


@pytest.fixture
def long_job(client: Client, tmp_path: Path) -> Iterator[FineTuneJob]:
    """A job of 60 one-second steps, cancelled at the end of the test."""
    job = client.jobs.create(
        model=BASE_MODEL,
        training_file=write_dataset(tmp_path / "train.jsonl"),
        hyperparameters={"n_epochs": 3, "batch_size": 1},
    )
    yield job
    if not client.jobs.retrieve(job.id).is_final:
        client.jobs.cancel(job.id)


@pytest.mark.timeout(30)
def test_ctrl_c_during_jobs_wait_leaves_the_job_running_and_says_how_to_resume(
    slow: Emulator, client: Client, long_job: FineTuneJob
) -> None:
    process = start(command("jobs", "wait", long_job.id, "--poll-interval", "0.1"), cli_env(slow))
    try:
        assert process.stderr is not None
        seen = [process.stderr.readline() for _ in range(2)]  # "waiting for ...", then the first poll
        assert seen[0].strip() == f"waiting for {long_job.id}", seen
        assert seen[1].startswith(f"{long_job.id}: "), seen
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        _stop(process)
    assert process.returncode == INTERRUPTED
    assert out == ""
    assert f"resume with: finetune jobs wait {long_job.id}" in err
    assert "Traceback" not in err
    assert not client.jobs.retrieve(long_job.id).is_final


def test_jobs_cancel_of_a_running_job_then_of_a_finished_one(slow: Emulator, long_job: FineTuneJob) -> None:
    finetune: Run = make_runner(cli_env(slow))
    cancelled = finetune("jobs", "cancel", long_job.id)
    assert cancelled.stdout.split() == [long_job.id, str(JobStatus.CANCELLED)]
    again = finetune("jobs", "cancel", long_job.id)
    assert again.returncode == 1
    assert "job_not_cancellable" in again.stderr


@pytest.mark.timeout(30)
def test_the_emulator_command_prints_what_to_export_and_serves_until_ctrl_c() -> None:
    process = start(command("emulator", "--port", "0", "--time-scale", "50", "--seed", "1"), cli_env(None))
    try:
        assert process.stdout is not None
        exports_of(process.stdout)
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0
        # stdout holds what to export and nothing else: no request log mixed in (it is opt-in, on stderr)
        assert process.stdout.read() == "Press Ctrl-C to stop.\n"
    finally:
        _stop(process)


@pytest.mark.timeout(30)
def test_jobs_wait_timeout_says_how_to_resume_from_the_shell(
    slow: Emulator, client: Client, long_job: FineTuneJob
) -> None:
    finetune: Run = make_runner(cli_env(slow))
    result = finetune("jobs", "wait", long_job.id, "--timeout", "0.5", "--poll-interval", "0.1")
    assert result.returncode == TIMED_OUT == 124
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[-2].startswith(f"error: stopped waiting for job {long_job.id} after 0.5s (last seen: ")
    assert lines[-2].endswith("; it keeps running on the platform")
    assert lines[-1] == f"resume with: finetune jobs wait {long_job.id}"
    assert "client.jobs.wait" not in result.stderr
    assert not client.jobs.retrieve(long_job.id).is_final


@pytest.mark.timeout(30)
def test_the_emulator_command_reports_a_taken_port_in_one_line(slow: Emulator) -> None:
    finetune: Run = make_runner(cli_env(None))
    result = finetune("emulator", "--port", str(slow.port))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: port {slow.port} is already in use on 127.0.0.1; pick another with --port, or --port 0"
        " for a free one\n"
    )


@pytest.mark.timeout(60)
def test_ctrl_c_during_compare_ends_the_calls_under_way_at_their_next_delta() -> None:
    # Each reply drips for many seconds: Ctrl-C must not wait for the replies under way to finish.
    import time

    with Emulator(chunk_delay=0.5, chunk_chars=2) as dripping:
        args = command("compare", "--base", BASE_MODEL, "--tuned", BASE_MODEL, "a", "b", "c", "d")
        process = start(args, cli_env(dripping))
        try:
            time.sleep(2.0)  # four calls are streaming by now
            interrupted = time.monotonic()
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=30)
            took = time.monotonic() - interrupted
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == INTERRUPTED
    assert took < 5, f"compare took {took:.1f} s to stop after Ctrl-C"
