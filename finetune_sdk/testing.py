"""Test helpers: run the platform emulator for your own tests (as moto does for AWS).

Installed with finetune-sdk, this module is a pytest plugin: a test just asks for a fixture, with no
import. (Where plugins from packages are turned off, ``-p no:finetune_sdk.testing`` or
``PYTEST_DISABLE_PLUGIN_AUTOLOAD``, add ``pytest_plugins = ["finetune_sdk.testing"]`` to the top
``conftest.py``.) The fixtures:

- ``emulator``: one per test session (``emulator.base_url``, ``emulator.api_key``);
- ``emulator_env``: the same emulator, with ``FINETUNE_BASE_URL``/``FINETUNE_API_KEY`` set for the test,
  and ``FINETUNE_POLL_INTERVAL`` set to a fast pace, so code that builds a ``Client()`` from the
  environment talks to it and its waits end moments after the job;
- ``emulator_options``: override it in your conftest to pass other
  :class:`~finetune_sdk.emulator.Emulator` keywords.

Outside pytest, :func:`running_emulator` is the same thing as a context manager.

The emulator needs the ``emulator`` extra; without it this module still imports (so the plugin never
breaks a test run), and only a test that uses a fixture fails, saying which extra to install.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .emulator import Emulator

from ._core.config import API_KEY_ENV, BASE_URL_ENV, POLL_INTERVAL_ENV

# Outside a test run running_emulator still works; the fixtures are defined only where pytest is.
HAVE_PYTEST = importlib.util.find_spec("pytest") is not None

BASE_URL_VAR = BASE_URL_ENV
API_KEY_VAR = API_KEY_ENV
POLL_INTERVAL_VAR = POLL_INTERVAL_ENV
DEFAULT_OPTIONS: dict[str, Any] = {"time_scale": 100.0}
"""Jobs run 100 times faster than by default: a small job finishes in a few hundredths of a second."""
POLL_INTERVAL = 0.02
"""The pace of ``jobs.wait`` for clients built from the environment the helpers set (seconds)."""


def _emulator_class() -> type[Emulator]:
    """The emulator, imported only when a helper is used: without the extra, a clear error then."""
    try:
        from .emulator import Emulator
    except ImportError as exc:
        raise ImportError(
            "finetune_sdk.testing needs the emulator extra to run an emulator: "
            f'pip install "finetune-sdk[emulator]" ({exc})'
        ) from exc
    return Emulator


@contextmanager
def running_emulator(*, set_env: bool = True, **options: Any) -> Generator[Emulator, None, None]:
    """Start an emulator (``options``: :class:`Emulator` keywords), stop it on exit.

    With ``set_env`` the SDK's environment variables point at it for the duration (and are restored),
    ``FINETUNE_POLL_INTERVAL`` included.
    """
    with _emulator_class()(**{**DEFAULT_OPTIONS, **options}) as emu:
        if not set_env:
            yield emu
            return
        names = (BASE_URL_VAR, API_KEY_VAR, POLL_INTERVAL_VAR)
        saved = {name: os.environ.get(name) for name in names}
        os.environ.update(_env(emu))
        try:
            yield emu
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _env(emu: Emulator) -> dict[str, str]:
    return {BASE_URL_VAR: emu.base_url, API_KEY_VAR: emu.api_key, POLL_INTERVAL_VAR: f"{POLL_INTERVAL:g}"}


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
        """The session's emulator, with ``FINETUNE_BASE_URL``, ``FINETUNE_API_KEY`` and a fast
        ``FINETUNE_POLL_INTERVAL`` set for this test."""
        for name, value in _env(emulator).items():
            monkeypatch.setenv(name, value)
        return emulator
