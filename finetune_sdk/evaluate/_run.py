"""Running a comparison: which calls to make, making them (threads or anyio tasks), and the result.

The clients' ``compare()`` hand in one callable that makes a single timed call, ``ask(setup, prompt) ->
Reply`` (awaitable for the async client); :func:`run_comparison` and :func:`arun_comparison` decide
everything else, from the same :class:`Plan`: ``samples`` calls per prompt and side, at most
``concurrency`` at once, results in prompt order, the first failure (in call order) raised.
"""

from __future__ import annotations

import contextvars
import dataclasses
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import NoReturn, cast

import anyio

from ..errors import FineTuneError
from ._checks import Check, CheckLike, make_checks
from ._comparison import Comparison, ComparisonRow, Reply, Setup, prepare_prompts

if sys.version_info < (3, 11):  # the backport anyio itself depends on there
    from exceptiongroup import BaseExceptionGroup  # type: ignore[import-not-found, unused-ignore]

__all__ = [
    "DEFAULT_CONCURRENCY",
    "MAX_SAMPLES",
    "Ask",
    "AsyncAsk",
    "OnProgress",
    "Plan",
    "arun_comparison",
    "run_comparison",
]

DEFAULT_CONCURRENCY = 4
"""How many chat calls a comparison runs at once by default."""

MAX_SAMPLES = 1000
"""The most times a comparison asks each prompt on each side: the calls are planned before the first is
made, so a slip of the keyboard (``samples=10**8``) would take all memory before sending anything."""

Ask = Callable[[Setup, str], Reply]

stopping: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("stopping", default=None)
"""In a comparison's worker threads: set once its calls should end early (a call failed, or the caller
was interrupted), so that a call reading a stream stops at its next delta instead of reading the whole
reply (the SDK's own ask looks at it; any other ask may)."""
"""One timed chat call: ``(setup, prompt) -> Reply``."""
AsyncAsk = Callable[[Setup, str], Awaitable[Reply]]
OnProgress = Callable[[int, int], None]
"""Called after each finished call with ``(calls done, calls in all)``."""


@dataclasses.dataclass(frozen=True)
class Plan:
    """The calls of one comparison, in order: per prompt, per sample, base then tuned."""

    prompts: list[str]
    base: Setup
    tuned: Setup
    checks: tuple[Check, ...]
    samples: int
    calls: list[tuple[int, int, Setup]]
    """``(prompt index, side: 0 base / 1 tuned, setup)``."""
    concurrency: int = 1

    @classmethod
    def make(
        cls,
        prompts: Iterable[str],
        *,
        base: Setup,
        tuned: Setup,
        checks: Iterable[CheckLike],
        samples: int,
        concurrency: int,
    ) -> Plan:
        """Check every argument before any call is made."""
        given: dict[str, object] = {"concurrency": concurrency, "samples": samples}
        for name, value in given.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
        if samples > MAX_SAMPLES:
            raise ValueError(f"samples must be at most {MAX_SAMPLES}, got {samples}")
        todo = prepare_prompts(prompts)
        calls = [
            (index, side, setup)
            for index in range(len(todo))
            for _ in range(samples)
            for side, setup in ((0, base), (1, tuned))
        ]
        return cls(todo, base, tuned, make_checks(checks), samples, calls, min(concurrency, len(calls)))

    def result(self, replies: list[Reply]) -> Comparison:
        """The comparison from the replies, in the order of :attr:`calls`."""
        per_prompt = 2 * self.samples
        rows: list[ComparisonRow] = []
        for index, prompt in enumerate(self.prompts):
            mine = replies[index * per_prompt : (index + 1) * per_prompt]
            base, tuned = mine[0::2], mine[1::2]
            rows.append(ComparisonRow(prompt, base[0], tuned[0], tuple(base[1:]), tuple(tuned[1:])))
        comparison = Comparison(
            base=self.base, tuned=self.tuned, rows=tuple(rows), concurrency=self.concurrency
        )
        return comparison.with_checks(self.checks) if self.checks else comparison


