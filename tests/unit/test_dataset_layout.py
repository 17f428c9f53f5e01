"""The dataset side's one face: every public name in ``finetune_sdk.data``, and async twins that take the
same arguments. (Import cycles and module sizes are checked for the whole package in test_package_shape.)"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import finetune_sdk
import finetune_sdk.data as data

PACKAGE = Path(data.__file__).resolve().parent
ROOT = PACKAGE.parent.parent

NAMES = [
    *("Dataset", "Conversation", "Message", "Role", "ValidationIssue", "ValidationReport", "DatasetStats"),
    *("Deduplication", "DroppedDuplicate", "ExactTokens", "Leak", "LeakageReport", "leakage"),
    *("NotARegularFileError", "convert_file", "aconvert_file", "ConversionReport", "FieldMap", "Repairs"),
    *("validate_file", "avalidate_file", "split_file", "asplit_file", "dedupe_file", "adedupe_file"),
    *("sha256_file", "asha256_file", "estimate_cost", "aestimate_cost", "CostEstimate", "SplitReport"),
]


def test_every_public_name_is_on_the_one_face() -> None:
    assert sorted(data.__all__) == sorted(set(data.__all__))
    for name in NAMES:
        assert name in data.__all__, name
        assert getattr(data, name) is not None
    for name in ("Dataset", "Conversation", "convert_file", "leakage", "ExactTokens", "NotARegularFileError"):
        assert getattr(finetune_sdk, name) is getattr(data, name)  # the old ways keep working


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("a") and n[1:] in NAMES])
def test_an_async_twin_takes_the_same_parameters(name: str) -> None:
    twin, plain = inspect.signature(getattr(data, name)), inspect.signature(getattr(data, name[1:]))
    assert inspect.iscoroutinefunction(getattr(data, name))
    assert getattr(data, name).__name__ == name and getattr(data, name).__doc__
    assert twin == plain
    assert not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in twin.parameters.values())


def test_dataset_methods_and_their_twins_take_the_same_parameters() -> None:
    assert data.Dataset.validate_file is data.validate_file  # one function, two ways to reach it
    assert data.Dataset.avalidate_file is data.avalidate_file
    plain = inspect.signature(data.Dataset.validate_file).parameters
    assert list(inspect.signature(data.Dataset.avalidate_file).parameters) == list(plain)
