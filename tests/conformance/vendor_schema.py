"""Regenerate ``openapi-subset.json`` from OpenAI's published OpenAPI document (run by hand, not by pytest).

    python tests/conformance/vendor_schema.py /path/to/openai-openapi/openapi.yaml

Keeps the paths the platform shares with OpenAI (their parameters and answers), every schema those answers
and the fine-tuning and file requests refer to (followed through ``$ref``), and drops only the
``x-oaiMeta`` documentation examples. The chat request's schema is left out: the suite checks answers,
and its closure is most of the document. Needs PyYAML, which the suite itself does not.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

SOURCE = {
    "repository": "https://github.com/openai/openai-openapi",
    "path": "openapi.yaml",
    "commit": "f85dbe223d40e1a31cba812ab2d755c7e98a92a3",
    "licence": "MIT, copyright OpenAI (LICENSE.openai-openapi beside this file)",
}
PATHS = {
    "/files": ("get", "post"),
    "/files/{file_id}": ("get", "delete"),
    "/files/{file_id}/content": ("get",),
    "/fine_tuning/jobs": ("get", "post"),
    "/fine_tuning/jobs/{fine_tuning_job_id}": ("get",),
    "/fine_tuning/jobs/{fine_tuning_job_id}/cancel": ("post",),
    "/fine_tuning/jobs/{fine_tuning_job_id}/events": ("get",),
    "/fine_tuning/jobs/{fine_tuning_job_id}/checkpoints": ("get",),
    "/chat/completions": ("post",),
}
EXTRA_SCHEMAS = ("ErrorResponse",)
"""Schemas no kept path refers to that the suite uses: the error body of every failed answer."""
LEFT_OUT = "#/components/schemas/CreateChatCompletionRequest"


class _NoDates(yaml.SafeLoader):
    """A loader that keeps ``2024-01-01`` as the string it is in the document."""


_NoDates.yaml_implicit_resolvers = {
    key: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _clean(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _clean(v) for k, v in node.items() if k != "x-oaiMeta"}
    if isinstance(node, list):
        return [_clean(v) for v in node]
    return node


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*map(_refs, node)) if node else set()
    return set()


def main(source: Path, out: Path) -> None:
    raw = source.read_bytes()
    document = yaml.load(raw, Loader=_NoDates)  # a SafeLoader subclass
    paths: dict[str, Any] = {}
    for path, methods in PATHS.items():
        paths[path] = {m: _clean(document["paths"][path][m]) for m in methods}
    chat = paths["/chat/completions"]["post"]
    chat["requestBody"] = {"x-left-out": f"{LEFT_OUT} (see vendor_schema.py)"}
    kept: dict[str, dict[str, Any]] = {}
    todo = _refs(paths) | {f"#/components/schemas/{name}" for name in EXTRA_SCHEMAS}
    while todo:
        _, _, kind, name = todo.pop().split("/")
        if name not in kept.setdefault(kind, {}):
            kept[kind][name] = _clean(document["components"][kind][name])
            todo |= _refs(kept[kind][name])
    subset = {
        "openapi": document["openapi"],
        "info": {
            "title": document["info"]["title"],
            "version": document["info"]["version"],
            "license": document["info"]["license"],
        },
        "x-source": {**SOURCE, "sha256": hashlib.sha256(raw).hexdigest()},
        "paths": paths,
        "components": {kind: dict(sorted(items.items())) for kind, items in sorted(kept.items())},
    }
    out.write_text(json.dumps(subset, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{out}: {len(paths)} paths, {len(kept['schemas'])} schemas")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(__file__).with_name("openapi-subset.json"))
