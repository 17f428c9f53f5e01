"""``finetune validate`` on several files and folders, ``stats --exact``, ``dedupe``, ``leakage`` and the
grouping ``split``: the commands on the duplicates sample, no platform needed."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson

from tests.cli.conftest import Run, write_dataset

DATA = Path(__file__).resolve().parents[1] / "data"
MERGED = DATA / "duplicates" / "merged.jsonl"
SAMPLES = DATA / "tokens" / "samples.jsonl"


def test_validate_several_files_and_folders_prints_a_table_and_one_exit_code(
    offline: Run, tmp_path: Path
) -> None:
    folder = tmp_path / "sets"
    (folder / "inner").mkdir(parents=True)
    write_dataset(folder / "a.jsonl", n=3)
    write_dataset(folder / "inner" / "b.jsonl", n=2)
    (folder / "notes.txt").write_text("not a dataset", encoding="utf-8")
    single = tmp_path / "c.jsonl"
    write_dataset(single, n=4)
    ok = offline("validate", str(folder), str(single))
    assert ok.returncode == 0, ok.stderr
    lines = ok.stdout.splitlines()
    table = lines[lines.index("") + 1 :]
    assert table[0].split() == ["file", "status", "examples", "errors", "warnings"]
    rows = [row.split() for row in table[2:-1]]
    assert rows == [
        [str(folder / "a.jsonl"), "ok", "3", "0", "0"],
        [str(folder / "inner" / "b.jsonl"), "ok", "2", "0", "0"],
        [str(single), "ok", "4", "0", "0"],
    ]
    assert table[-1] == "3 files: 3 ok, 0 not"
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n", encoding="utf-8")
    mixed = offline("validate", str(single), str(bad))
    assert mixed.returncode == 1
    assert f"{bad}:1: invalid_json: " in mixed.stdout
    assert mixed.stdout.splitlines()[-1] == "2 files: 1 ok, 1 not"
    as_json = offline("validate", "--json", str(single), str(bad))
    assert [r["ok"] for r in orjson.loads(as_json.stdout)] == [True, False]


def test_validate_one_file_keeps_its_output(offline: Run) -> None:
    result = offline("validate", str(MERGED))
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert f"{MERGED}: ok, 18 examples, 2 warnings" in lines
    assert "duplicate examples: 5 (3 exact copies, 2 more once normalised)" in lines
    assert "duplicate prompts: 7" in lines
    assert any(line.startswith(f"{MERGED}:11: warning: duplicate_examples: ") for line in lines)


def test_stats_exact_prints_the_exact_counts(offline: Run) -> None:
    result = offline("stats", "--exact", "--max-tokens", "120", "--n-epochs", "2", str(SAMPLES))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "exact tokens: 2504" in lines
    assert "exactly over max_tokens (120): 3 (lines 23, 25, 26)" in lines
    assert any(line.startswith("exact tokens per example: p50 ") for line in lines)
    assert any(line.startswith("billed tokens for 2 epochs: ") for line in lines)
    as_json = orjson.loads(offline("stats", "--exact", "--json", str(SAMPLES)).stdout)
    assert as_json["exact"]["total"] == 2504


def test_dedupe_writes_kept_and_dropped_and_leaves_the_input(offline: Run, tmp_path: Path) -> None:
    source = tmp_path / "merged.jsonl"
    shutil.copy(MERGED, source)
    before = source.read_bytes()
    result = offline("dedupe", str(source))
    assert result.returncode == 0, result.stderr
    kept = tmp_path / "merged.dedup.jsonl"
    dropped = tmp_path / "merged.duplicates.jsonl"
    assert len(kept.read_text(encoding="utf-8").splitlines()) == 13
    records = [orjson.loads(line) for line in dropped.read_bytes().splitlines()]
    assert [(r["line"], r["duplicate_of"]) for r in records] == [(11, 1), (12, 1), (13, 9), (14, 3), (18, 10)]
    assert all(r["example"]["messages"] for r in records)
    assert f"{source}:12: duplicate of line 1" in result.stdout
    assert "kept + dropped = 18" in result.stdout
    assert source.read_bytes() == before
    by_prompt = offline("dedupe", str(source), "--key", "prompt", "-o", str(tmp_path / "p.jsonl"))
    assert f"{tmp_path / 'p.jsonl'}  11 kept" in by_prompt.stdout
    refused = offline("dedupe", str(source), "-o", str(source))
    assert refused.returncode == 2
    assert source.read_bytes() == before


def test_split_groups_by_prompt_by_default_and_leakage_finds_nothing(offline: Run, tmp_path: Path) -> None:
    result = offline("split", str(MERGED), "--ratio", "0.3", "--out-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("grouped by prompt: ")
    train, validation = tmp_path / "merged.train.jsonl", tmp_path / "merged.validation.jsonl"
    clean = offline("leakage", str(train), str(validation))
    assert clean.returncode == 0, clean.stdout
    assert clean.stdout.splitlines()[-1].startswith(f"{validation}: 0 examples of ")


def test_leakage_lists_shared_examples_with_lines_and_exits_1(offline: Run, tmp_path: Path) -> None:
    validation = tmp_path / "validation.jsonl"
    lines = MERGED.read_text(encoding="utf-8").splitlines()
    validation.write_text("\n".join([lines[0], lines[15]]) + "\n", encoding="utf-8")
    result = offline("leakage", str(MERGED), str(validation))
    assert result.returncode == 1
    assert f"{validation}:1: example also at {MERGED}:1 (and 2 more)" in result.stdout
    assert f"{validation}:2: example also at {MERGED}:16" in result.stdout
    report = orjson.loads(offline("leakage", "--json", str(MERGED), str(validation)).stdout)
    assert [leak["train_line"] for leak in report["examples"]] == [1, 16]


def test_split_says_when_whole_groups_make_the_validation_side_far_larger(
    offline: Run, tmp_path: Path
) -> None:
    path = tmp_path / "two.jsonl"
    rows = [
        {
            "messages": [
                {"role": "user", "content": "A" if i < 60 else "B"},
                {"role": "assistant", "content": str(i)},
            ]
        }
        for i in range(100)
    ]
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    result = offline("split", str(path), "--ratio", "0.05", "--out-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "the validation side holds 40 of 100 examples (40%, 5% asked)" in result.stderr
    plain = offline("split", str(MERGED), "--ratio", "0.3", "--out-dir", str(tmp_path))
    assert "the validation side holds" not in plain.stderr
