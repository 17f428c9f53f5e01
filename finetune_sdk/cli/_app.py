"""The root ``finetune`` group: global options, the commands, and how failures are reported.

Built on click (commands, options, help, environment variables) and rich (progress bars and colour on
stderr, only on a terminal). Every failure the SDK explains (a ``FineTuneError``, a missing file, a bad
argument, a missing optional extra) becomes one ``error: <message>`` line on stderr and exit status 1;
``--debug`` adds the traceback and logs every request. A dataset that breaks the rules prints its problems as
``FILE:LINE: code: message`` first. A retry is one short line on stderr, on a terminal or with
``--debug`` (see ``_logs``). Ctrl-C exits 130; ``jobs wait --timeout`` running out exits 124.
"""

from __future__ import annotations

import importlib
import logging
import traceback
from collections.abc import Sequence
from typing import Final

import click

from .._core.checks import is_dataset_error
from .._core.env import API_KEY_ENV, BASE_URL_ENV
from .._version import __version__
from ..errors import FineTuneError
from ._logs import install as install_log_handler
from ._output import INTERRUPTED, CliError, error, note, report_lines
from ._state import State

__all__ = ["COMMANDS", "cli", "run"]

COMMANDS: Final = {
    "convert": ("_convert", "Convert an export (JSON, CSV, Parquet, xlsx ...) to JSON Lines."),
    "validate": ("_data", "Check datasets (files or folders) against the platform's rules."),
    "stats": ("_data", "Statistics of a valid dataset; with --price, what training costs."),
    "split": ("_data", "Split a dataset into training and validation, without leakage."),
    "dedupe": ("_dedupe", "Drop repeated examples of a dataset, keeping the first copy."),
    "leakage": ("_dedupe", "List examples of VALIDATION also in TRAIN; exit 1 if any."),
    "upload": ("_files", "Check a dataset, upload it and print its file id."),
    "files": ("_files", "Uploaded files: upload, list, get, delete."),
    "jobs": ("_jobs", "Fine-tuning jobs: create, list, wait, watch, plot, report ..."),
    "chat": ("_chat", "Chat with a model: one PROMPT, or a conversation."),
    "compare": ("_chat", "Compare a base setup with a tuned one."),
    "tune": ("_tune", "From raw DATA to a tuned model and its report, in one command."),
    "emulator": ("_emulator", "Run the platform emulator in the foreground."),
}
"""Each command: the module that defines it, and the line ``finetune --help`` shows for it (the order is
that of a usual session; a line fits an 80-column terminal)."""


class _Group(click.Group):
    """Loads a command's module only when that command runs, so that ``finetune --help`` and a command
    that needs no platform start without the client, the data side or the evaluation."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = COMMANDS.get(cmd_name)
        if found is None:
            return None
        module, summary = found
        command: click.Command = getattr(importlib.import_module(f".{module}", __package__), cmd_name)
        command.short_help = summary  # the same line in the list and in the command's own context
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, summary) for name, (_, summary) in COMMANDS.items()])


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--api-key", envvar=API_KEY_ENV, show_envvar=True, metavar="KEY", help="The platform key.")
@click.option(
    "--base-url",
    envvar=BASE_URL_ENV,
    show_envvar=True,
    metavar="URL",
    help="The platform's base URL (default: https://api.openapi.cn/v1).",
)
@click.option(
    "--max-retries",
    type=click.IntRange(min=0),
    metavar="N",
    help="Retries of a failed request (a dropped connection, 429, 5xx) before giving up (default: 3).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks and log every request.")
@click.version_option(__version__, "--version", prog_name="finetune", message="%(prog)s %(version)s")
@click.pass_context
def cli(
    ctx: click.Context, api_key: str | None, base_url: str | None, max_retries: int | None, debug: bool
) -> None:
    """Fine-tune Qwen2.5 chat models with LoRA on the hosted platform, then chat with them.

    Typical session: validate a dataset, create a job from it (--wait), chat with the tuned model,
    compare it with the base model; or all of it at once, from a raw export: finetune tune. Results go
    to stdout, progress and errors to stderr.
    """
    state = ctx.ensure_object(State)
    state.api_key, state.base_url, state.debug = api_key or None, base_url or None, debug
    state.max_retries = max_retries
    if debug:  # other libraries' warnings; the SDK's own records go to the handler installed below
        logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    ctx.call_on_close(install_log_handler(debug=debug))
    ctx.call_on_close(state.close)


def _explain(exc: Exception) -> str:
    """The one line for ``exc``; a bad dataset first prints its problems (on stderr)."""
    if is_dataset_error(exc):
        *problems, head = report_lines(exc.report)
        for line in problems:
            note(line)
        return head
    if isinstance(exc, CliError):
        return exc.message
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.strerror}: {exc.filename}"
    return str(exc) or type(exc).__name__


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    state = State()
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="finetune",
            obj=state,
            standalone_mode=False,
        )
    except click.exceptions.Abort:  # Ctrl-C (click has printed a newline)
        return INTERRUPTED
    except click.ClickException as exc:  # a usage error: click explains it, with the usage line
        exc.show()
        return exc.exit_code
    except (FineTuneError, CliError, OSError, ValueError, ImportError) as exc:
        # ImportError: an optional extra the input needs is missing (openpyxl for a workbook ...); its
        # message names the extra to install
        if state.debug:
            traceback.print_exc()
        error(_explain(exc))
        return exc.exit_code if isinstance(exc, CliError) else 1
    return result if isinstance(result, int) else 0
