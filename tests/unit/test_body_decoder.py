"""The bounded body decoder read a byte at a time: a ``deflate`` body is zlib-wrapped by the standard and
raw from some servers, and which one it is shows only from its first two bytes."""

from __future__ import annotations

import gzip
import zlib

import pytest

from finetune_sdk._core.limits import BodyDecoder

BODY = b'{"id": "ftjob-1", "object": "fine_tuning.job"}' * 20


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def _decode(coding: str, encoded: bytes, step: int) -> bytes:
    decoder = BodyDecoder(coding)
    out = b"".join(b"".join(decoder.feed(encoded[at : at + step])) for at in range(0, len(encoded), step))
    return out + b"".join(decoder.finish())


@pytest.mark.parametrize("step", [1, 2, 3, 1 << 16])
@pytest.mark.parametrize(
    ("coding", "encode"),
    [("deflate", zlib.compress), ("deflate", _raw_deflate), ("gzip", gzip.compress)],
    ids=["deflate (zlib)", "deflate (raw)", "gzip"],
)
def test_every_coding_read_in_pieces_of_any_size(coding: str, encode: object, step: int) -> None:
    assert callable(encode)
    assert _decode(coding, encode(BODY), step) == BODY
