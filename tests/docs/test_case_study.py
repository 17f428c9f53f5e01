"""examples/case_study.py tells the guide's story with figures, says they are emulated, writes its report."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_case_study_prints_the_figures_and_writes_the_report(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINETUNE_")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "case_study.py"), "report.html"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 0, done.stderr[-3000:]
    assert "embedded emulator" in out and "come from the embedded emulator, an emulation" in out
    assert "6 words, 5 samples each per side" in out
    rates = dict(re.findall(r"^\s*(\d+%\s+\d+%)\s+(.+)$", out, re.MULTILINE)[i][::-1] for i in range(7))
    assert rates["no Latin letters"].split() == ["0%", "100%"]
    assert rates["every check"].split() == ["0%", "100%"]
    base_ends, tuned_ends = rates["ends with 。"].split()
    assert tuned_ends == "100%" and 0 < int(base_ends[:-1]) < 100  # the base model's doubled 。。
    assert re.search(r"distinct answers per word: base (\d+)%, tuned 20%", out)
    tokens = r"prompt tokens per call \((?:estimate|exact)\): base \d+, tuned \d+: \d+ fewer \(9\d%\)"
    assert re.search(tokens, out)
    speed = re.search(r"answers (\d+\.\d)x as fast", out)
    assert speed and float(speed[1]) > 2
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "an emulation of the platform" in page and "Pass rate per check" in page
