"""Hypothesis strategies for every object a JSON Schema allows: the keywords OpenAI's document uses.

Written here rather than taken from hypothesis-jsonschema, whose last release (0.23.1) reaches into
hypothesis internals that hypothesis 6.170 changed (it fails on every schema). The keywords the vendored
schemas use are few: ``type``, ``enum``/``const``, ``properties``/``required``/``additionalProperties``,
``items``/``maxItems``, ``anyOf``/``oneOf``, numeric bounds, string lengths. Objects get the optional
properties or not, and, where the schema allows it, extra properties with any JSON value (some named like
the platform's own additions, so that reading them leniently is put to the test). Every example is
checked with ``jsonschema`` before use, so a gap here can only narrow the examples, never produce an
object the schema refuses.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

Json = Any

PLATFORM_NAMES = (
    "step",
    "total_steps",
    "epoch",
    "metrics",
    "suffix",
    "started_at",
    "validation_split",
    "learning_rate",
    "lora_rank",
    "max_tokens",
)
"""Names the SDK reads as the platform's additions: another server may use them for anything."""

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
ANY_JSON: st.SearchStrategy[Json] = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
EXTRA_NAMES = st.one_of(st.sampled_from(PLATFORM_NAMES), st.text(min_size=1, max_size=10))


def _number(schema: dict[str, Any], integer: bool) -> st.SearchStrategy[Json]:
    low = schema.get("minimum")
    high = schema.get("maximum")
    low_open = schema.get("exclusiveMinimum")
    high_open = schema.get("exclusiveMaximum")
    if integer:
        lowest = math.floor(low_open) + 1 if low_open is not None else low
        highest = math.ceil(high_open) - 1 if high_open is not None else high
        return st.integers(
            int(lowest) if lowest is not None else -(2**40), int(highest) if highest is not None else 2**40
        )
    floats = st.floats(
        min_value=low_open if low_open is not None else low,
        max_value=high_open if high_open is not None else high,
        exclude_min=low_open is not None,
        exclude_max=high_open is not None,
        allow_nan=False,
        allow_infinity=False,
    )
    whole = _number(schema, integer=True)
    return st.one_of(floats, whole)  # a JSON number may be written as an integer


def _object(schema: dict[str, Any]) -> st.SearchStrategy[Json]:
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    fixed = {name: from_schema(properties[name]) for name in properties if name in required}
    optional = {name: from_schema(properties[name]) for name in properties if name not in required}
    extra_schema = schema.get("additionalProperties", True)
    if extra_schema is False:
        extras: st.SearchStrategy[dict[str, Json]] = st.just({})
    else:
        values = ANY_JSON if extra_schema is True else from_schema(extra_schema)
        names = EXTRA_NAMES.filter(lambda name: name not in properties)
        extras = st.dictionaries(names, values, max_size=3)
    return st.builds(
        lambda extra, given, chosen: {**extra, **given, **chosen},
        extras,
        st.fixed_dictionaries(fixed),
        st.fixed_dictionaries({}, optional=optional),
    )


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Json]:
    """Values of ``schema`` (a schema with every ``$ref`` inlined), mostly valid: check them."""
    if schema is True or schema == {}:
        return ANY_JSON
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for combined in ("anyOf", "oneOf"):
        if combined in schema:
            rest = {key: value for key, value in schema.items() if key != combined}
            return st.one_of([from_schema({**rest, **branch}) for branch in schema[combined]])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([from_schema({**schema, "type": one}) for one in kind])
    if kind is None:
        kind = "object" if "properties" in schema else None
    if kind == "object":
        return _object(schema)
    if kind == "array":
        items = from_schema(schema.get("items", {}))
        return st.lists(items, min_size=schema.get("minItems", 0), max_size=min(3, schema.get("maxItems", 3)))
    if kind == "string":
        return st.text(min_size=schema.get("minLength", 0), max_size=min(24, schema.get("maxLength", 24)))
    if kind in ("integer", "number"):
        return _number(schema, integer=kind == "integer")
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return ANY_JSON
