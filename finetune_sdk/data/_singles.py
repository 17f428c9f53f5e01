"""The characters the token estimate counts as about one token each: ASCII digits (Qwen writes every digit
as a token of its own) and ASCII punctuation marks (a token beside the letters and digits around them)."""

from __future__ import annotations

__all__ = ["NOT_SINGLES", "SINGLES", "singles_of"]

SINGLES = b"0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
NOT_SINGLES = bytes(c for c in range(256) if c not in SINGLES)


def singles_of(data: bytes) -> int:
    """How many ASCII digits and punctuation marks ``data`` holds (one pass keeping only them)."""
    return len(data.translate(None, NOT_SINGLES))
