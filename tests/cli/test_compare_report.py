"""``finetune compare --check ... --samples N --report FILE``: checks, stability and reports from a shell."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest

from finetune_sdk.emulator import Emulator
from tests.cli.conftest import BASE_MODEL, Run, cli_env, command, on_a_terminal


@pytest.fixture(scope="module")
def tuned(finetune: Run, data_dir: Path) -> str:
    """A model tuned on the CLI tests' dataset (replies like ``第3句金句,一针见血。``)."""
    created = finetune(
        "jobs", "create", "--model", BASE_MODEL, "--training-file", str(data_dir / "train.jsonl"),
        "--preset", "fast", "--wait", "--poll-interval", "0.05",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    return created.stdout.split()[1]


def compare_args(tuned: str, *extra: str) -> list[str]:
    return ["compare", "--base", BASE_MODEL, "--tuned", tuned, *extra, "词语3", "词语7"]


def test_checks_and_samples_go_into_the_json_and_the_table(finetune: Run, tuned: str) -> None:
    checks = ["--check", "ends-with=。", "--check", "no-latin", "--check", "no-prompt-words"]
    result = finetune(*compare_args(tuned, *checks, "--samples", "3", "--temperature", "0.7", "--json"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no bar, no note in a pipe
    data = orjson.loads(result.stdout)
    assert data["samples"] == 3
    assert [c["name"] for c in data["checks"]] == ["ends with 。", "no Latin letters", "no prompt words"]
    figures = data["figures"]
    assert figures["base"]["calls"] == figures["tuned"]["calls"] == 6
    rates = [(c["base_pass_rate"], c["tuned_pass_rate"]) for c in figures["checks"]]
    assert rates[1:] == [(0.0, 1.0), (0.0, 1.0)]  # the base model echoes the word, in English
    assert figures["tuned"]["distinct_share"] == pytest.approx(1 / 3)
    table = finetune(*compare_args(tuned, *checks))
    assert table.returncode == 0, table.stderr
    assert "check no Latin letters: base 0% -> tuned 100% (differs on 2 of 2 prompts)" in table.stdout


@pytest.mark.parametrize(
    ("name", "starts"), [("out.html", "<!DOCTYPE html>"), ("out.md", "# Base versus tuned")]
)
def test_report_is_written(finetune: Run, tuned: str, tmp_path: Path, name: str, starts: str) -> None:
    path = tmp_path / name
    result = finetune(*compare_args(tuned, "--check", "one-sentence", "--report", str(path)))
    assert result.returncode == 0, result.stderr
    assert path.read_text(encoding="utf-8").startswith(starts)
    assert "one sentence" in path.read_text(encoding="utf-8")
    assert result.stderr == f"report written to {path}\n"
    assert "第7句金句" in result.stdout  # the table still goes to stdout


def test_json_report(finetune: Run, tuned: str, tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    assert finetune(*compare_args(tuned, "--report", str(path))).returncode == 0
    assert [row["prompt"] for row in orjson.loads(path.read_bytes())["rows"]] == ["词语3", "词语7"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--check", "ends-width=。"], "unknown check 'ends-width'; the checks are: ends-with, no-latin"),
        (["--check", "max-chars=x"], "check max-chars='x': the value is a whole number"),
        (["--samples", "0"], "0 is not in the range x>=1"),
        (["--concurrency", "0"], "0 is not in the range x>=1"),
    ],
)
def test_bad_flags_are_usage_errors(offline: Run, args: list[str], message: str) -> None:
    result = offline(*compare_args("ft:x", *args))
    assert result.returncode == 2
    assert message in " ".join(result.stderr.split())


def test_an_unwritable_report_is_one_error_line(finetune: Run, tuned: str, tmp_path: Path) -> None:
    path = tmp_path / "missing-folder" / "out.html"
    result = finetune(*compare_args(tuned, "--report", str(path)))
    assert result.returncode == 1
    assert result.stderr == f"error: cannot write the report to {path}: No such file or directory\n"


@pytest.mark.timeout(60)
def test_on_a_terminal_a_bar_counts_the_calls(emu: Emulator, tuned: str) -> None:
    args = compare_args(tuned, "--samples", "2", "--concurrency", "1")
    status, out, terminal = on_a_terminal(command(*args), cli_env(emu, NO_COLOR="1"), columns=120)
    assert status == 0
    stderr = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal)
    assert "comparing 2 prompts" in stderr and "8/8" in stderr, stderr
    assert "第7句金句" in out
