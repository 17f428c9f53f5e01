"""Every Python block in docs/ and every script in examples/ runs against the emulator, so none rot.

The blocks of one page run in order in one namespace, in a folder holding ``train.jsonl`` (the examples'
dataset), with FINETUNE_API_KEY / FINETUNE_BASE_URL pointing at an emulator on 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from finetune_sdk.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md"))
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks(page: Path) -> list[str]:
    return BLOCK.findall(page.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(time_scale=200) as running:
        yield running


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emu: Emulator) -> Path:
    shutil.copy(ROOT / "examples" / "data" / "critic.jsonl", tmp_path / "train.jsonl")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FINETUNE_API_KEY", emu.api_key)
    monkeypatch.setenv("FINETUNE_BASE_URL", emu.base_url)
    return tmp_path


def test_the_docs_have_code_to_test() -> None:
    assert sum(len(python_blocks(page)) for page in DOCS) >= 10


@pytest.mark.parametrize("page", [p for p in DOCS if python_blocks(p)], ids=lambda p: p.name)
def test_doc_blocks_run(page: Path, workdir: Path) -> None:
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for number, block in enumerate(python_blocks(page), 1):
        try:
            exec(compile(block, f"{page.name} block {number}", "exec"), namespace)
        except Exception as exc:
            raise AssertionError(f"{page.name}, python block {number} failed: {exc!r}\n{block}") from exc


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_scripts_run(script: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINETUNE_")}
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip()


def test_quickstart_tells_the_whole_story(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINETUNE_")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 0, done.stderr[-3000:]
    assert "embedded emulator" in out
    assert "36 examples" in out
    assert re.search(r"tuned model: ft:LoRA/Qwen/Qwen2\.5-7B-Instruct:\S+:critic:", out)
    assert "succeeded" in done.stderr
    assert re.search(r"the tuned setup saves \d+ \(\d+%\)", out)
