"""Every object OpenAI's schema allows for the shared objects decodes into the SDK's types (at least
200 generated examples each, every one checked valid with ``jsonschema`` first)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finetune_sdk import ChatCompletion
from finetune_sdk.chat.state import StreamDecoder
from finetune_sdk.types import (
    Checkpoint,
    FileDeleted,
    FileObject,
    FineTuneJob,
    JobEvent,
    Page,
)

from . import schema
from .strategies import from_schema

EXAMPLES = 200
GENERATED: Counter[str] = Counter()


def _chat_completion(payload: dict[str, Any]) -> None:
    completion = ChatCompletion.model_validate(payload)
    choices = payload["choices"]
    assert completion.has_choices == bool(choices)  # an empty choices is read, and said
    if not choices:
        assert completion.text == "" and completion.finish_reason is None
        return
    first = next((c for c in choices if c.get("index", 0) == 0), choices[0])
    assert completion.text == (first["message"]["content"] or "")
    assert completion.finish_reason == first["finish_reason"]


def _chat_chunk(payload: dict[str, Any]) -> None:
    decoder = StreamDecoder(payload["model"])
    decoder.feed(b"data: " + orjson.dumps(payload) + b"\n\n")
    assert decoder.events == 1


DECODERS: dict[str, Callable[[dict[str, Any]], object]] = {
    "OpenAIFile": FileObject.model_validate,
    "DeleteFileResponse": FileDeleted.model_validate,
    "ListFilesResponse": Page[FileObject].model_validate,
    "FineTuningJob": FineTuneJob.model_validate,
    "ListPaginatedFineTuningJobsResponse": Page[FineTuneJob].model_validate,
    "FineTuningJobEvent": JobEvent.model_validate,
    "ListFineTuningJobEventsResponse": Page[JobEvent].model_validate,
    "FineTuningJobCheckpoint": Checkpoint.model_validate,
    "ListFineTuningJobCheckpointsResponse": Page[Checkpoint].model_validate,
    "CreateChatCompletionResponse": _chat_completion,
    "CreateChatCompletionStreamResponse": _chat_chunk,
}


def valid_objects(name: str) -> st.SearchStrategy[dict[str, Any]]:
    """Objects of OpenAI's schema ``name`` (round-tripped through JSON, as a client receives them)."""
    check = schema.validator(name, contract=False)
    strategy = from_schema(schema.resolved(name)).map(lambda value: json.loads(json.dumps(value)))
    return strategy.filter(check.is_valid)


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_every_object_the_schema_allows_decodes(name: str) -> None:
    decode = DECODERS[name]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(valid_objects(name))
    def decodes(value: dict[str, Any]) -> None:
        GENERATED[name] += 1
        decode(value)

    decodes()
    assert GENERATED[name] >= EXAMPLES
    print(f"\n{name}: {GENERATED[name]} objects decoded")


def test_a_platform_field_of_another_kind_reads_as_none() -> None:
    """What the generator tries at random, once on purpose: another server's ``step`` and ``metrics``."""
    job = FineTuneJob.model_validate(
        {"id": "j", "model": "m", "status": "running", "created_at": 1, "step": "x", "metrics": [1]}
    )
    assert job.step is None and job.metrics is None
    event = JobEvent.model_validate(
        {"id": "e", "created_at": 1, "level": "warn", "message": "m", "data": {"step": {}, "train_loss": 1}}
    )
    assert event.data is not None and event.data.step is None and event.data.train_loss == 1.0
    assert event.level.is_warning
