"""What training on a dataset would cost: its tokens, the tokens billed for some epochs, and money when
the caller says what a million tokens cost. The SDK ships no price of its own (it could not verify one):
the price is an argument, the environment variable ``FINETUNE_PRICE_PER_MTOKENS``, or a small price
table file (TOML or JSON, model name to price per million tokens) given by path or by
``FINETUNE_PRICE_TABLE``.

Billed tokens are those the platform bills: every example, chat template included, cut at
``max_tokens``, once per epoch. They are exact with the ``tokens`` extra (the same figure as
``finetune stats --exact``) and estimated without it; the result says which.
"""

from __future__ import annotations

import importlib
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

import orjson
from pydantic import BaseModel, ConfigDict

from ..errors import ConfigurationError
from ._json import as_object
from ._schema import StrPath
from ._stats import DEFAULT_MAX_TOKENS, DatasetStats
from ._threads import in_a_thread
from ._tokens import DEFAULT_EPOCHS
from .dataset import Dataset

__all__ = [
    "PRICE_ENV",
    "PRICE_TABLE_ENV",
    "CostEstimate",
    "aestimate_cost",
    "estimate_cost",
    "load_price_table",
]

PRICE_ENV = "FINETUNE_PRICE_PER_MTOKENS"
"""The price of a million billed tokens, when no argument gives it."""

PRICE_TABLE_ENV = "FINETUNE_PRICE_TABLE"
"""The path of a price table file, when no argument gives it."""

TokenCount = Literal["auto", "exact", "estimate"]


