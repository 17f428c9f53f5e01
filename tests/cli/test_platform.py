"""``finetune upload|files|jobs|chat|compare`` against the emulator, through the real entry point."""

from __future__ import annotations

import subprocess
from pathlib import Path

import orjson
import pytest

from finetune_sdk import Client
from finetune_sdk.cli._app import run
from finetune_sdk.cli._chat import LENGTH_NOTE
from finetune_sdk.emulator import Emulator
from tests.cli.conftest import BASE_MODEL, Run


@pytest.fixture(scope="module")
def created(finetune: Run, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """``jobs create --preset fast --set ... --wait``: a tuned model for the chat tests."""
    return finetune(
        "jobs", "create", "--model", BASE_MODEL, "--training-file", str(data_dir / "train.jsonl"),
        "--preset", "fast", "--set", "n_epochs=2", "--set", "lora_rank=6", "--set", "learning_rate=2e-4",
        "--wait", "--poll-interval", "0.05",
    )  # fmt: skip


@pytest.fixture(scope="module")
def tuned(created: subprocess.CompletedProcess[str]) -> tuple[str, str]:
    """(job id, tuned model)."""
    job_id, model = created.stdout.split()
    return job_id, model


def test_upload_then_files_list_get_delete(finetune: Run, data_dir: Path) -> None:
    uploaded = finetune("upload", str(data_dir / "train.jsonl"))
    assert uploaded.returncode == 0, uploaded.stderr
    file_id = uploaded.stdout.strip()
    assert file_id.startswith("file-")
    assert uploaded.stderr == ""  # no bar when stderr is not a terminal

    listed = finetune("files", "list")
    row = next(line.split() for line in listed.stdout.splitlines() if line.startswith(file_id))
    size = (data_dir / "train.jsonl").stat().st_size
    assert row[1:3] == [str(size), "train.jsonl"]

    got = finetune("files", "get", file_id, "--json")
    assert orjson.loads(got.stdout)["bytes"] == size

    assert finetune("files", "delete", file_id).stdout.strip() == f"{file_id} deleted"
    gone = finetune("files", "get", file_id)
    assert gone.returncode == 1
    assert gone.stderr.startswith("error: Error 404")
    assert len(gone.stderr.splitlines()) == 1


def test_upload_of_a_bad_file_prints_its_problems_and_sends_nothing(finetune: Run, data_dir: Path) -> None:
    path = data_dir / "bad.jsonl"
    result = finetune("upload", str(path))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        *[line for line in result.stderr.splitlines() if line.startswith(f"{path}:")],
        f"error: {path}: not valid, 2 errors",
    ]
    assert f"{path}:2: invalid_json: " in result.stderr


def test_jobs_create_with_a_preset_and_overrides_waits_for_the_tuned_model(
    created: subprocess.CompletedProcess[str], emu: Emulator
) -> None:
    assert created.returncode == 0, created.stderr
    job_id, model = created.stdout.split()
    assert job_id.startswith("ftjob-")
    assert model.startswith("ft:LoRA/")
    assert f"{job_id}: succeeded" in created.stderr  # progress lines on stderr
    with Client(api_key=emu.api_key, base_url=emu.base_url) as client:
        hyperparameters = client.jobs.retrieve(job_id).hyperparameters
    # fast preset (lora_alpha 16) with the overrides
    assert hyperparameters["lora_alpha"] == 16
    assert (hyperparameters["n_epochs"], hyperparameters["lora_rank"]) == (2, 6)
    assert hyperparameters["learning_rate"] == 2e-4


def test_jobs_list_get_and_events(finetune: Run, tuned: tuple[str, str]) -> None:
    job_id, model = tuned
    listed = finetune("jobs", "list", "--limit", "5")
    assert [job_id, "succeeded", BASE_MODEL, model] in [
        line.split()[:4] for line in listed.stdout.splitlines()
    ]
    as_json = orjson.loads(finetune("jobs", "list", "--json").stdout)
    assert job_id in [job["id"] for job in as_json]

    got = dict(line.split(": ", 1) for line in finetune("jobs", "get", job_id).stdout.splitlines())
    assert got["status"] == "succeeded"
    assert got["fine_tuned_model"] == model
    assert "n_epochs=2" in got["hyperparameters"]

    events = finetune("jobs", "events", job_id).stdout.splitlines()
    assert events[0].endswith("info  Validating training file")
    assert events[-1].endswith("info  Job succeeded")
    followed = finetune("jobs", "events", job_id, "--follow", "--json", "--poll-interval", "0.05")
    assert [orjson.loads(line)["message"] for line in followed.stdout.splitlines()][-1] == "Job succeeded"


def test_a_bad_set_names_the_field_and_its_range_in_one_line(finetune: Run, data_dir: Path) -> None:
    result = finetune(
        "jobs", "create", "-m", BASE_MODEL, "-t", str(data_dir / "train.jsonl"), "--set", "n_epochs=0"
    )
    assert result.returncode == 1
    assert result.stderr == "error: n_epochs must be an integer from 1 to 10, got 0\n"
    assert result.stdout == ""


