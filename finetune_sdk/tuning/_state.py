"""What makes a tuning resumable: an idempotency key derived from its inputs, and a small state file.

The key is a hash of the bytes it trains on (the prepared training and validation files) and of every
setting that shapes the job (model, hyperparameters, suffix, seed): the same inputs give the same key,
so a create sent again after a crash returns the job made the first time, and its uploads (keyed from
it, and found on the server by name and bytes) are not made twice. The state file, written atomically
next to the outputs once the job exists, remembers the job and its files, so a rerun waits for that job
without creating anything.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import orjson

from .._atomic import atomic_write_bytes
from .._core.checks import is_str_mapping
from ..data import sha256_file

__all__ = ["STATE_VERSION", "TuneState", "idempotency_key", "read_state", "write_state"]

STATE_VERSION: Final = 1
_KEY_PREFIX: Final = "tune-"


def idempotency_key(training: Path, validation: Path | None, settings: Mapping[str, Any]) -> str:
    """``tune-`` and 40 hex digits of the SHA-256 of the files' digests and the settings (as sorted
    JSON)."""
    digest = hashlib.sha256()
    for path in (training, validation):
        digest.update((sha256_file(path) if path is not None else "-").encode("ascii") + b"\n")
    digest.update(orjson.dumps(dict(settings), option=orjson.OPT_SORT_KEYS))
    return _KEY_PREFIX + digest.hexdigest()[:40]


@dataclasses.dataclass(frozen=True)
class TuneState:
    """A tuning's memory across runs: its key, its job and the files that job trains on."""

    key: str
    job: str
    training_file: str | None = None
    validation_file: str | None = None

    def to_json(self) -> bytes:
        data = {"version": STATE_VERSION, **dataclasses.asdict(self)}
        return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def read_state(path: Path) -> TuneState | None:
    """The state in ``path``; None when there is none, or it is not one this version wrote (a rerun
    then relies on the idempotency key alone, which finds the same job)."""
    try:
        data: object = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not is_str_mapping(data):
        return None
    fields: Mapping[str, object] = data
    key, job = fields.get("key"), fields.get("job")
    if fields.get("version") != STATE_VERSION or not isinstance(key, str) or not isinstance(job, str):
        return None
    files = [fields.get(name) for name in ("training_file", "validation_file")]
    training, validation = (value if isinstance(value, str) else None for value in files)
    return TuneState(key, job, training, validation)


def write_state(path: Path, state: TuneState) -> None:
    """Write ``state`` to ``path`` atomically (a kill leaves the old state or the new, never half)."""
    atomic_write_bytes(path, state.to_json())
