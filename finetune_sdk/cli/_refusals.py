"""An output that would overwrite an input, or another output, as a usage error of the data commands."""

from __future__ import annotations

import contextlib
from collections.abc import Generator

import click

from ..errors import OutputConflictError

__all__ = ["refuse_conflicts"]


@contextlib.contextmanager
def refuse_conflicts() -> Generator[None]:
    """Turn :class:`~finetune_sdk.OutputConflictError` into a usage error (exit status 2, nothing
    written): the command line named the same file twice."""
    try:
        yield
    except OutputConflictError as exc:
        raise click.UsageError(f"{exc}") from None
