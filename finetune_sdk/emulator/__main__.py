"""``python -m finetune_sdk.emulator``: run the emulator in the foreground and say what to export."""

from __future__ import annotations

import argparse
import contextlib
import errno
import sys
from collections.abc import Sequence

from .server import Emulator
from .settings import DEFAULT_FAULT_KINDS, FAULT_KINDS, FaultKind


def parser() -> argparse.ArgumentParser:
    """The command line of the emulator (also used by ``finetune emulator``)."""
    cli = argparse.ArgumentParser(
        prog="python -m finetune_sdk.emulator",
        description="Run a local emulation of the fine-tuning platform (no account needed).",
    )
    cli.add_argument("--host", default="127.0.0.1")
    cli.add_argument("--port", type=int, default=8000, help="0 picks a free port (default 8000)")
    cli.add_argument("--api-key", help="the key clients must send (default: a fresh one)")
    cli.add_argument("--time-scale", type=float, default=1.0, help="job speed-up (default 1)")
    cli.add_argument("--fault-rate", type=float, default=0.0, help="share of requests that fail")
    cli.add_argument("--fault-kinds", help=f"comma-separated subset of {','.join(FAULT_KINDS)}")
    cli.add_argument("--seed", type=int, default=0)
    cli.add_argument("--latency", type=float, default=0.0, help="seconds added to each request")
    cli.add_argument("--envelope", action="store_true", help="answer in the platform's envelope")
    cli.add_argument("--access-log", action="store_true", help="log each request on stderr")
    return cli


def main(argv: Sequence[str] | None = None) -> int:
    """Run until interrupted; returns the exit status."""
    args = parser().parse_args(argv)
    kinds: tuple[FaultKind, ...] = ()
    if args.fault_kinds:
        names = [name.strip() for name in args.fault_kinds.split(",") if name.strip()]
        unknown = [name for name in names if name not in FAULT_KINDS]
        if unknown:
            print(f"unknown fault kinds: {', '.join(unknown)}", file=sys.stderr)
            return 2
        kinds = tuple(kind for kind in FAULT_KINDS if kind in names)
    try:
        emulator = Emulator(
            host=args.host,
            port=args.port,
            api_key=args.api_key,
            time_scale=args.time_scale,
            fault_rate=args.fault_rate,
            seed=args.seed,
            latency=args.latency,
            envelope=args.envelope,
            fault_kinds=kinds or DEFAULT_FAULT_KINDS,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the Ctrl-C it handled on exit
            emulator.run(on_ready=_announce, access_log=args.access_log)
    except OSError as exc:  # binding the port
        print(f"error: {_bind_failure(exc, args.host, args.port)}", file=sys.stderr)
        return 1
    return 0


def _bind_failure(exc: OSError, host: str, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} is already in use on {host}; pick another with --port, or --port 0 for a free one"
        )
    return f"cannot listen on {host} port {port}: {exc.strerror or exc}"


def _announce(emulator: Emulator) -> None:
    print("finetune-sdk emulator (an emulation of the platform, not the real service)")
    print("Point the SDK at it:")
    print(f"  export FINETUNE_BASE_URL={emulator.base_url}")
    print(f"  export FINETUNE_API_KEY={emulator.api_key}")
    print("Press Ctrl-C to stop.", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
