"""``finetune jobs wait`` with several ids, and ``finetune emulator`` at parity with ``Emulator``."""

from __future__ import annotations

import inspect
import json
import re
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from finetune_sdk import Client
from finetune_sdk.emulator import Emulator
from finetune_sdk.emulator.__main__ import COMMAND_ONLY, main, parser
from tests.cli.conftest import BASE_MODEL, Run, cli_env, command, start, write_dataset
from tests.emulator.helpers import stop

LONG = {"n_epochs": 10, "batch_size": 1}
DOCS = Path(__file__).resolve().parents[2] / "docs" / "emulator.md"


@pytest.fixture
def jobs(emu: Emulator, tmp_path: Path) -> dict[str, str]:
    """Two jobs that succeed and one that fails, by name."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "only a question"}]}\n')
    with Client(api_key=emu.api_key, base_url=emu.base_url) as client:
        train = client.files.upload(write_dataset(tmp_path / "train.jsonl"))
        failing = client.files.upload(bad, validate=False)
        return {
            "a": client.jobs.create(model=BASE_MODEL, training_file=train.id).id,
            "b": client.jobs.create(model=BASE_MODEL, training_file=train.id).id,
            "bad": client.jobs.create(model=BASE_MODEL, training_file=failing.id).id,
        }


def test_jobs_wait_takes_several_ids_and_sums_them_up(finetune: Run, jobs: dict[str, str]) -> None:
    result = finetune("jobs", "wait", jobs["a"], jobs["b"], "--poll-interval", "0.02")
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert [row[:2] for row in rows] == [[jobs["a"], "succeeded"], [jobs["b"], "succeeded"]]
    assert all(row[2].startswith(f"ft:LoRA/{BASE_MODEL}:") for row in rows)
    assert result.stderr.splitlines()[0] == "waiting for 2 jobs"


def test_one_failed_job_of_several_makes_the_exit_status_1(finetune: Run, jobs: dict[str, str]) -> None:
    ids = [jobs["a"], jobs["bad"], "ftjob-unknown"]
    result = finetune("jobs", "wait", *ids, "--poll-interval", "0.02", "--json")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert [item["id"] for item in data] == ids  # in the order given, whatever order they ended in
    assert data[0]["status"] == "succeeded" and data[0]["error"] is None and data[0]["fine_tuned_model"]
    assert data[1]["status"] == "failed" and "invalid_training_file" in data[1]["error"]
    assert data[2]["status"] == "unknown" and "ftjob-unknown" in data[2]["error"]


def test_several_jobs_still_running_at_the_timeout_exit_124(emu: Emulator, tmp_path: Path) -> None:
    with Client(api_key=emu.api_key, base_url=emu.base_url) as client:
        path = write_dataset(tmp_path / "long.jsonl", n=400)
        long = [
            client.jobs.create(model=BASE_MODEL, training_file=path, hyperparameters=LONG).id
            for _ in range(2)
        ]
        result = subprocess.run(
            command("jobs", "wait", *long, "--timeout", "0.2"),
            env=cli_env(emu),
            capture_output=True,
            text=True,
            timeout=60,
        )
        for job_id in long:
            client.jobs.cancel(job_id)
    assert result.returncode == 124, result.stderr
    assert all("still going: stopped waiting after 0.2s" in line for line in result.stdout.splitlines())
    assert f"resume with: finetune jobs wait {' '.join(long)}" in result.stderr  # as for one job


# -- finetune emulator -------------------------------------------------------------------------------


def test_every_emulator_keyword_has_a_flag_and_every_flag_a_keyword() -> None:
    keywords = set(inspect.signature(Emulator).parameters)
    flags = {action.dest for action in parser()._actions if action.dest != "help"}
    assert flags - COMMAND_ONLY == keywords


def test_the_flags_reach_the_emulators_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    def run(self: Emulator, on_ready: object = None, *, access_log: bool = False) -> None:
        seen.update(vars(self.settings), host=self.host, port=self.port)

    monkeypatch.setattr(Emulator, "run", run)
    argv = ["--chunk-delay", "0.01", "--prompt-token-delay", "0.0003", "--time-scale", "20"]
    argv += ["--fault-kinds", "503,429", "--fault-paths", "/v1/chat", "--base-models", "a/b,c/d"]
    argv += ["--no-poll-hints", "--no-envelope-chat", "--step-seconds", "0.2", "--max-file-bytes", "1000"]
    assert main([*argv, "--port", "0"]) == 0
    assert seen["chunk_delay"] == 0.01 and seen["prompt_token_delay"] == 0.0003 and seen["time_scale"] == 20
    assert seen["fault_kinds"] == ("429", "503") and seen["fault_paths"] == ("/v1/chat",)
    assert seen["base_models"] == ("a/b", "c/d") and seen["poll_hints"] is False
    assert seen["envelope_chat"] is False and seen["step_seconds"] == 0.2 and seen["max_file_bytes"] == 1000


def test_help_and_usage_errors_are_exit_statuses(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"], prog="finetune emulator") == 0
    assert capsys.readouterr().out.startswith("usage: finetune emulator")
    assert main(["--chunk-delay", "soon"]) == 2
    assert main(["--chunk-delay", "-1"]) == 2
    assert "chunk_delay must not be negative" in capsys.readouterr().err


@pytest.mark.timeout(30)
def test_env_mode_prints_only_the_exports_then_lets_go_of_stdout() -> None:
    process = start(command("emulator", "--port", "0", "--env", "--time-scale", "100"), cli_env(None))
    try:
        assert process.stdout is not None
        out = process.stdout.read()  # ends: the emulator closed its stdout and serves on
        assert process.poll() is None
        lines = out.splitlines()
        assert [line.partition("=")[0] for line in lines] == [
            "export FINETUNE_BASE_URL",
            "export FINETUNE_API_KEY",
            "export FINETUNE_EMULATOR_PID",
        ]
        values = dict(line.removeprefix("export ").partition("=")[::2] for line in lines)
        assert values["FINETUNE_EMULATOR_PID"] == str(process.pid)
        answer = httpx.get(
            values["FINETUNE_BASE_URL"] + "/files",
            headers={"Authorization": f"Bearer {values['FINETUNE_API_KEY']}"},
        )
        assert answer.status_code == 200
        process.terminate()  # `kill $FINETUNE_EMULATOR_PID`
        assert process.wait(10) == 0
    finally:
        stop(process)


@pytest.mark.timeout(30)
def test_the_docs_show_exactly_what_stdout_prints() -> None:
    text = DOCS.read_text(encoding="utf-8")
    shown = re.search(r"```text\n(finetune-sdk emulator .*?)```", text, re.DOTALL)
    assert shown is not None, "docs/emulator.md shows the foreground output in a ```text block"
    key = re.search(r"FINETUNE_API_KEY=(\S+)", shown.group(1))
    assert key is not None
    process = start(command("emulator", "--port", "0", "--api-key", key.group(1)), cli_env(None))
    try:
        assert process.stdout is not None
        printed = [process.stdout.readline() for _ in range(5)]
    finally:
        stop(process)
    port = re.search(r"127\.0\.0\.1:(\d+)/v1", "".join(printed))
    assert port is not None, printed
    assert "".join(printed).replace(f":{port.group(1)}/", ":8000/") == shown.group(1)


@pytest.mark.timeout(30)
def test_ctrl_c_during_a_wait_for_several_says_which_to_resume(emu: Emulator, tmp_path: Path) -> None:
    with Client(api_key=emu.api_key, base_url=emu.base_url) as client:
        quick = client.jobs.create(model=BASE_MODEL, training_file=write_dataset(tmp_path / "t.jsonl")).id
        path = write_dataset(tmp_path / "long.jsonl", n=400)
        long = client.jobs.create(model=BASE_MODEL, training_file=path, hyperparameters=LONG).id
        process = start(command("jobs", "wait", long, quick, "--poll-interval", "0.05"), cli_env(emu))
        try:
            assert process.stderr is not None
            seen = [process.stderr.readline() for _ in range(2)]  # "waiting for 2 jobs", then the quick one
            assert seen[0].strip() == "waiting for 2 jobs", seen
            assert seen[1].startswith(f"{quick}: succeeded"), seen
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=10)
        finally:
            stop(process)
        assert process.returncode == 130
        assert out == ""
        assert f"resume with: finetune jobs wait {long}\n" in err
        assert "Traceback" not in err
        assert not client.jobs.retrieve(long).is_final
        client.jobs.cancel(long)