class CostEstimate(BaseModel):
    """What training on a dataset would cost (:func:`estimate_cost`).

    ``tokens`` is one pass over the examples, chat template included; ``billed_tokens`` what
    ``n_epochs`` epochs bill (each example cut at ``max_tokens``); ``method`` says whether the counts
    are ``"exact"`` (the ``tokens`` extra) or an ``"estimate"``. ``cost`` is ``billed_tokens`` times
    ``price_per_mtokens`` / 1,000,000 when a price was given (``price_source`` says where it came from),
    else ``None``.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)

    source: str
    examples: int
    tokens: int
    billed_tokens: int
    n_epochs: int
    max_tokens: int
    method: Literal["exact", "estimate"]
    model: str | None = None
    price_per_mtokens: float | None = None
    currency: str | None = None
    price_source: str | None = None
    cost: float | None = None

    def money(self) -> str:
        """The cost as text (``"0.98 CNY"``; small amounts with four significant digits), or ``"-"``."""
        if self.cost is None:
            return "-"
        amount = f"{self.cost:,.2f}" if self.cost >= 1 or self.cost == 0 else f"{self.cost:.4g}"
        return amount + (f" {self.currency}" if self.currency else "")

    def summary(self) -> str:
        """One line: examples, billed tokens and how they were counted, and the cost when priced."""
        head = (
            f"{self.source}: {self.examples:,} examples, {self.billed_tokens:,} billed tokens "
            f"({self.method}, {self.n_epochs} epoch{'s' if self.n_epochs != 1 else ''}, "
            f"{self.tokens:,} per epoch)"
        )
        if self.cost is None or self.price_per_mtokens is None:
            return f"{head}; no price given (--price, {PRICE_ENV} or a price table)"
        return f"{head} x {self.price_per_mtokens:g} per 1M tokens = {self.money()} ({self.price_source})"

    def __str__(self) -> str:
        return self.summary()


def _read_table(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    if path.suffix.lower() == ".json":
        loaded = orjson.loads(data)
    else:
        try:
            toml: Any = importlib.import_module("tomllib")
        except ImportError:  # Python 3.10
            try:
                toml = importlib.import_module("tomli")
            except ImportError:
                raise ConfigurationError(
                    f"{path}: reading a TOML price table needs Python 3.11 or the tomli package; or write "
                    "it as JSON"
                ) from None
        loaded = toml.loads(data.decode("utf-8"))
    table = as_object(loaded)
    if table is None:
        raise ConfigurationError(f"{path}: a price table maps model names to prices per million tokens")
    return table


def load_price_table(path: StrPath) -> tuple[dict[str, float], str | None]:
    """``(model name -> price per million tokens, currency)`` from a TOML or JSON file.

    The file maps model names to numbers, at its top level or under ``prices``; an optional top-level
    ``currency`` names the unit::

        currency = "CNY"
        [prices]
        "Qwen/Qwen2.5-7B-Instruct" = 4.0
    """
    table_path = Path(path)
    try:
        raw = _read_table(table_path)
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read the price table {table_path}: {exc}") from None
    currency = raw.pop("currency", None)
    nested = raw.pop("prices", None)
    entries: Mapping[str, Any] = as_object(nested) or raw
    prices: dict[str, float] = {}
    for model, value in entries.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            raise ConfigurationError(f"{table_path}: the price of {model!r} is not a number >= 0: {value!r}")
        prices[str(model)] = float(value)
    return prices, None if currency is None else str(currency)


def _price(
    price_per_mtokens: float | None, price_table: StrPath | None, model: str | None
) -> tuple[float | None, str | None, str | None]:
    """``(price, currency, where it came from)``: the argument, the environment, or a price table."""
    if price_per_mtokens is not None:
        if (
            isinstance(price_per_mtokens, bool)
            or not math.isfinite(price_per_mtokens)
            or price_per_mtokens < 0
        ):
            raise ValueError(f"price_per_mtokens must be a number >= 0, got {price_per_mtokens!r}")
        return float(price_per_mtokens), None, "given"
    table = price_table if price_table is not None else os.environ.get(PRICE_TABLE_ENV) or None
    if table is not None:
        prices, currency = load_price_table(table)
        if model is None:
            raise ConfigurationError(
                f"the price table {os.fspath(table)} prices models: name one with model="
            )
        if model not in prices:
            known = ", ".join(sorted(prices)[:10]) or "none"
            raise ConfigurationError(
                f"the price table {os.fspath(table)} has no price for {model!r} (it has {known})"
            )
        return prices[model], currency, f"price table {os.fspath(table)}, {model}"
    env = os.environ.get(PRICE_ENV, "").strip()
    if env:
        try:
            value = float(env)
        except ValueError:
            raise ConfigurationError(f"{PRICE_ENV}={env!r} is not a number") from None
        if not math.isfinite(value) or value < 0:
            raise ConfigurationError(f"{PRICE_ENV}={env!r} is not a number >= 0")
        return value, None, PRICE_ENV
    return None, None, None


def _exact_available() -> bool:
    try:
        from ._tokens import load_encoding

        load_encoding()
    except ImportError:
        return False
    return True


def _stats(
    source: StrPath | Dataset, max_tokens: int, n_epochs: int, exact: bool
) -> tuple[str, DatasetStats]:
    tokens: Literal["estimate", "exact"] = "exact" if exact else "estimate"
    if isinstance(source, Dataset):
        return "<dataset>", source.stats(max_tokens, tokens=tokens, n_epochs=n_epochs)
    report = Dataset.validate_file(source, max_tokens=max_tokens, tokens=tokens, n_epochs=n_epochs)
    report.raise_for_errors()
    return os.fspath(source), report.stats


def estimate_cost(
    source: StrPath | Dataset,
    *,
    n_epochs: int = DEFAULT_EPOCHS,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    price_per_mtokens: float | None = None,
    price_table: StrPath | None = None,
    model: str | None = None,
    tokens: TokenCount = "auto",
) -> CostEstimate:
    """Tokens, billed tokens and, when a price is known, the cost of training ``n_epochs`` epochs on
    ``source`` (a ``.jsonl`` path, validated first, or a :class:`Dataset`).

    ``tokens="auto"`` counts exactly when the ``tokens`` extra is installed and estimates otherwise;
    ``"exact"`` requires it (``ImportError`` naming it), ``"estimate"`` never loads it. The price of a
    million billed tokens is ``price_per_mtokens``, else the entry for ``model`` in ``price_table`` (or
    the file named by ``FINETUNE_PRICE_TABLE``), else ``FINETUNE_PRICE_PER_MTOKENS``; with none the cost
    is ``None``. Raises :class:`~finetune_sdk.DatasetValidationError` for a file that breaks a rule and
    :class:`~finetune_sdk.ConfigurationError` for a price table or variable that cannot be used.
    """
    if tokens not in ("auto", "exact", "estimate"):
        raise ValueError(f"tokens must be 'auto', 'exact' or 'estimate', got {tokens!r}")
    price = _price(price_per_mtokens, price_table, model)  # a bad price fails before the file is read
    exact = tokens == "exact" or (tokens == "auto" and _exact_available())
    name, stats = _stats(source, max_tokens, n_epochs, exact)
    return cost_of(stats, name, n_epochs=n_epochs, model=model, price=price)


def cost_of(
    stats: DatasetStats,
    source: str,
    *,
    n_epochs: int,
    model: str | None = None,
    price: tuple[float | None, str | None, str | None] | None = None,
    price_per_mtokens: float | None = None,
    price_table: StrPath | None = None,
) -> CostEstimate:
    """The :class:`CostEstimate` of statistics already made (``stats.exact`` for the exact counts, made
    for ``n_epochs``); the price as :func:`estimate_cost` finds it, unless ``price`` gives it."""
    amount, currency, where = price if price is not None else _price(price_per_mtokens, price_table, model)
    if stats.exact is not None:
        total, billed = stats.exact.total, stats.exact.billed
    else:
        total, billed = stats.estimated_tokens, stats.estimated_billed_tokens * n_epochs
    return CostEstimate(
        source=source,
        examples=stats.examples,
        tokens=total,
        billed_tokens=billed,
        n_epochs=n_epochs,
        max_tokens=stats.max_tokens,
        method="exact" if stats.exact is not None else "estimate",
        model=model,
        price_per_mtokens=amount,
        currency=currency,
        price_source=where,
        cost=None if amount is None else billed * amount / 1_000_000,
    )


#: :func:`estimate_cost` in a worker thread, for asyncio and trio alike; the same arguments.
aestimate_cost = in_a_thread(estimate_cost)
