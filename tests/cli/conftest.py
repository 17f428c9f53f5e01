"""Fixtures of the ``finetune`` command's tests: the real entry point run as a subprocess, against an
emulator started in the test process."""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import orjson
import pytest

from finetune_sdk.emulator import Emulator

FAST = 50.0
BASE_MODEL = "Qwen/Qwen2.5-7B-Instruct"

Run = Callable[..., subprocess.CompletedProcess[str]]


def write_dataset(path: Path, n: int = 20) -> Path:
    """``n`` valid examples: the user says ``词语<i>``, the assistant ``第<i>句金句,一针见血。``."""
    lines = [
        orjson.dumps(
            {
                "messages": [
                    {"role": "system", "content": "你是犀利的评论家"},
                    {"role": "user", "content": f"词语{i}"},
                    {"role": "assistant", "content": f"第{i}句金句,一针见血。"},
                ]
            }
        )
        for i in range(n)
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def cli_env(emu: Emulator | None, **extra: str) -> dict[str, str]:
    """The process environment with the SDK's settings pointing at ``emu`` (none when it is None)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINETUNE_") and k != "FORCE_COLOR"}
    if emu is not None:
        env.update(FINETUNE_API_KEY=emu.api_key, FINETUNE_BASE_URL=emu.base_url)
    env.update(extra)
    return env


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "finetune_sdk.cli", *args]


def default_sigint() -> None:
    """In the child: Ctrl-C as in a shell, even when the test runner was started with SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(args: list[str], env: Mapping[str, str]) -> subprocess.Popen[str]:
    """A ``finetune`` process to talk to or interrupt (stdout and stderr piped, text)."""
    return subprocess.Popen(
        args,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,  # noqa: PLW1509 - no threads touch the child before exec
    )


def on_a_terminal(
    args: list[str], env: Mapping[str, str], *, columns: int = 80, stdout: bool = False
) -> tuple[int, str, str]:
    """Run a ``finetune`` command with stderr (and stdout too, when ``stdout``; else it is piped) on a
    pseudo-terminal ``columns`` wide: its exit status, its piped stdout, and the bytes its terminal
    received, decoded."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    process = subprocess.Popen(
        args,
        env=dict(env),
        stdout=follower if stdout else subprocess.PIPE,
        stderr=follower,
        text=True,
    )
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    status = process.wait(30)
    out = ""
    if process.stdout is not None:
        out = process.stdout.read()
        process.stdout.close()
    return status, out, b"".join(chunks).decode(errors="replace")


def make_runner(env: Mapping[str, str]) -> Run:
    def run(
        *args: str, stdin: str | None = None, env_extra: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command(*args),
            env={**env, **(env_extra or {})},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(time_scale=FAST) as running:
        yield running


@pytest.fixture(scope="module")
def finetune(emu: Emulator) -> Run:
    """Run ``python -m finetune_sdk.cli ARGS`` against the module's emulator; ``stdin=`` feeds input."""
    return make_runner(cli_env(emu, NO_COLOR="1"))


@pytest.fixture(scope="module")
def offline() -> Run:
    """Run the command with no platform settings at all."""
    return make_runner(cli_env(None, NO_COLOR="1"))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    write_dataset(folder / "train.jsonl")
    (folder / "bad.jsonl").write_text(
        '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n'
        "{not json\n"
        '{"messages": [{"role": "assistant", "content": "x"}]}\n',
        encoding="utf-8",
    )
    return folder
