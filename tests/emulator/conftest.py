"""Fixtures of the emulator's tests: a fast emulator per module and httpx clients."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from finetune_sdk.emulator import Emulator
from tests.emulator.helpers import FAST, MakeClient, auth


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(time_scale=FAST) as running:
        yield running


@pytest.fixture
def client(emu: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.base_url, headers=auth(emu), timeout=10) as c:
        yield c


@pytest.fixture
def make_client() -> Iterator[MakeClient]:
    """Clients for emulators a test starts itself (closed at the end)."""
    clients: list[httpx.Client] = []

    def make(emulator: Emulator) -> httpx.Client:
        clients.append(httpx.Client(base_url=emulator.base_url, headers=auth(emulator), timeout=10))
        return clients[-1]

    yield make
    for c in clients:
        c.close()
