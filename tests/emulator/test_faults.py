"""Auth, faults (each kind, seeded, never corrupting state), lost responses, broken streams, latency."""

from __future__ import annotations

import contextlib
import time

import httpx
import openai
import pytest

from finetune_sdk.emulator import Emulator, FaultKind
from tests.emulator.helpers import BASE, MakeClient, auth, create_job, dataset, upload

CHAT = {"model": BASE, "messages": [{"role": "user", "content": "hello"}]}


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic abc", "Bearer"])
def test_requests_without_the_key_get_401_in_the_contract_form(emu: Emulator, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    answer = httpx.get(f"{emu.base_url}/files", headers=headers)
    assert answer.status_code == 401
    error = answer.json()["error"]
    assert error["type"] == "authentication_error"
    assert error["code"] == "invalid_api_key"
    assert emu.api_key not in answer.text
    assert answer.headers["x-request-id"].startswith("req_")


def test_the_key_never_shows_in_repr(emu: Emulator) -> None:
    assert emu.api_key.startswith("emu-")
    assert emu.api_key not in repr(emu)
    assert emu.api_key not in repr(emu.settings)


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("429", 429, "rate_limit_exceeded"),
        ("500", 500, "internal_error"),
        ("503", 503, "service_unavailable"),
    ],
)
def test_error_faults(make_client: MakeClient, kind: FaultKind, status: int, code: str) -> None:
    with Emulator(fault_rate=1.0, fault_kinds=(kind,), retry_after=0.5) as faulty:
        client = make_client(faulty)
        answer = upload(client, dataset(2))
        assert answer.status_code == status
        assert answer.json()["error"]["code"] == code
        assert answer.headers["x-request-id"].startswith("req_")
        if status in (429, 503):
            assert answer.headers["retry-after"] == "0.5"
        else:
            assert "retry-after" not in answer.headers
        assert faulty.state.counts() == {"files": 0, "jobs": 0}
        assert list(faulty.state.root.iterdir()) == []


def test_the_overloaded_envelope_fault_is_http_200(make_client: MakeClient) -> None:
    with Emulator(fault_rate=1.0, fault_kinds=("50505",)) as faulty:
        answer = make_client(faulty).post("/chat/completions", json=CHAT)
        assert answer.status_code == 200
        assert answer.json() == {"code": 50505, "message": "Model service overloaded, please retry"}


def test_a_dropped_connection_raises_in_httpx_and_openai(make_client: MakeClient) -> None:
    with Emulator(fault_rate=1.0, fault_kinds=("drop",)) as faulty:
        client = make_client(faulty)
        with pytest.raises(httpx.RemoteProtocolError):
            upload(client, dataset(2))
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/fine_tuning/jobs")
        assert faulty.state.counts() == {"files": 0, "jobs": 0}
        with (
            openai.OpenAI(base_url=faulty.base_url, api_key=faulty.api_key, max_retries=0) as ai,
            pytest.raises(openai.APIConnectionError),
        ):
            ai.chat.completions.create(model=BASE, messages=[{"role": "user", "content": "x"}])


def test_faults_never_hit_requests_without_the_key(make_client: MakeClient) -> None:
    with Emulator(fault_rate=1.0) as faulty:
        answer = httpx.get(f"{faulty.base_url}/files")
        assert answer.status_code == 401


def test_fault_rate_and_seed_give_a_reproducible_mix(make_client: MakeClient) -> None:
    def outcomes(seed: int) -> list[str]:
        with Emulator(fault_rate=0.5, seed=seed) as faulty:
            client = make_client(faulty)
            seen = []
            for _ in range(60):
                try:
                    answer = client.get("/files")
                    seen.append("50505" if "code" in answer.json() else str(answer.status_code))
                except httpx.TransportError:
                    seen.append("drop")
            return seen

    first = outcomes(3)
    assert first == outcomes(3)
    assert first != outcomes(4)
    assert set(first) == {"200", "429", "500", "503", "50505", "drop"}
    assert 15 <= first.count("200") <= 45


def test_fault_paths_limit_where_faults_hit(make_client: MakeClient) -> None:
    with Emulator(fault_rate=1.0, fault_kinds=("500",), fault_paths=("/v1/chat",)) as faulty:
        client = make_client(faulty)
        assert upload(client, dataset(1)).status_code == 200
        assert client.post("/chat/completions", json=CHAT).status_code == 500


