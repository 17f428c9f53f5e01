"""/v1/fine_tuning/jobs: create, life cycle, events, pagination, cancel, idempotency, validation."""

from __future__ import annotations

import time

import httpx
import pytest

from finetune_sdk.emulator import Emulator
from finetune_sdk.hyperparameters import Hyperparameters
from tests.emulator.helpers import (
    BASE,
    MakeClient,
    create_job,
    dataset,
    example,
    jsonl,
    tuned,
    upload,
    wait,
)

STANDARD = Hyperparameters.preset("standard").model_dump()


def test_a_job_runs_to_success_with_progress_and_a_tuned_model(client: httpx.Client) -> None:
    file_id = upload(client, dataset(30)).json()["id"]
    created = create_job(client, file_id, suffix="support", hyperparameters={"n_epochs": 2}).json()
    assert created["object"] == "fine_tuning.job"
    assert created["id"].startswith("ftjob-")
    assert created["status"] == "validating_files"
    assert created["hyperparameters"] == {**STANDARD, "n_epochs": 2}
    assert created["fine_tuned_model"] is None
    assert created["validation_split"] == 0.1
    assert created["total_steps"] == 8  # 27 training examples (10% held out), batch 8, 2 epochs
    seen = set()
    job = created
    while job["status"] not in ("succeeded", "failed", "cancelled"):
        seen.add(job["status"])
        time.sleep(0.002)
        job = client.get(f"/fine_tuning/jobs/{created['id']}").json()
    assert job["status"] == "succeeded"
    assert {"validating_files", "running"} <= seen | {"running"}
    assert job["step"] == job["total_steps"] == 8
    assert job["epoch"] == 2
    assert job["metrics"]["train_loss"] < 1.0
    assert job["metrics"]["valid_loss"] is not None
    assert job["trained_tokens"] > 0
    assert job["error"] is None
    assert job["created_at"] <= job["started_at"] <= job["finished_at"]
    assert job["fine_tuned_model"] == (f"ft:LoRA/{BASE}:emulator-org:support:{created['id']}")


def test_events_are_chronological_and_tell_the_story(client: httpx.Client) -> None:
    job = tuned(client)
    events = client.get(f"/fine_tuning/jobs/{job['id']}/events", params={"limit": 100}).json()
    assert events["has_more"] is False
    messages = [e["message"] for e in events["data"]]
    assert messages[:4] == ["Validating training file", "Files validated", "Job queued", "Job started"]
    assert messages[-1] == "Job succeeded"
    steps = [e["data"] for e in events["data"] if e["data"]]
    assert [s["step"] for s in steps] == list(range(1, job["total_steps"] + 1))
    assert steps[-1]["train_loss"] < steps[0]["train_loss"]  # the loss falls
    assert all(e["object"] == "fine_tuning.job.event" and e["level"] == "info" for e in events["data"])
    ids = [e["id"] for e in events["data"]]
    assert ids == sorted(ids)
    times = [e["created_at"] for e in events["data"]]
    assert times == sorted(times)


def test_a_follower_pages_events_forward_without_missing_or_repeating(client: httpx.Client) -> None:
    job = tuned(client)
    everything = client.get(f"/fine_tuning/jobs/{job['id']}/events", params={"limit": 100}).json()
    followed: list[str] = []
    after: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 3, **({"after": after} if after else {})}
        page = client.get(f"/fine_tuning/jobs/{job['id']}/events", params=params).json()
        followed += [e["id"] for e in page["data"]]
        if not page["has_more"]:
            break
        after = page["data"][-1]["id"]
    assert followed == [e["id"] for e in everything["data"]]


def test_jobs_list_newest_first_with_cursor_pagination(client: httpx.Client) -> None:
    file_id = upload(client, dataset(3)).json()["id"]
    made = [create_job(client, file_id).json()["id"] for _ in range(5)]
    first = client.get("/fine_tuning/jobs", params={"limit": 2}).json()
    assert first["object"] == "list"
    assert [j["id"] for j in first["data"]] == made[::-1][:2]
    assert first["has_more"] is True
    second = client.get("/fine_tuning/jobs", params={"limit": 2, "after": first["data"][-1]["id"]}).json()
    assert [j["id"] for j in second["data"]] == made[::-1][2:4]
    default = client.get("/fine_tuning/jobs").json()
    assert len(default["data"]) == min(20, len(default["data"]))
    for bad in ({"limit": 0}, {"limit": 101}, {"limit": "x"}, {"after": "ftjob-nope"}):
        answer = client.get("/fine_tuning/jobs", params=bad)
        assert answer.status_code == 400
        assert answer.json()["error"]["param"] in ("limit", "after")


