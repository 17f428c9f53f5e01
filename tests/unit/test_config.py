from __future__ import annotations

import logging

import httpx
import pytest

from finetune_sdk import NOT_GIVEN, AsyncClient, Client, ConfigurationError
from finetune_sdk._core.config import ClientConfig, Secret

KEY = "sk-test-secret-0123456789"


def resolve(**kw: object) -> ClientConfig:
    args: dict[str, object] = {
        "api_key": None,
        "base_url": None,
        "timeout": 10.0,
        "max_retries": 3,
        "max_retry_wait": 60.0,
        "default_headers": None,
        "environ": {},
    }
    args.update(kw)
    return ClientConfig.resolve(**args)  # type: ignore[arg-type]


def test_arguments_win_over_environment() -> None:
    env = {"FINETUNE_API_KEY": "from-env", "FINETUNE_BASE_URL": "https://env.example/v1"}
    cfg = resolve(api_key="from-arg", base_url="https://arg.example/v1", environ=env)
    assert cfg.require_key() == "from-arg"
    assert str(cfg.base_url) == "https://arg.example/v1/"


def test_environment_then_default() -> None:
    cfg = resolve(environ={"FINETUNE_API_KEY": "from-env", "FINETUNE_BASE_URL": "https://env.example/v1/"})
    assert cfg.require_key() == "from-env"
    assert str(cfg.base_url) == "https://env.example/v1/"
    assert str(resolve().base_url) == "https://api.openapi.cn/v1/"


def test_missing_key_is_raised_at_first_use_and_names_the_variable() -> None:
    cfg = resolve()
    with pytest.raises(ConfigurationError, match="FINETUNE_API_KEY"):
        cfg.require_key()


def test_client_without_key_fails_on_first_call_not_on_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FINETUNE_API_KEY", raising=False)
    from finetune_sdk._core.wire import RequestSpec

    with Client(base_url="http://127.0.0.1:9/v1") as client, pytest.raises(ConfigurationError, match="KEY"):
        client.send(RequestSpec("GET", "files"))


@pytest.mark.parametrize("url", ["ftp://x/v1", "not a url", "/v1"])
def test_bad_base_url_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError, match="base_url"):
        resolve(base_url=url)


def test_a_key_given_in_the_base_urls_place_is_never_shown() -> None:
    # Client(base_url, key): the two positional arguments swapped, a likely slip.
    key = "sk-live-0123456789abcdef0123456789abcdef"
    with pytest.raises(ConfigurationError, match="may be the API key") as info:
        Client("https://api.example.cn/v1", key)
    assert key not in str(info.value) and key[:12] not in str(info.value)


def test_white_space_around_the_base_url_is_dropped() -> None:
    assert str(resolve(base_url=" https://h:1/v1 \n").url("files")) == "https://h:1/v1/files"


def test_url_joining_keeps_the_prefix() -> None:
    cfg = resolve(base_url="https://h:1/api/v1")
    assert str(cfg.url("fine_tuning/jobs")) == "https://h:1/api/v1/fine_tuning/jobs"
    assert str(cfg.url("/files")) == "https://h:1/api/v1/files"


@pytest.mark.parametrize("bad", [-1, True, 1.5])
def test_bad_max_retries(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="max_retries"):
        resolve(max_retries=bad)


def test_secret_never_shows() -> None:
    s = Secret(KEY)
    assert KEY not in repr(s) and KEY not in str(s) and KEY not in f"{s}"
    assert s.get() == KEY


@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_client_repr_shows_url_not_key(cls: type[Client] | type[AsyncClient]) -> None:
    client = cls(api_key=KEY, base_url="http://127.0.0.1:1/v1")
    text = repr(client) + str(vars(client)) + repr(client.config)
    assert "127.0.0.1:1" in repr(client)
    assert KEY not in text


def test_with_options_copies_settings_and_shares_the_pool() -> None:
    with Client(api_key=KEY, base_url="http://127.0.0.1:1/v1", timeout=30, max_retries=3) as client:
        fast = client.with_options(timeout=2.0, max_retries=0)
        assert fast.max_retries == 0 and fast.timeout.read == 2.0
        assert client.max_retries == 3 and client.timeout.read == 30
        assert fast.http_client is client.http_client
        same = client.with_options(timeout=NOT_GIVEN)
        assert same.timeout == client.timeout
        none = client.with_options(timeout=None)
        assert none.timeout.read is None
        fast.close()  # a copy never closes the shared pool
        assert not client.http_client.is_closed


def test_given_http_client_is_left_open() -> None:
    http = httpx.Client()
    with Client(api_key=KEY, base_url="http://127.0.0.1:1/v1", http_client=http):
        pass
    assert not http.is_closed
    http.close()
    with Client(api_key=KEY, base_url="http://127.0.0.1:1/v1") as owned:
        pool = owned.http_client
    assert pool.is_closed


def test_logger_name() -> None:
    assert logging.getLogger("finetune_sdk").name == "finetune_sdk"


def test_with_options_rebinds_the_resources() -> None:
    with Client(api_key=KEY, base_url="http://127.0.0.1:1/v1") as client:
        quick = client.with_options(max_retries=0)
        assert quick.jobs._client is quick and quick.files._client is quick
        assert client.jobs._client is client


def test_a_per_call_timeout_caps_the_attempts_limits() -> None:
    cfg = resolve(timeout=10.0)
    assert (cfg.limits.deadline, cfg.limits.idle_timeout) == (10.0, 10.0)
    assert cfg.limits_for(None) is cfg.limits
    # A per-call timeout takes the place of the client's, for the attempt as a whole too ...
    shorter = cfg.limits_for(httpx.Timeout(2.0))
    assert (shorter.deadline, shorter.idle_timeout) == (2.0, 2.0)
    longer = cfg.limits_for(httpx.Timeout(900.0, connect=5.0))
    assert (longer.deadline, longer.idle_timeout) == (900.0, 900.0)
    assert cfg.limits_for(httpx.Timeout(None)).deadline is None  # timeout=None: no limit
    # ... and an explicit deadline or idle limit still holds when it is the sooner.
    bounded = resolve(timeout=10.0, deadline=30.0, idle_timeout=1.0)
    assert bounded.limits_for(httpx.Timeout(60.0)).deadline == 30.0
    assert bounded.limits_for(httpx.Timeout(5.0)).deadline == 5.0
    assert bounded.limits_for(httpx.Timeout(60.0)).idle_timeout == 1.0
    assert bounded.limits_for(httpx.Timeout(None)).deadline == 30.0
    assert bounded.limits_for(httpx.Timeout(5.0)).max_answer_bytes == bounded.max_answer_bytes


def test_with_options_keeps_the_limits_and_the_insecure_http_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FINETUNE_ALLOW_INSECURE_HTTP", raising=False)
    with Client(
        api_key=KEY,
        base_url="http://example.invalid/v1",
        allow_insecure_http=True,
        deadline=7.0,
        idle_timeout=3.0,
        max_answer_bytes=1000,
    ) as client:
        copy = client.with_options(max_retries=0)
        config = copy._config
        assert (config.deadline, config.idle_timeout, config.max_answer_bytes) == (7.0, 3.0, 1000)
        assert config.allow_insecure_http
        reset = copy.with_options(deadline=None, max_answer_bytes=5)._config.limits
        assert (reset.deadline, reset.max_answer_bytes) == (300.0, 5)  # back to the longest timeout
