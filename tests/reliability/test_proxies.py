"""The environment's proxy never sees the API key of a call to this machine: a base URL on ``localhost``
or 127.0.0.0/8 is reached directly whatever ``HTTP_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY`` say. Beyond
this machine the environment's proxy is used (unless ``trust_env=False``); plain ``http://`` through it
only when ``allow_insecure_http`` allows plain http at all; a SOCKS proxy without the ``socks`` extra is a
``ConfigurationError``.

The proxy is a recording server on 127.0.0.1; no test leaves the machine.
"""

from __future__ import annotations

import importlib.util
import socket
from collections.abc import Iterator

import pytest

from finetune_sdk import APIConnectionError, AsyncClient, Client, ConfigurationError

from .conftest import KEY, call
from .hostile import Conn, HostileServer, Request, job, json_answer

# No proxy from the machine's environment: each test sets the variables it is about.
pytestmark = pytest.mark.usefixtures("without_proxy_variables")


def proxy_answer(request: Request, conn: Conn) -> bool:
    """What a proxy answers: a job for a request it forwards (absolute form), 502 to a tunnel."""
    if request.method == "CONNECT":
        conn.send(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
        return False
    return conn.send(json_answer(200, job(id="ftjob-via-proxy")))


@pytest.fixture
def proxy() -> Iterator[HostileServer]:
    with HostileServer(proxy_answer) as recording:
        yield recording


@pytest.fixture
def platform() -> Iterator[HostileServer]:
    def answer(request: Request, conn: Conn) -> bool:
        return conn.send(json_answer(200, job(id="ftjob-direct")))

    with HostileServer(answer) as server:
        yield server


def proxy_url(proxy: HostileServer) -> str:
    return proxy.base_url.removesuffix("/v1")


def seen_by(proxy: HostileServer) -> list[str]:
    """Each request the proxy got, as its first line and headers."""
    return [f"{r.method} {r.path} {sorted(r.headers.items())}" for r in proxy.requests]


@pytest.mark.parametrize(
    ("variable", "no_proxy", "host"),
    [
        ("HTTP_PROXY", None, "127.0.0.1"),
        ("ALL_PROXY", None, "127.0.0.1"),
        ("HTTP_PROXY", "localhost", "127.0.0.1"),
        ("all_proxy", "localhost", "127.0.0.1"),
        ("http_proxy", None, "localhost"),
    ],
)
def test_a_call_to_this_machine_never_goes_through_the_environments_proxy(
    mode: str,
    monkeypatch: pytest.MonkeyPatch,
    proxy: HostileServer,
    platform: HostileServer,
    variable: str,
    no_proxy: str | None,
    host: str,
) -> None:
    monkeypatch.setenv(variable, proxy_url(proxy))
    if no_proxy is not None:
        monkeypatch.setenv("NO_PROXY", no_proxy)
    base_url = platform.base_url.replace("127.0.0.1", host)
    found = call(mode, base_url, lambda c: c.jobs.retrieve("ftjob-direct"))
    print(f"{variable}={proxy_url(proxy)} NO_PROXY={no_proxy} base {base_url}: proxy saw {seen_by(proxy)}")
    assert found.id == "ftjob-direct"
    assert proxy.requests == [], seen_by(proxy)
    assert len(platform.requests) == 1


def test_an_https_platform_goes_through_https_proxy_and_the_proxy_sees_no_key(
    mode: str, monkeypatch: pytest.MonkeyPatch, proxy: HostileServer
) -> None:
    """Through a proxy an https call is a tunnel: the proxy learns the host, not the headers."""
    monkeypatch.setenv("HTTPS_PROXY", proxy_url(proxy))
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # not the one for https
    with pytest.raises(APIConnectionError):
        call(mode, "https://api.platform.invalid/v1", lambda c: c.jobs.retrieve("ftjob-1"))
    print(f"https through HTTPS_PROXY: proxy saw {seen_by(proxy)}")
    assert [(r.method, r.path) for r in proxy.requests] == [("CONNECT", "api.platform.invalid:443")]
    assert "authorization" not in proxy.requests[0].headers
    assert KEY not in str(seen_by(proxy))


def test_plain_http_beyond_this_machine_goes_through_the_proxy_only_when_allowed(
    mode: str, monkeypatch: pytest.MonkeyPatch, proxy: HostileServer
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy_url(proxy))
    with pytest.raises(ConfigurationError, match="plain http"):
        Client(api_key=KEY, base_url="http://platform.invalid/v1")
    found = call(
        mode, "http://platform.invalid/v1", lambda c: c.jobs.retrieve("ftjob-1"), allow_insecure_http=True
    )
    assert found.id == "ftjob-via-proxy"
    assert [(r.method, r.path) for r in proxy.requests] == [
        ("GET", "http://platform.invalid/v1/fine_tuning/jobs/ftjob-1")
    ]


@pytest.mark.skipif(
    importlib.util.find_spec("socksio") is not None, reason="the socks extra is installed: SOCKS works"
)
@pytest.mark.parametrize("variable", ["ALL_PROXY", "HTTPS_PROXY"])
def test_a_socks_proxy_without_the_socks_extra_is_a_configuration_error(
    mode: str, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "socks5://127.0.0.1:9")
    with pytest.raises(ConfigurationError) as info:
        call(mode, "https://api.platform.invalid/v1", lambda c: c.jobs.retrieve("ftjob-1"))
    assert "pip install 'finetune-sdk[socks]'" in str(info.value)
    assert "trust_env=False" in str(info.value)


@pytest.mark.parametrize("kind", [Client, AsyncClient], ids=["sync", "async"])
def test_trust_env_false_reads_no_proxy_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, kind: type[Client] | type[AsyncClient]
) -> None:
    """With ``trust_env=False`` the environment's SOCKS proxy (which would be refused) is not read."""
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:9")
    assert kind(api_key=KEY, base_url="https://api.platform.invalid/v1", trust_env=False)
    with pytest.raises(ConfigurationError, match="socks"):
        kind(api_key=KEY, base_url="https://api.platform.invalid/v1")


def test_a_proxy_that_cannot_be_reached_is_named_in_the_error(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A port nothing listens on: bound, then closed.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("HTTPS_PROXY", f"http://user:hunter2@127.0.0.1:{port}")
    with pytest.raises(APIConnectionError) as caught:
        call(mode, "https://api.platform.example/v1", lambda c: c.jobs.retrieve("ftjob-1"))
    message = str(caught.value)
    assert f"the proxy http://127.0.0.1:{port}" in message and "trust_env=False" in message
    assert "hunter2" not in message
