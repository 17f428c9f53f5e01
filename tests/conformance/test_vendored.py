"""The vendored part of OpenAI's document is what it says it is, and the docs' table of differences is the
list the conformance checks apply."""

from __future__ import annotations

import re
from pathlib import Path

from jsonschema import Draft202012Validator

from . import schema
from .differences import DIFFERENCES

ROOT = Path(__file__).parents[2]


def test_the_subset_names_its_source_version_and_licence() -> None:
    document = schema.document()
    assert document["info"]["version"] == "2.3.0"
    assert document["info"]["license"]["identifier"] == "MIT"
    source = document["x-source"]
    assert source["commit"] == "f85dbe223d40e1a31cba812ab2d755c7e98a92a3"
    assert re.fullmatch(r"[0-9a-f]{64}", source["sha256"])
    licence = (schema.HERE / "LICENSE.openai-openapi").read_text()
    assert "MIT License" in licence and "OpenAI" in licence


def test_every_kept_schema_is_valid_json_schema_and_every_reference_resolves() -> None:
    components = schema.openai_components()
    for name in components["schemas"]:
        Draft202012Validator.check_schema(schema.schema_of(name, components))
        schema.resolved(name)  # raises KeyError for a reference to a schema that was not kept


def test_the_docs_table_lists_exactly_the_differences_the_checks_apply() -> None:
    text = (ROOT / "docs" / "wire-contract.md").read_text(encoding="utf-8")
    section = text.split("## Differences from OpenAI's schema", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| where")]
    documented = [row.split(" | ")[0].removeprefix("| ").strip() for row in rows]
    assert documented == [difference.where for difference in DIFFERENCES]
    assert all(row.count(" | ") == 3 for row in rows)  # where, OpenAI's schema, the platform, why