def test_cancel_mid_run_freezes_progress(make_client: MakeClient) -> None:
    with Emulator(time_scale=10) as slow:
        client = make_client(slow)
        file_id = upload(client, dataset(300)).json()["id"]
        job_id = create_job(client, file_id).json()["id"]
        while client.get(f"/fine_tuning/jobs/{job_id}").json()["status"] != "running":
            time.sleep(0.005)
        cancelled = client.post(f"/fine_tuning/jobs/{job_id}/cancel")
        assert cancelled.status_code == 200
        body = cancelled.json()
        assert body["status"] == "cancelled"
        assert body["finished_at"] is not None
        assert body["fine_tuned_model"] is None
        time.sleep(0.05)
        later = client.get(f"/fine_tuning/jobs/{job_id}").json()
        assert later["status"] == "cancelled"
        assert later["step"] == body["step"] < body["total_steps"]
        events = client.get(f"/fine_tuning/jobs/{job_id}/events", params={"limit": 100}).json()["data"]
        assert events[-1]["message"] == "Job cancelled"
        again = client.post(f"/fine_tuning/jobs/{job_id}/cancel")
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "job_not_cancellable"
        chat = client.post(
            "/chat/completions",
            json={
                "model": later["fine_tuned_model"] or "ft:none",
                "messages": [{"role": "user", "content": "hi"}],
            },
        )
        assert chat.status_code == 404


def test_cancel_of_a_finished_job_is_409_and_of_an_unknown_job_404(client: httpx.Client) -> None:
    job = tuned(client)
    answer = client.post(f"/fine_tuning/jobs/{job['id']}/cancel")
    assert answer.status_code == 409
    assert answer.json()["error"]["type"] == "conflict_error"
    assert client.get(f"/fine_tuning/jobs/{job['id']}").json()["status"] == "succeeded"
    assert client.post("/fine_tuning/jobs/ftjob-nope/cancel").status_code == 404
    assert client.get("/fine_tuning/jobs/ftjob-nope").json()["error"]["code"] == "job_not_found"
    assert client.get("/fine_tuning/jobs/ftjob-nope/events").status_code == 404


def test_an_invalid_training_file_fails_the_job_naming_the_first_bad_line(client: httpx.Client) -> None:
    bad = jsonl([example("q1", "a1"), {"messages": [{"role": "assistant", "content": "a"}]}, {"x": 1}])
    job = tuned(client, bad)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "invalid_training_file"
    assert "line 2" in job["error"]["message"]
    assert job["fine_tuned_model"] is None
    events = client.get(f"/fine_tuning/jobs/{job['id']}/events").json()["data"]
    assert events[-1]["level"] == "error"
    assert events[-1]["message"].startswith("Job failed: ")


def test_an_invalid_validation_file_fails_the_job(client: httpx.Client) -> None:
    train = upload(client, dataset(5)).json()["id"]
    valid = upload(client, b"not json\n", name="valid.jsonl").json()["id"]
    job = wait(client, create_job(client, train, validation_file=valid).json()["id"])
    assert job["status"] == "failed"
    assert job["error"]["code"] == "invalid_validation_file"
    assert "line 1" in job["error"]["message"]


def test_a_validation_file_replaces_the_split(client: httpx.Client) -> None:
    train = upload(client, dataset(16)).json()["id"]
    valid = upload(client, dataset(4), name="valid.jsonl").json()["id"]
    job = wait(client, create_job(client, train, validation_file=valid).json()["id"])
    assert job["status"] == "succeeded"
    assert job["validation_file"] == valid
    assert job["validation_split"] is None
    assert job["total_steps"] == 6  # all 16 examples train: 2 steps x 3 epochs


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"model": "Qwen/Nope"}, 404, "model"),
        ({"training_file": "file-nope"}, 400, "training_file"),
        ({"validation_file": "file-nope"}, 400, "validation_file"),
        ({"validation_split": 0.6}, 400, "validation_split"),
        ({"validation_split": 0}, 400, "validation_split"),
        ({"hyperparameters": {"n_epochs": 11}}, 400, "hyperparameters.n_epochs"),
        ({"hyperparameters": {"learning_rate": 0.5}}, 400, "hyperparameters.learning_rate"),
        ({"hyperparameters": {"batch_size": 0}}, 400, "hyperparameters.batch_size"),
        ({"hyperparameters": {"lora_rank": 65}}, 400, "hyperparameters.lora_rank"),
        ({"hyperparameters": {"lora_dropout": 1.5}}, 400, "hyperparameters.lora_dropout"),
        ({"hyperparameters": {"warmup": 1}}, 400, "hyperparameters.warmup"),
        ({"suffix": "has space"}, 400, "suffix"),
        ({"suffix": "x" * 65}, 400, "suffix"),
        ({"model": None}, 400, "model"),
    ],
)
def test_bad_create_bodies_name_the_field(
    emu: Emulator, client: httpx.Client, body: dict[str, object], status: int, field: str
) -> None:
    file_id = upload(client, dataset(3)).json()["id"]
    before = emu.state.counts()["jobs"]
    answer = client.post("/fine_tuning/jobs", json={"model": BASE, "training_file": file_id, **body})
    assert answer.status_code == status
    error = answer.json()["error"]
    assert error["param"] == field
    assert field.rsplit(".", maxsplit=1)[-1] in error["message"]
    if status == 404:
        assert error["code"] == "model_not_found"
    assert emu.state.counts()["jobs"] == before


