"""A real headless Chromium for the pages' tests (skipped with a reason where it is not installed), and
a reader of the PNG screenshots it takes."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"

needs_chromium = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason=f"no headless browser: {CHROMIUM} is missing (Debian: apt-get install chromium fonts-noto-cjk)",
)


def _flags(folder: Path, width: int, height: int) -> list[str]:
    return [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={folder / 'profile'}", f"--window-size={width},{height}", "--hide-scrollbars",
    ]  # fmt: skip


def screenshot(page: Path, folder: Path, *, width: int = 1200, height: int = 1400, keep: str = "") -> bytes:
    """Draw ``page`` in Chromium and return the PNG. With ``keep`` naming an environment variable that
    holds a path, the picture is also copied there (to look at it)."""
    shot = folder / f"{page.stem}.png"
    done = subprocess.run(
        [CHROMIUM, *_flags(folder, width, height), f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    target = os.environ.get(keep) if keep else None
    if target:
        shutil.copy(shot, target)
    return shot.read_bytes()


def dump_dom(page: Path, folder: Path) -> str:
    """The page's DOM as Chromium built it."""
    done = subprocess.run(
        [CHROMIUM, *_flags(folder, 1200, 800), "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and rows of RGB bytes of a non-interlaced 8-bit PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6)
    step = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * step
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - step] if x >= step else 0
            up, corner = previous[x], previous[x - step] if x >= step else 0
            if kind == 1:
                line[x] = (line[x] + left) & 255
            elif kind == 2:
                line[x] = (line[x] + up) & 255
            elif kind == 3:
                line[x] = (line[x] + ((left + up) >> 1)) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(bytes(line))
        previous = line
    rgb = [bytes(b for i, b in enumerate(row) if i % step < 3) for row in rows]
    return width, height, rgb


def colour_pixels(rows: list[bytes], hex_colour: str) -> int:
    rgb = bytes.fromhex(hex_colour.lstrip("#"))
    return sum(row[i : i + 3] == rgb for row in rows for i in range(0, len(row), 3))


def full_bar_rows(rows: list[bytes], hex_colour: str, length: int) -> int:
    """How many pixel rows hold a run of at least ``length`` pixels of the colour (a full-length bar)."""
    rgb = bytes.fromhex(hex_colour.lstrip("#"))
    return sum(rgb * length in row for row in rows)


def dark_pixels(rows: list[bytes], box: tuple[int, int, int, int]) -> int:
    """Pixels darker than mid-grey in ``box`` (left, top, right, bottom): drawn text or lines."""
    left, top, right, bottom = box
    return sum(
        1 for row in rows[top:bottom] for x in range(left, right) if sum(row[3 * x : 3 * x + 3]) < 3 * 128
    )
