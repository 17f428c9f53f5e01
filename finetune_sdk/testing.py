"""Test helpers: run the platform emulator for your own tests (as moto does for AWS).

In your ``conftest.py``::

    from finetune_sdk.testing import emulator, emulator_env, emulator_options  # noqa: F401

then a test takes ``emulator`` (one per test session: ``emulator.base_url``, ``emulator.api_key``) or
``emulator_env`` (the same emulator, with ``FINETUNE_BASE_URL``/``FINETUNE_API_KEY`` set for the test,
so code that builds a ``Client()`` from the environment talks to it). Override ``emulator_options`` in
your conftest to pass other :class:`~finetune_sdk.emulator.Emulator` keywords. Outside pytest,
:func:`running_emulator` is the same thing as a context manager.

Needs the ``emulator`` extra; the fixtures also need pytest (without it, the module still imports and
offers :func:`running_emulator`). Nothing here loads unless you import it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .emulator import Emulator

try:
    import pytest
except ImportError:  # outside a test run: running_emulator still works, the fixtures are not defined
    HAVE_PYTEST = False
else:
    HAVE_PYTEST = True

BASE_URL_VAR = "FINETUNE_BASE_URL"
API_KEY_VAR = "FINETUNE_API_KEY"
DEFAULT_OPTIONS: dict[str, Any] = {"time_scale": 100.0}
"""Jobs run 100 times faster than by default: a small job finishes in a few hundredths of a second."""


@contextmanager
def running_emulator(*, set_env: bool = True, **options: Any) -> Iterator[Emulator]:
    """Start an emulator (``options``: :class:`Emulator` keywords), stop it on exit.

    With ``set_env`` the SDK's environment variables point at it for the duration (and are restored).
    """
    with Emulator(**{**DEFAULT_OPTIONS, **options}) as emu:
        if not set_env:
            yield emu
            return
        saved = {name: os.environ.get(name) for name in (BASE_URL_VAR, API_KEY_VAR)}
        os.environ[BASE_URL_VAR] = emu.base_url
        os.environ[API_KEY_VAR] = emu.api_key
        try:
            yield emu
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


if HAVE_PYTEST:
    import pytest  # bound in this branch too, for type checkers

    @pytest.fixture(scope="session")
    def emulator_options() -> dict[str, Any]:
        """Keywords for the session's :class:`Emulator`; override this fixture to change them."""
        return dict(DEFAULT_OPTIONS)

    @pytest.fixture(scope="session")
    def emulator(emulator_options: dict[str, Any]) -> Iterator[Emulator]:
        """One emulator for the whole test session, stopped at its end."""
        with running_emulator(set_env=False, **emulator_options) as emu:
            yield emu

    @pytest.fixture
    def emulator_env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
        """The session's emulator, with ``FINETUNE_BASE_URL`` and ``FINETUNE_API_KEY`` set for this test."""
        monkeypatch.setenv(BASE_URL_VAR, emulator.base_url)
        monkeypatch.setenv(API_KEY_VAR, emulator.api_key)
        return emulator
