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
from tests.emulator.helpers import auth

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
        exports = {}
        while len(exports) < 2:
            line = process.stdout.readline()
            assert line, process.stderr.read() if process.stderr else ""
            if line.strip().startswith("export "):
                name, _, value = line.strip().removeprefix("export ").partition("=")
                exports[name] = value
        base_url, key = exports["FINETUNE_BASE_URL"], exports["FINETUNE_API_KEY"]
        assert base_url.endswith("/v1")
        deadline = time.monotonic() + 10
        while True:
            try:
                answer = httpx.get(f"{base_url}/files", headers={"Authorization": f"Bearer {key}"})
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert answer.status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0
        assert process.stderr is not None
        assert key not in process.stderr.read()  # the key is printed to export, never logged
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


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
