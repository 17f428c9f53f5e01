"""Hyperparameters: defaults, presets, every bound, strict types, serialisation."""

from __future__ import annotations

import json
from typing import Any, get_args

import pytest
from pydantic import ValidationError

from finetune_sdk.hyperparameters import Hyperparameters, PresetName

KEYS = ["learning_rate", "n_epochs", "batch_size", "max_tokens", "lora_rank", "lora_alpha", "lora_dropout"]


def test_defaults_are_the_guides() -> None:
    assert Hyperparameters().model_dump() == {
        "learning_rate": 1e-4,
        "n_epochs": 3,
        "batch_size": 8,
        "max_tokens": 4096,
        "lora_rank": 8,
        "lora_alpha": 32,
        "lora_dropout": 0.05,
    }


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("standard", (1e-4, 3, 8, 4096, 8, 32, 0.05)),
        ("quality", (1e-4, 5, 16, 4096, 16, 64, 0.1)),
        ("fast", (1e-4, 2, 8, 4096, 4, 16, 0.05)),
    ],
)
def test_presets(name: PresetName, values: tuple[Any, ...]) -> None:
    assert Hyperparameters.preset(name).model_dump() == dict(zip(KEYS, values, strict=True))


def test_preset_overrides_are_checked() -> None:
    assert Hyperparameters.preset("quality", n_epochs=4).n_epochs == 4
    assert Hyperparameters.preset("quality", n_epochs=4).lora_rank == 16
    with pytest.raises(ValueError, match="n_epochs"):
        Hyperparameters.preset("fast", n_epochs=11)


def test_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="'standard', 'quality', 'fast'"):
        Hyperparameters.preset("best")  # type: ignore[arg-type]
    assert set(Hyperparameters.presets()) == set(get_args(PresetName))


# field -> (allowed at the edges, refused just outside, the range as the message says it)
BOUNDS: dict[str, tuple[list[Any], list[Any], str]] = {
    "learning_rate": (
        [1e-12, 0.1],
        [0, 0.0, -1e-4, 0.1000001, float("nan"), float("inf")],
        "0 < learning_rate <= 0.1",
    ),
    "n_epochs": ([1, 10], [0, 11], "from 1 to 10"),
    "batch_size": ([1, 32], [0, 33], "from 1 to 32"),
    "max_tokens": ([1, 4096], [0, 4097], "from 1 to 4096"),
    "lora_rank": ([1, 64], [0, 65], "from 1 to 64"),
    "lora_alpha": ([1, 128], [0, 129], "from 1 to 128"),
    "lora_dropout": ([0, 0.0, 0.999], [-0.01, 1, 1.0], "0 <= lora_dropout < 1"),
}


@pytest.mark.parametrize("field", list(BOUNDS))
def test_every_bound(field: str) -> None:
    allowed, refused, range_text = BOUNDS[field]
    for value in allowed:
        assert getattr(Hyperparameters(**{field: value}), field) == value
    for value in refused:
        with pytest.raises(ValueError, match=range_text) as info:
            Hyperparameters(**{field: value})
        assert field in str(info.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n_epochs", 2.5),
        ("n_epochs", 3.0),
        ("n_epochs", True),
        ("n_epochs", "3"),
        ("batch_size", None),
        ("learning_rate", "1e-4"),
        ("learning_rate", True),
        ("lora_dropout", False),
    ],
)
def test_types_are_strict(field: str, value: Any) -> None:
    with pytest.raises(ValidationError, match=field):
        Hyperparameters(**{field: value})


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(ValueError, match=r"n_epochs.*batch_size"):
        Hyperparameters(n_epochs=0, batch_size=0)


def test_unknown_field_is_refused() -> None:
    with pytest.raises(ValidationError, match="lerning_rate"):
        Hyperparameters(lerning_rate=1e-4)  # type: ignore[call-arg]


def test_frozen_hashable_and_readable() -> None:
    h = Hyperparameters.preset("fast")
    assert hash(h) == hash(Hyperparameters.preset("fast"))
    assert h == Hyperparameters(n_epochs=2, lora_rank=4, lora_alpha=16)
    with pytest.raises(ValidationError):
        h.n_epochs = 4  # type: ignore[misc]
    assert repr(h).startswith("Hyperparameters(learning_rate=0.0001, n_epochs=2,")


def test_wire_json_round_trip() -> None:
    h = Hyperparameters.preset("quality")
    data = json.loads(h.model_dump_json())
    assert list(data) == KEYS
    assert Hyperparameters.model_validate(data) == h
    assert Hyperparameters.model_validate_json(h.model_dump_json()) == h


def test_from_values_gives_one_clean_line_per_problem() -> None:
    with pytest.raises(ValueError, match="n_epochs") as info:
        Hyperparameters.from_values({"n_epochs": 11, "lora_rank": 0})
    assert str(info.value) == (
        "n_epochs must be an integer from 1 to 10, got 11; lora_rank must be an integer from 1 to 64, got 0"
    )
    with pytest.raises(ValueError, match="unknown hyperparameter 'epochs': the known ones are learning_rate"):
        Hyperparameters.from_values({"epochs": 3})
    assert Hyperparameters.from_values({"n_epochs": 4}) == Hyperparameters(n_epochs=4)
