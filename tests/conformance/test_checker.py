"""The checker bites: answers that break OpenAI's schema the way the emulator once did are caught, and
the documented differences are the only ones let through."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from . import schema
from .checker import Checker, CheckingTransport

JOB = {
    "id": "ftjob-1",
    "object": "fine_tuning.job",
    "created_at": 1,
    "error": None,
    "fine_tuned_model": None,
    "finished_at": None,
    "hyperparameters": {"n_epochs": 3, "batch_size": 8, "lora_rank": 8},
    "model": "Qwen/Qwen2.5-7B-Instruct",
    "organization_id": "org",
    "result_files": [],
    "status": "running",
    "trained_tokens": None,
    "training_file": "file-1",
    "validation_file": None,
    "seed": 0,
    "step": 3,
}
EVENT = {"id": "e1", "object": "fine_tuning.job.event", "created_at": 1, "level": "info", "message": "m"}


def answers(routes: dict[tuple[str, str], tuple[int, str, bytes]]) -> Checker:
    """Send each request through a checking transport over a mock server answering ``routes``."""
    checker = Checker()

    def reply(request: httpx.Request) -> httpx.Response:
        status, media, body = routes[request.method, request.url.path]
        return httpx.Response(status, content=body, headers={"content-type": media})

    transport = CheckingTransport(checker, httpx.MockTransport(reply))
    with httpx.Client(transport=transport, base_url="http://test") as client:
        for method, path in routes:
            client.request(method, path).read()
    return checker


def one(method: str, path: str, body: Any, status: int = 200) -> Checker:
    return answers({(method, path): (status, "application/json", json.dumps(body).encode())})


def test_a_valid_job_passes_and_a_counted_answer_is_checked() -> None:
    checker = one("GET", "/v1/fine_tuning/jobs/ftjob-1", JOB)
    assert checker.problems == [] and checker.checked["FineTuningJob"] == 1


@pytest.mark.parametrize(
    ("method", "path", "body", "fault"),
    [
        ("GET", "/v1/files/file-1", {"id": "f", "object": "file", "bytes": 1, "created_at": 1,
                                     "filename": "a", "purpose": "fine-tune"}, "status"),
        ("GET", "/v1/fine_tuning/jobs/ftjob-1", {**JOB, "organization_id": None}, "organization_id"),
        ("GET", "/v1/fine_tuning/jobs/ftjob-1", {k: v for k, v in JOB.items() if k != "result_files"},
         "result_files"),
        ("GET", "/v1/fine_tuning/jobs/ftjob-1",
         {**JOB, "status": "failed", "error": {"code": "x", "message": "m"}}, "error:"),  # no param
        ("GET", "/v1/fine_tuning/jobs/ftjob-1/events",
         {"object": "list", "data": [{**EVENT, "level": "warning"}], "has_more": False}, "warning"),
        ("GET", "/v1/fine_tuning/jobs/ftjob-1/events",
         {"object": "list", "data": [{**EVENT, "data": None}], "has_more": False}, "None"),
        ("GET", "/v1/files", {"object": "list", "data": [], "has_more": False}, "first_id"),
        ("POST", "/v1/chat/completions",
         {"id": "c", "object": "chat.completion", "created": 1, "model": "m",
          "choices": [{"index": 0, "message": {"role": "assistant", "content": "x"},
                       "logprobs": None, "finish_reason": "stop"}]}, "refusal"),
        ("GET", "/v1/files/nope", {"error": {"message": "m", "type": "t"}}, "code"),
    ],
)  # fmt: skip
def test_the_emulators_old_answers_are_caught(method: str, path: str, body: Any, fault: str) -> None:
    status = 404 if path.endswith("nope") else 200
    checker = one(method, path, body, status)
    assert checker.problems, body
    assert any(fault in problem for problem in checker.problems), checker.problems


def test_only_the_documented_difference_lets_an_empty_file_list_name_no_ends() -> None:
    empty = {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}
    assert schema.errors("ListFilesResponse", empty) == []
    assert schema.errors("ListFilesResponse", empty, contract=False)  # OpenAI's own schema says string


def test_streams_are_checked_chunk_by_chunk() -> None:
    good = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": None}]}  # fmt: skip
    bad = {**good, "choices": [{"index": 0, "delta": {"content": 5}, "finish_reason": None}]}
    body = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in (good, bad)) + b"data: [DONE]\n\n"
    checker = answers({("POST", "/v1/chat/completions"): (200, "text/event-stream", body)})
    assert checker.checked["CreateChatCompletionStreamResponse"] == 2
    assert len(checker.problems) == 1 and "content" in checker.problems[0]
    unfinished = answers({("POST", "/v1/chat/completions"): (200, "text/event-stream", body[:-14])})
    assert any("[DONE]" in problem for problem in unfinished.problems)


def test_a_metrics_file_must_be_csv_with_openais_columns() -> None:
    route = ("GET", "/v1/files/file-1/content")
    good = b"step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy,epoch\n1,2.0,0.3,,,1\n"
    assert answers({route: (200, "text/csv", good)}).problems == []
    wrong = answers({route: (200, "text/csv", b"step,loss\n1,2\n")}).problems
    assert wrong and "columns" in wrong[0]
    assert answers({route: (200, "application/json", b'"x"')}).problems