def test_a_validators_message_has_no_pydantic_prefix(client: httpx.Client) -> None:
    file_id = upload(client, dataset(3)).json()["id"]
    answer = create_job(client, file_id, suffix="has space")
    message = answer.json()["error"]["message"]
    assert message.startswith("suffix: must be 1-64 characters"), message
    assert "Value error" not in message


def test_both_validation_sources_is_400(client: httpx.Client) -> None:
    file_id = upload(client, dataset(3)).json()["id"]
    answer = create_job(client, file_id, validation_file=file_id, validation_split=0.2)
    assert answer.status_code == 400
    assert "validation_split" in answer.json()["error"]["message"]


def test_malformed_json_is_400(client: httpx.Client) -> None:
    answer = client.post("/fine_tuning/jobs", content=b"{nope", headers={"content-type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_json"
    assert client.post("/fine_tuning/jobs", json=[1]).status_code == 400


def test_missing_suffix_comes_from_the_name_or_defaults(client: httpx.Client) -> None:
    file_id = upload(client, dataset(3)).json()["id"]
    named = create_job(client, file_id, name="客服 bot v2").json()
    assert named["suffix"] == "bot-v2"
    plain = create_job(client, file_id).json()
    assert plain["suffix"] == "ft"


def test_the_loss_curve_is_deterministic_by_seed(client: httpx.Client) -> None:
    def losses(seed: int) -> list[float]:
        job = tuned(client, dataset(20), seed=seed)
        events = client.get(f"/fine_tuning/jobs/{job['id']}/events", params={"limit": 100}).json()
        return [e["data"]["train_loss"] for e in events["data"] if e["data"]]

    assert losses(7) == losses(7)
    assert losses(7) != losses(8)


def test_idempotency_key_returns_the_first_job(emu: Emulator, client: httpx.Client) -> None:
    file_id = upload(client, dataset(3)).json()["id"]
    before = emu.state.counts()["jobs"]
    key = {"Idempotency-Key": "create-once"}
    body = {"model": BASE, "training_file": file_id}
    first = client.post("/fine_tuning/jobs", json=body, headers=key)
    second = client.post("/fine_tuning/jobs", json=body, headers=key)
    assert first.status_code == second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.headers["idempotent-replayed"] == "true"
    assert emu.state.counts()["jobs"] == before + 1
    reused = client.post("/fine_tuning/jobs", json={**body, "suffix": "other"}, headers=key)
    assert reused.status_code == 400
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    other_endpoint = upload(client, dataset(1), **key)
    assert other_endpoint.json()["id"].startswith("file-")


def test_idempotency_key_on_upload(emu: Emulator, client: httpx.Client) -> None:
    before = emu.state.counts()["files"]
    first = upload(client, dataset(2), **{"Idempotency-Key": "up-1"}).json()
    again = upload(client, dataset(2), **{"Idempotency-Key": "up-1"}).json()
    assert again == first
    assert emu.state.counts()["files"] == before + 1


def test_idempotency_key_on_cancel(make_client: MakeClient) -> None:
    with Emulator() as slow:
        client = make_client(slow)
        job = create_job(client, upload(client, dataset(2)).json()["id"]).json()
        key = {"Idempotency-Key": "cancel-1"}
        cancelled = client.post(f"/fine_tuning/jobs/{job['id']}/cancel", headers=key)
        replay = client.post(f"/fine_tuning/jobs/{job['id']}/cancel", headers=key)
        assert cancelled.status_code == replay.status_code == 200
        assert replay.json() == cancelled.json()
        assert client.post(f"/fine_tuning/jobs/{job['id']}/cancel").status_code == 409


def test_a_failed_request_is_not_remembered_under_its_key(client: httpx.Client) -> None:
    key = {"Idempotency-Key": "retry-after-fix"}
    assert (
        client.post(
            "/fine_tuning/jobs", json={"model": BASE, "training_file": "file-x"}, headers=key
        ).status_code
        == 400
    )
    file_id = upload(client, dataset(2)).json()["id"]
    fixed = client.post("/fine_tuning/jobs", json={"model": BASE, "training_file": file_id}, headers=key)
    assert fixed.status_code == 200


def test_validator_warnings_become_warn_events(client: httpx.Client) -> None:
    job = tuned(client, dataset(10), hyperparameters={"max_tokens": 5})
    assert job["status"] == "succeeded"
    events = client.get(f"/fine_tuning/jobs/{job['id']}/events", params={"limit": 100}).json()["data"]
    warnings = [
        e for e in events if e["level"] == "warn"
    ]  # OpenAI's level (the platform once said "warning")
    assert warnings
    assert "max_tokens" in warnings[0]["message"]


def test_the_split_rounds_like_dataset_split(client: httpx.Client) -> None:
    job = tuned(client, dataset(35), hyperparameters={"batch_size": 1, "n_epochs": 1})
    assert job["total_steps"] == 32  # 35 * 0.1 = 3.5 -> 3 held out, as Dataset.split
