"""``finetune jobs watch|plot|report``, ``jobs list`` with filters and ``compare --job``, through the real
entry point against the emulator (over real sockets)."""

from __future__ import annotations

import datetime
import re
import time
from pathlib import Path

import orjson
import pytest

from finetune_sdk import Client, FineTuneJob
from finetune_sdk.emulator import Emulator
from tests.cli.conftest import BASE_MODEL, Run, cli_env, command, on_a_terminal, write_dataset

BRAILLE = re.compile("[\u2801-\u28ff]")
ESCAPE = "\x1b"


@pytest.fixture(scope="module")
def client(emu: Emulator) -> Client:
    return Client(api_key=emu.api_key, base_url=emu.base_url)


@pytest.fixture(scope="module")
def done(client: Client, data_dir: Path) -> FineTuneJob:
    """A job that succeeded, with a validation loss per epoch."""
    job = client.jobs.create(model=BASE_MODEL, training_file=data_dir / "train.jsonl", suffix="views")
    return client.jobs.wait(job)


def _slow_job(client: Client, data_dir: Path, suffix: str = "slow") -> FineTuneJob:
    """A job still training for a second or two, to be watched live."""
    path = write_dataset(data_dir / f"{suffix}.jsonl", n=60)
    return client.jobs.create(
        model=BASE_MODEL, training_file=path, suffix=suffix, hyperparameters={"n_epochs": 3, "batch_size": 1}
    )


def test_watch_on_a_terminal_draws_the_bar_and_the_loss_chart(
    emu: Emulator, client: Client, data_dir: Path
) -> None:
    job = _slow_job(client, data_dir)
    status, out, screen = on_a_terminal(command("jobs", "watch", job.id), cli_env(emu), columns=100)
    assert status == 0, screen
    finished = client.jobs.retrieve(job.id)
    assert out.strip() == finished.fine_tuned_model
    assert f"loss of {job.id}" in screen
    assert "━ train" in screen and "• validation" in screen
    assert len(BRAILLE.findall(screen)) > 50  # the curves, in braille dots
    total = finished.total_steps
    assert f"{total}/{total}" in screen and "ETA" in screen
    assert f"step {total}" in screen  # the last picture holds every step


def test_watch_in_a_pipe_prints_lines_and_the_model(finetune: Run, client: Client, data_dir: Path) -> None:
    job = _slow_job(client, data_dir, "piped")
    result = finetune("jobs", "watch", job.id)
    assert result.returncode == 0, result.stderr
    assert ESCAPE not in result.stderr + result.stdout  # no Live, no bar
    assert result.stdout.strip() == client.jobs.retrieve(job.id).fine_tuned_model
    lines = result.stderr.splitlines()
    assert lines[0] == f"waiting for {job.id}"
    assert any(re.search(r"running, step \d+/\d+, epoch", line) for line in lines)


def test_watch_json_gives_every_step_then_the_end(finetune: Run, client: Client, data_dir: Path) -> None:
    job = _slow_job(client, data_dir, "json")
    result = finetune("jobs", "watch", job.id, "--json")
    assert result.returncode == 0, result.stderr
    rows = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert {tuple(sorted(row)) for row in rows} == {tuple(sorted(rows[0]))}  # one shape
    steps = [row["step"] for row in rows if row["status"] == "running"]
    total = rows[-1]["total_steps"]
    assert sorted(set(steps)) == list(range(1, total + 1))
    assert rows[-1]["status"] == "succeeded" and rows[-1]["fine_tuned_model"].startswith("ft:")
    assert any(row["valid_loss"] is not None for row in rows)


def test_watch_of_a_failing_job_is_an_error(finetune: Run, client: Client, tmp_path: Path) -> None:
    path = write_dataset(tmp_path / "bad.jsonl", n=4)
    with path.open("a", encoding="utf-8") as file:
        file.write('{"messages": [{"role": "user", "content": "only a question"}]}\n')
    uploaded = client.files.upload(path, validate=False)
    job = client.jobs.create(model=BASE_MODEL, training_file=uploaded.id)
    result = finetune("jobs", "watch", job.id)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "error:" in result.stderr and "invalid_training_file" in result.stderr


def test_create_wait_on_a_terminal_draws_the_same_chart(emu: Emulator, data_dir: Path) -> None:
    path = write_dataset(data_dir / "created.jsonl", n=60)
    args = command("jobs", "create", "-m", BASE_MODEL, "-t", str(path), "--set", "batch_size=1", "--wait")
    status, out, screen = on_a_terminal(args, cli_env(emu), columns=90)
    assert status == 0, screen
    job_id, model = out.split()
    assert model.startswith("ft:")
    assert f"loss of {job_id}" in screen and "• validation" in screen
    assert len(BRAILLE.findall(screen)) > 50


