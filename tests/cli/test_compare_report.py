"""``finetune compare --check ... --samples N --report FILE``: checks, stability and reports from a shell,
and the same figures in the printed summary and in every report."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import orjson
import pytest

from finetune_sdk.emulator import Emulator
from finetune_sdk.evaluate._format import number, percent, seconds
from tests.cli.conftest import BASE_MODEL, Run, cli_env, command, on_a_terminal


@pytest.fixture(scope="module")
def tuned(finetune: Run, data_dir: Path) -> str:
    """A model tuned on the CLI tests' dataset (replies like ``第3句金句,一针见血。``)."""
    created = finetune(
        "jobs", "create", "--model", BASE_MODEL, "--training-file", str(data_dir / "train.jsonl"),
        "--preset", "fast", "--wait", "--poll-interval", "0.05",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    return created.stdout.split()[1]


def compare_args(tuned: str, *extra: str) -> list[str]:
    return ["compare", "--base", BASE_MODEL, "--tuned", tuned, *extra, "词语3", "词语7"]


def test_checks_and_samples_go_into_the_json_and_the_table(finetune: Run, tuned: str) -> None:
    checks = ["--check", "ends-with=。", "--check", "no-latin", "--check", "no-prompt-words"]
    result = finetune(*compare_args(tuned, *checks, "--samples", "3", "--temperature", "0.7", "--json"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no bar, no note in a pipe
    data = orjson.loads(result.stdout)
    assert data["samples"] == 3
    assert [c["name"] for c in data["checks"]] == ["ends with 。", "no Latin letters", "no prompt words"]
    figures = data["figures"]
    assert figures["base"]["calls"] == figures["tuned"]["calls"] == 6
    rates = [(c["base_pass_rate"], c["tuned_pass_rate"]) for c in figures["checks"]]
    assert rates[1:] == [(0.0, 1.0), (0.0, 1.0)]  # the base model echoes the word, in English
    assert figures["tuned"]["distinct_share"] == pytest.approx(1 / 3)
    table = finetune(*compare_args(tuned, *checks))
    assert table.returncode == 0, table.stderr
    assert "check no Latin letters: base 0% -> tuned 100% (differs on 2 of 2 prompts)" in table.stdout


@pytest.mark.parametrize(
    ("name", "starts"), [("out.html", "<!DOCTYPE html>"), ("out.md", "# Base versus tuned")]
)
def test_report_is_written(finetune: Run, tuned: str, tmp_path: Path, name: str, starts: str) -> None:
    path = tmp_path / name
    result = finetune(*compare_args(tuned, "--check", "one-sentence", "--report", str(path)))
    assert result.returncode == 0, result.stderr
    assert path.read_text(encoding="utf-8").startswith(starts)
    assert "one sentence" in path.read_text(encoding="utf-8")
    assert result.stderr == f"report written to {path}\n"
    assert "第7句金句" in result.stdout  # the table still goes to stdout


def test_json_report(finetune: Run, tuned: str, tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    assert finetune(*compare_args(tuned, "--report", str(path))).returncode == 0
    assert [row["prompt"] for row in orjson.loads(path.read_bytes())["rows"]] == ["词语3", "词语7"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--check", "ends-width=。"], "unknown check 'ends-width'; the checks are: ends-with, no-latin"),
        (["--check", "max-chars=x"], "check max-chars='x': the value is a whole number"),
        (["--samples", "0"], "0 is not in the range 1<=x<=1000"),
        (["--concurrency", "0"], "0 is not in the range x>=1"),
    ],
)
def test_bad_flags_are_usage_errors(offline: Run, args: list[str], message: str) -> None:
    result = offline(*compare_args("ft:x", *args))
    assert result.returncode == 2
    assert message in " ".join(result.stderr.split())


def test_an_unwritable_report_is_one_error_line_before_any_call(offline: Run, tmp_path: Path) -> None:
    path = tmp_path / "missing-folder" / "out.html"
    result = offline(*compare_args("ft:x", "--report", str(path)))  # no API key: nothing could be sent
    assert result.returncode == 1
    assert result.stderr == f"error: cannot write the report to {path}: No such file or directory\n"


def test_a_report_of_an_unknown_kind_is_a_usage_error_before_any_call(offline: Run, tmp_path: Path) -> None:
    path = tmp_path / "results.txt"  # would have been an HTML page under another name
    result = offline(*compare_args("ft:x", "--report", str(path)))  # no API key: nothing could be sent
    assert result.returncode == 2
    assert "a report is FILE.html (or .htm), FILE.md (or .markdown) or FILE.json" in " ".join(
        result.stderr.split()
    )
    assert not path.exists()


@pytest.mark.parametrize("same", ["report", "input"])
def test_a_report_over_another_file_is_refused_before_any_call(
    offline: Run, tmp_path: Path, same: str
) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("词语3\n", encoding="utf-8")
    other = str(tmp_path / "a.md") if same == "report" else str(prompts)
    args = ["--prompts-file", str(prompts), "--report", str(tmp_path / "a.md"), "--report", other]
    result = offline("compare", "--base", BASE_MODEL, "--tuned", "ft:x", *args)
    assert result.returncode == 1, result.stderr  # refused before the missing API key is even looked at
    assert "error: the report" in result.stderr and (
        "one file" in result.stderr or "is an input" in result.stderr
    )
    assert prompts.read_text(encoding="utf-8") == "词语3\n"


@pytest.mark.timeout(60)
def test_on_a_terminal_a_bar_counts_the_calls(emu: Emulator, tuned: str) -> None:
    args = compare_args(tuned, "--samples", "2", "--concurrency", "1")
    status, out, terminal = on_a_terminal(command(*args), cli_env(emu, NO_COLOR="1"), columns=120)
    assert status == 0
    stderr = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal)
    assert "comparing 2 prompts" in stderr and "8/8" in stderr, stderr
    assert "第7句金句" in out


# -- one comparison, four renderings, the same figures ------------------------------------------------


class Tables(HTMLParser):
    """The rows of each ``<table class=...>`` and the text of each ``<p class=...>`` of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.paragraphs: dict[str, list[str]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._paragraph: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        css = dict(attrs).get("class") or ""
        if tag == "table":
            self._table = css
            self.tables.setdefault(css, [])
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in {"td", "th"}:
            self._cell = []
        elif tag == "p":
            self._paragraph = (css, [])

    def handle_endtag(self, tag: str) -> None:
        if tag in {"td", "th"} and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None
        elif tag == "p" and self._paragraph is not None:
            css, text = self._paragraph
            self.paragraphs.setdefault(css, []).append("".join(text))
            self._paragraph = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._paragraph is not None:
            self._paragraph[1].append(data)


def md_plain(text: str) -> str:
    """What a Markdown viewer shows for escaped inline text."""
    return html.unescape(re.sub(r"\\([\\`*_\[\]|~:.#+=>-])", r"\1", text))


def md_section(md: str, heading: str) -> list[str]:
    lines = md.splitlines()
    start = lines.index(heading) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return [line for line in lines[start:end] if line]


def md_rows(lines: list[str]) -> list[list[str]]:
    rows = [line for line in lines if line.startswith("|") and not line.startswith("|---")]
    return [[md_plain(cell.strip()) for cell in row.strip("|").split(" | ")] for row in rows[1:]]


def printed_figures(stdout: str) -> tuple[list[list[str]], list[str]]:
    """The figures' table printed under the answers, and the two sentences after it."""
    lines = stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split() == ["base", "tuned"])
    rows: list[list[str]] = []
    for line in lines[header + 1 :]:
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) != 3:
            break
        rows.append(cells)
    return rows, lines[header + 1 + len(rows) :]


