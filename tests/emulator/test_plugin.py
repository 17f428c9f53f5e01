"""``finetune_sdk.testing`` as a pytest plugin: a user's tests ask for ``emulator`` with no import.

Each case runs pytest in a fresh interpreter on a test folder of its own (outside this repository, so
none of its conftests apply), the way a user's project would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

USER_TESTS = """
import os
import httpx
from finetune_sdk import Client


def test_session_emulator(emulator):
    assert emulator.settings.time_scale == 100.0
    answer = httpx.get(emulator.base_url + "/files", headers={"Authorization": "Bearer " + emulator.api_key})
    assert answer.status_code == 200


def test_env_emulator(emulator_env, tmp_path):
    line = '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}'
    path = tmp_path / "t.jsonl"
    path.write_text((line + "\\n") * 20)
    with Client() as client:
        job = client.jobs.create(model="Qwen/Qwen2.5-7B-Instruct", training_file=path)
        assert client.jobs.wait(job, timeout=10).fine_tuned_model
    assert os.environ["FINETUNE_POLL_INTERVAL"] == "0.02"
"""


def _pytest(folder: Path, *args: str, prelude: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    code = f"{prelude}\nimport sys, pytest\nsys.exit(pytest.main(sys.argv[1:]))"
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("FINETUNE_", "PYTEST_"))}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(folder),
            str(folder),
            *args,
        ],
        cwd=folder,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    return tmp_path


def test_the_fixtures_need_no_import(project: Path) -> None:
    result = _pytest(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_pytest_plugins_in_a_conftest_works_too_and_registers_once(project: Path) -> None:
    (project / "conftest.py").write_text('pytest_plugins = ["finetune_sdk.testing"]\n')
    result = _pytest(project)
    assert result.returncode == 0, result.stdout + result.stderr
    # with the package's plugins turned off, the conftest line alone brings the fixtures
    off = _pytest(project, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert off.returncode == 0, off.stdout + off.stderr


def test_without_the_extra_only_a_test_that_uses_a_fixture_fails_and_says_what_to_install(
    tmp_path: Path,
) -> None:
    (tmp_path / "test_user.py").write_text(
        "def test_plain():\n    assert 1 + 1 == 2\n\n\ndef test_uses(emulator):\n    pass\n"
    )
    result = _pytest(tmp_path, prelude="import sys; sys.modules['uvicorn'] = None")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 passed, 1 error" in result.stdout
    needs = "finetune_sdk.testing needs the emulator extra to run an emulator"
    assert f'{needs}: pip install "finetune-sdk[emulator]"' in result.stdout
