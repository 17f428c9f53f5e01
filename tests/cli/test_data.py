"""``finetune validate|stats|split``, the root group and the missing-extra message: no platform needed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import orjson
import pytest

from finetune_sdk import __version__
from finetune_sdk.cli import MISSING_EXTRA
from tests.cli.conftest import Run, cli_env, write_dataset

COMMANDS = (
    "convert",
    "validate",
    "stats",
    "split",
    "dedupe",
    "leakage",
    "upload",
    "files",
    "jobs",
    "chat",
    "compare",
    "tune",
    "emulator",
)


def test_validate_ok_prints_a_summary_with_the_stats_and_exits_0(offline: Run, data_dir: Path) -> None:
    result = offline("validate", str(data_dir / "train.jsonl"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{data_dir / 'train.jsonl'}: ok, 20 examples"
    assert "examples: 20" in lines
    assert "messages: 60 (system 20, user 20, assistant 20)" in lines
    assert result.stderr == ""


def test_validate_bad_prints_file_line_code_message_and_exits_1(offline: Run, data_dir: Path) -> None:
    path = str(data_dir / "bad.jsonl")
    result = offline("validate", path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{path}:2: invalid_json: ")
    assert lines[1].startswith(f"{path}:3: first_not_user: ")
    assert lines[2] == f"{path}: not valid, 2 errors"
    assert "examples: 1" in lines  # the statistics of the valid examples follow


def test_validate_json_is_the_report(offline: Run, data_dir: Path) -> None:
    result = offline("validate", "--json", "--max-errors", "1", str(data_dir / "bad.jsonl"))
    assert result.returncode == 1
    report = orjson.loads(result.stdout)
    assert report["ok"] is False
    assert [(e["line"], e["code"]) for e in report["errors"]] == [(2, "invalid_json")]
    assert report["truncated"] is True


@pytest.mark.parametrize("command", ["validate", "stats", "split", "upload"])
def test_a_missing_file_or_a_directory_is_one_error_line(offline: Run, tmp_path: Path, command: str) -> None:
    missing = offline(command, str(tmp_path / "nope.jsonl"))
    assert (missing.returncode, missing.stdout) == (1, "")
    assert missing.stderr == f"error: No such file: {tmp_path / 'nope.jsonl'}\n"
    folder = offline(command, str(tmp_path))
    assert (folder.returncode, folder.stdout) == (1, "")
    if command == "validate":  # validate takes folders: one without datasets is the error
        assert folder.stderr == f"error: {tmp_path} is a folder with no .jsonl file in it\n"
    else:
        assert folder.stderr == f"error: {tmp_path} is a directory, not a .jsonl file\n"


def test_one_example_is_singular(offline: Run, tmp_path: Path) -> None:
    one = write_dataset(tmp_path / "one.jsonl", n=1)
    result = offline("validate", str(one))
    assert result.stdout.splitlines()[0] == f"{one}: ok, 1 example"
    two = write_dataset(tmp_path / "two.jsonl", n=2)
    split = offline("split", str(two), "--ratio", "0.5")
    assert split.stdout.splitlines() == [
        f"{tmp_path / 'two.train.jsonl'}  1 example",
        f"{tmp_path / 'two.validation.jsonl'}  1 example",
    ]


@pytest.mark.parametrize("workers", ["auto", "AUTO", "2"])
def test_validate_workers_takes_auto_or_a_count(offline: Run, data_dir: Path, workers: str) -> None:
    result = offline("validate", "--workers", workers, str(data_dir / "train.jsonl"))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("workers", ["0", "-1", "many", "1.5"])
def test_validate_refuses_other_workers(offline: Run, data_dir: Path, workers: str) -> None:
    result = offline("validate", "--workers", workers, str(data_dir / "train.jsonl"))
    assert result.returncode == 2
    assert "neither auto nor a whole number from 1" in result.stderr


def test_validate_workers_defaults_to_the_sdks_auto(offline: Run) -> None:
    helped = offline("validate", "--help")
    assert "--workers auto|N" in helped.stdout
    assert "[default: auto]" in " ".join(helped.stdout.split())


def test_stats_prints_key_values_and_refuses_a_bad_file(offline: Run, data_dir: Path) -> None:
    good = offline("stats", str(data_dir / "train.jsonl"))
    assert good.returncode == 0
    assert good.stdout.splitlines()[:2] == ["examples: 20", "messages: 60 (system 20, user 20, assistant 20)"]
    bad = offline("stats", str(data_dir / "bad.jsonl"))
    assert bad.returncode == 1
    assert bad.stdout == ""
    path = data_dir / "bad.jsonl"
    assert bad.stderr.splitlines()[0].startswith(f"{path}:2: invalid_json: ")
    assert bad.stderr.splitlines()[-1] == f"error: {path}: not valid, 2 errors"


def test_split_writes_both_files_and_prints_their_counts(
    offline: Run, data_dir: Path, tmp_path: Path
) -> None:
    result = offline(
        "split", str(data_dir / "train.jsonl"), "--ratio", "0.2", "--seed", "3", "--out-dir", str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    train, held_out = tmp_path / "train.train.jsonl", tmp_path / "train.validation.jsonl"
    assert result.stdout.splitlines() == [f"{train}  16 examples", f"{held_out}  4 examples"]
    assert len(train.read_text(encoding="utf-8").splitlines()) == 16
    assert len(held_out.read_text(encoding="utf-8").splitlines()) == 4
    refused = offline("split", str(data_dir / "train.jsonl"), "--ratio", "0.9")
    assert refused.returncode == 2
    assert "--ratio" in refused.stderr


def test_split_says_when_it_creates_its_folder_and_leaves_none_on_failure(
    offline: Run, data_dir: Path, tmp_path: Path
) -> None:
    made = tmp_path / "made"
    result = offline("split", str(data_dir / "train.jsonl"), "--out-dir", str(made))
    assert result.returncode == 0, result.stderr
    assert f"created the folder {made}" in result.stderr
    assert sorted(p.name for p in made.iterdir()) == ["train.train.jsonl", "train.validation.jsonl"]
    again = offline("split", str(data_dir / "train.jsonl"), "--out-dir", str(made))
    assert "created the folder" not in again.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n", encoding="utf-8")
    failed = offline("split", str(bad), "--out-dir", str(tmp_path / "never"))
    assert failed.returncode == 1
    assert not (tmp_path / "never").exists()


def test_installed_script_lists_every_command_and_its_version(offline: Run) -> None:
    script = Path(sys.executable).parent / "finetune"
    args = [str(script)] if script.exists() else [sys.executable, "-m", "finetune_sdk.cli"]
    env = cli_env(None)
    helped = subprocess.run([*args, "--help"], env=env, capture_output=True, text=True, timeout=30)
    assert helped.returncode == 0
    listed = helped.stdout.split("Commands:")[1]
    assert [line.split()[0] for line in listed.strip().splitlines()] == list(COMMANDS)
    version = subprocess.run([*args, "--version"], env=env, capture_output=True, text=True, timeout=30)
    assert version.stdout.strip() == f"finetune {__version__}"


def test_without_the_cli_extra_it_says_what_to_install() -> None:
    code = "import sys; sys.modules['click'] = None\nfrom finetune_sdk.cli import main\nmain(['--help'])"
    result = subprocess.run(
        [sys.executable, "-c", code], env=cli_env(None), capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1
    assert result.stderr.strip() == MISSING_EXTRA
    assert result.stdout == ""


def test_stats_counts_exact_copies_beside_normalised_ones_and_prices_the_training(
    offline: Run, tmp_path: Path
) -> None:
    merged = Path(__file__).resolve().parents[1] / "data" / "duplicates" / "merged.jsonl"
    plain = offline("stats", str(merged))
    assert "duplicate examples: 5 (3 exact copies, 2 more once normalised)" in plain.stdout.splitlines()
    priced = offline("stats", str(merged), "--exact", "--epochs", "2", "--price", "4")
    assert priced.returncode == 0, priced.stderr
    lines = priced.stdout.splitlines()
    billed = next(line for line in lines if line.startswith("billed tokens for 2 epochs: ")).split(": ")[1]
    assert f"billed tokens (exact, 2 epochs): {billed}" in lines
    assert any(line.startswith("cost: ") and "(4 per 1M tokens, given)" in line for line in lines)
    table = tmp_path / "prices.toml"
    table.write_text('currency = "CNY"\n"Qwen/Qwen2.5-7B-Instruct" = 10\n', encoding="utf-8")
    from_table = offline(
        "stats", str(merged), "--price-table", str(table), "--model", "Qwen/Qwen2.5-7B-Instruct", "--json"
    )
    cost = orjson.loads(from_table.stdout)["cost"]
    assert (cost["price_per_mtokens"], cost["currency"], cost["method"]) == (10.0, "CNY", "estimate")
    env = offline("stats", str(merged), "--price", env_extra={"FINETUNE_PRICE_PER_MTOKENS": "1.5"})
    assert "(1.5 per 1M tokens, FINETUNE_PRICE_PER_MTOKENS)" in env.stdout
    none = offline("stats", str(merged), "--price")
    assert "cost: no price given" in none.stdout


def test_each_command_is_listed_with_one_line_that_fits_80_columns() -> None:
    from finetune_sdk.cli._app import COMMANDS, cli

    width = max(map(len, COMMANDS))
    for name, (_, summary) in COMMANDS.items():
        assert 2 + width + 2 + len(summary) <= 80, name
        command = cli.get_command(click.Context(cli), name)
        assert command is not None and command.name == name
        assert command.get_short_help_str(limit=200) == summary
