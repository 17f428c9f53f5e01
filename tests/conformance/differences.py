"""Every place where the platform's wire contract differs from OpenAI's OpenAPI document, as data.

Each row is one row of the table in ``docs/wire-contract.md`` (a test keeps the two equal). A row that
changes what an answer may look like carries the ``patch`` that turns OpenAI's schema into the contract's;
the conformance suite checks the emulator's answers against OpenAI's schema with these patches applied
and nothing else, so an answer that differs in any other way fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Schemas = dict[str, Any]


@dataclass(frozen=True)
class Difference:
    where: str
    """The first cell of the row in the docs' table."""
    patch: Callable[[Schemas], None] | None = None


def _nullable_ends(schemas: Schemas) -> None:
    for end in ("first_id", "last_id"):
        schemas["ListFilesResponse"]["properties"][end] = {"anyOf": [{"type": "string"}, {"type": "null"}]}


DIFFERENCES: tuple[Difference, ...] = (
    Difference("Answers in the envelope"),
    Difference("File list: `first_id`, `last_id`", _nullable_ends),
    Difference("`GET /files/{id}/content`"),
    Difference("Fine-tuning job: platform fields"),
    Difference("Job hyperparameters"),
    Difference("Job create: `hyperparameters` ranges"),
    Difference("Job create: `learning_rate_multiplier`"),
    Difference("Job create: `method`"),
    Difference("Job create: `integrations`"),
    Difference("Job create: `suffix`"),
    Difference("Job create: `validation_split`, `name`"),
    Difference("Job list: query"),
    Difference("Job events and checkpoints: platform fields"),
    Difference("Metrics file columns"),
    Difference("`Idempotency-Key`"),
    Difference("Poll hints on a job"),
)
