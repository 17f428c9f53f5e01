"""Every file the data commands write is all or nothing: a ``split``, ``dedupe`` or ``convert`` killed
mid-write, or stopped by a full disk, leaves no partial output and no temporary file; an output that is
the input (a hard link too) or another output is refused before any work, the input intact."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import orjson
import pytest

from finetune_sdk import _atomic
from finetune_sdk.data._files import dedupe_file, split_file
from finetune_sdk.data.convert import convert_file
from tests.cli.conftest import cli_env, command

posix_only = pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name != "posix", reason="POSIX signals")
ROOT = Path(__file__).resolve().parents[2]


def dataset(path: Path, n: int = 400) -> Path:
    rows = [
        {
            "messages": [
                {"role": "user", "content": f"订单{i}什么时候发货？ When does order {i} ship?"},
                {"role": "assistant", "content": f"订单{i}将在48小时内发货。 It ships within 48 hours. " * 3},
            ]
        }
        for i in range(n)
    ]
    rows.append(rows[0])  # a duplicate for dedupe
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return path


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".part", ".tmp")))


def slowed(patch: str, argv: list[str]) -> str:
    """A child script: ``patch`` (Python) applied, then ``finetune ARGV`` run in-process."""
    return textwrap.dedent(patch) + textwrap.dedent(
        f"""
        from finetune_sdk.cli._app import run
        raise SystemExit(run({argv!r}))
        """
    )


def kill_mid_write(tmp_path: Path, script: str) -> subprocess.CompletedProcess[bytes]:
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=cli_env(None),
    )
    assert child.stdout is not None
    try:
        assert child.stdout.readline().strip() == b"writing"
        assert leftovers(tmp_path), "the write was under way"
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
    return subprocess.CompletedProcess(child.args, child.returncode, out, err)


@posix_only
def test_a_split_killed_by_sigterm_mid_write_leaves_no_partial_file(tmp_path: Path) -> None:
    source = dataset(tmp_path / "data.jsonl")
    before = source.read_bytes()
    patch = """
        import sys, time
        from finetune_sdk.data import _files
        real = _files.write_conversations
        def slow(file, conversations):
            conversations = list(conversations)
            real(file, conversations[:1])
            file.flush()
            print("writing", flush=True)
            time.sleep(30)
            real(file, conversations[1:])
        _files.write_conversations = slow
    """
    done = kill_mid_write(tmp_path, slowed(patch, ["split", str(source)]))
    assert done.returncode == 128 + signal.SIGTERM
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.jsonl"]
    assert source.read_bytes() == before


@posix_only
def test_a_convert_killed_by_sigterm_mid_write_leaves_no_tmp_or_part(tmp_path: Path) -> None:
    source = dataset(tmp_path / "data.jsonl")
    patch = """
        import time
        from finetune_sdk.data.convert import _run
        real, seen = _run._line_of, []
        def slow(example):
            seen.append(1)
            if len(seen) == 50:
                print("writing", flush=True)
                time.sleep(30)
            return real(example)
        _run._line_of = slow
    """
    out = tmp_path / "out.jsonl"
    argv = ["convert", str(source), "-o", str(out), "--rejects", str(tmp_path / "rejects.jsonl")]
    done = kill_mid_write(tmp_path, slowed(patch, argv))
    assert done.returncode == 128 + signal.SIGTERM
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.jsonl"]


@posix_only
@pytest.mark.parametrize("what", ["split", "dedupe", "convert"])
def test_a_full_disk_leaves_nothing(tmp_path: Path, what: str) -> None:
    """RLIMIT_FSIZE in the child: a write past the limit fails with EFBIG, as on a full disk."""
    source = dataset(tmp_path / "data.jsonl", n=600)
    limit = 32 * 1024
    assert source.stat().st_size > 4 * limit

    def limited() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write instead of killing the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    argv = {
        "split": ["split", str(source)],
        "dedupe": ["dedupe", str(source)],
        "convert": ["convert", str(source), "-o", str(tmp_path / "out.jsonl")],
    }[what]
    done = subprocess.run(
        command(*argv), capture_output=True, text=True, timeout=60, env=cli_env(None), preexec_fn=limited
    )
    assert done.returncode == 1, done.stdout
    assert "File too large" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.jsonl"]


class _FullDisk:
    """A temporary file whose writes fail with ENOSPC once ``room`` bytes are written."""

    def __init__(self, file: Any, room: int) -> None:
        self._file, self._room = file, room

    def write(self, data: bytes) -> int:
        self._room -= len(data)
        if self._room < 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        return int(self._file.write(data))

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


@pytest.mark.parametrize("what", ["split", "dedupe", "convert", "to_jsonl"])
def test_enospc_in_the_middle_leaves_no_output_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, what: str
) -> None:
    source = dataset(tmp_path / "data.jsonl")
    real = _atomic._temporary

    def temporary(target: str) -> tuple[Any, str]:
        file, path = real(target)
        return _FullDisk(file, 4096), path

    monkeypatch.setattr(_atomic, "_temporary", temporary)
    from finetune_sdk import Dataset

    writes = {
        "split": lambda: split_file(source, tmp_path / "a.jsonl", tmp_path / "b.jsonl"),
        "dedupe": lambda: dedupe_file(source, tmp_path / "a.jsonl", tmp_path / "b.jsonl"),
        "convert": lambda: convert_file(source, tmp_path / "a.jsonl", rejects=tmp_path / "b.jsonl"),
        "to_jsonl": lambda: Dataset.from_jsonl(source).to_jsonl(tmp_path / "a.jsonl"),
    }
    with pytest.raises(OSError, match="No space left") as caught:
        writes[what]()
    assert caught.value.errno == errno.ENOSPC
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.jsonl"]


def test_an_output_hard_linked_to_the_input_is_refused(tmp_path: Path) -> None:
    source = dataset(tmp_path / "data.jsonl")
    before = source.read_bytes()
    os.link(source, tmp_path / "data.train.jsonl")
    split = subprocess.run(
        command("split", str(source)), capture_output=True, text=True, timeout=60, env=cli_env(None)
    )
    assert split.returncode == 2
    assert "is the input" in split.stderr
    link = tmp_path / "kept.jsonl"
    os.link(source, link)
    dedupe = subprocess.run(
        command("dedupe", str(source), "-o", str(link)),
        capture_output=True,
        text=True,
        timeout=60,
        env=cli_env(None),
    )
    assert dedupe.returncode == 2
    assert "is the input" in dedupe.stderr
    assert source.read_bytes() == before
    assert leftovers(tmp_path) == []
    assert not (tmp_path / "data.validation.jsonl").exists()


def test_dedupe_to_one_file_twice_is_refused(tmp_path: Path) -> None:
    source = dataset(tmp_path / "data.jsonl")
    same = tmp_path / "x.jsonl"
    done = subprocess.run(
        command("dedupe", str(source), "-o", str(same), "--dropped", str(same)),
        capture_output=True,
        text=True,
        timeout=60,
        env=cli_env(None),
    )
    assert done.returncode == 2
    assert "are one file" in done.stderr
    assert not same.exists()
    assert "kept" not in done.stdout
