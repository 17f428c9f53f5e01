from __future__ import annotations

import itertools
import uuid
from pathlib import Path
from typing import Any

import pytest

from finetune_sdk import (
    ConflictError,
    DatasetValidationError,
    FineTuneJob,
    JobCancelledError,
    JobFailedError,
    JobStatus,
    NotFoundError,
    WaitTimeoutError,
)
from finetune_sdk.emulator import Emulator
from finetune_sdk.hyperparameters import Hyperparameters

from .conftest import POLL, make_api, write_dataset

MODEL = "Qwen/Qwen2.5-7B-Instruct"


def test_whole_flow_upload_create_with_preset_wait(api: Any, emu: Emulator, train_file: Path) -> None:
    uploaded = api.files.upload(train_file)
    job = api.jobs.create(model=MODEL, training_file=uploaded.id, hyperparameters="fast", suffix="critic")
    assert isinstance(job, FineTuneJob)
    assert job.status in (JobStatus.VALIDATING_FILES, JobStatus.QUEUED)  # the machine may be slow
    assert job.hyperparameters == Hyperparameters.preset("fast").model_dump(mode="json")
    updates: list[FineTuneJob] = []
    done = api.jobs.wait(job, poll_interval=POLL, on_update=updates.append)
    assert done.status is JobStatus.SUCCEEDED and done.progress == 1.0
    assert done.fine_tuned_model is not None
    assert done.fine_tuned_model.startswith(f"ft:LoRA/{MODEL}:") and done.fine_tuned_model.endswith(
        job.id.removeprefix("ftjob-")
    )
    assert ":critic:" in done.fine_tuned_model
    assert updates[-1].status is JobStatus.SUCCEEDED
    statuses = [u.status for u in updates]
    runs = [s for i, s in enumerate(statuses) if i == 0 or s is not statuses[i - 1]]
    assert runs == sorted(set(statuses), key=statuses.index)  # each status change once, in order
    steps = [u.step for u in updates if u.status is JobStatus.RUNNING and u.step is not None]
    assert steps == sorted(steps)  # the steps reported (every one the events hold) never go back


def test_create_from_a_path_uploads_it_first(api: Any, emu: Emulator, tmp_path: Path) -> None:
    train_file = write_dataset(tmp_path / f"train-{uuid.uuid4().hex}.jsonl")  # a name the server has not seen
    before = emu.state.counts()["files"]
    job = api.jobs.create(model=MODEL, training_file=train_file, validation_split=0.2, seed=7)
    assert job.training_file is not None and job.training_file.startswith("file-")
    assert emu.state.counts()["files"] == before + 1  # the platform's own split: one file sent
    assert job.validation_split == 0.2 and job.seed == 7
    assert api.jobs.wait(job.id, poll_interval=POLL).status is JobStatus.SUCCEEDED


def test_default_hyperparameters_are_the_standard_preset(api: Any, train_file: Path) -> None:
    job = api.jobs.create(model=MODEL, training_file=train_file)
    assert job.hyperparameters == Hyperparameters.preset("standard").model_dump(mode="json")


def test_idempotency_key_makes_create_happen_once(api: Any, emu: Emulator, tmp_path: Path) -> None:
    train_file = write_dataset(tmp_path / f"train-{uuid.uuid4().hex}.jsonl")
    before = emu.state.counts()
    key = f"once-{uuid.uuid4()}"
    first = api.jobs.create(model=MODEL, training_file=train_file, idempotency_key=key)
    again = api.jobs.create(model=MODEL, training_file=train_file, idempotency_key=key)
    assert first.id == again.id
    after = emu.state.counts()
    # the training and validation files of the local split, each sent once
    assert after["jobs"] == before["jobs"] + 1 and after["files"] == before["files"] + 2
    assert first.validation_file is not None


def test_invalid_file_uploaded_without_validation_fails_the_job(api: Any, tmp_path: Path) -> None:
    path = write_dataset(tmp_path / "t.jsonl", n=4)
    with path.open("a", encoding="utf-8") as f:
        f.write('{"messages": [{"role": "user", "content": "only a question"}]}\n')
    uploaded = api.files.upload(path, validate=False)
    job = api.jobs.create(model=MODEL, training_file=uploaded.id)
    with pytest.raises(JobFailedError) as info:
        api.jobs.wait(job, poll_interval=POLL)
    err = info.value
    assert err.code == "invalid_training_file"
    assert err.error_message is not None and "line 5" in err.error_message
    assert err.job.status is JobStatus.FAILED and err.job_id == job.id


def test_cancel_mid_run(api: Any, emu: Emulator, tmp_path: Path) -> None:
    path = write_dataset(tmp_path / "long.jsonl", n=400)
    job = api.jobs.create(model=MODEL, training_file=path, hyperparameters={"n_epochs": 10, "batch_size": 1})
    cancelled = api.jobs.cancel(job)
    assert cancelled.status is JobStatus.CANCELLED
    with pytest.raises(JobCancelledError) as info:
        api.jobs.wait(job, poll_interval=POLL)
    assert info.value.job.id == job.id
    with pytest.raises(ConflictError):
        api.jobs.cancel(job)


