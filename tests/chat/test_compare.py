"""compare(): the guide's case, base model + long prompt versus tuned model + short prompt."""

from __future__ import annotations

import inspect
import io
import sys
import threading
import time
from collections.abc import Callable, Iterator

import anyio
import orjson
import pytest

from finetune_sdk import AsyncClient, Client, Comparison, ComparisonRow, NotFoundError
from finetune_sdk.emulator import Emulator
from finetune_sdk.evaluate import Reply
from finetune_sdk.resources.chat import AsyncChat, Chat

from .conftest import KEY
from .sse_server import RawServer, Request, standard_stream
from .sse_server import Reply as ServerReply

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

BASE = "Qwen/Qwen2.5-7B-Instruct"
TUNED = "Qwen/Qwen2.5-14B-Instruct"  # any model the emulator answers; the setups differ by prompt
LONG_PROMPT = "你是一位犀利的影评人。" * 60
SHORT_PROMPT = "犀利影评"
PROMPTS = ["评价一下《流浪地球》", "How do I change my address?", "一句话点评这部电影"]


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(seed=0) as running:
        yield running


def check(result: Comparison) -> None:
    assert [row.prompt for row in result.rows] == PROMPTS
    for row in result.rows:
        assert row.base.text and row.tuned.text
        assert row.base.prompt_tokens is not None and row.tuned.prompt_tokens is not None
        assert row.base.prompt_tokens > row.tuned.prompt_tokens  # the long prompt costs tokens
        assert row.base.completion_tokens and row.tuned.completion_tokens
        assert row.base.latency > 0 and row.base.first_delta is not None
        assert row.base.first_delta <= row.base.latency
        assert row.base.finish_reason == "stop"
    saved = result.prompt_tokens_saved
    assert saved is not None and saved > 0
    assert saved == sum(r.base.prompt_tokens or 0 for r in result.rows) - sum(
        r.tuned.prompt_tokens or 0 for r in result.rows
    )
    assert result.speedup is not None and result.speedup > 0


def test_compare_sync_reports_usage_from_the_server(emu: Emulator) -> None:
    with Client(api_key=emu.api_key, base_url=emu.base_url) as client:
        result = client.chat.compare(
            PROMPTS, base=(BASE, LONG_PROMPT), tuned=(TUNED, SHORT_PROMPT), temperature=0
        )
        # The counts are the server's own: the same call opened as a stream reports the same usage.
        stream = client.chat(BASE, PROMPTS[0], system=LONG_PROMPT, temperature=0).open()
        stream.read()
    check(result)
    assert stream.usage is not None and result.rows[0].base.prompt_tokens == stream.usage.prompt_tokens


@pytest.mark.anyio
async def test_compare_async_runs_concurrently_and_keeps_order(emu: Emulator) -> None:
    async with AsyncClient(api_key=emu.api_key, base_url=emu.base_url) as client:
        result = await client.chat.compare(
            PROMPTS, base=(BASE, LONG_PROMPT), tuned=(TUNED, SHORT_PROMPT), concurrency=3
        )
    check(result)


@pytest.mark.anyio
async def test_compare_async_raises_the_typed_error_not_an_exception_group(emu: Emulator) -> None:
    async with AsyncClient(api_key=emu.api_key, base_url=emu.base_url) as client:
        with pytest.raises(NotFoundError) as info:
            await client.chat.compare(
                PROMPTS, base=("no-such-model", None), tuned=(TUNED, None), concurrency=2
            )
    assert isinstance(info.value.__cause__, BaseExceptionGroup)
    assert info.value in info.value.__cause__.exceptions


@pytest.mark.parametrize("concurrency", [1, 3])
def test_compare_sync_raises_the_typed_error(emu: Emulator, concurrency: int) -> None:
    with (
        Client(api_key=emu.api_key, base_url=emu.base_url) as client,
        pytest.raises(NotFoundError),
    ):
        client.chat.compare(
            PROMPTS, base=(BASE, None), tuned=("no-such-model", None), concurrency=concurrency
        )


