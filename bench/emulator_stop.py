"""How long ``Emulator.stop()`` takes with a client's keep-alive connection open (goal: <= 0.1 s).

The named baseline is uvicorn's own ``Server`` serving the same app, stopped the way uvicorn offers
(``should_exit = True``, then the thread joined), measured in the same run.

    python bench/emulator_stop.py [--rounds 10]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from unittest import mock

import httpx
import uvicorn

from finetune_sdk.emulator import Emulator, server


def stop_time(plain_uvicorn: bool) -> float:
    with mock.patch.object(server, "_Server", uvicorn.Server) if plain_uvicorn else contextlib.nullcontext():
        emu = Emulator().start()
    with httpx.Client() as client:
        client.get(emu.url + "/health")  # a keep-alive connection the shutdown must close
        start = time.perf_counter()
        if plain_uvicorn:
            assert emu._server is not None
            assert emu._thread is not None
            emu._server.should_exit = True
            emu._thread.join()
            emu._thread = emu._server = None
        emu.stop()
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    opts = parser.parse_args()
    times: dict[str, list[float]] = {"uvicorn's Server (baseline)": [], "Emulator.stop()": []}
    for _ in range(opts.rounds):
        times["uvicorn's Server (baseline)"].append(stop_time(True))
        times["Emulator.stop()"].append(stop_time(False))
    base = statistics.median(times["uvicorn's Server (baseline)"])
    print(f"stop with one idle keep-alive connection, median of {opts.rounds}:")
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"  {name:<30} {median * 1000:7.1f} ms  max {max(values) * 1000:7.1f} ms  {median / base:6.3f}x"
        )


if __name__ == "__main__":
    main()