def test_wait_timeout_leaves_the_job_running_and_says_how_to_resume(api: Any, tmp_path: Path) -> None:
    path = write_dataset(tmp_path / "long.jsonl", n=400)
    job = api.jobs.create(model=MODEL, training_file=path, hyperparameters={"n_epochs": 10, "batch_size": 1})
    with pytest.raises(WaitTimeoutError) as info:
        api.jobs.wait(job, timeout=0.2, poll_interval=POLL)
    assert f"client.jobs.wait('{job.id}')" in str(info.value)
    assert info.value.job is not None and not info.value.job.is_final
    assert not api.jobs.retrieve(job).is_final
    api.jobs.cancel(job)


def test_list_pages_lazily_newest_first(api: Any, train_file: Path) -> None:
    made = [api.jobs.create(model=MODEL, training_file=train_file).id for _ in range(3)]
    # limit is the page size (as in openai); iterating walks every page, so take the first three
    newest = [j.id for j in itertools.islice(api.jobs.list(limit=3), 3)]
    assert newest == made[::-1]
    everything = [j.id for j in api.jobs.list()]
    assert everything[:3] == made[::-1] and len(everything) == len(set(everything))
    assert list(api.jobs.list(limit=0)) == []


def test_events_follow_yields_each_event_once_in_order(api: Any, train_file: Path) -> None:
    job = api.jobs.create(model=MODEL, training_file=train_file)
    followed = list(api.jobs.follow(job, poll_interval=POLL))
    ids = [e.id for e in followed]
    assert len(ids) == len(set(ids))
    after = list(api.jobs.events(job))
    assert [e.id for e in after] == ids  # nothing missed: the whole log, in the same order
    steps = [e.data.step for e in followed if e.data is not None and e.data.step is not None]
    assert steps == sorted(steps) and steps
    assert api.jobs.retrieve(job).status is JobStatus.SUCCEEDED


def test_unknown_job_and_model(api: Any, train_file: Path) -> None:
    with pytest.raises(NotFoundError):
        api.jobs.retrieve("ftjob-doesnotexist")
    with pytest.raises(NotFoundError, match="model"):
        api.jobs.create(model="Qwen/Qwen9-1B", training_file=train_file)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"validation_file": "file-x", "validation_split": 0.1}, "not both"),
        ({"validation_split": 0.9}, "validation_split"),
        ({"hyperparameters": "turbo"}, "standard"),
        ({"hyperparameters": {"n_epochs": 11}}, "n_epochs"),
        ({"suffix": "bad suffix!"}, "suffix"),
        ({"seed": 1.5}, "seed"),
        ({"metadata": {"tags": {"a", "b"}}}, "metadata"),
        ({"validation_file": "missing.jsonl"}, "missing"),
    ],
)
def test_bad_arguments_fail_before_anything_is_sent(
    api: Any, emu: Emulator, train_file: Path, kwargs: dict[str, Any], match: str
) -> None:
    before = emu.state.counts()
    with pytest.raises((ValueError, OSError), match=match):
        api.jobs.create(model=MODEL, training_file=train_file, **kwargs)
    assert emu.state.counts() == before  # nothing uploaded, nothing created


def test_a_bad_validation_file_stops_the_create_before_any_upload(
    api: Any, emu: Emulator, train_file: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "valid.jsonl"
    bad.write_text('{"messages": [{"role": "assistant", "content": "hi"}]}\n', encoding="utf-8")
    before = emu.state.counts()
    with pytest.raises(DatasetValidationError) as info:
        api.jobs.create(model=MODEL, training_file=train_file, validation_file=bad)
    assert info.value.report.errors[0].code == "first_not_user"
    assert emu.state.counts() == before


def test_a_refused_create_deletes_the_files_it_uploaded(api: Any, emu: Emulator, train_file: Path) -> None:
    before = emu.state.counts()
    with pytest.raises(NotFoundError, match="base models"):
        api.jobs.create(model="Qwen/Qwen9-1B", training_file=train_file)
    assert emu.state.counts() == before


def test_uploaded_file_objects_are_accepted_where_ids_are(api: Any, train_file: Path) -> None:
    uploaded = api.files.upload(train_file)
    assert api.files.retrieve(uploaded) == uploaded
    job = api.jobs.create(model=MODEL, training_file=uploaded)
    assert job.training_file == uploaded.id
    assert api.files.delete(uploaded).deleted


@pytest.mark.parametrize("kinds", [None, ("429", "500", "503", "50505", "drop", "lost_response")])
def test_flow_survives_20_percent_faults_with_one_file_and_one_job(
    mode: str, tmp_path: Path, kinds: tuple[str, ...] | None
) -> None:
    extra: dict[str, Any] = {"fault_kinds": kinds} if kinds else {}
    with Emulator(time_scale=50, fault_rate=0.2, seed=3, **extra) as emu:
        for api in make_api(mode, emu, max_retries=8, max_retry_wait=0.01):
            for i in range(3):
                path = write_dataset(tmp_path / f"t{i}.jsonl", n=12)
                uploaded = api.files.upload(path)
                job = api.jobs.create(model=MODEL, training_file=uploaded.id, hyperparameters="fast")
                done = api.jobs.wait(job, poll_interval=POLL)
                assert done.status is JobStatus.SUCCEEDED
                events = list(api.jobs.follow(job, poll_interval=POLL))
                assert len({e.id for e in events}) == len(events)
            counts = emu.state.counts()
            assert counts["files"] == 3 and counts["jobs"] == 3