def test_a_failed_call_ends_the_calls_under_way_at_their_next_delta() -> None:
    # The base model's replies drip for many seconds; the tuned one does not exist (a quick 404). The
    # error is raised without first reading the replies under way to their end.
    with (
        Emulator(chunk_delay=0.5, chunk_chars=2) as dripping,
        Client(api_key=dripping.api_key, base_url=dripping.base_url) as client,
    ):
        started = time.monotonic()
        with pytest.raises(NotFoundError):
            client.chat.compare(PROMPTS, base=(BASE, None), tuned=("no-such-model", None), concurrency=4)
        took = time.monotonic() - started
    assert took < 5, f"the failed comparison took {took:.1f} s"


class Echo:
    """Answers each chat with "MODEL:PROMPT", the first prompt slowest; counts the calls in flight."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0

    def __call__(self, request: Request) -> ServerReply:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        prompt = request.body["messages"][-1]["content"]
        time.sleep(0.4 if prompt == "a" else 0.15)  # later calls finish first
        with self.lock:
            self.active -= 1
        return ServerReply(parts=[standard_stream((f"{request.body['model']}:{prompt}",))])


@pytest.mark.parametrize(("concurrency", "peak"), [(1, 1), (2, 2), (8, 6)])
def test_compare_sync_takes_concurrency_and_keeps_the_order(concurrency: int, peak: int) -> None:
    """At most ``concurrency`` calls at once (never more threads than calls), rows in prompt order."""
    echo = Echo()
    with RawServer(echo) as server, Client(api_key=KEY, base_url=server.base_url) as client:
        result = client.chat.compare(
            ["a", "b", "c"], base=("base", None), tuned=("tuned", "short"), concurrency=concurrency
        )
        bodies = [r.body for r in server.requests]
    assert [(r.prompt, r.base.text, r.tuned.text) for r in result.rows] == [
        (p, f"base:{p}", f"tuned:{p}") for p in "abc"
    ]
    assert echo.peak == peak if peak <= 2 else 2 < echo.peak <= peak
    assert len(bodies) == 6 and all("concurrency" not in body for body in bodies)


def test_both_compares_have_the_same_arguments() -> None:
    def arguments(method: Callable[..., object]) -> list[tuple[str, object, object]]:
        return [(p.name, p.kind, p.default) for p in inspect.signature(method).parameters.values()]

    assert arguments(Chat.compare) == arguments(AsyncChat.compare)
    with (
        Client(api_key=KEY, base_url="http://127.0.0.1:9/v1") as client,
        pytest.raises(ValueError, match="at least 1"),
    ):
        client.chat.compare(["a"], base=("b", None), tuned=("t", None), concurrency=0)


@pytest.mark.anyio
async def test_compare_async_keeps_concurrency_out_of_the_body() -> None:
    echo = Echo()
    with RawServer(echo) as server:
        async with AsyncClient(api_key=KEY, base_url=server.base_url) as client:
            with anyio.fail_after(20):
                result = await client.chat.compare(
                    ["a", "b"], base=("base", None), tuned=("tuned", None), concurrency=2
                )
        bodies = [r.body for r in server.requests]
    assert [r.base.text for r in result.rows] == ["base:a", "base:b"]
    assert echo.peak == 2 and all("concurrency" not in body for body in bodies)


def test_compare_refuses_a_lone_string_and_no_prompts(emu: Emulator) -> None:
    with Client(api_key=emu.api_key, base_url=emu.base_url) as client:
        with pytest.raises(TypeError):
            client.chat.compare("one prompt", base=(BASE, None), tuned=(TUNED, None))
        with pytest.raises(ValueError, match="at least one prompt"):
            client.chat.compare([], base=(BASE, None), tuned=(TUNED, None))


def reply(text: str, prompt: int | None, completion: int | None, latency: float) -> Reply:
    return Reply(text, prompt, completion, latency, latency / 4, "stop")


def sample() -> Comparison:
    rows = (
        ComparisonRow(
            "Q1 line\nbreak", reply("long base answer " * 5, 560, 40, 2.0), reply("short", 20, 10, 1.0)
        ),
        ComparisonRow("Q2", reply("b", 570, 30, 2.0), reply("t", 30, 20, 0.5)),
    )
    return Comparison(base=(BASE, LONG_PROMPT), tuned=("ft:LoRA/x", SHORT_PROMPT), rows=rows)


def test_totals() -> None:
    result = sample()
    assert result.base_prompt_tokens == 1130 and result.tuned_prompt_tokens == 50
    assert result.prompt_tokens_saved == 1080
    assert result.prompt_tokens_saved_share == pytest.approx(1080 / 1130)
    assert result.base_latency == 4.0 and result.tuned_latency == 1.5
    assert result.speedup == pytest.approx(4.0 / 1.5)


def test_missing_usage_gives_no_token_totals() -> None:
    row = ComparisonRow("Q", reply("b", None, None, 1.0), reply("t", None, None, 1.0))
    result = Comparison(base=(BASE, None), tuned=(TUNED, None), rows=(row,))
    assert result.prompt_tokens_saved is None and result.prompt_tokens_saved_share is None
    assert "not reported by the server" in result.table()
    assert "- / -" in result.table()


def test_plain_table() -> None:
    text = sample().table(width=12)
    lines = text.splitlines()
    assert lines[0].startswith(f"base : {BASE} (system prompt of {len(LONG_PROMPT)} characters)")
    assert any(line.startswith("1  Q1 line bre…") for line in lines)  # one line per row, newlines flattened
    assert "560 / 20" in text and "2.00 / 1.00" in text
    assert "by the server's usage it saves 540 per call" in text  # 565 -> 25 prompt tokens per call
    assert "answers 2.67x as fast" in text
    assert str(sample()) == sample().table()


def test_plain_table_aligns_wide_characters() -> None:
    from finetune_sdk._text import columns as _columns

    rows = (
        ComparisonRow(
            "五道口",
            reply("关于「五道口」：这个问题很常见。" * 3, 347, 38, 0.1),
            reply("知识的殿堂。", 21, 6, 0.01),
        ),
        ComparisonRow("AI", reply("plain ascii answer", 340, 30, 0.1), reply("ok", 20, 1, 0.01)),
    )
    table = Comparison(base=(BASE, LONG_PROMPT), tuned=(TUNED, SHORT_PROMPT), rows=rows).table(width=16)
    first = next(line for line in table.splitlines() if line.startswith("1 "))
    second = next(line for line in table.splitlines() if line.startswith("2 "))
    # the token column starts at the same terminal column, though row 1 holds double-width characters
    assert _columns(first[: first.index("347 / 21")]) == _columns(second[: second.index("340 / 20")])
    assert "关于「五道口」…" in first  # cut to 16 columns (seven wide characters), not 16 characters


def test_json_round_trip() -> None:
    data = orjson.loads(sample().to_json())
    assert data["totals"]["prompt_tokens_saved"] == 1080
    assert data["rows"][1]["tuned"] == {
        "text": "t",
        "prompt_tokens": 30,
        "completion_tokens": 20,
        "latency": 0.5,
        "first_delta": 0.125,
        "finish_reason": "stop",
        "emulated": False,
    }
    assert data["tuned"] == {"model": "ft:LoRA/x", "system_prompt": SHORT_PROMPT}


def test_rich_rendering() -> None:
    rich = pytest.importorskip("rich")
    from rich.console import Console

    console = Console(width=200, record=True, file=io.StringIO())
    console.print(sample())
    out = console.export_text()
    assert rich is not None and "560 / 20" in out
    assert "by the server's usage it saves 540 per call" in " ".join(out.split())  # the caption wraps


def test_summary_in_milliseconds_and_says_slower_when_slower() -> None:
    rows = (ComparisonRow("Q", reply("b", 300, 10, 0.02), reply("t", 20, 10, 0.05)),)
    result = Comparison(base=(BASE, "x"), tuned=(TUNED, "y"), rows=rows)
    assert "latency 20 ms -> 50 ms: the tuned setup answers 2.50x slower" in result.summary()
    assert "(system prompt of 1 character)" in result.table()
