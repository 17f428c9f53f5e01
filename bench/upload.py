"""Peak memory of uploading a large file with ``client.files.upload`` (validation included).

The file is generated in a temporary folder, the emulator runs in a child process (so its memory is
not counted), and the client's peak resident memory (``ru_maxrss``) is read before and after. Baseline:
the file's own size, which is what reading it whole (``path.read_bytes()``) would add at the least.

    python bench/upload.py [--mb 1024]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import KEY, emulator_process

from finetune_sdk import Client


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def write_file(path: Path, megabytes: int) -> int:
    line = orjson.dumps(
        {
            "messages": [
                {"role": "system", "content": "你是文本生成器"},
                {"role": "user", "content": "五道口" * 20},
                {"role": "assistant", "content": "知识的殿堂与商业的洪流交织,地名犹在,荣光已非。" * 10},
            ]
        }
    )
    block = (line + b"\n") * max(1, (1 << 20) // (len(line) + 1))
    with path.open("wb") as file:
        while file.tell() < megabytes << 20:
            file.write(block)
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=1024)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.jsonl"
        size = write_file(path, opts.mb)
        with emulator_process(max_file_bytes=size * 2) as base, Client(api_key=KEY, base_url=base) as client:
            client.files.list()  # warm up: imports and the connection
            before = peak_rss_mb()
            sent = [0]
            start = time.perf_counter()
            uploaded = client.files.upload(path, on_progress=lambda done, total: sent.__setitem__(0, done))
            elapsed = time.perf_counter() - start
            after = peak_rss_mb()
    assert uploaded.bytes == size
    assert sent[0] == size
    print(f"uploaded {size / 2**20:.0f} MB (validated, then streamed) in {elapsed:.1f} s")
    print(f"peak RSS growth during the upload: {after - before:.1f} MB")
    ratio = (after - before) / (size / 2**20)
    print(f"baseline (reading the file whole): {size / 2**20:.0f} MB -> ratio {ratio:.4f}")


if __name__ == "__main__":
    main()
