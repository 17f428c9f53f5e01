"""The ``finetune`` command: validate datasets, upload files, run and watch jobs, chat and compare.

Installed with the ``cli`` extra (``pip install "finetune-sdk[cli]"``), which brings click and rich; they
are imported only once :func:`main` runs, so the SDK itself never needs them. ``docs/cli.md`` lists
the commands.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence
from typing import NoReturn

__all__ = ["main"]

MISSING_EXTRA = 'error: the finetune command needs the cli extra: pip install "finetune-sdk[cli]"'


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Run ``finetune`` with ``argv`` (default: the process's arguments) and exit with its status."""
    if any(importlib.util.find_spec(name) is None for name in ("click", "rich")):
        print(MISSING_EXTRA, file=sys.stderr)
        raise SystemExit(1)
    from ._app import run

    raise SystemExit(run(argv))
