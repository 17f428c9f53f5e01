"""Bad arguments are refused before the first byte is sent: a clear ``ValueError``/``TypeError`` (or a
``ConfigurationError``), never an httpx error, never an orphan upload. Ids are escaped in paths, and the
key is not sent over plain http to another host unless asked."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from finetune_sdk import AsyncClient, Client, ConfigurationError

from ..e2e.conftest import write_dataset
from .conftest import KEY, MODEL, call
from .hostile import Conn, HostileServer, Request, job, json_answer


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    """A server that would answer anything: the tests assert it is never asked."""

    def handler(request: Request, conn: Conn) -> bool:
        return conn.send(json_answer(200, {"id": "file-1", "object": "file", "bytes": 1, "created_at": 1}))

    with HostileServer(handler) as running:
        yield running


def refused_before_sending(
    mode: str, server: HostileServer, action: Callable[[Any], Any], error: type[Exception]
) -> str:
    asked = len(server.requests)
    with pytest.raises(error) as info:
        call(mode, server.base_url, action)
    assert server.requests[asked:] == [], [r.path for r in server.requests[asked:]]
    assert not type(info.value).__module__.startswith("httpx")
    return str(info.value)


# -- jobs.create ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"seed": 2**64}, "seed must be a whole number from 0 to 2147483647"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"metadata": {"at": object()}}, "metadata cannot be sent as JSON"),
        ({"metadata": {"big": 2**70}}, "metadata cannot be sent as JSON"),
        ({"idempotency_key": "a\nb"}, "idempotency_key"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"hyperparameters": {"n_epochs": 10**30}}, "n_epochs"),
        ({"timeout": "soon"}, "timeout"),
        ({"extra_body": {"at": object()}}, "extra_body cannot be sent as JSON"),
        ({"extra_body": {"n": 2**70}}, "extra_body cannot be sent as JSON"),
    ],
)
def test_create_checks_every_argument_before_uploading(
    mode: str, server: HostileServer, tmp_path: Path, arguments: dict[str, Any], message: str
) -> None:
    path = write_dataset(tmp_path / "train.jsonl", n=4)
    text = refused_before_sending(
        mode, server, lambda c: c.jobs.create(model=MODEL, training_file=path, **arguments), ValueError
    )
    assert message in text


@pytest.mark.parametrize("bad", ["a\nb", "", "k" * 201, "clé"], ids=repr)
@pytest.mark.parametrize(
    "action",
    [
        lambda c, key: c.jobs.cancel("ftjob-1", idempotency_key=key),
        lambda c, key: c.files.upload(b"{}", validate=False, idempotency_key=key),
    ],
    ids=["jobs.cancel", "files.upload"],
)
def test_a_bad_idempotency_key_is_refused_before_any_request(
    mode: str, server: HostileServer, action: Callable[[Any, str], Any], bad: str
) -> None:
    text = refused_before_sending(mode, server, lambda c: action(c, bad), ValueError)
    assert "idempotency_key" in text


# -- ids and paths -------------------------------------------------------------------------------

BAD_IDS = ["ftjob-\x00", "ftjob-\x7f", "ftjob-\x1b[2J", "a" * 100_000, "", "..", "a/b", "a b", "a%2F"]

ID_CALLS: dict[str, Callable[[Any, str], Any]] = {
    "jobs.retrieve": lambda c, i: c.jobs.retrieve(i),
    "jobs.cancel": lambda c, i: c.jobs.cancel(i),
    "jobs.events": lambda c, i: c.jobs.events(i),
    "jobs.events-follow": lambda c, i: c.jobs.follow(i),
    "jobs.wait": lambda c, i: c.jobs.wait(i, timeout=1),
    "files.retrieve": lambda c, i: c.files.retrieve(i),
    "files.delete": lambda c, i: c.files.delete(i),
}


@pytest.mark.parametrize("what", list(ID_CALLS))
@pytest.mark.parametrize("bad", BAD_IDS, ids=lambda v: repr(v[:12]))
def test_a_bad_id_is_a_value_error_before_any_request(
    mode: str, server: HostileServer, what: str, bad: str
) -> None:
    text = refused_before_sending(mode, server, lambda c: ID_CALLS[what](c, bad), ValueError)
    assert "id" in text and len(text) < 400  # the 100,000 characters are not repeated


def test_every_path_segment_is_escaped(mode: str) -> None:
    odd = "ftjob-a\\b;c:d@e,f=g+h$i&j'k(l)*!"
    seen: list[str] = []

    def handler(request: Request, conn: Conn) -> bool:
        seen.append(request.path)
        return conn.send(json_answer(200, job(id=odd) if "jobs" in request.path else {}))

    with HostileServer(handler) as server:
        found = call(mode, server.base_url, lambda c: c.jobs.retrieve(odd))
    assert found.id == odd
    assert seen == ["/v1/fine_tuning/jobs/ftjob-a%5Cb%3Bc%3Ad%40e%2Cf%3Dg%2Bh%24i%26j%27k%28l%29%2A%21"]


# -- wait and follow arguments -------------------------------------------------------------------

NOT_DURATIONS = [math.nan, math.inf, -1.0, "5", True]


@pytest.mark.parametrize("bad", NOT_DURATIONS, ids=repr)
@pytest.mark.parametrize("argument", ["timeout", "poll_interval"])
def test_wait_refuses_a_bad_duration_before_any_request(
    mode: str, server: HostileServer, argument: str, bad: object
) -> None:
    error = TypeError if isinstance(bad, (str, bool)) else ValueError
    text = refused_before_sending(mode, server, lambda c: c.jobs.wait("ftjob-1", **{argument: bad}), error)
    assert argument in text


@pytest.mark.parametrize("bad", [math.nan, math.inf, -1.0], ids=repr)
def test_following_refuses_a_bad_poll_interval_before_any_request(
    mode: str, server: HostileServer, bad: float
) -> None:
    text = refused_before_sending(
        mode, server, lambda c: c.jobs.follow("ftjob-1", poll_interval=bad), ValueError
    )
    assert "poll_interval" in text


# -- plain http ----------------------------------------------------------------------------------


@pytest.mark.parametrize("client", [Client, AsyncClient])
def test_plain_http_to_another_host_is_refused(client: type[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FINETUNE_ALLOW_INSECURE_HTTP", raising=False)
    with pytest.raises(ConfigurationError) as info:
        client(api_key=KEY, base_url="http://example.invalid/v1")
    assert "allow_insecure_http=True" in str(info.value)
    assert "FINETUNE_ALLOW_INSECURE_HTTP=1" in str(info.value)
    assert KEY not in str(info.value)


def test_plain_http_from_the_environment_is_refused_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINETUNE_BASE_URL", "http://10.0.0.7:8000/v1")
    monkeypatch.delenv("FINETUNE_ALLOW_INSECURE_HTTP", raising=False)
    with pytest.raises(ConfigurationError, match="plain http"):
        Client(api_key=KEY)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/v1", "http://127.8.9.10/v1", "http://localhost:9/v1", "http://[::1]:9/v1"]
)
def test_plain_http_to_this_machine_is_allowed(url: str) -> None:
    Client(api_key=KEY, base_url=url).close()


def test_plain_http_to_another_host_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    Client(api_key=KEY, base_url="http://example.invalid/v1", allow_insecure_http=True).close()
    monkeypatch.setenv("FINETUNE_ALLOW_INSECURE_HTTP", "1")
    Client(api_key=KEY, base_url="http://example.invalid/v1").close()


def test_https_anywhere_is_allowed() -> None:
    Client(api_key=KEY, base_url="https://example.invalid/v1").close()


def test_limits_are_checked_at_construction() -> None:
    for bad in ({"deadline": 0}, {"deadline": math.nan}, {"idle_timeout": -1}, {"max_answer_bytes": 0}):
        with pytest.raises(ConfigurationError):
            Client(api_key=KEY, base_url="https://example.invalid/v1", **bad)  # type: ignore[arg-type]
