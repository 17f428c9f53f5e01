"""Pieces of the command checked in the test process (no subprocess): ``--set`` parsing, the history of
a conversation, exit codes of ``run``."""

from __future__ import annotations

import io
import os
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from finetune_sdk.cli import _chat
from finetune_sdk.cli._app import run
from finetune_sdk.cli._jobs import parse_settings


def test_set_values_take_the_field_types() -> None:
    parsed = parse_settings(["n_epochs=2", "learning_rate=1e-4", " lora_dropout = 0.1", "batch_size=2.5"])
    assert parsed == {"n_epochs": 2, "learning_rate": 1e-4, "lora_dropout": 0.1, "batch_size": 2.5}
    assert type(parsed["learning_rate"]) is float
    assert parse_settings(["lora_rank=many"]) == {"lora_rank": "many"}  # Hyperparameters names the field


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("batch_size=2.5", "error: batch_size must be an integer from 1 to 32, got 2.5 (float)"),
        ("lora_rank=many", "error: lora_rank must be an integer from 1 to 64, got 'many' (str)"),
        ("learning_rate=0.5", "error: learning_rate must be a number with 0 < learning_rate <= 0.1, got 0.5"),
        ("epochs=2", "error: unknown hyperparameter 'epochs': choose one of learning_rate, n_epochs,"),
    ],
)
def test_bad_settings_are_one_line(setting: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["--api-key", "k", "jobs", "create", "-m", "M", "-t", "file-x", "--set", setting])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert err.count("\n") == 1


def test_a_conversation_keeps_its_history(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sent: list[list[dict[str, str]]] = []

    def fake_reply(
        client: Any, model: str, messages: Any, system: str | None, options: dict[str, Any]
    ) -> str:
        sent.append(list(messages))
        return f"reply {len(sent)}"

    monkeypatch.setattr(_chat, "_stream_reply", fake_reply)
    monkeypatch.setattr("sys.stdin", io.StringIO("one\ntwo\n/reset\nthree\n/quit\nfour\n"))
    assert run(["--api-key", "k", "chat", "-m", "M"]) == 0
    assert sent == [
        [{"role": "user", "content": "one"}],
        [
            {"role": "user", "content": "one"},
            {"role": "assistant", "content": "reply 1"},
            {"role": "user", "content": "two"},
        ],
        [{"role": "user", "content": "three"}],
    ]


def test_usage_errors_keep_clicks_message_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["jobs", "create"]) == 2
    assert "Missing option '--model'" in capsys.readouterr().err


def _documented_commands() -> list[list[str]]:
    """Every ``finetune ...`` line of the shell blocks of docs/cli.md, as arguments."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    lines: list[list[str]] = []
    for block in re.findall(r"^```bash\n(.*?)^```", page, re.DOTALL | re.MULTILINE):
        for line in block.replace("\\\n", " ").splitlines():
            if line.startswith("finetune "):
                lines.append(shlex.split(line, comments=True)[1:])
    return lines


def test_the_documented_command_lines_parse(capsys: pytest.CaptureFixture[str]) -> None:
    documented = _documented_commands()
    assert len(documented) >= 20
    for args in documented:
        assert run([*args, "--help"]) == 0, (args, capsys.readouterr().err)


def test_a_problem_of_the_whole_file_has_no_line(capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(__file__).resolve().parents[1] / "data" / "dataset" / "invalid" / "empty_file.jsonl"
    assert run(["validate", str(path)]) == 1
    assert capsys.readouterr().out.splitlines()[0].startswith(f"{path}: empty_file: ")


def test_validate_lists_an_unreadable_file_in_its_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # What the kernel answers a user without read permission (tests may run as root, who reads anything).
    good, locked = tmp_path / "good.jsonl", tmp_path / "locked.jsonl"
    line = '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n'
    good.write_text(line, encoding="utf-8")
    locked.write_text(line, encoding="utf-8")
    real_access, real_open = os.access, os.open

    def access(path: Any, mode: int, *args: Any, **kwargs: Any) -> bool:
        return False if os.fspath(path) == str(locked) else real_access(path, mode, *args, **kwargs)

    def open_(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(locked))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(os, "open", open_)
    assert run(["validate", str(good), str(locked)]) == 1
    out = capsys.readouterr().out
    assert f"{locked}: Permission denied" in out
    assert out.splitlines()[-1] == "2 files: 1 ok, 1 not"
    assert run(["validate", str(locked)]) == 1
    assert capsys.readouterr().err.startswith("error: ")


def test_the_commands_state_never_shows_the_key() -> None:
    from finetune_sdk.cli._state import State

    state = State(api_key="sk-never-shown", base_url="http://127.0.0.1:9/v1", max_retries=1)
    assert "sk-never-shown" not in repr(state)
    assert "max_retries=1" in repr(state)
