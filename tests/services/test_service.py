"""The service of ``app.py`` against the pytest plugin's ``emulator`` (asked for, never imported).

Sync tests reach it over real sockets (uvicorn on 127.0.0.1, read with httpx, httpx-sse and the
official ``openai`` client); async tests through httpx's ASGI transport, its lifespan run by the test,
on asyncio and trio.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx
import openai
import orjson
import pytest
from httpx_sse import aconnect_sse, connect_sse

from finetune_sdk import Client
from finetune_sdk.emulator import Emulator
from tests.e2e.conftest import write_dataset

from .app import service_app
from .relay_app import served

pytestmark = pytest.mark.timeout(60)

BASE = "Qwen/Qwen2.5-7B-Instruct"
GOOD = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n'
# Line 2 has no assistant reply, line 3 is not JSON.
BAD = GOOD + b'{"messages": [{"role": "user", "content": "hi"}]}\n' + b"{not json\n" + GOOD
LOOKS = 500  # a bound on the tests' own looks at a job (0.01 s apart), never reached when the service works


def platform(emulator: Emulator) -> Client:
    return Client(api_key=emulator.api_key, base_url=emulator.base_url)


@pytest.fixture(scope="module")
def service(emulator: Emulator) -> Iterator[str]:
    """The service's address, served by uvicorn on 127.0.0.1."""
    with served(service_app(api_key=emulator.api_key, base_url=emulator.base_url)) as url:
        yield url


@contextlib.asynccontextmanager
async def asgi(emulator: Emulator, **options: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The service behind httpx's ASGI transport, its lifespan (and task group) running."""
    app = service_app(api_key=emulator.api_key, base_url=emulator.base_url, **options)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as http,
    ):
        yield http


def job_through(http: httpx.Client, emulator: Emulator, tmp: Any) -> dict[str, Any]:
    """Upload a dataset and start a job through the service; wait until the service's wait ended."""
    data = write_dataset(tmp / "train.jsonl").read_bytes()
    uploaded = http.post("/datasets", params={"filename": "support.jsonl"}, content=data)
    assert uploaded.status_code == 201, uploaded.text
    job = http.post("/jobs", json={"model": BASE, "training_file": uploaded.json()["id"], "suffix": "svc"})
    assert job.status_code == 201, job.text
    kept: dict[str, Any] = {}
    for _ in range(LOOKS):
        if (kept := http.get(f"/jobs/{job.json()['id']}").json())["wait"] != "running":
            break
        time.sleep(0.01)
    return kept


