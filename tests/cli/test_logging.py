"""The SDK's retry log lines in the ``finetune`` command: one short line per retry on a terminal or with
``--debug``, nothing but the final ``error:`` line in a pipe."""

from __future__ import annotations

import re
import socket

import pytest

from finetune_sdk._core.config import DEFAULT_MAX_RETRIES
from finetune_sdk.cli._logs import retry_line
from tests.cli.conftest import Run, cli_env, command, make_runner, on_a_terminal

RETRY = re.compile(r"^retrying GET /v1/files\S* \(attempt (\d) of 4\) in \d+\.\ds: connection refused$")


@pytest.fixture(scope="module")
def refused_env() -> dict[str, str]:
    """Settings pointing at a port where nothing listens: every request is refused, then retried."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return cli_env(None, NO_COLOR="1", FINETUNE_API_KEY="k", FINETUNE_BASE_URL=f"http://127.0.0.1:{port}/v1")


@pytest.fixture(scope="module")
def refused(refused_env: dict[str, str]) -> Run:
    return make_runner(refused_env)


def _attempts(stderr: str) -> list[int]:
    return [int(found[1]) for line in stderr.splitlines() if (found := RETRY.match(line))]


def test_in_a_pipe_only_the_error_line_is_printed(refused: Run) -> None:
    result = refused("files", "list")
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: GET http://127.0.0.1:")
    assert "after 4 attempts" in result.stderr


def test_debug_prints_one_short_line_per_retry_then_the_error(refused: Run) -> None:
    result = refused("--debug", "files", "list")
    assert result.returncode == 1
    assert _attempts(result.stderr) == [2, 3, 4]
    assert "WARNING" not in result.stderr
    assert "failed (attempt" not in result.stderr  # the SDK's long form is not printed as well
    assert result.stderr.splitlines()[-1].startswith("error: GET http://127.0.0.1:")


def test_max_retries_before_the_command_sets_the_retries(refused: Run) -> None:
    none = refused("--max-retries", "0", "--debug", "files", "list")
    assert none.returncode == 1
    assert _attempts(none.stderr) == []
    assert "attempts" not in none.stderr.splitlines()[-1]
    one = refused("--max-retries", "1", "--debug", "files", "list")
    assert _attempts(one.stderr.replace("of 2)", "of 4)")) == [2]
    assert "after 2 attempts" in one.stderr
    assert refused("--max-retries", "-1", "files", "list").returncode == 2  # a usage error


def test_the_help_names_the_clients_default_retries(refused: Run) -> None:
    assert f"(default: {DEFAULT_MAX_RETRIES})" in " ".join(refused("--help").stdout.split())


@pytest.mark.timeout(60)
def test_on_a_terminal_each_retry_is_one_short_line(refused_env: dict[str, str]) -> None:
    status, _, terminal = on_a_terminal(command("files", "list"), refused_env)
    assert status == 1
    stderr = re.sub(r"\x1b\[[0-9;]*m", "", terminal.replace("\r\n", "\n"))  # bold
    assert _attempts(stderr) == [2, 3, 4], stderr
    assert stderr.splitlines()[-1].startswith("error: GET http://127.0.0.1:")


@pytest.mark.parametrize(
    ("message", "line"),
    [
        (
            "GET /v1/files failed (attempt 1 of 4), retrying in 0.47s: APIConnectionError: GET "
            "http://h/v1/files failed: ConnectError: [Errno 111] Connection refused. Check the base URL.",
            "retrying GET /v1/files (attempt 2 of 4) in 0.5s: connection refused",
        ),
        (
            "POST /v1/files failed (attempt 2 of 4), retrying in 1.00s: RateLimitError: Error 429 "
            "(rate_limit_exceeded): Rate limit reached. Too many requests.",
            "retrying POST /v1/files (attempt 3 of 4) in 1.0s: "
            "error 429 (rate_limit_exceeded): Rate limit reached",
        ),
        ("something else", "something else"),
    ],
)
def test_retry_line(message: str, line: str) -> None:
    assert retry_line(message) == line