def test_lost_response_does_the_work_and_a_keyed_retry_gets_the_first_answer(make_client: MakeClient) -> None:
    with Emulator(fault_rate=1.0, fault_kinds=("lost_response",), fault_paths=("/v1/fine_tuning",)) as faulty:
        client = make_client(faulty)
        file_id = upload(client, dataset(3)).json()["id"]
        key = {"Idempotency-Key": "job-1"}
        body = {"model": BASE, "training_file": file_id}
        for _ in range(3):
            with pytest.raises(httpx.RemoteProtocolError):
                client.post("/fine_tuning/jobs", json=body, headers=key)
        assert faulty.state.counts()["jobs"] == 1  # done once, however often the answer was lost
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/fine_tuning/jobs", json=body)
        assert faulty.state.counts()["jobs"] == 2  # without a key, a retry makes a second job


def test_lost_response_then_a_clean_keyed_retry(make_client: MakeClient) -> None:
    with Emulator(fault_rate=0.5, seed=1, fault_kinds=("lost_response",)) as faulty:
        client = make_client(faulty)
        key = {"Idempotency-Key": "upload-1"}
        answers = []
        for _ in range(20):
            try:
                answers.append(upload(client, dataset(2), **key).json()["id"])
            except httpx.TransportError:
                continue
        assert answers
        assert len(set(answers)) == 1
        assert faulty.state.counts()["files"] == 1


def test_a_stream_breaks_off_midway(make_client: MakeClient) -> None:
    with Emulator(fault_rate=1.0, fault_kinds=("stream_break",), base_reply_chars=200) as faulty:
        client = make_client(faulty)
        received: list[str] = []

        def read_stream() -> None:
            with client.stream("POST", "/chat/completions", json={**CHAT, "stream": True}) as answer:
                assert answer.status_code == 200
                received.extend(line for line in answer.iter_lines() if line)

        with pytest.raises(httpx.RemoteProtocolError):
            read_stream()
        assert len(received) > 10
        assert "data: [DONE]" not in received
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/chat/completions", json=CHAT)  # not streaming: the connection drops
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/files")


def test_the_openai_client_sees_a_broken_stream(make_client: MakeClient) -> None:
    with (
        Emulator(fault_rate=1.0, fault_kinds=("stream_break",)) as faulty,
        openai.OpenAI(base_url=faulty.base_url, api_key=faulty.api_key, max_retries=0) as ai,
    ):
        stream = ai.chat.completions.create(model=BASE, messages=CHAT["messages"], stream=True)  # type: ignore[arg-type]
        with pytest.raises(openai.APIConnectionError):
            list(stream)


def test_latency_delays_every_request(make_client: MakeClient) -> None:
    with Emulator(latency=0.05) as slow:
        client = make_client(slow)
        start = time.perf_counter()
        client.get("/files")
        assert time.perf_counter() - start >= 0.05


def test_a_fault_on_create_leaves_no_job(make_client: MakeClient) -> None:
    with Emulator(fault_rate=1.0, fault_kinds=("500", "drop"), fault_paths=("/v1/fine_tuning",)) as faulty:
        client = make_client(faulty)
        file_id = upload(client, dataset(2)).json()["id"]
        for _ in range(10):
            with contextlib.suppress(httpx.RemoteProtocolError):
                assert create_job(client, file_id).status_code == 500
        assert faulty.state.counts()["jobs"] == 0


def test_auth_helper_matches_the_emulator(emu: Emulator) -> None:
    assert auth(emu) == {"Authorization": f"Bearer {emu.api_key}"}


def test_early_answers_to_large_uploads_always_arrive(emu: Emulator, make_client: MakeClient) -> None:
    big = dataset(20_000)
    with httpx.Client(base_url=emu.base_url) as anonymous:
        for _ in range(5):
            assert upload(anonymous, big).status_code == 401  # answered before the body was needed
    with Emulator(fault_rate=1.0, fault_kinds=("503",)) as faulty:
        client = make_client(faulty)
        for _ in range(5):
            assert upload(client, big).status_code == 503
