"""What training on a dataset costs: tokens, billed tokens (exact with the tokens extra, else estimated,
and saying which) and money from a price the caller gives (argument, environment, price table)."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from finetune_sdk import ConfigurationError, Dataset
from finetune_sdk.data import CostEstimate, aestimate_cost, estimate_cost

MERGED = Path(__file__).resolve().parents[1] / "data" / "duplicates" / "merged.jsonl"


@pytest.fixture(autouse=True)
def _no_price_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FINETUNE_PRICE_PER_MTOKENS", raising=False)
    monkeypatch.delenv("FINETUNE_PRICE_TABLE", raising=False)


def test_the_price_of_a_file_is_its_exact_billed_tokens_times_the_price() -> None:
    pytest.importorskip("tiktoken")
    exact = Dataset.validate_file(MERGED, tokens="exact", n_epochs=2).stats.exact
    assert exact is not None
    cost = estimate_cost(MERGED, n_epochs=2, price_per_mtokens=4.0)
    assert (cost.method, cost.billed_tokens, cost.tokens) == ("exact", exact.billed, exact.total)
    assert cost.cost == pytest.approx(exact.billed * 4.0 / 1_000_000)
    assert cost.price_source == "given"
    assert f"{exact.billed:,} billed tokens (exact, 2 epochs" in cost.summary()


def test_the_estimate_says_it_is_one_and_cuts_each_example_at_max_tokens() -> None:
    cost = estimate_cost(MERGED, tokens="estimate", n_epochs=3)
    stats = Dataset.validate_file(MERGED).stats
    assert cost.method == "estimate"
    assert cost.billed_tokens == 3 * stats.estimated_tokens  # no example over 4096
    short = estimate_cost(MERGED, tokens="estimate", n_epochs=1, max_tokens=50)
    assert short.billed_tokens < stats.estimated_tokens
    assert short.billed_tokens == Dataset.validate_file(MERGED, max_tokens=50).stats.estimated_billed_tokens
    assert (cost.cost, cost.price_per_mtokens) == (None, None)
    assert "no price given" in str(cost)


def test_a_dataset_in_memory_costs_the_same_as_its_file() -> None:
    dataset = Dataset.from_jsonl(MERGED)
    assert (
        estimate_cost(dataset, tokens="estimate").billed_tokens
        == estimate_cost(MERGED, tokens="estimate").billed_tokens
    )


def test_the_price_from_the_environment_and_from_a_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FINETUNE_PRICE_PER_MTOKENS", "2.5")
    cost = estimate_cost(MERGED, tokens="estimate")
    assert (cost.price_per_mtokens, cost.price_source) == (2.5, "FINETUNE_PRICE_PER_MTOKENS")
    toml = tmp_path / "prices.toml"
    toml.write_text('currency = "CNY"\n[prices]\n"Qwen/Qwen2.5-7B-Instruct" = 6.0\n', encoding="utf-8")
    cost = estimate_cost(MERGED, tokens="estimate", price_table=toml, model="Qwen/Qwen2.5-7B-Instruct")
    assert (cost.price_per_mtokens, cost.currency) == (6.0, "CNY")  # a table wins over the variable
    assert cost.money().endswith(" CNY")
    table = tmp_path / "prices.json"
    table.write_text(json.dumps({"Qwen/Qwen2.5-1.5B-Instruct": 1.0}), encoding="utf-8")
    monkeypatch.setenv("FINETUNE_PRICE_TABLE", str(table))
    assert (
        estimate_cost(MERGED, tokens="estimate", model="Qwen/Qwen2.5-1.5B-Instruct").price_per_mtokens == 1.0
    )
    with pytest.raises(ConfigurationError, match=r"no price for 'Qwen/Qwen2\.5-7B-Instruct'"):
        estimate_cost(MERGED, model="Qwen/Qwen2.5-7B-Instruct")
    with pytest.raises(ConfigurationError, match="name one with model="):
        estimate_cost(MERGED)


def test_bad_prices_are_clear_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINETUNE_PRICE_PER_MTOKENS", "cheap")
    with pytest.raises(ConfigurationError, match="is not a number"):
        estimate_cost(MERGED, tokens="estimate")
    bad = tmp_path / "p.json"
    bad.write_text('{"m": -1}', encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not a number >= 0"):
        estimate_cost(MERGED, price_table=bad, model="m")
    with pytest.raises(ValueError, match="price_per_mtokens"):
        estimate_cost(MERGED, price_per_mtokens=float("nan"))
    with pytest.raises(ValueError, match="tokens must be"):
        estimate_cost(MERGED, tokens="roughly")  # type: ignore[arg-type]


def test_the_async_twin_gives_the_same() -> None:
    async def main() -> CostEstimate:
        return await aestimate_cost(MERGED, tokens="estimate", price_per_mtokens=1.0)

    assert anyio.run(main) == estimate_cost(MERGED, tokens="estimate", price_per_mtokens=1.0)