def test_a_missing_key_is_named(offline: Run) -> None:
    result = offline("jobs", "list")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: no API key: set FINETUNE_API_KEY (or pass --api-key) to the platform's key, or start the "
        'local emulator and use its key: eval "$(finetune emulator --env &)"'
    )


def test_debug_adds_the_traceback(finetune: Run) -> None:
    result = finetune("--debug", "--api-key", "wrong", "files", "list")
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("error: Error 401")


def test_chat_with_a_prompt_streams_the_reply(finetune: Run, tuned: tuple[str, str]) -> None:
    result = finetune("chat", "--model", tuned[1], "--system", "犀利", "词语3")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "第3句金句,一针见血。\n"


@pytest.mark.parametrize("prompt", ["", "  \n "])
def test_chat_refuses_an_empty_prompt_in_one_line(finetune: Run, prompt: str) -> None:
    result = finetune("chat", "-m", BASE_MODEL, prompt)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("error: the prompt is empty")
    assert len(result.stderr.splitlines()) == 1


def test_chat_says_when_the_reply_stopped_at_max_tokens(finetune: Run, tuned: tuple[str, str]) -> None:
    cut = finetune("chat", "-m", tuned[1], "--max-tokens", "2", "词语3")
    assert cut.returncode == 0, cut.stderr
    assert cut.stdout.strip() and "第3句金句,一针见血。".startswith(cut.stdout.strip())
    assert cut.stderr == f"{LENGTH_NOTE}\n"
    whole = finetune("chat", "-m", tuned[1], "词语3")
    assert whole.stderr == ""


def test_chat_reads_prompts_from_stdin_until_exit(finetune: Run, tuned: tuple[str, str]) -> None:
    result = finetune("chat", "-m", tuned[1], stdin="词语4\n\n/reset\n词语5\n/exit\n词语6\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["第4句金句,一针见血。", "第5句金句,一针见血。"]


def test_compare_prints_the_table_and_json(finetune: Run, tuned: tuple[str, str], tmp_path: Path) -> None:
    long, short = tmp_path / "long.txt", tmp_path / "short.txt"
    long.write_text("You are a sharp critic. Be short, witty and never polite.\n" * 5, encoding="utf-8")
    short.write_text("犀利\n", encoding="utf-8")
    args = ["compare", "--base", BASE_MODEL, "--base-system", str(long), "--tuned", tuned[1]]
    args += ["--tuned-system", str(short), "词语3", "词语7"]
    table = finetune(*args)
    assert table.returncode == 0, table.stderr
    assert BASE_MODEL in table.stdout
    assert tuned[1] in table.stdout
    assert "第7句金句" in table.stdout
    data = orjson.loads(finetune(*args, "--json").stdout)
    assert [row["prompt"] for row in data["rows"]] == ["词语3", "词语7"]
    assert data["totals"]["prompt_tokens_saved"] > 0


def test_jobs_create_wait_json_prints_only_the_finished_job(
    emu: Emulator, data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FINETUNE_API_KEY", emu.api_key)
    monkeypatch.setenv("FINETUNE_BASE_URL", emu.base_url)
    args = ["jobs", "create", "-m", BASE_MODEL, "-t", str(data_dir / "train.jsonl"), "--preset", "fast"]
    assert run([*args, "--wait", "--poll-interval", "0.02", "--json"]) == 0
    job = orjson.loads(capsys.readouterr().out)
    assert job["status"] == "succeeded"
    assert job["fine_tuned_model"].startswith("ft:LoRA/")


def test_compare_names_a_missing_prompts_file_in_one_line(finetune: Run, tmp_path: Path) -> None:
    missing = tmp_path / "prompts.txt"
    args = ["compare", "--base", BASE_MODEL, "--tuned", "ft:x", "--prompts-file", str(missing)]
    result = finetune(*args)
    assert (result.returncode, result.stderr) == (1, f"error: No such file: {missing}\n")
    folder = finetune(*args[:-1], str(tmp_path))
    assert (folder.returncode, folder.stderr) == (1, f"error: {tmp_path} is a directory, not a text file\n")


def test_the_poll_interval_help_says_how_each_command_polls(offline: Run) -> None:
    def option_help(*command: str) -> str:
        text = " ".join(offline(*command, "--help").stdout.split())
        return text.split("--poll-interval SECONDS", 1)[1].split(" --", 1)[0].strip()

    assert option_help("jobs", "events").startswith(
        "Poll this often (default: from 0.1 s, at most every 1 s while the job runs)."
    )
    assert option_help("jobs", "wait").startswith(
        "Poll this often (default: every 0.1 s, growing to 15 s, or as the platform hints)."
    )


def test_jobs_create_says_what_it_held_out_for_validation(
    created: subprocess.CompletedProcess[str], data_dir: Path
) -> None:
    # The local split changes what is trained on: the command says so without --debug.
    assert created.returncode == 0, created.stderr
    assert f"split {data_dir / 'train.jsonl'} locally without leakage" in created.stderr
