"""Which proxy a base URL goes through (``proxy_for``): the environment's, by scheme, unless ``NO_PROXY``
names the host in any of its usual forms; never one for this machine; none with ``trust_env=False``."""

from __future__ import annotations

import httpx
import pytest

from finetune_sdk import Client, ConfigurationError
from finetune_sdk._transport.transport import proxy_for

# No proxy from the machine's environment: each test sets the variables it is about.
pytestmark = pytest.mark.usefixtures("without_proxy_variables")


def chosen(url: str, *, trust_env: bool = True, allow_insecure_http: bool = False) -> str | None:
    proxy = proxy_for(httpx.URL(url), trust_env=trust_env, allow_insecure_http=allow_insecure_http)
    return None if proxy is None else str(proxy)


@pytest.mark.parametrize(
    ("environment", "proxy"),
    [
        ({"HTTPS_PROXY": "http://proxy.corp:3128"}, "http://proxy.corp:3128"),
        ({"https_proxy": "http://proxy.corp:3128"}, "http://proxy.corp:3128"),
        ({"HTTPS_PROXY": "proxy.corp:3128"}, "http://proxy.corp:3128"),  # no scheme: http
        ({"HTTPS_PROXY": "https://proxy.corp:3129"}, "https://proxy.corp:3129"),
        ({"ALL_PROXY": "http://all.corp:3128"}, "http://all.corp:3128"),
        (
            {"HTTPS_PROXY": "http://proxy.corp:3128", "ALL_PROXY": "http://all.corp:1"},
            "http://proxy.corp:3128",
        ),
        ({"HTTP_PROXY": "http://plain.corp:3128"}, None),  # the http proxy is not the https one
        ({}, None),
    ],
)
def test_an_https_platform_uses_the_environments_https_proxy(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], proxy: str | None
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert chosen("https://api.platform.example/v1") == proxy


@pytest.mark.parametrize(
    ("no_proxy", "bypassed"),
    [
        ("api.platform.example", True),
        ("platform.example", True),  # a domain the host is in
        (".platform.example", True),
        ("*", True),
        ("other.example, api.platform.example", True),
        ("api.platform.example:443", True),
        ("api.platform.example:8443", False),  # another port
        ("latform.example", False),  # not a whole label
        ("other.example", False),
        ("", False),
    ],
)
def test_no_proxy_forms(monkeypatch: pytest.MonkeyPatch, no_proxy: str, bypassed: bool) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    monkeypatch.setenv("NO_PROXY", no_proxy)
    assert chosen("https://api.platform.example/v1") == (None if bypassed else "http://proxy.corp:3128")


@pytest.mark.parametrize(
    ("no_proxy", "bypassed"),
    [("10.0.0.0/8", True), ("10.1.2.3", True), ("192.168.0.0/16", False), ("[::1]", False)],
)
def test_no_proxy_address_ranges(monkeypatch: pytest.MonkeyPatch, no_proxy: str, bypassed: bool) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    monkeypatch.setenv("NO_PROXY", no_proxy)
    assert chosen("https://10.1.2.3/v1") == (None if bypassed else "http://proxy.corp:3128")


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000/v1", "http://localhost:8000/v1", "https://127.8.9.10/v1", "http://[::1]:8000/v1"],
)
def test_this_machine_is_never_proxied(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://proxy.corp:3128")
    assert chosen(url) is None


def test_trust_env_false_reads_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    monkeypatch.setenv("ALL_PROXY", "socks5://proxy.corp:1080")
    assert chosen("https://api.platform.example/v1", trust_env=False) is None


def test_plain_http_through_a_proxy_needs_allow_insecure_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.corp:3128")
    with pytest.raises(ConfigurationError, match="unencrypted"):
        chosen("http://api.platform.example/v1")
    assert chosen("http://api.platform.example/v1", allow_insecure_http=True) == "http://proxy.corp:3128"


def test_a_proxy_of_an_unknown_kind_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "ftp://proxy.corp:21")
    with pytest.raises(ConfigurationError, match="unknown kind"):
        chosen("https://api.platform.example/v1")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HTTPS_PROXY", "http://user:hunter2@proxy.corp:bad"),
        ("https_proxy", "http://[::1"),
        ("ALL_PROXY", "http://user:hunter2@proxy.corp:99999999"),
        ("HTTPS_PROXY", "http://:3128"),
    ],
)
def test_a_malformed_proxy_url_is_a_configuration_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as caught:
        Client(api_key="sk-proxy-test-0123", base_url="https://api.platform.example/v1")
    message = str(caught.value)
    assert name.upper() in message and "not a valid URL" in message and "trust_env=False" in message
    assert "hunter2" not in message  # a proxy's password is never quoted
