"""Starting and stopping: in code, from the shell, and through the users' pytest fixtures."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from finetune_sdk.emulator import Emulator
from finetune_sdk.testing import emulator, emulator_env, emulator_options, running_emulator
from tests.emulator.helpers import auth, exports_of, stop

__all__ = ["emulator", "emulator_env", "emulator_options"]  # the fixtures, as a user's conftest imports them


def test_start_is_fast_and_stop_leaves_no_thread() -> None:
    before = set(threading.enumerate())
    started = time.perf_counter()
    emu = Emulator()
    emu.start()
    assert time.perf_counter() - started < 1.0
    assert emu.base_url.startswith("http://127.0.0.1:")
    assert emu.base_url.endswith("/v1")
    assert emu.port > 0
    assert httpx.get(f"{emu.base_url}/files", headers=auth(emu)).status_code == 200
    with pytest.raises(RuntimeError):
        emu.start()
    emu.stop()
    emu.stop()  # twice is fine
    assert set(threading.enumerate()) == before
    with pytest.raises(RuntimeError):
        _ = emu.state
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{emu.base_url}/files")


def test_an_explicit_key_and_port() -> None:
    with Emulator(api_key="emu-fixed") as first:
        port = first.port
    with Emulator(api_key="emu-fixed", port=port) as emu:
        assert emu.api_key == "emu-fixed"
        assert emu.port == port
        assert (
            httpx.get(f"{emu.base_url}/files", headers={"Authorization": "Bearer emu-fixed"}).status_code
            == 200
        )


@pytest.mark.parametrize(
    "options",
    [{"fault_rate": 1.5}, {"time_scale": 0}, {"latency": -1}, {"fault_kinds": ("404",)}, {"chunk_chars": 0}],
)
def test_bad_settings_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(options))):
        Emulator(**options)  # type: ignore[arg-type]


def test_health_needs_no_key(emu: Emulator) -> None:
    assert httpx.get(f"{emu.url}/health").text == "ok"


def test_from_the_shell_it_prints_what_to_export_and_stops_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "finetune_sdk.emulator", "--port", "0", "--time-scale", "10"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url, key = exports_of(process.stdout)
        assert base_url.endswith("/v1")
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0
        assert process.stderr is not None
        assert key not in process.stderr.read()  # the key is printed to export, never logged
    finally:
        stop(process)


def test_main_refuses_unknown_fault_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    from finetune_sdk.emulator.__main__ import main

    assert main(["--fault-kinds", "429,nope"]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["--fault-rate", "7"]) == 2


def test_the_session_fixture(emulator: Emulator) -> None:
    assert emulator.settings.time_scale == 100.0
    assert httpx.get(f"{emulator.base_url}/files", headers=auth(emulator)).status_code == 200


def test_the_env_fixture_points_the_sdk_at_the_emulator(emulator_env: Emulator) -> None:
    assert os.environ["FINETUNE_BASE_URL"] == emulator_env.base_url
    assert os.environ["FINETUNE_API_KEY"] == emulator_env.api_key


def test_running_emulator_sets_and_restores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINETUNE_BASE_URL", "https://example.invalid/v1")
    monkeypatch.delenv("FINETUNE_API_KEY", raising=False)
    with running_emulator(seed=3) as emu:
        assert os.environ["FINETUNE_BASE_URL"] == emu.base_url
        assert os.environ["FINETUNE_API_KEY"] == emu.api_key
        assert emu.settings.seed == 3
    assert os.environ["FINETUNE_BASE_URL"] == "https://example.invalid/v1"
    assert "FINETUNE_API_KEY" not in os.environ


def test_the_sdk_client_works_against_the_emulator(emulator_env: Emulator) -> None:
    import finetune_sdk

    with finetune_sdk.Client() as client:  # configured from the environment alone
        assert str(client.base_url).startswith(emulator_env.base_url)


def _emulator_process(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "finetune_sdk.emulator", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _exports(process: subprocess.Popen[str]) -> tuple[list[str], dict[str, str]]:
    """The lines printed on stdout up to "Press Ctrl-C to stop.", and the two exports among them."""
    assert process.stdout is not None
    lines: list[str] = []
    while not lines or lines[-1] != "Press Ctrl-C to stop.":
        line = process.stdout.readline()
        assert line, process.stderr.read() if process.stderr else ""
        lines.append(line.strip())
    exports = dict(
        line.removeprefix("export ").partition("=")[::2] for line in lines if line.startswith("export ")
    )
    return lines, exports


def _finish(process: subprocess.Popen[str]) -> tuple[str, str]:
    """Stop ``process`` (SIGINT) and return the rest of its stdout and stderr."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        return process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("access_log", [False, True])