class _Counter:
    """Counts finished calls for ``on_progress`` (from several threads)."""

    def __init__(self, total: int, on_progress: OnProgress | None) -> None:
        self.total, self.done, self.on_progress = total, 0, on_progress
        self._lock = threading.Lock()

    def tick(self) -> None:
        if self.on_progress is None:
            return
        with self._lock:
            self.done += 1
            done = self.done
        self.on_progress(done, self.total)


def run_comparison(
    ask: Ask,
    prompts: Iterable[str],
    *,
    base: Setup,
    tuned: Setup,
    checks: Iterable[CheckLike] = (),
    samples: int = 1,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_progress: OnProgress | None = None,
) -> Comparison:
    """Make every call of the comparison on a pool of ``concurrency`` threads (``1``: one after the other,
    in this thread) and score the replies. The first failed call in call order raises its error; calls
    not yet started are dropped, and the calls under way are told to stop (:data:`stopping`), as they
    are when the caller is interrupted (Ctrl-C)."""
    plan = Plan.make(prompts, base=base, tuned=tuned, checks=checks, samples=samples, concurrency=concurrency)
    counter = _Counter(len(plan.calls), on_progress)

    def one(setup: Setup, prompt: str) -> Reply:
        reply = ask(setup, prompt)
        counter.tick()
        return reply

    if concurrency == 1:
        replies = [one(setup, plan.prompts[index]) for index, _, setup in plan.calls]
    else:
        pool = ThreadPoolExecutor(min(concurrency, len(plan.calls)), thread_name_prefix="finetune-compare")
        stop = threading.Event()
        token = stopping.set(stop)
        try:
            # Each call runs in a copy of this context, so that it sees ``stopping``.
            futures = [
                pool.submit(contextvars.copy_context().run, one, setup, plan.prompts[index])
                for index, _, setup in plan.calls
            ]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            if any(future.exception() is not None for future in done):
                stop.set()  # the comparison fails: the calls under way end at their next delta
            replies = [future.result() for future in futures]
        finally:
            stop.set()  # an interrupt (Ctrl-C) too: shut down without reading whole replies first
            stopping.reset(token)
            pool.shutdown(wait=True, cancel_futures=True)
    return plan.result(replies)


def _first_sdk_error(group: BaseExceptionGroup[BaseException]) -> FineTuneError | None:
    """The first of the SDK's errors in a task group's exception group (nested groups searched)."""
    for exc in group.exceptions:
        if isinstance(exc, FineTuneError):
            return exc
        if isinstance(exc, BaseExceptionGroup):
            # isinstance cannot know the members' type; every exception group holds BaseExceptions.
            found = _first_sdk_error(cast("BaseExceptionGroup[BaseException]", exc))
            if found is not None:
                return found
    return None


def _raise_sdk_error(group: BaseExceptionGroup[BaseException]) -> NoReturn:
    """Raise what the sync run would: the first typed error, the whole group as its cause."""
    error = _first_sdk_error(group)
    if error is None:
        raise group
    raise error from group


async def arun_comparison(
    ask: AsyncAsk,
    prompts: Iterable[str],
    *,
    base: Setup,
    tuned: Setup,
    checks: Iterable[CheckLike] = (),
    samples: int = 1,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_progress: OnProgress | None = None,
) -> Comparison:
    """:func:`run_comparison` with the calls run as anyio tasks (asyncio or trio), at most ``concurrency``
    at once. A failed call cancels the others and raises its typed error (the task group's
    ``ExceptionGroup`` is its ``__cause__``)."""
    plan = Plan.make(prompts, base=base, tuned=tuned, checks=checks, samples=samples, concurrency=concurrency)
    counter = _Counter(len(plan.calls), on_progress)
    replies: dict[int, Reply] = {}
    limiter = anyio.CapacityLimiter(concurrency)

    async def one(position: int, setup: Setup, prompt: str) -> None:
        async with limiter:
            replies[position] = await ask(setup, prompt)
        counter.tick()

    try:
        async with anyio.create_task_group() as group:
            for position, (index, _, setup) in enumerate(plan.calls):
                group.start_soon(one, position, setup, plan.prompts[index])
    except BaseExceptionGroup as exc:
        _raise_sdk_error(exc)
    return plan.result([replies[position] for position in range(len(plan.calls))])
