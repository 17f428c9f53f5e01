from __future__ import annotations

import datetime
import email.utils
import time

import httpx
import pytest

from finetune_sdk import APIConnectionError, APIStatusError, APITimeoutError, BadRequestError
from finetune_sdk._core.retry import RetryPolicy, is_retryable, parse_retry_after


def status(code: int, *, err_code: str | None = None, retry_after: float | None = None) -> APIStatusError:
    return APIStatusError("x", status_code=code, code=err_code, retry_after=retry_after)


@pytest.mark.parametrize("code", [408, 429, 500, 502, 503, 504])
def test_transient_statuses_retry(code: int) -> None:
    assert is_retryable(status(code))


@pytest.mark.parametrize("code", [400, 401, 403, 404, 409, 422, 501, 505])
def test_final_statuses_do_not_retry(code: int) -> None:
    assert not is_retryable(status(code))


def test_overload_envelope_code_retries_whatever_the_status() -> None:
    assert is_retryable(status(505, err_code="50505"))
    assert is_retryable(status(200, err_code="50505"))


def test_connection_problems_retry_and_others_do_not() -> None:
    assert is_retryable(APIConnectionError())
    assert is_retryable(APITimeoutError())
    assert not is_retryable(BadRequestError("bad", status_code=400))
    assert not is_retryable(ValueError("local bug"))


def test_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "0.5"}) == 0.5
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    # retry-after-ms is the more precise of the two when both are present
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 7, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=now) == pytest.approx(7.0, abs=1.0)
    past = email.utils.formatdate(now - 100, usegmt=True)
    assert parse_retry_after({"retry-after": past}, now=now) == 0.0


@pytest.mark.parametrize("raw", ["soon", "-1", "nan", "inf", ""])
def test_malformed_retry_after_is_ignored(raw: str) -> None:
    assert parse_retry_after({"retry-after": raw}) is None
    assert parse_retry_after({"retry-after-ms": raw}) is None


def test_retry_after_is_read_from_httpx_headers_case_insensitively() -> None:
    assert parse_retry_after(httpx.Headers({"Retry-After": "2"})) == 2.0


def test_backoff_grows_exponentially_and_is_capped() -> None:
    policy = RetryPolicy(max_retries=10, initial_wait=0.5, max_backoff=8.0)
    top = [policy.backoff(n, rng=lambda: 1.0) for n in range(1, 8)]
    assert top == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    low = [policy.backoff(n, rng=lambda: 0.0) for n in range(1, 4)]
    assert low == [0.25, 0.5, 1.0]  # jitter never goes below half the ceiling


def test_retry_after_replaces_backoff_and_is_capped() -> None:
    policy = RetryPolicy(max_retries=3, max_wait=5.0)
    assert policy.wait_after(1, status(429, retry_after=2.0)) == 2.0
    assert policy.wait_after(1, status(503, retry_after=3600.0)) == 5.0
    assert policy.wait_after(1, status(503)) <= 0.5
    assert policy.wait_after(1, APIConnectionError()) <= 0.5


@pytest.mark.parametrize("zone", ["GMT", "+0000", "-0000"])
def test_an_http_date_is_utc_whatever_the_local_zone(monkeypatch: pytest.MonkeyPatch, zone: str) -> None:
    # A client far from UTC: a date read as local time would be off by 10 hours.
    monkeypatch.setenv("TZ", "Pacific/Honolulu")
    time.tzset()
    try:
        now = datetime.datetime(2099, 1, 1, tzinfo=datetime.timezone.utc).timestamp()
        assert parse_retry_after({"retry-after": f"Thu, 01 Jan 2099 00:00:10 {zone}"}, now=now) == 10.0
    finally:
        monkeypatch.undo()
        time.tzset()