def test_plot_writes_an_svg_and_refuses_to_overwrite_its_input(
    finetune: Run, client: Client, done: FineTuneJob, tmp_path: Path
) -> None:
    svg = tmp_path / "loss.svg"
    result = finetune("jobs", "plot", done.id, "-o", str(svg))
    assert result.returncode == 0, result.stderr
    text = svg.read_text(encoding="utf-8")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg')
    assert text.count("<path") >= 2 and f"Loss of {done.id}" in text
    assert f"{done.total_steps} steps drawn" in result.stderr
    csv = tmp_path / "metrics.csv"
    csv.write_text(client.jobs.metrics(done).to_csv(), encoding="utf-8")
    again = tmp_path / "again.svg"
    offline = finetune("jobs", "plot", done.id, "--metrics-file", str(csv), "-o", str(again))
    assert offline.returncode == 0, offline.stderr
    assert again.read_text(encoding="utf-8") == text  # the same rows, the same picture
    before = csv.read_bytes()
    refused = finetune("jobs", "plot", done.id, "--metrics-file", str(csv), "-o", str(csv))
    assert refused.returncode == 2  # not an SVG name: refused before the conflict is looked at
    assert f"{csv}: the chart is FILE.svg" in refused.stderr
    assert csv.read_bytes() == before
    named = tmp_path / "metrics.svg"  # a CSV under an SVG name, given as both
    named.write_bytes(before)
    refused = finetune("jobs", "plot", done.id, "--metrics-file", str(named), "-o", str(named))
    assert refused.returncode == 1
    assert "error:" in refused.stderr and "metrics file" in refused.stderr
    assert named.read_bytes() == before


def test_report_writes_the_job_page(finetune: Run, done: FineTuneJob, data_dir: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    data = data_dir / "train.jsonl"
    result = finetune("jobs", "report", done.id, "-o", str(page), "--data", str(data), "--price", "2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(page)
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "<script" not in text
    for part in ('id="loss"', "<svg", 'id="hyperparameters"', 'id="data"', 'id="timeline"', "emulated:"):
        assert part in text, part
    assert "billed tokens" in text and "per million tokens" in text
    refused = finetune("jobs", "report", done.id, "-o", str(data), "--data", str(data))
    assert refused.returncode == 2 and f"{data}: the page is FILE.html or FILE.htm" in refused.stderr
    assert data.read_bytes().startswith(b'{"messages"')


def test_list_filters_and_prints_a_table(finetune: Run, client: Client, data_dir: Path) -> None:
    path = data_dir / "train.jsonl"
    first = client.jobs.create(
        model=BASE_MODEL, training_file=path, suffix="alpha", metadata={"team": "search", "run": "1"}
    )
    second = client.jobs.create(model=BASE_MODEL, training_file=path, suffix="beta", metadata={"team": "ads"})
    client.jobs.cancel(second)

    def ids(*args: str) -> list[str]:
        result = finetune("jobs", "list", "--limit", "100", *args)
        assert result.returncode == 0, result.stderr
        return [line.split()[0] for line in result.stdout.splitlines()]

    assert ids("--suffix", "alpha") == [first.id]
    assert ids("--metadata", "team=ads") == [second.id]
    assert ids("--metadata", "team=search", "--metadata", "run=1") == [first.id]
    assert ids("--metadata", "team=search", "--metadata", "run=2") == []
    assert second.id in ids("--status", "cancelled") and first.id not in ids("--status", "cancelled")
    assert ids("--model", "Qwen/Qwen2.5-0.5B-Instruct") == []
    later = datetime.datetime.now().astimezone() + datetime.timedelta(days=1)
    assert ids("--created-after", later.date().isoformat()) == []
    assert first.id in ids("--created-before", later.isoformat(timespec="seconds"))
    assert first.id in ids("--created-after", str(int(time.time()) - 3600))
    as_json = orjson.loads(finetune("jobs", "list", "--suffix", "beta", "--json").stdout)
    assert [job["id"] for job in as_json] == [second.id]
    bad = finetune("jobs", "list", "--created-after", "yesterday")
    assert bad.returncode == 2 and "'yesterday' is neither an ISO date" in bad.stderr


def test_list_on_a_terminal_is_a_table_with_headings(emu: Emulator, done: FineTuneJob) -> None:
    status, _, screen = on_a_terminal(
        command("jobs", "list", "--suffix", "views"), cli_env(emu), columns=160, stdout=True
    )
    assert status == 0, screen
    heading = next(line for line in screen.splitlines() if "fine_tuned_model" in line)
    assert re.sub(r"\x1b\[[0-9;]*m", "", heading).split() == [
        "id", "status", "model", "fine_tuned_model", "suffix", "created",
    ]  # fmt: skip
    assert done.id in screen


def test_compare_with_the_job_shows_its_loss_curves(finetune: Run, done: FineTuneJob, tmp_path: Path) -> None:
    page = tmp_path / "compare.html"
    args = ["compare", "--base", BASE_MODEL, "--job", done.id, "--report", str(page), "词语3"]
    result = finetune(*args)
    assert result.returncode == 0, result.stderr
    text = page.read_text(encoding="utf-8")
    assert 'id="training"' in text and done.id in text
    assert text.count("<svg") >= 2  # the bars, and the loss chart
    wrong = finetune("compare", "--base", BASE_MODEL, "--job", done.id, "--tuned", "ft:other", "词语3")
    assert wrong.returncode == 2 and f"job {done.id} made" in wrong.stderr


def test_a_missing_key_names_both_ways_forward(offline: Run, tmp_path: Path) -> None:
    for args in (["jobs", "watch", "ftjob-x"], ["jobs", "list"]):
        result = offline(*args)
        assert result.returncode == 1
        line = result.stderr.strip()
        assert line.startswith("error: no API key") and "FINETUNE_API_KEY" in line
        assert "finetune emulator --env" in line
