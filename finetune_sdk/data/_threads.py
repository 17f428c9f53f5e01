"""The async twins of the data side's functions that read and write files: the same function, run in a
worker thread (asyncio and trio alike), with the same parameters, written once here."""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from typing_extensions import ParamSpec

__all__ = ["in_a_thread"]

P = ParamSpec("P")
T = TypeVar("T")


def in_a_thread(function: Callable[P, T]) -> Callable[P, Coroutine[Any, Any, T]]:
    """The async twin of ``function``: ``await twin(...)`` runs ``function(...)`` in a worker thread.

    A function that takes ``cancel`` (a ``threading.Event`` it looks at as it goes) gets one unless the
    caller passes theirs; cancelling the awaiting task returns at once and sets it, so the thread stops at
    its next look instead of running on. Any other function runs to its end in its thread.
    """
    stops = "cancel" in inspect.signature(function).parameters

    @functools.wraps(function)
    async def twin(*args: P.args, **kwargs: P.kwargs) -> T:
        import anyio.to_thread  # the sync functions never need it

        if not stops:
            return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs))
        cancel: threading.Event = kwargs.setdefault("cancel", threading.Event())  # type: ignore[assignment]
        try:
            return await anyio.to_thread.run_sync(
                functools.partial(function, *args, **kwargs), abandon_on_cancel=True
            )
        except BaseException:
            cancel.set()  # a cancelled await leaves the thread running: this makes it stop
            raise

    name = function.__name__
    twin.__name__ = twin.__qualname__ = f"a{name}"
    stopping = (
        " Cancelling the awaiting task stops the thread at its next check of ``cancel``." if stops else ""
    )
    twin.__doc__ = (
        f":func:`{name}` in a worker thread, for asyncio and trio alike; the same arguments.{stopping}"
    )
    return twin
