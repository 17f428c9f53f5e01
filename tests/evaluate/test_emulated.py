"""Every rendering of a comparison says "emulated" when the answers came from the SDK's emulator (its
``x-finetune-emulator: 1`` header), and none says it when they came from another server."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest

from finetune_sdk import AsyncClient, Client, Comparison
from finetune_sdk.emulator import Emulator
from finetune_sdk.errors import AuthenticationError
from finetune_sdk.evaluate._rows import EMULATOR_HEADER
from tests.chat.sse_server import RawServer, Request, standard_stream
from tests.chat.sse_server import Reply as ServerReply

BASE = "Qwen/Qwen2.5-7B-Instruct"
KEY = "sk-test-not-the-emulator"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(time_scale=200) as running:
        yield running


def renderings(comparison: Comparison) -> dict[str, str]:
    return {
        "summary": comparison.summary(),
        "table": comparison.table(),
        "html": comparison.to_html(),
        "markdown": comparison.to_markdown(),
        "json": comparison.to_json(),
    }


def test_the_emulator_says_so_on_every_answer(emu: Emulator) -> None:
    with Client(api_key=emu.api_key, base_url=emu.base_url) as client:
        stream = client.chat(BASE, "hi").open()
        stream.read()
    assert stream.response is not None and stream.response.headers[EMULATOR_HEADER] == "1"
    with (
        Client(api_key="wrong", base_url=emu.base_url, max_retries=0) as client,
        pytest.raises(AuthenticationError) as info,
    ):
        client.jobs.list()
    response = info.value.response
    assert response is not None and response.headers[EMULATOR_HEADER] == "1"  # on an error answer too


def test_a_comparison_on_the_emulator_is_labelled_everywhere(emu: Emulator) -> None:
    with Client(api_key=emu.api_key, base_url=emu.base_url) as client:
        comparison = client.chat.compare(
            ["加班", "五道口"], base=(BASE, "长" * 50), tuned=(BASE, None), samples=2
        )
    assert comparison.emulated and all(
        reply.emulated for row in comparison.rows for reply in row.samples("base")
    )
    shown = renderings(comparison)
    assert shown["summary"].startswith("emulated: these answers come from the finetune-sdk emulator")
    assert shown["table"].count("emulated: these answers") == 1
    assert '<p class="emulated">emulated: these answers come from the finetune-sdk emulator' in shown["html"]
    assert "> emulated: these answers come from the finetune-sdk emulator" in shown["markdown"]
    data = orjson.loads(shown["json"])
    assert data["emulated"] is True and data["figures"]["emulated"] is True
    assert data["summary"]["emulated"].startswith("emulated: ")


@pytest.mark.anyio
async def test_the_async_client_sees_it_too(emu: Emulator) -> None:
    async with AsyncClient(api_key=emu.api_key, base_url=emu.base_url) as client:
        comparison = await client.chat.compare(["加班"], base=(BASE, None), tuned=(BASE, None))
    assert comparison.emulated and comparison.figures().emulated


def test_another_server_is_not_called_an_emulator() -> None:
    def respond(request: Request) -> ServerReply:
        return ServerReply(parts=[standard_stream()])

    with RawServer(respond) as server, Client(api_key=KEY, base_url=server.base_url) as client:
        comparison = client.chat.compare(["a"], base=("base", None), tuned=("tuned", None))
    assert not comparison.emulated
    for name, text in renderings(comparison).items():
        assert "emulated:" not in text and 'class="emulated"' not in text, name
    assert orjson.loads(comparison.to_json())["emulated"] is False


def test_a_header_with_another_value_is_not_the_emulator() -> None:
    def respond(request: Request) -> ServerReply:
        return ServerReply(parts=[standard_stream()], headers={EMULATOR_HEADER: "0"})

    with RawServer(respond) as server, Client(api_key=KEY, base_url=server.base_url) as client:
        comparison = client.chat.compare(["a"], base=("base", None), tuned=("tuned", None))
    assert not comparison.emulated
