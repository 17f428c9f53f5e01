"""What a create sends (the platform's rules for its base models, OpenAI's for any other model, ``method``
and ``integrations`` as given), the local leak-free split, uploads sent once, ``max_cost``, and the metrics
history of a job; sync, asyncio and trio (``api``) where a server is the emulator."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

from finetune_sdk import AsyncClient, Client, CostLimitError, Dataset, FineTuneJob, Hyperparameters
from finetune_sdk.emulator import Emulator
from finetune_sdk.types import MetricsHistory

from ..chat.sse_server import RawServer, Reply, Request, json_reply
from .conftest import POLL, make_api, write_dataset

MODEL = "Qwen/Qwen2.5-7B-Instruct"
OTHER = "gpt-4o-mini-2024-07-18"  # a model of another OpenAI-shaped server
JOB = {"id": "ftjob-1", "object": "fine_tuning.job", "model": OTHER, "status": "queued", "created_at": 1}


def _unique(tmp_path: Path, n: int = 20) -> Path:
    return write_dataset(tmp_path / f"train-{uuid.uuid4().hex[:8]}.jsonl", n=n)


def _stored(emu: Emulator, file_id: str | None) -> Path:
    record = emu.state.get_file(file_id or "")
    assert record is not None and record.path is not None
    return record.path


def _sent_body(respond_with: dict[str, Any], create: Any) -> dict[str, Any]:
    """The JSON body a local server got for one ``POST /fine_tuning/jobs`` made by ``create(client)``."""

    def answer(request: Request) -> Reply:
        return json_reply(200, respond_with)

    with RawServer(answer) as server, Client(api_key="k", base_url=server.base_url) as client:
        create(client)
    (posted,) = [r for r in server.requests if r.method == "POST"]
    body: dict[str, Any] = posted.body
    return body


def test_a_model_the_sdk_does_not_know_is_sent_only_what_was_given() -> None:
    body = _sent_body(JOB, lambda c: c.jobs.create(model=OTHER, training_file="file-abc"))
    assert body == {"model": OTHER, "training_file": "file-abc"}  # no LoRA keys, no defaults
    asked = {"n_epochs": "auto", "batch_size": 256, "learning_rate_multiplier": 2.5}
    body = _sent_body(
        JOB,
        lambda c: c.jobs.create(
            model=OTHER, training_file="file-abc", hyperparameters=asked, suffix="s" * 64
        ),
    )
    assert body == {"model": OTHER, "training_file": "file-abc", "hyperparameters": asked, "suffix": "s" * 64}


@pytest.mark.parametrize(
    ("hyperparameters", "named"),
    [
        ({"n_epochs": 51}, "n_epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"learning_rate_multiplier": 0}, "learning_rate_multiplier"),
        ({"n_epochs": "many"}, "n_epochs"),
    ],
)
def test_openais_rules_refuse_before_anything_is_sent(hyperparameters: dict[str, Any], named: str) -> None:
    with (
        RawServer(lambda r: json_reply(200, JOB)) as server,
        Client(api_key="k", base_url=server.base_url) as c,
    ):
        with pytest.raises(ValueError, match=named):
            c.jobs.create(model=OTHER, training_file="file-abc", hyperparameters=hyperparameters)
        assert server.requests == []


def test_a_platform_model_gets_the_guides_rules_and_defaults() -> None:
    body = _sent_body({**JOB, "model": MODEL}, lambda c: c.jobs.create(model=MODEL, training_file="file-abc"))
    assert body["hyperparameters"] == Hyperparameters.preset("standard").model_dump(mode="json")
    with pytest.raises(ValueError, match="n_epochs"):
        Client(api_key="k").jobs.create(
            model=MODEL, training_file="file-abc", hyperparameters={"n_epochs": 11}
        )


def test_a_method_is_sent_as_given_and_the_platform_defaults_stay_out() -> None:
    method = {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2, "batch_size": "auto"}}}
    integrations = [{"type": "wandb", "wandb": {"project": "p"}}]
    body = _sent_body(
        {**JOB, "model": MODEL},
        lambda c: c.jobs.create(
            model=MODEL, training_file="file-abc", method=method, integrations=integrations, seed=7
        ),
    )
    assert body == {
        "model": MODEL,
        "training_file": "file-abc",
        "method": method,
        "integrations": integrations,
        "seed": 7,
    }


def test_the_emulator_trains_a_supervised_method_with_its_epochs(api: Any, tmp_path: Path) -> None:
    method = {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}}
    job = api.jobs.create(model=MODEL, training_file=_unique(tmp_path), method=method)
    done = api.jobs.wait(job, poll_interval=POLL)
    assert done.hyperparameters["n_epochs"] == 2
    assert len(list(api.checkpoints.list(done))) == 2  # one checkpoint per epoch


def test_local_data_is_split_here_without_leakage(api: Any, emu: Emulator, tmp_path: Path) -> None:
    path = _unique(tmp_path, n=40)
    before = emu.state.counts()["files"]
    job = api.jobs.create(model=MODEL, training_file=path)
    assert job.validation_file is not None and emu.state.counts()["files"] == before + 2
    train = Dataset.from_jsonl(_stored(emu, job.training_file))
    valid = Dataset.from_jsonl(_stored(emu, job.validation_file))
    prompts = {c.messages[1].content for c in train.conversations}
    assert len(train) + len(valid) == 40 and len(valid) == 4
    assert not prompts & {c.messages[1].content for c in valid.conversations}  # nothing leaks


def test_the_same_bytes_under_the_same_name_are_uploaded_once(
    api: Any, emu: Emulator, tmp_path: Path
) -> None:
    path = _unique(tmp_path)
    before = emu.state.counts()["files"]
    first = api.files.upload(path)
    assert api.files.upload(path).id == first.id  # found on the server: not sent again
    assert emu.state.counts()["files"] == before + 1
    assert api.files.upload(path, reuse=False).id != first.id
    renamed = api.files.upload(path, filename=f"another-{path.name}")
    assert renamed.id != first.id and emu.state.counts()["files"] == before + 3


def test_a_file_larger_than_the_answer_cap_is_still_found_again(
    mode: str, emu: Emulator, tmp_path: Path
) -> None:
    path = _unique(tmp_path, n=2000)
    # Below the file's size, above a page of the file list: the comparison's download is bounded by the
    # file's own size instead.
    small_cap = path.stat().st_size // 2
    assert small_cap > 64 * 1024
    api = make_api(mode, emu, max_answer_bytes=small_cap)
    client = next(api)
    try:
        before = emu.state.counts()["files"]
        first = client.files.upload(path)
        assert client.files.upload(path).id == first.id
        assert emu.state.counts()["files"] == before + 1
    finally:
        api.close()


def test_max_cost_refuses_before_any_upload(
    api: Any, emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _unique(tmp_path)
    before = emu.state.counts()
    monkeypatch.delenv("FINETUNE_PRICE_TABLE", raising=False)
    monkeypatch.setenv("FINETUNE_PRICE_PER_MTOKENS", "1000")
    with pytest.raises(CostLimitError) as info:
        api.jobs.create(model=MODEL, training_file=path, max_cost=0.0001)
    assert info.value.cost > info.value.max_cost and info.value.billed_tokens > 0
    assert emu.state.counts() == before  # nothing uploaded, nothing created
    job = api.jobs.create(model=MODEL, training_file=path, max_cost=1_000_000)
    assert job.id.startswith("ftjob-")
    monkeypatch.delenv("FINETUNE_PRICE_PER_MTOKENS")
    with pytest.raises(ValueError, match="needs a price"):
        api.jobs.create(model=MODEL, training_file=path, max_cost=5)


def test_the_metrics_history_has_one_row_per_step_and_its_csv_round_trips(api: Any, tmp_path: Path) -> None:
    job = api.jobs.create(model=MODEL, training_file=_unique(tmp_path), hyperparameters="fast")
    done = api.jobs.wait(job, poll_interval=POLL)
    history = api.jobs.metrics(done)
    assert isinstance(history, MetricsHistory) and done.total_steps
    assert [row.step for row in history] == list(range(1, done.total_steps + 1))
    assert all(row.train_loss is not None for row in history)
    assert MetricsHistory.from_csv(history.to_csv()) == history
    assert orjson.loads(history.to_json())[0]["step"] == 1


def test_without_a_metrics_file_the_history_comes_from_the_events(tmp_path: Path) -> None:
    with Emulator(time_scale=50.0) as emu, Client(api_key=emu.api_key, base_url=emu.base_url) as client:
        job = client.jobs.create(model=MODEL, training_file=_unique(tmp_path))
        done = client.jobs.wait(job, poll_interval=POLL)
        assert done.metrics_file is not None
        emu.state.delete_file(done.metrics_file)  # a server that keeps no metrics file
        history = client.jobs.metrics(done)
        from_events = MetricsHistory.from_events(list(client.jobs.events(done)))
    assert len(history) == done.total_steps and history == from_events


@pytest.mark.anyio
async def test_the_async_metrics_history_is_the_same(tmp_path: Path) -> None:
    with Emulator(time_scale=50.0, seed=3) as emu:
        async with AsyncClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            job = await client.jobs.create(model=MODEL, training_file=_unique(tmp_path))
            done = await client.jobs.wait(job, poll_interval=POLL)
            history = await client.jobs.metrics(done.id)
        with Client(api_key=emu.api_key, base_url=emu.base_url) as client:
            assert client.jobs.metrics(done) == history
    assert isinstance(done, FineTuneJob) and len(history) == done.total_steps
