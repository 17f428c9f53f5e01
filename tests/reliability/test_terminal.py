"""The ``finetune`` command never writes a server's (or a file name's) control characters: escape
sequences that would retitle or clear the terminal, move the cursor or ring the bell print as visible
text, through a pipe and on a terminal alike."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest

from finetune_sdk.cli._app import run
from finetune_sdk.cli._output import safe

from ..cli.conftest import cli_env, command, on_a_terminal
from .hostile import TAINTED_COMMANDS, HostileServer, tainted_platform

#: Retitle the terminal, clear it, an 8-bit CSI, a bell, a backspace, a carriage return.
EVIL = "\x1b]0;pwned\x07\x1b[2J\x9b31m\x08\r"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def evil_server() -> HostileServer:
    return tainted_platform(EVIL, f"{EVIL}.jsonl")


COMMANDS = TAINTED_COMMANDS


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_server_text_prints_without_control_characters(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with evil_server() as server:
        run(["--api-key", "k", "--base-url", server.base_url, *args])
    out, err = capsys.readouterr()
    assert not CONTROL.findall(out + err), (out + err)[:500]
    assert "\\u001b]0;pwned\\u0007" in out + err  # shown, not obeyed
    if "--json" in args:
        assert orjson.loads(out)["model"] == f"Qwen{EVIL}"  # the JSON still says exactly what was sent


def test_a_file_name_prints_without_control_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / f"bad{EVIL.replace('/', '')}.jsonl"
    path.write_text("not json\n", encoding="utf-8")
    assert run(["validate", str(path)]) == 1
    out, err = capsys.readouterr()
    assert not CONTROL.findall(out + err), (out + err)[:500]
    assert "bad\\u001b]0;pwned" in out + err


def test_on_a_terminal_too() -> None:
    with evil_server() as server:
        env = cli_env(None, FINETUNE_API_KEY="k", FINETUNE_BASE_URL=server.base_url, NO_COLOR="1")
        code, _, shown = on_a_terminal(command("files", "get", "file-2"), env, stdout=True)
    shown = shown.replace("\r\n", "\n")
    assert code == 1
    shown = re.sub(r"\x1b\[[0-9;]*m", "", shown)  # rich's own styling of "error:"
    assert "no such file" in shown
    assert not CONTROL.findall(shown), shown


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain\ttext\nnext", "plain\ttext\nnext"),
        ("a\r\nb", "a\nb"),
        ("\x1b[2J", "\\u001b[2J"),
        ("\x9b", "\\u009b"),
        ("\x7f\x00", "\\u007f\\u0000"),
        ("中文 ok", "中文 ok"),
    ],
)
def test_safe(text: str, shown: str) -> None:
    assert safe(text) == shown
