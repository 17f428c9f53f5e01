"""``python -m finetune_sdk.emulator``: run the emulator in the foreground and say what to export.

Its options are :class:`~finetune_sdk.emulator.Emulator`'s keywords, one flag each (``finetune
emulator`` hands its arguments to this same parser, so both commands always take the same flags).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

from .server import Emulator
from .settings import BASE_MODELS, DEFAULT_FAULT_KINDS, FAULT_KINDS, FaultKind

#: ``Emulator`` keywords taken as a comma-separated list on the command line.
_LISTS = ("fault_kinds", "fault_paths", "base_models")


def _names(raw: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in raw.split(",") if name.strip())


def _port(raw: str) -> int:
    port = int(raw)
    if not 0 <= port <= 65535:
        raise ValueError(raw)  # argparse says: invalid port value
    return port


_port.__name__ = "port"  # what argparse calls the value it refuses


class _Help(argparse.HelpFormatter):
    """Adds each option's default to its help, where it says something (not a flag's, not "none")."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default: object = action.default
        if "(default" in text or default in (None, argparse.SUPPRESS) or isinstance(default, (bool, tuple)):
            return text
        return f"{text} (default: %(default)s)"


def parser(prog: str = "python -m finetune_sdk.emulator") -> argparse.ArgumentParser:
    """The command line of the emulator (also used by ``finetune emulator``); ``--help`` shows each
    option's default, as the other commands do."""
    cli = argparse.ArgumentParser(
        prog=prog,
        description="Run a local emulation of the fine-tuning platform (no account needed).",
        formatter_class=_Help,
    )
    add = cli.add_argument
    add("--host", default="127.0.0.1", help="the address to listen on")
    add("--port", type=_port, default=8000, help="0 to 65535; 0 picks a free port")
    add("--api-key", help="the key clients must send (default: a fresh one)")
    add("--time-scale", type=float, default=1.0, help="job speed-up")
    add("--fault-rate", type=float, default=0.0, help="share of requests that fail")
    add("--fault-kinds", type=_names, help=f"comma-separated subset of {','.join(FAULT_KINDS)}")
    add("--fault-paths", type=_names, default=(), help="comma-separated path prefixes faults may hit")
    add("--seed", type=int, default=0, help="seeds the fault draws and the loss curves")
    add("--latency", type=float, default=0.0, help="seconds added to each request")
    add("--retry-after", type=float, default=0.0, help="seconds of Retry-After on 429 and 503 faults")
    add("--envelope", action="store_true", help="answer in the platform's envelope")
    add(
        "--no-envelope-chat",
        dest="envelope_chat",
        action="store_false",
        help="with --envelope: keep non-streaming chat answers OpenAI-plain",
    )
    add(
        "--base-models",
        type=_names,
        default=BASE_MODELS,
        help=f"comma-separated models to offer (default: {','.join(BASE_MODELS)})",
    )
    add("--org", default="emulator-org", help="the org in tuned model names")
    add("--validate-seconds", type=float, default=0.5, help="simulated seconds of validation")
    add("--queue-seconds", type=float, default=0.5, help="simulated seconds in the queue")
    add("--step-seconds", type=float, default=0.05, help="simulated seconds per training step")
    add("--chunk-chars", type=int, default=4, help="characters per streamed delta")
    add("--chunk-delay", type=float, default=0.0, help="real seconds between streamed deltas")
    add("--prompt-token-delay", type=float, default=0.0, help="real seconds per prompt token (prefill)")
    add("--base-reply-chars", type=int, default=0, help="pad base model replies to this length")
    add("--max-file-bytes", type=int, default=512 * 1024 * 1024, help="larger uploads get 413")
    add("--max-request-bytes", type=int, default=8 * 1024 * 1024, help="larger JSON bodies get 413")
    add("--header-timeout", type=float, default=10.0, help="seconds to send a request's head")
    add(
        "--no-poll-hints",
        dest="poll_hints",
        action="store_false",
        help="send no Retry-After with a running job (as a server that gives no hint)",
    )
    add("--access-log", action="store_true", help="log each request on stderr")
    add(
        "--env",
        action="store_true",
        help='print only the export lines, then close stdout: eval "$(... --env &)"',
    )
    return cli


#: Flags of the command line that are not ``Emulator`` keywords.
COMMAND_ONLY = frozenset({"access_log", "env"})


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Run until interrupted; returns the exit status."""
    try:
        args = vars(parser(*([prog] if prog else [])).parse_args(argv))
    except SystemExit as exc:  # --help (0), or a usage error argparse has explained (2)
        return exc.code if isinstance(exc.code, int) else 2
    kinds: tuple[str, ...] = args["fault_kinds"] or ()
    unknown = [name for name in kinds if name not in FAULT_KINDS]
    if unknown:
        known = ", ".join(FAULT_KINDS)
        print(f"error: unknown fault kinds: {', '.join(unknown)}; choose from {known}", file=sys.stderr)
        return 2
    chosen: tuple[FaultKind, ...] = tuple(kind for kind in FAULT_KINDS if kind in kinds)
    options: dict[str, Any] = {k: v for k, v in args.items() if k not in COMMAND_ONLY}
    options["fault_kinds"] = chosen or DEFAULT_FAULT_KINDS
    try:
        emulator = Emulator(**options)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    announce: Callable[[Emulator], None] = _export_only if args["env"] else _announce
    if threading.current_thread() is threading.main_thread():
        # uvicorn stops gracefully on SIGTERM, then raises it again: end as after Ctrl-C, cleaned up
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the Ctrl-C it handled on exit
            emulator.run(on_ready=announce, access_log=args["access_log"])
    except OSError as exc:  # binding the port
        print(f"error: {_bind_failure(exc, args['host'], args['port'])}", file=sys.stderr)
        return 1
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _bind_failure(exc: OSError, host: str, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} is already in use on {host}; pick another with --port, or --port 0 for a free one"
        )
    return f"cannot listen on {host} port {port}: {exc.strerror or exc}"


def export_lines(emulator: Emulator) -> list[str]:
    """The shell lines that point the SDK at ``emulator``."""
    return [f"export FINETUNE_BASE_URL={emulator.base_url}", f"export FINETUNE_API_KEY={emulator.api_key}"]


def _announce(emulator: Emulator) -> None:
    print("finetune-sdk emulator (an emulation of the platform, not the real service)")
    print("Point the SDK at it:")
    for line in export_lines(emulator):
        print(f"  {line}")
    print("Press Ctrl-C to stop.", flush=True)


def _export_only(emulator: Emulator) -> None:
    """``--env``: the export lines alone (and the process id, to stop it with ``kill``); then stdout
    is closed, so that ``eval "$(... --env &)"`` gets its end of file while the emulator serves on in
    the background."""
    lines = [*export_lines(emulator), f"export FINETUNE_EMULATOR_PID={os.getpid()}"]
    print("\n".join(lines), flush=True)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), sys.stdout.fileno())


if __name__ == "__main__":
    raise SystemExit(main())