def test_the_summary_and_every_report_show_the_same_figures(
    finetune: Run, tuned: str, tmp_path: Path
) -> None:
    system = tmp_path / "long.txt"
    system.write_text("你是一位犀利的影评人。只用中文，一针见血，以“。”结尾。" * 8, encoding="utf-8")
    reports = {suffix: tmp_path / f"report.{suffix}" for suffix in ("html", "md", "json")}
    args = ["--base-system", str(system), "--check", "ends-with=。", "--check", "no-latin", "--samples", "3"]
    args += [item for path in reports.values() for item in ("--report", str(path))]
    result = finetune("compare", "--base", BASE_MODEL, "--tuned", tuned, *args, "词语3", "词语7", "词语9")
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = orjson.loads(reports["json"].read_bytes())
    summary = data["summary"]
    table = [[row["label"], row["base"], row["tuned"]] for row in summary["table"]]
    checks = [[c["check"], c["base"], c["tuned"], c["differing_prompts"]] for c in summary["checks"]]

    # the command line's summary
    printed, after = printed_figures(result.stdout)
    assert printed == table
    assert after[:2] == summary["lines"]
    assert (
        summary["emulated"] in result.stdout.splitlines() and summary["scope"] in result.stdout.splitlines()
    )
    for check, base, tuned_rate, _ in checks:
        assert f"check {check}: base {base} -> tuned {tuned_rate}" in result.stdout

    # the HTML page
    page = Tables()
    page.feed(reports["html"].read_text(encoding="utf-8"))
    assert page.tables["figures"][1:] == table
    assert page.tables["checks"][1:] == checks
    assert page.paragraphs["verdict"] == [f"{line}." for line in summary["lines"]]
    assert page.paragraphs["emulated"] == [summary["emulated"]] and page.paragraphs["scope"] == [
        summary["scope"]
    ]

    # the Markdown report
    md = reports["md"].read_text(encoding="utf-8")
    figures_section = md_section(md, "## Stability, tokens and speed")
    assert md_rows(figures_section) == table
    assert [md_plain(line) for line in figures_section if not line.startswith("|")] == summary["lines"]
    assert md_rows(md_section(md, "## Checks")) == checks
    assert f"> {summary['emulated']}" in md.splitlines() and summary["scope"] in md.splitlines()

    # and the shown figures are the raw ones, formatted: median and p95 over every call of a side
    raw = data["figures"]
    shown = {row[0]: (row[1], row[2]) for row in table}
    for side, index in (("base", 0), ("tuned", 1)):
        figures = raw[side]
        assert figures["calls"] == 9
        assert shown["latency, median"][index] == seconds(figures["latency_median"])
        assert shown["latency, p95"][index] == seconds(figures["latency_p95"])
        assert shown["time to first token, median"][index] == seconds(figures["ttft_median"])
        label = "exact count" if raw["tokens_exact"] else "SDK's estimate"
        assert shown[f"prompt tokens per call ({label})"][index] == number(figures["prompt_tokens_per_call"])
        assert shown["prompt tokens per call (server's usage)"][index] == number(
            figures["reported_prompt_tokens_per_call"]
        )
        assert shown["calls passing every check"][index] == percent(figures["all_checks_pass"])
    ratio = raw["latency_ratio"]
    speed = summary["lines"][1]
    assert speed.startswith("median latency ") and speed.endswith("(medians over 9 calls per side)")
    if f"{ratio:.2f}" == "1.00" or f"{1 / ratio:.2f}" == "1.00":  # within half a percent, either way
        assert "about as fast (1.00x)" in speed
    else:
        assert (f"{ratio:.2f}x as fast" in speed) if ratio > 1 else (f"{1 / ratio:.2f}x slower" in speed)
    assert "9 calls per side, 4 at a time" in summary["scope"] and data["emulated"] is True