def test_stdout_has_only_the_exports_and_the_access_log_is_opt_in_on_stderr(access_log: bool) -> None:
    process = _emulator_process("--port", "0", *(["--access-log"] if access_log else []))
    try:
        lines, exports = _exports(process)
        answer = httpx.get(
            f"{exports['FINETUNE_BASE_URL']}/files",
            headers={"Authorization": f"Bearer {exports['FINETUNE_API_KEY']}"},
        )
        assert answer.status_code == 200
    finally:
        out, err = _finish(process)
    assert process.returncode == 0
    assert len(lines) == 5  # the announcement, then nothing: no request lines mixed with the exports
    assert out.strip() == ""
    assert ('"GET /v1/files HTTP/1.1" 200' in err) is access_log


@pytest.mark.timeout(30)
def test_a_taken_port_is_one_line_naming_it() -> None:
    with Emulator() as taken:
        process = _emulator_process("--port", str(taken.port))
        out, err = process.communicate(timeout=20)
    assert process.returncode == 1
    assert out == ""
    assert err == (
        f"error: port {taken.port} is already in use on 127.0.0.1; pick another with --port, or --port 0"
        " for a free one\n"
    )


@pytest.mark.timeout(30)
def test_ctrl_c_stops_it_promptly_with_a_request_in_flight() -> None:
    process = _emulator_process("--port", "0", "--latency", "5")
    try:
        _, exports = _exports(process)
        url, key = f"{exports['FINETUNE_BASE_URL']}/files", exports["FINETUNE_API_KEY"]
        outcome: list[object] = []

        def slow_request() -> None:  # still being answered when Ctrl-C comes
            try:
                outcome.append(httpx.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=10))
            except httpx.HTTPError as exc:
                outcome.append(exc)

        requester = threading.Thread(target=slow_request)
        requester.start()
        time.sleep(0.5)
        pressed = time.monotonic()
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0
        took = time.monotonic() - pressed
        requester.join(10)
    finally:
        _, err = _finish(process)
    assert took < 0.5, f"Ctrl-C took {took:.2f}s (the server waited on the request in flight)"
    cut = outcome[0]  # a dropped connection, or uvicorn's 500 for a request it cancelled
    assert isinstance(cut, httpx.HTTPError) or (isinstance(cut, httpx.Response) and cut.status_code == 500)
    assert "Traceback" not in err


_STOP_WITH_A_STREAM_OPEN = """
import threading, time
from finetune_sdk import Client
from finetune_sdk.emulator import Emulator
from finetune_sdk.errors import StreamInterruptedError
with Emulator(chunk_delay=0.2, chunk_chars=2) as emu:
    client = Client(api_key=emu.api_key, base_url=emu.base_url, max_retries=0)
    outcome = []
    def read():
        try:
            outcome.extend(client.chat("Qwen/Qwen2.5-7B-Instruct", "hello"))
        except StreamInterruptedError as exc:
            outcome.append(exc)
    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.6)
reader.join(10)
print(type(outcome[-1]).__name__)
"""


@pytest.mark.timeout(30)
def test_stopping_the_background_emulator_with_a_stream_open_logs_no_traceback() -> None:
    # The stream still open is cut by stop(): the client hears of it, uvicorn's log stays clean.
    result = subprocess.run(
        [sys.executable, "-c", _STOP_WITH_A_STREAM_OPEN], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "StreamInterruptedError"
    assert "Traceback" not in result.stderr
    assert "Exception in ASGI application" not in result.stderr


def _python_without(module: str, code: str) -> str:
    """Run ``code`` in a fresh interpreter where ``module`` cannot be imported; return its stdout."""
    blocked = f"import sys; sys.modules[{module!r}] = None\n{code}"
    result = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_importing_it_without_the_extra_says_what_to_install() -> None:
    out = _python_without(
        "uvicorn",
        "try:\n"
        "    from finetune_sdk.emulator import Emulator\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc.name, exc, sep='|')\n",
    )
    kind, name, message = out.split("|")
    assert (kind, name) == ("ImportError", "uvicorn")
    assert 'the emulator needs the emulator extra: pip install "finetune-sdk[emulator]"' in message


def test_the_testing_module_works_without_pytest() -> None:
    out = _python_without(
        "pytest",
        "import os, httpx\n"
        "import finetune_sdk.testing as testing\n"
        "assert not hasattr(testing, 'emulator_env')\n"
        "with testing.running_emulator() as emu:\n"
        "    assert os.environ['FINETUNE_BASE_URL'] == emu.base_url\n"
        "    print(httpx.get(emu.url + '/health').text)\n",
    )
    assert out == "ok"
