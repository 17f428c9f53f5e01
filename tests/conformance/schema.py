"""OpenAI's OpenAPI document (the vendored part), as JSON Schema validators; and the platform's contract:
that document with the documented differences (:mod:`.differences`) applied, and nothing else.

The document is OpenAPI 3.1 (JSON Schema 2020-12) with a few OpenAPI 3.0 spellings left in it:
``nullable: true`` and a boolean ``exclusiveMinimum`` beside ``minimum``. They are read as OpenAPI 3.0
means them (``null`` also allowed; the minimum excluded) before validating or generating.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

HERE = Path(__file__).parent
SUBSET = HERE / "openapi-subset.json"

Schema = dict[str, Any]


def normalise(node: Any) -> Any:
    """``node`` with the OpenAPI 3.0 spellings turned into JSON Schema 2020-12."""
    if isinstance(node, list):
        return [normalise(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: normalise(value) for key, value in node.items()}
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(bound), bool) and out.pop(bound) and limit in out:
            out[bound] = out.pop(limit)
    if out.pop("nullable", False) is True:
        out = {"anyOf": [out, {"type": "null"}]}
    return out


@functools.cache
def document() -> Schema:
    """The vendored document, as published (not normalised)."""
    loaded: Schema = json.loads(SUBSET.read_text(encoding="utf-8"))
    return loaded


@functools.cache
def openai_components() -> Schema:
    """The document's components, normalised."""
    return normalise(copy.deepcopy(document()["components"]))


@functools.cache
def contract_components() -> Schema:
    """The platform's contract: OpenAI's components with every documented difference applied."""
    from .differences import DIFFERENCES

    components = copy.deepcopy(openai_components())
    for difference in DIFFERENCES:
        if difference.patch is not None:
            difference.patch(components["schemas"])
    return components


def schema_of(name: str, components: Schema) -> Schema:
    """A self-contained schema for ``components/schemas/<name>``."""
    return {"$ref": f"#/components/schemas/{name}", "components": components}


@functools.cache
def validator(name: str, *, contract: bool = True) -> Draft202012Validator:
    """A validator of the schema ``name``: the platform's contract, or (``contract=False``) OpenAI's."""
    components = contract_components() if contract else openai_components()
    return Draft202012Validator(schema_of(name, components))


def resolved(name: str, components: Schema | None = None) -> Schema:
    """``components/schemas/<name>`` with every ``$ref`` replaced by its target (the schemas used here
    are not recursive), for generating examples."""
    schemas = (components or openai_components())["schemas"]

    def inline(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [inline(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target = node["$ref"].rsplit("/", 1)[-1]
            if target in seen:
                raise ValueError(f"recursive schema: {' -> '.join((*seen, target))}")
            rest = {key: value for key, value in node.items() if key != "$ref"}
            return {**inline(schemas[target], (*seen, target)), **inline(rest, seen)}
        return {key: inline(value, seen) for key, value in node.items()}

    result: Schema = inline(schemas[name], (name,))
    return result


# -- which schema an answer follows ----------------------------------------------------------------

_TEMPLATE = re.compile(r"\{[^/]+\}")


@functools.cache
def _operations() -> list[tuple[str, re.Pattern[str], str]]:
    found = []
    for template, methods in document()["paths"].items():
        pattern = re.compile("^" + _TEMPLATE.sub("[^/]+", template) + "$")
        found += [(method.upper(), pattern, template) for method in methods]
    return found


def operation(method: str, path: str) -> tuple[str, Schema] | None:
    """``(path template, operation)`` of the document that ``method path`` (under ``/v1``) calls."""
    for verb, pattern, template in _operations():
        if verb == method and pattern.match(path):
            return template, document()["paths"][template][method.lower()]
    return None


def answer_schema(operation_object: Schema, media_type: str) -> str | None:
    """The name of the schema of a 200 answer of ``media_type`` (``application/json`` or
    ``text/event-stream``), or None when the document gives it no named schema."""
    content = operation_object["responses"]["200"]["content"]
    ref = content.get(media_type, {}).get("schema", {}).get("$ref")
    return None if ref is None else str(ref).rsplit("/", 1)[-1]


Check = Callable[[Any], list[str]]


def errors(name: str, value: Any, *, contract: bool = True) -> list[str]:
    """Every way ``value`` breaks the schema ``name``: ``<path>: <message>`` lines (none when valid)."""
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message[:300]}"
        for error in validator(name, contract=contract).iter_errors(value)
    ]
