"""``finetune emulator``: the local emulation of the platform, run in the foreground.

The options are the emulator's own (``python -m finetune_sdk.emulator``), handed to its ``main`` as they
are, so both commands behave the same.
"""

from __future__ import annotations

import click

from ._output import CliError

__all__ = ["emulator"]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="0 picks a free port."
)
@click.option("--api-key", "key", help="The key clients must send (default: a fresh one).")
@click.option("--time-scale", type=float, default=1.0, show_default=True, help="How much faster jobs run.")
@click.option("--fault-rate", type=float, default=0.0, show_default=True, help="Share of requests that fail.")
@click.option(
    "--fault-kinds", metavar="KIND,...", help="Comma-separated kinds of fault (default: the retryable ones)."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Makes faults and losses repeatable.")
@click.option("--latency", type=float, default=0.0, show_default=True, help="Seconds added to each request.")
@click.option("--envelope", is_flag=True, help="Answer in the platform's {code, message, data} envelope.")
@click.option("--access-log", is_flag=True, help="Log each request on stderr.")
@click.pass_context
def emulator(
    ctx: click.Context,
    *,
    host: str,
    port: int,
    key: str | None,
    time_scale: float,
    fault_rate: float,
    fault_kinds: str | None,
    seed: int,
    latency: float,
    envelope: bool,
    access_log: bool,
) -> None:
    """Run the platform emulator in the foreground.

    Prints the base URL and the key to export on stdout (uvicorn's lines go to stderr); Ctrl-C stops it.
    """
    try:
        from ..emulator.__main__ import main as run_emulator
    except ImportError as exc:
        raise CliError(str(exc)) from None
    argv = ["--host", host, "--port", str(port), "--time-scale", str(time_scale)]
    argv += ["--fault-rate", str(fault_rate), "--seed", str(seed), "--latency", str(latency)]
    optional = {"--api-key": key, "--fault-kinds": fault_kinds}
    argv += [item for flag, value in optional.items() if value is not None for item in (flag, value)]
    argv += [flag for flag, on in (("--envelope", envelope), ("--access-log", access_log)) if on]
    ctx.exit(run_emulator(argv))
