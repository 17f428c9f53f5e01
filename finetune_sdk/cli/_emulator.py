"""``finetune emulator``: the local emulation of the platform, run in the foreground.

Every argument is handed as it is to the emulator's own command line (``python -m
finetune_sdk.emulator``), so both commands take the same flags, which are the ``Emulator`` keywords.
"""

from __future__ import annotations

import click

from ._output import CliError

__all__ = ["emulator"]


@click.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def emulator(ctx: click.Context, args: tuple[str, ...]) -> None:
    """Run the platform emulator in the foreground (--help: its options).

    Prints the base URL and the key to export on stdout (uvicorn's lines go to stderr); --env prints
    only the export lines; Ctrl-C stops it.
    """
    try:
        from ..emulator.__main__ import main as run_emulator
    except ImportError as exc:
        raise CliError(str(exc)) from None
    ctx.exit(run_emulator(list(args), prog="finetune emulator"))
