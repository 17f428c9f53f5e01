"""Every answer the emulator gives in end-to-end flows follows OpenAI's schema (with only the documented
differences): files, jobs, events, checkpoints, the metrics file, chat with and without streaming and
each chunk, and the errors. The SDK's ``Client`` and ``AsyncClient`` (asyncio and trio) run the same flow
over a checking transport; the calls the SDK has no method for go through a raw httpx client checked the
same way."""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import pytest

from finetune_sdk import (
    APIStatusError,
    AsyncClient,
    Client,
    ConflictError,
    FineTuneJob,
    JobFailedError,
    NotFoundError,
)
from finetune_sdk.emulator import Emulator
from finetune_sdk.types import MetricsHistory

from .checker import AsyncCheckingTransport, Checker, CheckingTransport

MODEL = "Qwen/Qwen2.5-7B-Instruct"
EXAMPLES = [(f"问题{i}：怎么修改地址？", f"亲～第{i}步：打开订单，点“修改地址”哦！") for i in range(24)]


def write(path: Path, pairs: list[tuple[str, str]]) -> Path:
    import orjson

    lines = [
        orjson.dumps({"messages": [{"role": "user", "content": u}, {"role": "assistant", "content": a}]})
        for u, a in pairs
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


class Portal:
    """An ``AsyncClient`` (or one of its resources) called from this thread: each call runs in the
    portal's event loop; an async iterator comes back as a list, an awaitable as its result."""

    def __init__(self, portal: anyio.from_thread.BlockingPortal, target: Any) -> None:
        self._portal = portal
        self._target = target

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if callable(attr) and not inspect.isclass(attr):
            return Portal(self._portal, attr)
        return Portal(self._portal, attr) if name in ("files", "jobs", "chat", "checkpoints") else attr

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._portal.call(self._invoke, args, kwargs)

    async def _invoke(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        result = self._target(*args, **kwargs)
        if hasattr(result, "__aiter__"):
            return [item async for item in result]
        return await result if inspect.isawaitable(result) else result


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(time_scale=200) as running:
        yield running


@pytest.fixture(params=["sync", "asyncio", "trio"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make_clients(mode: str, emu: Emulator, checker: Checker) -> Iterator[tuple[Any, httpx.Client]]:
    raw = httpx.Client(
        base_url=emu.base_url,
        headers={"Authorization": f"Bearer {emu.api_key}"},
        transport=CheckingTransport(checker),
        timeout=30,
    )
    with raw:
        if mode == "sync":
            with Client(
                api_key=emu.api_key,
                base_url=emu.base_url,
                http_client=httpx.Client(transport=CheckingTransport(checker), timeout=30),
                poll_interval=0.02,
            ) as client:
                yield client, raw
            return
        with anyio.from_thread.start_blocking_portal(backend=mode) as portal:

            async def make() -> AsyncClient:
                http = httpx.AsyncClient(transport=AsyncCheckingTransport(checker), timeout=30)
                return AsyncClient(
                    api_key=emu.api_key, base_url=emu.base_url, http_client=http, poll_interval=0.02
                )

            client = portal.call(make)
            try:
                yield Portal(portal, client), raw
            finally:
                portal.call(client.aclose)


def files_flow(api: Any, raw: httpx.Client, tmp_path: Path) -> tuple[str, str]:
    train = api.files.upload(write(tmp_path / "train.jsonl", EXAMPLES))
    valid = api.files.upload(write(tmp_path / "valid.jsonl", EXAMPLES[:4]))
    assert train.status == "processed"
    assert {train.id, valid.id} <= {f.id for f in api.files.list()}
    assert api.files.retrieve(train.id).bytes == train.bytes
    first = raw.get("/files", params={"limit": 1}).json()
    assert len(first["data"]) == 1 and first["has_more"] and first["first_id"] == first["last_id"]
    second = raw.get("/files", params={"limit": 1, "after": first["last_id"]}).json()
    assert second["data"][0]["id"] != first["data"][0]["id"]
    oldest = raw.get("/files", params={"order": "asc", "purpose": "fine-tune"}).json()
    newest = raw.get("/files", params={"order": "desc", "purpose": "fine-tune"}).json()
    assert [f["id"] for f in oldest["data"]] == [f["id"] for f in newest["data"]][::-1]
    empty = raw.get("/files", params={"after": oldest["data"][-1]["id"], "order": "asc"}).json()
    assert empty["data"] == [] and empty["first_id"] is None  # the documented difference
    assert raw.get(f"/files/{train.id}/content").content == (tmp_path / "train.jsonl").read_bytes()
    with pytest.raises(NotFoundError):
        api.files.retrieve("file-nope")
    scratch = api.files.upload(write(tmp_path / "scratch.jsonl", EXAMPLES[:2]))
    assert api.files.delete(scratch.id).deleted
    return train.id, valid.id


def jobs_flow(api: Any, raw: httpx.Client, train: str, valid: str) -> FineTuneJob:
    tag = f"t{time.monotonic_ns()}"
    job = api.jobs.create(
        model=MODEL, training_file=train, hyperparameters={"n_epochs": 2}, suffix=tag, metadata={"run": tag}
    )
    done = api.jobs.wait(job.id)
    assert done.hyperparameters["n_epochs"] == 2 and done.organization_id
    by_method = raw.post(
        "/fine_tuning/jobs",
        json={
            "model": MODEL,
            "training_file": train,
            "validation_file": valid,
            "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}},
            "metadata": {"run": tag},
        },
    ).json()
    assert by_method["hyperparameters"]["n_epochs"] == 3
    api.jobs.wait(by_method["id"])
    assert {j.id for j in api.jobs.list()} >= {job.id, by_method["id"]}
    for query in (
        {"status": "succeeded", "metadata[run]": tag},
        {"model": MODEL, "suffix": tag},
        {"created_after": str(done.created_at), "limit": "1"},
    ):
        found = raw.get("/fine_tuning/jobs", params=query).json()["data"]
        assert found and all(j["status"] == "succeeded" for j in found), query
    events = list(api.jobs.events(job.id))
    assert events[0].data is not None and any(e.data and e.data.train_loss for e in events)
    page = raw.get(f"/fine_tuning/jobs/{job.id}/events", params={"limit": 3}).json()
    raw.get(f"/fine_tuning/jobs/{job.id}/events", params={"limit": 3, "after": page["data"][-1]["id"]})
    checkpoints = list(api.checkpoints.list(job.id, limit=1))
    assert [c.step_number for c in checkpoints] == sorted((c.step_number for c in checkpoints), reverse=True)
    assert len(checkpoints) == 2  # one per epoch
    metrics = raw.get(f"/files/{done.result_files[0]}/content")
    history = MetricsHistory.from_csv(metrics.text)
    assert len(history) == done.total_steps
    assert api.files.content(done.result_files[0]) == metrics.content  # the SDK's download, the same bytes
    assert [e.id for e in api.jobs.follow(job.id)] == [e.id for e in events]
    assert raw.get(f"/files/{done.result_files[0]}").json()["purpose"] == "fine-tune-results"
    with pytest.raises(ConflictError):
        api.jobs.cancel(job.id)
    with pytest.raises(APIStatusError):
        api.jobs.create(model=MODEL, training_file=train, extra_body={"integrations": [{"type": "wandb"}]})
    long = api.jobs.create(
        model=MODEL, training_file=train, hyperparameters={"n_epochs": 10, "batch_size": 1}
    )
    assert api.jobs.cancel(long.id).status == "cancelled"
    list(api.jobs.events(long.id))
    list(api.checkpoints.list(long.id))
    bad = raw.post(  # the SDK checks a file before uploading it: this one goes up raw
        "/files", files={"file": ("bad.jsonl", b'{"messages": []}\n')}, data={"purpose": "fine-tune"}
    ).json()
    failed = api.jobs.create(model=MODEL, training_file=bad["id"])
    with pytest.raises(JobFailedError):
        api.jobs.wait(failed.id)
    assert api.jobs.retrieve(failed.id).error.param == "training_file"
    return done


def chat_flow(api: Any, raw: httpx.Client, job: FineTuneJob) -> None:
    model = job.fine_tuned_model
    assert model is not None
    assert api.chat.complete(model, EXAMPLES[3][0]).text == EXAMPLES[3][1]
    assert "".join(api.chat(model, EXAMPLES[5][0])) == EXAMPLES[5][1]
    assert "".join(api.chat(MODEL, "hello", stream_options=None))
    assert api.chat.complete(MODEL, "hello", max_tokens=2).finish_reason == "length"
    checkpoint = raw.get(f"/fine_tuning/jobs/{job.id}/checkpoints").json()["data"][-1]
    asked = {
        "model": checkpoint["fine_tuned_model_checkpoint"],
        "messages": [{"role": "user", "content": "hi"}],
    }
    assert raw.post("/chat/completions", json=asked).status_code == 200
    streamed = raw.post(
        "/chat/completions", json={**asked, "stream": True, "stream_options": {"include_usage": True}}
    )
    assert streamed.text.endswith("data: [DONE]\n\n")
    with pytest.raises(NotFoundError):
        api.chat.complete("ft:nope", "hi")


def test_every_answer_of_the_flows_follows_the_schema(
    emu: Emulator, mode: str, tmp_path: Path, record_property: Any
) -> None:
    checker = Checker()
    for api, raw in make_clients(mode, emu, checker):
        train, valid = files_flow(api, raw, tmp_path)
        job = jobs_flow(api, raw, train, valid)
        chat_flow(api, raw, job)
    assert checker.problems == []
    assert checker.unread == 0
    for name in (
        "OpenAIFile",
        "ListFilesResponse",
        "DeleteFileResponse",
        "FineTuningJob",
        "ListPaginatedFineTuningJobsResponse",
        "ListFineTuningJobEventsResponse",
        "ListFineTuningJobCheckpointsResponse",
        "CreateChatCompletionResponse",
        "CreateChatCompletionStreamResponse",
        "ErrorResponse",
        "metrics file (text/csv)",
        "file content (bytes)",
    ):
        assert checker.checked[name] > 0, name
    record_property("answers_checked", sum(checker.checked.values()))
    print(f"\n{mode}: {sum(checker.checked.values())} answers checked: {dict(checker.checked)}")
