"""``finetune_sdk.tune`` and ``finetune tune``: from a ShareGPT export to a report, against the emulator over
real sockets; resumed after a kill mid-wait without a second job or upload; a dry run sends nothing."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

import finetune_sdk
from finetune_sdk import Client, ConfigurationError, TuneResult
from finetune_sdk.emulator import Emulator
from finetune_sdk.evaluate._loss_chart import TRAIN_COLOUR, VALID_COLOUR
from tests.cli.conftest import BASE_MODEL, cli_env, command, start
from tests.evaluate.browser import colour_pixels, needs_chromium, png_pixels, screenshot
from tests.tune.sharegpt import PROMPTS, write_sharegpt


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(time_scale=50) as running:
        yield running


@pytest.fixture
def client(emu: Emulator) -> Iterator[Client]:
    with Client(api_key=emu.api_key, base_url=emu.base_url) as made:
        yield made


def _files_named(client: Client, name: str) -> int:
    return sum(1 for file in client.files.list() if file.filename == name)


def test_tune_goes_from_sharegpt_to_a_report_and_a_rerun_resumes(client: Client, tmp_path: Path) -> None:
    data = write_sharegpt(tmp_path / "chats.json")
    (tmp_path / "prompts.txt").write_text("\n".join(PROMPTS) + "\n", encoding="utf-8")
    stages: list[str] = []
    updates: list[int | None] = []
    jobs_before = len(list(client.jobs.list()))
    result = finetune_sdk.tune(
        data,
        model=BASE_MODEL,
        eval=tmp_path / "prompts.txt",
        checks=["ends-with=。"],
        report=tmp_path / "report.html",
        client=client,
        price_per_mtokens=2.0,
        on_stage=stages.append,
        on_update=lambda job: updates.append(job.step),
    )
    assert isinstance(result, TuneResult) and not result.dry_run and not result.resumed
    assert result.job is not None and result.model == result.job.fine_tuned_model
    assert result.model is not None and result.model.startswith("ft:")
    # every change listed and counted; the rejected record and the duplicates kept with their reason
    assert result.changes["map_roles"] == 40 and result.changes["merge_turns"] == 4
    rejected = [orjson.loads(line) for line in result.kept_files["rejected"].read_bytes().splitlines()]
    duplicates = result.kept_files["duplicates"].read_bytes().splitlines()
    assert [row["code"] for row in rejected] == ["nothing_left"]
    assert result.dropped == len(rejected) + len(duplicates) == 3
    assert len(result.kept_files["changes"].read_bytes().splitlines()) == sum(result.changes.values())
    # the leak-free split, priced
    assert result.validation_path is not None
    train = result.training_path.read_bytes().splitlines()
    held_out = result.validation_path.read_bytes().splitlines()
    assert len(train) + len(held_out) == 38 and held_out
    assert result.cost.examples == len(train) and result.cost.cost is not None
    assert result.cost.cost == pytest.approx(result.cost.billed_tokens * 2.0 / 1e6)
    # the job trained on exactly those files; every step seen
    assert result.training_file == result.job.training_file and result.validation_file is not None
    assert client.files.content(result.training_file) == result.training_path.read_bytes()
    total = result.job.total_steps
    assert total is not None and {s for s in updates if s} == set(range(1, total + 1))
    # the comparison and the report
    assert result.comparison is not None and len(result.comparison.rows) == len(PROMPTS)
    assert result.report == tmp_path / "report.html"
    page = result.report.read_text(encoding="utf-8")
    assert 'id="training"' in page and "emulated" in page and "billed tokens" in page
    assert [line.split(":")[0] for line in stages][:5] == [
        "convert",
        "  changed",
        "  changed",
        "  changed",
        "  changed",
    ]
    assert any(line.startswith("create: job ") for line in stages)

    again = finetune_sdk.tune(data, model=BASE_MODEL, client=client, on_stage=stages.append)
    assert again.resumed and again.job is not None and again.job.id == result.job.id
    assert len(list(client.jobs.list())) == jobs_before + 1
    assert _files_named(client, "chats.train.jsonl") == 1
    assert _files_named(client, "chats.validation.jsonl") == 1
    assert again.report is not None and 'id="loss"' in again.report.read_text(encoding="utf-8")


def test_the_same_inputs_make_the_same_job_even_without_the_state_file(
    client: Client, tmp_path: Path
) -> None:
    data = write_sharegpt(tmp_path / "keyed.json")
    first = finetune_sdk.tune(data, model=BASE_MODEL, client=client, suffix="keyed")
    first.state.unlink()  # lost: the idempotency key alone finds the job
    second = finetune_sdk.tune(data, model=BASE_MODEL, client=client, suffix="keyed")
    assert second.job is not None and first.job is not None and second.job.id == first.job.id
    assert _files_named(client, "keyed.train.jsonl") == 1
    other = finetune_sdk.tune(data, model=BASE_MODEL, client=client, suffix="other")
    assert other.job is not None and other.job.id != first.job.id  # another setting, another job


def test_a_dry_run_sends_nothing(tmp_path: Path) -> None:
    with socket.socket() as listener:  # a server that would see any connection
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]
        client = Client(api_key="sk-never-used", base_url=f"http://127.0.0.1:{port}/v1")
        data = write_sharegpt(tmp_path / "chats.json")
        result = finetune_sdk.tune(data, model=BASE_MODEL, client=client, dry_run=True, price_per_mtokens=1)
        with pytest.raises(BlockingIOError):
            listener.accept()
    assert result.dry_run and result.job is None and result.report is None
    assert result.cost.billed_tokens > 0 and result.training_path.exists()
    assert not result.state.exists()


def test_a_missing_key_names_the_platform_key_and_the_emulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FINETUNE_API_KEY", raising=False)
    data = write_sharegpt(tmp_path / "chats.json")
    with pytest.raises(ConfigurationError) as info:
        finetune_sdk.tune(data, model=BASE_MODEL)
    assert "FINETUNE_API_KEY" in str(info.value) and "finetune emulator --env" in str(info.value)
    assert not (tmp_path / "chats.tune").exists()  # failed before any work
    dry = finetune_sdk.tune(data, model=BASE_MODEL, dry_run=True)  # a dry run needs no key
    assert dry.dry_run


def test_bad_settings_fail_before_any_work(client: Client, tmp_path: Path) -> None:
    data = write_sharegpt(tmp_path / "chats.json")
    with pytest.raises(ValueError, match="n_epochs"):
        finetune_sdk.tune(data, model=BASE_MODEL, client=client, hyperparameters={"n_epochs": 0})
    with pytest.raises(finetune_sdk.OutputConflictError):
        finetune_sdk.tune(data, model=BASE_MODEL, client=client, report=data)
    with pytest.raises(ValueError, match=r"an HTML page: give a file name ending in \.html, got '.*r\.md'"):
        finetune_sdk.tune(data, model=BASE_MODEL, client=client, report=tmp_path / "r.md")
    assert not (tmp_path / "chats.tune").exists()


# -- the command, in processes --------------------------------------------------------------------


@pytest.fixture
def slow_emulator() -> Iterator[tuple[dict[str, str], subprocess.Popen[str]]]:
    """An emulator in a process of its own whose jobs train for about three seconds; its environment."""
    args = [sys.executable, "-m", "finetune_sdk.emulator", "--port", "0", "--step-seconds", "0.2", "--env"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    exports = dict(
        line.removeprefix("export ").split("=", 1)
        for line in process.stdout.read().splitlines()
        if "=" in line
    )
    try:
        yield exports, process
    finally:
        process.terminate()
        process.wait(10)


def _wait_for(path: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_killed_mid_wait_and_run_again_makes_one_job_and_one_upload_per_file(
    slow_emulator: tuple[dict[str, str], subprocess.Popen[str]], tmp_path: Path, sig: signal.Signals
) -> None:
    exports, _ = slow_emulator
    env = cli_env(None, NO_COLOR="1", **exports)
    data = write_sharegpt(tmp_path / "chats.json")
    args = command("tune", str(data), "-m", BASE_MODEL, "--poll-interval", "0.1")
    first = start(args, env)
    _wait_for(tmp_path / "chats.tune" / "chats.tune.json")
    time.sleep(0.5)  # into the wait
    first.send_signal(sig)
    out, err = first.communicate(timeout=30)
    assert first.returncode == (130 if sig == signal.SIGINT else -signal.SIGKILL), err
    assert out == ""  # no model yet
    if sig == signal.SIGINT:
        assert "resume with: the same finetune tune command" in err
    with Client(api_key=exports["FINETUNE_API_KEY"], base_url=exports["FINETUNE_BASE_URL"]) as api:
        assert next(job.status for job in api.jobs.list()) in ("queued", "running", "validating_files")
        again = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        assert "resume: job " in again.stderr
        lines = dict(line.split(": ", 1) for line in again.stdout.splitlines())
        jobs = list(api.jobs.list())
        assert len(jobs) == 1 and lines["model"] == jobs[0].fine_tuned_model
        names = sorted(file.filename for file in api.files.list() if file.purpose == "fine-tune")
        assert names == ["chats.train.jsonl", "chats.validation.jsonl"]
    assert Path(lines["report"]).is_file()


def test_the_command_dry_run_prints_the_cost_without_a_key(tmp_path: Path) -> None:
    data = write_sharegpt(tmp_path / "chats.json")
    args = command("tune", str(data), "-m", BASE_MODEL, "--dry-run", "--price-per-million", "3")
    done = subprocess.run(args, env=cli_env(None, NO_COLOR="1"), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("cost: 34 training examples") and done.stdout.rstrip().endswith(" = 0.0115")
    assert "dry run: nothing uploaded or created" in done.stderr
    without_key = subprocess.run(
        command("tune", str(data), "-m", BASE_MODEL),
        env=cli_env(None, NO_COLOR="1"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert without_key.returncode == 1
    assert "FINETUNE_API_KEY" in without_key.stderr and "finetune emulator --env" in without_key.stderr


@needs_chromium
def test_chromium_draws_the_tune_report(client: Client, tmp_path: Path) -> None:
    data = write_sharegpt(tmp_path / "chats.json")
    result = finetune_sdk.tune(data, model=BASE_MODEL, eval=PROMPTS, client=client, suffix="shot")
    assert result.report is not None
    width, _, rows = png_pixels(
        screenshot(result.report, tmp_path, height=2400, keep="FINETUNE_TUNE_SCREENSHOT")
    )
    assert width == 1200
    assert colour_pixels(rows, TRAIN_COLOUR) > 200 and colour_pixels(rows, VALID_COLOUR) > 50


def test_a_report_in_a_missing_folder_is_refused_before_any_work(client: Client, tmp_path: Path) -> None:
    data = write_sharegpt(tmp_path / "chats.json")
    with pytest.raises(FileNotFoundError, match="No such folder for the report"):
        finetune_sdk.tune(data, model=BASE_MODEL, client=client, report=tmp_path / "nowhere" / "r.html")
    assert not (tmp_path / "chats.tune").exists()
