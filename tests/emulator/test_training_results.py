"""What a job leaves behind: a checkpoint per epoch, its metrics file, a loss that looks like a LoRA run,
trained tokens that are the billed tokens; and the jobs list's filters."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from finetune_sdk import Dataset
from finetune_sdk.emulator import Emulator
from finetune_sdk.types import FineTuneJob, JobEvent, MetricsHistory
from tests.emulator.helpers import BASE, MakeClient, create_job, dataset, tuned, upload, wait


def test_a_checkpoint_per_epoch_listed_newest_first_with_paging(client: httpx.Client) -> None:
    job = tuned(client, hyperparameters={"n_epochs": 3})  # 27 training examples: 4 steps an epoch
    listed = client.get(f"/fine_tuning/jobs/{job['id']}/checkpoints").json()
    assert [c["step_number"] for c in listed["data"]] == [12, 8, 4]
    first = listed["data"][0]
    assert first["fine_tuning_job_id"] == job["id"]
    assert first["fine_tuned_model_checkpoint"] == f"{job['fine_tuned_model']}:ckpt-step-12"
    assert first["metrics"]["step"] == 12 and first["metrics"]["valid_loss"] == job["metrics"]["valid_loss"]
    one = client.get(f"/fine_tuning/jobs/{job['id']}/checkpoints", params={"limit": 1}).json()
    assert one["has_more"] and one["first_id"] == first["id"]
    after = client.get(
        f"/fine_tuning/jobs/{job['id']}/checkpoints", params={"limit": 5, "after": one["last_id"]}
    ).json()
    assert [c["step_number"] for c in after["data"]] == [8, 4] and not after["has_more"]


def test_a_checkpoints_model_answers_once_saved(client: httpx.Client) -> None:
    job = tuned(client)
    name = f"{job['fine_tuned_model']}:ckpt-step-4"
    ask = {"model": name, "messages": [{"role": "user", "content": "问题3：怎么修改收货地址？"}]}
    answer = client.post("/chat/completions", json=ask)
    assert answer.status_code == 200
    assert answer.json()["choices"][0]["message"]["content"] == "亲～第3步：打开订单，点“修改地址”哦！"
    unsaved = {**ask, "model": f"{job['fine_tuned_model']}:ckpt-step-5"}
    assert client.post("/chat/completions", json=unsaved).status_code == 404


def test_a_cancelled_job_keeps_the_checkpoints_it_had(make_client: MakeClient) -> None:
    with Emulator(time_scale=20, step_seconds=0.5) as emu:
        client = make_client(emu)
        file_id = upload(client, dataset()).json()["id"]
        job = create_job(client, file_id, hyperparameters={"n_epochs": 10}).json()
        deadline = time.monotonic() + 20
        while client.get(f"/fine_tuning/jobs/{job['id']}").json()["step"] < 5:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        cancelled = client.post(f"/fine_tuning/jobs/{job['id']}/cancel").json()
        kept = client.get(f"/fine_tuning/jobs/{job['id']}/checkpoints").json()["data"]
        assert 1 <= len(kept) == cancelled["step"] // 4
        assert cancelled["result_files"] == []


def test_the_metrics_file_has_a_row_per_step_and_reads_back(client: httpx.Client) -> None:
    job = tuned(client, hyperparameters={"n_epochs": 3})
    file_id = job["result_files"][0]
    record = client.get(f"/files/{file_id}").json()
    assert (record["purpose"], record["filename"]) == ("fine-tune-results", "step_metrics.csv")
    content = client.get(f"/files/{file_id}/content")
    assert content.headers["content-type"].startswith("text/csv")
    assert record["bytes"] == len(content.content)
    header, *lines = content.text.splitlines()
    assert header == "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy,epoch,learning_rate"
    assert len(lines) == job["total_steps"]
    history = MetricsHistory.from_csv(content.text)
    assert [row.step for row in history] == list(range(1, job["total_steps"] + 1))
    assert [step for step, _ in history.column("valid_loss")] == [4, 8, 12]  # at each epoch's end
    assert MetricsHistory.from_csv(history.to_csv()) == history
    events = client.get(f"/fine_tuning/jobs/{job['id']}/events", params={"limit": 100}).json()["data"]
    gathered = MetricsHistory.from_events(JobEvent.model_validate(e) for e in events)
    assert gathered == history  # the events carry the same step metrics
    assert FineTuneJob.model_validate(job).metrics_file == file_id
    listed = client.get("/files", params={"purpose": "fine-tune-results"}).json()["data"]
    assert file_id in [f["id"] for f in listed]
    refused = create_job(client, file_id)
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "training_file"
    assert client.delete(f"/files/{file_id}").json()["deleted"]
    assert client.get(f"/files/{file_id}/content").status_code == 404


def _metrics(client: httpx.Client, n_epochs: int, seed: int) -> MetricsHistory:
    job = tuned(client, dataset(80), hyperparameters={"n_epochs": n_epochs}, seed=seed)
    return MetricsHistory.from_csv(client.get(f"/files/{job['result_files'][0]}/content").text)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_loss_looks_like_a_lora_run(client: httpx.Client, seed: int) -> None:
    short = _metrics(client, 2, seed)
    train = [loss for _, loss in short.column("train_loss")]
    assert train[-1] < train[len(train) // 2] < train[0]  # falling
    assert any(b > a for a, b in itertools.pairwise(train)), "noisy, not a smooth line"
    valid = [loss for _, loss in short.column("valid_loss")]
    assert valid[1] < valid[0]  # two epochs: the validation loss still falls
    long = [loss for _, loss in _metrics(client, 10, seed).column("valid_loss")]
    best = long.index(min(long))
    assert 1 <= best < 5 and long[-1] > min(long) * 1.3  # many epochs overfit: it turns up
    rates = [rate for _, rate in short.column("learning_rate")]
    assert max(rates) <= 1e-4 and rates[-1] < rates[len(rates) // 2]  # warm-up, then decay
    accuracy = [acc for _, acc in short.column("train_accuracy")]
    assert accuracy[-1] > accuracy[0]


def test_trained_tokens_are_the_billed_tokens_of_what_was_trained(
    client: httpx.Client, tmp_path: Path
) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(dataset(40))
    file_id = upload(client, path.read_bytes()).json()["id"]
    whole = wait(client, create_job(client, file_id, validation_file=file_id, hyperparameters={
        "n_epochs": 2, "max_tokens": 20}).json()["id"])  # fmt: skip
    report = Dataset.validate_file(path, tokens="exact", n_epochs=2, max_tokens=20)
    assert report.stats.exact is not None
    assert whole["trained_tokens"] == report.stats.exact.billed
    stats = subprocess.run(
        [sys.executable, "-m", "finetune_sdk.cli", "stats", "--exact", "--json", "--n-epochs", "2",
         "--max-tokens", "20", str(path)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert json.loads(stats.stdout)["exact"]["billed"] == whole["trained_tokens"]
    split = wait(client, create_job(client, file_id, seed=7, hyperparameters={"n_epochs": 3}).json()["id"])
    trained, _ = Dataset.from_jsonl(path).split(0.1, seed=7)
    exact = trained.stats(tokens="exact", n_epochs=3).exact
    assert exact is not None and split["trained_tokens"] == exact.billed


def test_the_jobs_list_filters(make_client: MakeClient) -> None:
    with Emulator(time_scale=100) as emu:
        client = make_client(emu)
        file_id = upload(client, dataset(3)).json()["id"]
        a = create_job(client, file_id, suffix="alpha", metadata={"team": "x", "run": "1"}).json()
        b = create_job(client, file_id, suffix="beta", metadata={"team": "y"}).json()
        c = create_job(client, file_id, suffix="gamma").json()
        client.post(f"/fine_tuning/jobs/{c['id']}/cancel")

        def ids(**query: str) -> list[str]:
            answer = client.get("/fine_tuning/jobs", params=query)
            assert answer.status_code == 200, answer.text
            return [job["id"] for job in answer.json()["data"]]

        assert ids() == [c["id"], b["id"], a["id"]]
        assert ids(status="cancelled") == [c["id"]]
        assert ids(suffix="beta") == [b["id"]]
        assert ids(model=BASE) == ids() and ids(model="Qwen/other") == []
        assert ids(**{"metadata[team]": "x"}) == [a["id"]]
        assert ids(**{"metadata[team]": "x", "metadata[run]": "2"}) == []
        assert ids(metadata="null") == [c["id"]]
        assert ids(created_after=str(a["created_at"])) == ids()
        assert ids(created_before=str(a["created_at"])) == []
        assert ids(created_after=str(a["created_at"] + 3600)) == []
        assert ids(status="cancelled", limit="1") == [c["id"]]
        for bad in ({"status": "sleeping"}, {"created_after": "yesterday"}):
            answer = client.get("/fine_tuning/jobs", params=bad)
            assert answer.status_code == 400 and answer.json()["error"]["param"] == next(iter(bad))
