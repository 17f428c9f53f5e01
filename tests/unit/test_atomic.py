"""The one atomic writer: all or nothing, never over an input, nothing left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from finetune_sdk._atomic import atomic_write, atomic_write_text, atomic_writes, check_outputs
from finetune_sdk.errors import OutputConflictError


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_writes_and_keeps_the_mode_of_a_replaced_file(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    atomic_write_text(target, "one\n")
    assert target.read_text() == "one\n"
    assert target.stat().st_mode & 0o777 == 0o644
    target.chmod(0o600)
    atomic_write_text(target, "two\n")
    assert target.read_text() == "two\n"
    assert target.stat().st_mode & 0o777 == 0o600
    assert _leftovers(tmp_path) == []


def test_a_failure_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("old\n")

    def write() -> None:
        with atomic_write(target) as file:
            file.write(b"new, half written")
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write()
    assert target.read_text() == "old\n"
    assert _leftovers(tmp_path) == []


def test_several_outputs_are_renamed_together_or_not_at_all(tmp_path: Path) -> None:
    a, b = tmp_path / "train.jsonl", tmp_path / "valid.jsonl"

    def interrupted() -> None:
        with atomic_writes([a, b]) as (fa, fb):
            fa.write(b"a\n")
            fb.write(b"b\n")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert not a.exists() and not b.exists()
    with atomic_writes([a, b]) as (fa, fb):
        fa.write(b"a\n")
        fb.write(b"b\n")
    assert (a.read_text(), b.read_text()) == ("a\n", "b\n")


def test_refuses_an_output_that_is_an_input_through_a_hard_link(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("keep me\n")
    link = tmp_path / "link.jsonl"
    os.link(source, link)
    with pytest.raises(OutputConflictError, match="is the input"), atomic_write(link, inputs=[source]):
        pytest.fail("the block must not run")
    assert source.read_text() == "keep me\n"


def test_refuses_two_outputs_that_are_one_file(tmp_path: Path) -> None:
    target = tmp_path / "x.jsonl"
    with pytest.raises(OutputConflictError, match="one file") as caught:
        check_outputs([("the output", target), ("the rejects file", tmp_path / "." / "x.jsonl")])
    assert isinstance(caught.value, ValueError)


def test_a_process_killed_by_sigterm_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    script = textwrap.dedent(
        f"""
        import sys, time
        from finetune_sdk._atomic import atomic_write
        with atomic_write({str(target)!r}) as f:
            f.write(b"x" * 1000)
            print("writing", flush=True)
            time.sleep(30)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == b"writing"
    assert len(_leftovers(tmp_path)) == 1
    child.send_signal(signal.SIGTERM)
    assert child.wait(10) == 128 + signal.SIGTERM
    assert _leftovers(tmp_path) == []
    assert not target.exists()


def test_a_process_killed_outright_is_cleaned_up_by_the_next_write(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    script = textwrap.dedent(
        f"""
        import time
        from finetune_sdk._atomic import atomic_write
        with atomic_write({str(target)!r}) as f:
            print("writing", flush=True)
            time.sleep(30)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == b"writing"
    child.kill()
    child.wait(10)
    assert len(_leftovers(tmp_path)) == 1
    atomic_write_text(target, "fresh\n")
    assert _leftovers(tmp_path) == []
    assert target.read_text() == "fresh\n"


def test_a_folder_that_refuses_the_write_is_named_by_the_output_not_the_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As a read-only folder answers (simulated: the tests may run as root, whom permissions do not stop).
    real_open = os.open

    def refusing(path: str, flags: int, mode: int = 0o777) -> int:
        if path.endswith(".part"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", refusing)
    target = tmp_path / "out.jsonl"
    with pytest.raises(PermissionError) as info, atomic_write(target) as out:
        out.write(b"x")
    assert info.value.filename == str(target) and ".part" not in str(info.value)
    assert not list(tmp_path.iterdir())
