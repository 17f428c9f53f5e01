"""The emulator speaks OpenAI's shapes: file lists page as OpenAI's do, a job carries OpenAI's fields,
``method`` is honoured, and what the emulator does not implement is refused with a 400 naming it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from finetune_sdk.emulator import Emulator
from tests.emulator.helpers import BASE, MakeClient, create_job, dataset, tuned, upload, wait


def test_file_lists_honour_limit_after_and_order(make_client: MakeClient) -> None:
    with Emulator(time_scale=100) as emu:
        client = make_client(emu)
        ids = [upload(client, dataset(2), name=f"f{i}.jsonl").json()["id"] for i in range(5)]
        newest = client.get("/files").json()
        assert [f["id"] for f in newest["data"]] == ids[::-1]  # OpenAI's default order: desc
        assert (newest["first_id"], newest["last_id"]) == (ids[-1], ids[0])
        two = client.get("/files", params={"limit": 2, "order": "asc"}).json()
        assert [f["id"] for f in two["data"]] == ids[:2] and two["has_more"]
        rest = client.get("/files", params={"limit": 2, "order": "asc", "after": two["last_id"]}).json()
        assert [f["id"] for f in rest["data"]] == ids[2:4]
        assert all(f["status"] == "processed" for f in newest["data"])
        for bad in ({"limit": 0}, {"order": "sideways"}, {"after": "file-nope"}):
            answer = client.get("/files", params=bad)
            assert answer.status_code == 400 and answer.json()["error"]["param"] == next(iter(bad))


def test_a_job_carries_openais_fields(client: httpx.Client, emu: Emulator) -> None:
    job = tuned(client, hyperparameters={"n_epochs": 2})
    assert job["organization_id"] == emu.settings.org
    assert job["method"] == {"type": "supervised", "supervised": {"hyperparameters": job["hyperparameters"]}}
    assert job["integrations"] is None and job["estimated_finish"] is None
    assert len(job["result_files"]) == 1
    running = create_job(client, upload(client, dataset()).json()["id"]).json()
    assert running["result_files"] == [] and running["trained_tokens"] is None


def test_a_supervised_method_is_the_same_training(client: httpx.Client) -> None:
    file_id = upload(client, dataset()).json()["id"]
    method = {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 5, "batch_size": "auto"}}}
    job = wait(client, create_job(client, file_id, method=method).json()["id"])
    assert job["hyperparameters"]["n_epochs"] == 5  # the epochs sent in method are used
    assert job["hyperparameters"]["batch_size"] == 8  # "auto": the suggested value
    assert job["total_steps"] == 5 * 4  # 27 training examples, batches of 8
    same = create_job(client, file_id, hyperparameters={"n_epochs": 5}, method=method).json()
    assert same["hyperparameters"]["n_epochs"] == 5


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"method": {"type": "dpo", "dpo": {}}}, "method.type"),
        ({"method": {"type": "supervised", "dpo": {}}}, "method.dpo"),
        ({"method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 11}}}},
         "method.supervised.hyperparameters.n_epochs"),
        ({"hyperparameters": {"n_epochs": 2}, "method": {"type": "supervised", "supervised": {
            "hyperparameters": {"n_epochs": 3}}}}, "method.supervised.hyperparameters.n_epochs"),
        ({"integrations": [{"type": "wandb", "wandb": {"project": "p"}}]}, "integrations"),
        ({"hyperparameters": {"learning_rate_multiplier": 2.0}}, "hyperparameters.learning_rate_multiplier"),
        ({"hyperparameters": {"beta": 0.1}}, "hyperparameters.beta"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**31}, "seed"),
        ({"stop_at": 3}, "stop_at"),
        ({"suffix": "a:b"}, "suffix"),
    ],
)  # fmt: skip
def test_what_is_not_implemented_is_refused_naming_the_field(
    emu: Emulator, client: httpx.Client, body: dict[str, Any], param: str
) -> None:
    file_id = upload(client, dataset(3)).json()["id"]
    before = emu.state.counts()["jobs"]
    answer = create_job(client, file_id, **body)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["param"] == param
    assert param.rsplit(".", 1)[-1] in error["message"]
    assert emu.state.counts()["jobs"] == before


def test_auto_and_null_take_the_suggested_values(client: httpx.Client) -> None:
    file_id = upload(client, dataset(3)).json()["id"]
    hyper = {"n_epochs": "auto", "batch_size": None, "learning_rate_multiplier": "auto"}
    job = create_job(client, file_id, hyperparameters=hyper, integrations=[]).json()
    assert (job["hyperparameters"]["n_epochs"], job["hyperparameters"]["batch_size"]) == (3, 8)
    assert job["integrations"] == []
    assert "learning_rate_multiplier" not in job["hyperparameters"]


def test_events_use_openais_levels_types_and_data(client: httpx.Client) -> None:
    job = tuned(client, dataset(10))
    events = client.get(f"/fine_tuning/jobs/{job['id']}/events", params={"limit": 100}).json()["data"]
    assert {e["level"] for e in events} <= {"info", "warn", "error"}
    assert all(isinstance(e["data"], dict) for e in events)
    messages = [e for e in events if e["type"] == "message"]
    metrics = [e for e in events if e["type"] == "metrics"]
    assert messages and all(e["data"] == {} for e in messages)
    assert metrics and all(
        {"step", "train_loss", "train_mean_token_accuracy"} <= set(e["data"]) for e in metrics
    )


def test_a_chat_message_carries_refusal(client: httpx.Client) -> None:
    answer = client.post(
        "/chat/completions", json={"model": BASE, "messages": [{"role": "user", "content": "hi"}]}
    ).json()
    assert answer["choices"][0]["message"]["refusal"] is None
