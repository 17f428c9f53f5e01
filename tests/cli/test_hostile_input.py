"""Bad input to the command, each refused by one clear line with the documented exit status, before any
work and with nothing written: a missing optional extra, absurd counts, options that only make sense
together, outputs named for another kind of file; and a job table on a terminal too narrow for it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import finetune_sdk
from finetune_sdk.cli._app import run
from finetune_sdk.emulator import Emulator
from finetune_sdk.emulator.__main__ import main as emulator_main
from tests.cli.conftest import BASE_MODEL, cli_env, command, on_a_terminal, write_dataset
from tests.tune.sharegpt import write_sharegpt


def _one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


def test_a_workbook_without_the_xlsx_extra_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["问题", "回答"])
    sheet.append(["五道口", "精心搭建的舞台布景。"])
    data = tmp_path / "sheet.xlsx"
    book.save(data)
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # as when the extra is not installed
    code = run(["tune", str(data), "-m", BASE_MODEL, "--dry-run"])
    assert code == 1
    line = _one_line(capsys.readouterr().err)
    assert line == 'error: reading an Excel workbook needs openpyxl: pip install "finetune-sdk[xlsx]"'
    assert not (tmp_path / "sheet.tune").exists()  # no empty folder left behind


def test_data_that_cannot_be_read_leaves_no_output_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "chats.json"
    empty.write_bytes(b"")
    assert run(["tune", str(empty), "-m", BASE_MODEL, "--dry-run"]) == 1
    assert _one_line(capsys.readouterr().err) == f"error: {empty} is empty: nothing to convert"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["chats.json"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--samples", "1001"], "Invalid value for '--samples': 1001 is not in the range 1<=x<=1000."),
        (["--temperature", "5"], "Invalid value for '--temperature': 5.0 is not in the range 0<=x<=2."),
    ],
)
def test_compare_refuses_counts_out_of_range(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["--api-key", "k", "compare", "--base", BASE_MODEL, "--tuned", "ft:x", "五道口", *args])
    assert code == 2
    assert message in capsys.readouterr().err


def test_chat_refuses_a_temperature_the_platform_refuses(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--api-key", "k", "chat", "-m", BASE_MODEL, "hi", "--temperature", "2.5"]) == 2
    assert "'--temperature': 2.5 is not in the range 0<=x<=2." in capsys.readouterr().err


def test_a_comparison_of_absurdly_many_samples_is_refused_before_any_call() -> None:
    from finetune_sdk.evaluate._run import Plan

    with pytest.raises(ValueError, match="samples must be at most 1000, got 100000000"):
        Plan.make(["五道口"], base=("b", None), tuned=("t", None), checks=(), samples=10**8, concurrency=4)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--check", "no-latin"],
            "--check scores the comparison with the base model: give --eval PROMPTS too",
        ),
        (["--eval", "{blank}"], "the prompts file {blank} holds no prompt: write one per line"),
        (["--report", "{out}"], "Invalid value for '--report': {out}: the report is an HTML page, FILE.html"),
    ],
    ids=["check-without-eval", "blank-prompts", "report-not-html"],
)
def test_tune_refuses_what_would_be_silently_ignored_or_misnamed(
    extra: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_sharegpt(tmp_path / "chats.json")
    blank = tmp_path / "blank.txt"
    blank.write_text("\n   \n", encoding="utf-8")
    out = tmp_path / "report.txt"
    given = [part.format(blank=blank, out=out) for part in extra]
    code = run(["--api-key", "k", "tune", str(data), "-m", BASE_MODEL, *given])
    assert code == 2
    assert message.format(blank=blank, out=out) in capsys.readouterr().err
    assert not (tmp_path / "chats.tune").exists() and not out.exists()  # nothing done


def test_tune_in_python_refuses_empty_prompts_and_checks_without_prompts(tmp_path: Path) -> None:
    data = write_sharegpt(tmp_path / "chats.json")
    with pytest.raises(ValueError, match="eval holds no prompt"):
        finetune_sdk.tune(data, model=BASE_MODEL, eval=["", "  "], dry_run=True)
    with pytest.raises(ValueError, match="checks score the comparison with the base model: give eval"):
        finetune_sdk.tune(data, model=BASE_MODEL, checks=["no-latin"], dry_run=True)
    assert not (tmp_path / "chats.tune").exists()


@pytest.mark.parametrize(
    ("view", "name", "message"),
    [
        ("plot", "loss.txt", "the chart is FILE.svg"),
        ("report", "job.txt", "the page is FILE.html or FILE.htm"),
    ],
)
def test_job_views_refuse_an_output_named_for_another_kind_of_file(
    view: str, name: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / name
    assert run(["--api-key", "k", "jobs", view, "ftjob-x", "-o", str(output)]) == 2
    assert f"{output}: {message}" in capsys.readouterr().err
    assert not output.exists()


def test_plot_refuses_a_metrics_file_without_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "metrics.csv"
    empty.write_text("", encoding="utf-8")
    chart = tmp_path / "loss.svg"
    assert run(["jobs", "plot", "ftjob-x", "--metrics-file", str(empty), "-o", str(chart)]) == 1
    assert _one_line(capsys.readouterr().err) == f"error: {empty} holds no metrics rows: nothing to draw"
    assert not chart.exists()


def test_the_emulator_refuses_a_port_out_of_range_and_unknown_faults(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert emulator_main(["--port", "99999"], prog="finetune emulator") == 2
    assert "error: argument --port: invalid port value: '99999'" in capsys.readouterr().err
    assert emulator_main(["--port", "0", "--fault-kinds", "nope"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("error: unknown fault kinds: nope; choose from 429, 500, 503")


def test_the_emulator_help_shows_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    assert emulator_main(["--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for shown in ("0 picks a free port (default: 8000)", "(default: 127.0.0.1)", "(default: 0.05)"):
        assert shown in out, shown
    assert "(default: None)" not in out and "(default: False)" not in out


def test_a_narrow_terminal_folds_the_job_table_instead_of_cutting_ids(tmp_path: Path) -> None:
    with Emulator(time_scale=50) as emu:
        from finetune_sdk import Client

        with Client(api_key=emu.api_key, base_url=emu.base_url) as client:
            job = client.jobs.create(model=BASE_MODEL, training_file=write_dataset(tmp_path / "t.jsonl"))
        status, _, screen = on_a_terminal(
            command("jobs", "list"), cli_env(emu, NO_COLOR="1"), columns=30, stdout=True
        )
    assert status == 0, screen
    assert "…" not in screen
    assert job.id in "".join(screen.split())  # whole, though folded over lines


def test_every_model_option_is_shown_alike_in_help() -> None:
    import click

    from finetune_sdk.cli._app import COMMANDS, cli

    def commands(group: click.Group, ctx: click.Context) -> list[click.Command]:
        found: list[click.Command] = []
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None
            found.extend(commands(command, ctx) if isinstance(command, click.Group) else [command])
        return found

    with click.Context(cli) as ctx:
        every = commands(cli, ctx)
    assert len(every) >= len(COMMANDS)
    metavars = {
        (command.name, option.opts[0]): option.metavar
        for command in every
        for option in command.params
        if isinstance(option, click.Option) and option.name in ("model", "base", "tuned")
    }
    assert metavars and set(metavars.values()) == {"MODEL"}, metavars


@pytest.mark.parametrize("command_line", ["tune", "compare", "compare-system"])
def test_a_text_input_that_is_not_utf8_is_named(
    command_line: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    latin = tmp_path / "prompts.txt"
    latin.write_bytes("五道口\n".encode("gb18030"))
    data = write_sharegpt(tmp_path / "chats.json")
    args = {
        "tune": ["tune", str(data), "-m", BASE_MODEL, "--eval", str(latin)],
        "compare": ["compare", "--base", BASE_MODEL, "--tuned", "ft:x", "--prompts-file", str(latin)],
        "compare-system": [
            "compare",
            "--base",
            BASE_MODEL,
            "--tuned",
            "ft:x",
            "--base-system",
            str(latin),
            "p",
        ],
    }[command_line]
    assert run(["--api-key", "k", *args]) == 1
    line = _one_line(capsys.readouterr().err)
    assert line.startswith(f"error: {latin} is not UTF-8 text (byte ") and line.endswith("save it as UTF-8")
    assert not (tmp_path / "chats.tune").exists()


def test_tune_in_python_names_a_prompts_file_that_is_not_utf8(tmp_path: Path) -> None:
    latin = tmp_path / "prompts.txt"
    latin.write_bytes(b"\xff\xfe")
    data = write_sharegpt(tmp_path / "chats.json")
    with pytest.raises(ValueError, match=r"the prompts file .*prompts\.txt is not UTF-8 text \(byte 0"):
        finetune_sdk.tune(data, model=BASE_MODEL, eval=latin, dry_run=True)
