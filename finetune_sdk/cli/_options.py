"""Options that several commands declare alike, written once: a count, a choice of named ways, the
dataset's token limit, the share held out for validation, the base model of a new job."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

import click

from .._core import guide

__all__ = ["BASE_MODEL", "choice_option", "count_option", "max_tokens_option", "validation_share_option"]

FC = TypeVar("FC", bound=Callable[..., object])

#: The base model of a job to create (``jobs create``, ``tune``).
BASE_MODEL = click.option(
    "--model", "-m", required=True, metavar="MODEL", help="The base model, e.g. Qwen/Qwen2.5-7B-Instruct."
)


def count_option(*decls: str, default: int, help: str, most: int | None = None) -> Callable[[FC], FC]:
    """A whole number of at least 1 (and at most ``most``), its default shown in ``--help``."""
    return click.option(
        *decls, type=click.IntRange(min=1, max=most), default=default, show_default=True, help=help
    )


def choice_option(*decls: str, choices: Iterable[str], default: str, help: str) -> Callable[[FC], FC]:
    """One of named ways, its default shown in ``--help``."""
    return click.option(
        *decls, type=click.Choice(list(choices)), default=default, show_default=True, help=help
    )


def max_tokens_option(help: str) -> Callable[[FC], FC]:
    """``--max-tokens``: the length of an example that counts as too long (the platform's, by default)."""
    return count_option("--max-tokens", default=guide.MAX_TOKENS, help=help)


def validation_share_option(*decls: str, help: str) -> Callable[[FC], FC]:
    """The share of the examples held out for validation: in (0, 0.5], 10% by default."""
    return click.option(
        *decls, type=click.FloatRange(0, 0.5, min_open=True), default=0.1, show_default=True, help=help
    )