@pytest.fixture(scope="module")
def done(service: str, emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A job started through the service and waited for by it."""
    with httpx.Client(base_url=service, timeout=10) as http:
        return job_through(http, emulator, tmp_path_factory.mktemp("service"))


def event_ids(emulator: Emulator, job_id: str) -> list[str]:
    with platform(emulator) as client:
        return [e.id for e in client.jobs.events(job_id)]


# Datasets


def test_a_bad_multipart_upload_is_a_422_naming_the_users_file(service: str) -> None:
    with httpx.Client(base_url=service, timeout=10) as http:
        answer = http.post("/datasets", files={"file": ("support tickets.jsonl", BAD)})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid_dataset"
    assert error["report"]["path"] == "support tickets.jsonl"
    assert [issue["line"] for issue in error["report"]["errors"]] == [2, 3]
    assert "support tickets.jsonl: 2 errors" in error["message"] and "\n2: unpaired:" in error["message"]
    assert "tmp" not in answer.text.lower()  # no temporary file's path, anywhere


@pytest.mark.anyio
async def test_a_bad_raw_upload_is_a_422_naming_the_users_file(emulator: Emulator) -> None:
    async with asgi(emulator) as http:
        answer = await http.post("/datasets", params={"filename": "mine.jsonl"}, content=BAD)
        named_wrong = await http.post("/datasets", params={"filename": "mine.csv"}, content=GOOD * 20)
    assert answer.status_code == 422
    report = answer.json()["error"]["report"]
    assert report["path"] == "mine.jsonl" and [e["line"] for e in report["errors"]] == [2, 3]
    assert named_wrong.status_code == 422
    assert named_wrong.json()["error"]["report"]["errors"][0]["code"] == "wrong_extension"


def test_a_good_upload_keeps_the_users_filename(service: str, emulator: Emulator) -> None:
    with httpx.Client(base_url=service, timeout=10) as http:
        multipart = http.post("/datasets", files={"file": ("a.jsonl", GOOD * 20)})
        raw = http.post("/datasets", params={"filename": "b.jsonl"}, content=GOOD * 20)
    assert (multipart.status_code, raw.status_code) == (201, 201)
    with platform(emulator) as client:
        assert client.files.retrieve(multipart.json()["id"]).filename == "a.jsonl"
        assert client.files.retrieve(raw.json()["id"]).filename == "b.jsonl"


# Jobs, waited for in the background


def test_a_job_is_waited_for_in_the_background(done: dict[str, Any], emulator: Emulator) -> None:
    assert done["wait"] == "succeeded"
    assert done["fine_tuned_model"].startswith("ft:") and ":svc:" in done["fine_tuned_model"]
    with platform(emulator) as client:
        assert client.jobs.retrieve(done["id"]).fine_tuned_model == done["fine_tuned_model"]


@pytest.mark.anyio
async def test_the_background_wait_polls_at_the_platforms_hints(emulator: Emulator, tmp_path: Any) -> None:
    polls: list[httpx.Response] = []

    async def seen(response: httpx.Response) -> None:
        if response.request.method == "GET" and response.request.url.path.startswith("/v1/fine_tuning/jobs/"):
            await response.aread()  # a hook reads what it keeps: the SDK reads the rest in bounded steps
            polls.append(response)

    async with (
        httpx.AsyncClient(event_hooks={"response": [seen]}) as pool,
        asgi(emulator, http_client=pool) as http,
    ):
        data = write_dataset(tmp_path / "t.jsonl").read_bytes()
        file_id = (await http.post("/datasets", params={"filename": "t.jsonl"}, content=data)).json()["id"]
        job_id = (await http.post("/jobs", json={"model": BASE, "training_file": file_id})).json()["id"]
        kept: dict[str, Any] = {}
        for _ in range(LOOKS):  # as a browser would, asking the service until its wait has ended
            if (kept := (await http.get(f"/jobs/{job_id}")).json())["wait"] != "running":
                break
            await anyio.sleep(0.01)
    assert kept["wait"] == "succeeded" and kept["fine_tuned_model"].startswith("ft:")
    statuses = [orjson.loads(p.content)["status"] for p in polls]
    assert statuses[-1] == "succeeded" and statuses.count("succeeded") == 1  # no poll after the end
    # Each answer of a job still going hinted when it would next change, and the wait looked again then:
    # a look at once, then one or two at the hints, the last seeing the end.
    assert all("retry-after-ms" in p.headers for p in polls[:-1])
    assert 2 <= len(polls) <= 5, statuses


def test_unknown_jobs_are_404(service: str) -> None:
    with httpx.Client(base_url=service, timeout=10) as http:
        kept = http.get("/jobs/ftjob-nothing")
        events = http.get("/jobs/ftjob-nothing/events")
        created = http.post("/jobs", json={"model": BASE, "training_file": "file-nothing"})
    assert kept.status_code == 404 and kept.json()["error"]["code"] == "not_found"
    assert events.status_code == 404 and events.headers["content-type"] == "application/json"
    assert created.status_code == 400  # the platform's answer for a training file it does not have
    assert "file-nothing" in created.json()["error"]["message"]


# Events, resumed with Last-Event-ID


def test_events_resume_after_the_last_event_id(
    service: str, done: dict[str, Any], emulator: Emulator
) -> None:
    expected = event_ids(emulator, done["id"])
    assert len(expected) > 3
    with httpx.Client(base_url=service, timeout=10) as http:
        with connect_sse(http, "GET", f"/jobs/{done['id']}/events") as source:
            whole = list(source.iter_sse())
        for cut in (0, len(expected) // 2, len(expected) - 1):
            headers = {"last-event-id": expected[cut]}
            with connect_sse(http, "GET", f"/jobs/{done['id']}/events", headers=headers) as source:
                assert source.response.status_code == 200
                rest = list(source.iter_sse())
            assert [e.id for e in rest[:-1]] == expected[cut + 1 :]  # exactly the rest, once each
            assert (rest[-1].event, rest[-1].data) == ("done", "[DONE]")
    assert [e.id for e in whole[:-1]] == expected
    assert [orjson.loads(e.data)["id"] for e in whole[:-1]] == expected


@pytest.mark.anyio
async def test_events_resume_async(emulator: Emulator, done: dict[str, Any]) -> None:
    expected = event_ids(emulator, done["id"])
    async with (
        asgi(emulator) as http,
        aconnect_sse(
            http, "GET", f"/jobs/{done['id']}/events", headers={"last-event-id": expected[1]}
        ) as source,
    ):
        rest = [event async for event in source.aiter_sse()]
    assert [e.id for e in rest[:-1]] == expected[2:] and rest[-1].event == "done"


def test_an_unknown_last_event_id_is_refused_before_streaming(service: str, done: dict[str, Any]) -> None:
    with httpx.Client(base_url=service, timeout=10) as http:
        answer = http.get(f"/jobs/{done['id']}/events", headers={"last-event-id": "ftevent-nothing"})
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/json"
    assert "ftevent-nothing" in answer.json()["error"]["message"]


# The chat relay


def test_the_tuned_model_is_relayed(service: str, done: dict[str, Any], emulator: Emulator) -> None:
    model: str = done["fine_tuned_model"]
    with openai.OpenAI(base_url=f"{service}/v1", api_key="unused", max_retries=0) as relayed:
        chunks = list(
            relayed.chat.completions.create(
                model=model, messages=[{"role": "user", "content": "词语3"}], stream=True
            )
        )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    with platform(emulator) as client:
        assert text == client.chat.complete(model, "词语3").text == "第3句金句,一针见血。"
    assert chunks[-1].usage is not None


@pytest.mark.anyio
async def test_an_unknown_model_is_a_404_before_streaming(emulator: Emulator) -> None:
    body = {"model": "ft:LoRA/nobody:nothing", "messages": "Hi"}
    async with asgi(emulator) as http, http.stream("POST", "/v1/chat/completions", json=body) as answer:
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/json"
        error = orjson.loads(await answer.aread())["error"]
    assert error["code"] == "model_not_found" and "ft:LoRA/nobody:nothing" in error["message"]
    assert emulator.api_key not in str(error)


def test_a_job_started_through_the_service_is_followed_to_its_end(
    service: str, emulator: Emulator, tmp_path: Any
) -> None:
    with httpx.Client(base_url=service, timeout=30) as http:
        data = write_dataset(tmp_path / "live.jsonl").read_bytes()
        file_id = http.post("/datasets", params={"filename": "live.jsonl"}, content=data).json()["id"]
        job_id = http.post("/jobs", json={"model": BASE, "training_file": file_id}).json()["id"]
        with connect_sse(http, "GET", f"/jobs/{job_id}/events") as source:  # at once, the job just made
            events = list(source.iter_sse())
    assert [e.id for e in events[:-1]] == event_ids(emulator, job_id)
    assert any("succeeded" in orjson.loads(e.data)["message"].lower() for e in events[:-1])
    assert events[-1].event == "done"
