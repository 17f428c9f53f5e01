"""What a comparison measured: the replies, one row per prompt, and the two setups.

The bottom of the package: the figures (:mod:`._figures`), their wording (:mod:`._format`) and every
report read these records; :class:`~._comparison.Comparison` adds the figures and the renderings on top.
Nothing here imports them, so no module of the package imports one that imports it back.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Mapping
from typing import Protocol

from typing_extensions import Self

from ._checks import Check, CheckLike, make_checks

__all__ = [
    "EMULATOR_HEADER",
    "Clock",
    "ComparisonData",
    "ComparisonRow",
    "Reply",
    "Scores",
    "Setup",
    "prepare_prompts",
]

Setup = tuple[str, "str | None"]
"""``(model, system_prompt)``: one side of a comparison (None for no system prompt)."""

Scores = tuple[tuple[float, ...], ...]
"""One tuple per sample, one score (0-1) per check, in the order of ``Comparison.checks``."""

EMULATOR_HEADER = "x-finetune-emulator"
"""The response header the SDK's emulator sends (value ``1``) on every answer."""


@dataclasses.dataclass(frozen=True)
class Reply:
    """One setup's answer to one prompt, and what it cost."""

    text: str
    prompt_tokens: int | None
    """As the server counted them (None if it sent no usage)."""
    completion_tokens: int | None
    latency: float
    """Seconds from sending the request to the end of the stream."""
    first_delta: float | None
    """Seconds from sending the request to the first text (None if no text came)."""
    finish_reason: str | None
    emulated: bool = False
    """True when the answer came from the SDK's emulator (its ``x-finetune-emulator: 1`` header)."""


@dataclasses.dataclass(frozen=True)
class ComparisonRow:
    """One prompt, answered by both setups (``base`` and ``tuned`` are the first sample of each)."""

    prompt: str
    base: Reply
    tuned: Reply
    base_extra: tuple[Reply, ...] = ()
    """The further samples of the base setup (``samples=N`` asks each prompt N times)."""
    tuned_extra: tuple[Reply, ...] = ()
    base_scores: Scores = ()
    """The base samples' check scores (empty without checks)."""
    tuned_scores: Scores = ()

    def samples(self, side: str) -> tuple[Reply, ...]:
        """Every reply of ``side`` ("base" or "tuned"), first sample first."""
        if side == "base":
            return (self.base, *self.base_extra)
        if side == "tuned":
            return (self.tuned, *self.tuned_extra)
        raise ValueError(f"side is 'base' or 'tuned', not {side!r}")

    def scores(self, side: str) -> Scores:
        """The check scores of ``side``'s samples."""
        return self.base_scores if side == "base" else self.tuned_scores

    def failed(self, side: str, checks: tuple[Check, ...], sample: int = 0) -> list[str]:
        """The names of the checks that sample of ``side`` did not pass."""
        scores = self.scores(side)
        if not scores:
            return []
        return [
            check.name for check, score in zip(checks, scores[sample], strict=True) if score < check.threshold
        ]

    def scored(self, checks: tuple[Check, ...]) -> ComparisonRow:
        """This row with every sample scored by ``checks``."""

        def score(replies: tuple[Reply, ...]) -> Scores:
            return tuple(tuple(check.score(self.prompt, reply.text) for check in checks) for reply in replies)

        return dataclasses.replace(
            self, base_scores=score(self.samples("base")), tuned_scores=score(self.samples("tuned"))
        )


class _Usage(Protocol):
    @property
    def prompt_tokens(self) -> int: ...

    @property
    def completion_tokens(self) -> int: ...


class _Response(Protocol):
    @property
    def headers(self) -> Mapping[str, str]: ...


class _Stream(Protocol):
    """What :meth:`Clock.reply` reads of a finished chat stream (sync or async)."""

    @property
    def text(self) -> str: ...

    @property
    def usage(self) -> _Usage | None: ...

    @property
    def finish_reason(self) -> str | None: ...

    @property
    def response(self) -> _Response | None: ...


class Clock:
    """Times one streamed reply: started when made, ``tick()`` on every delta, then :meth:`reply`."""

    __slots__ = ("first", "started")

    def __init__(self) -> None:
        self.started: float = time.perf_counter()
        self.first: float | None = None

    def tick(self) -> None:
        if self.first is None:
            self.first = time.perf_counter()

    def reply(self, stream: _Stream) -> Reply:
        usage = stream.usage
        response = stream.response
        return Reply(
            text=stream.text,
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            latency=time.perf_counter() - self.started,
            first_delta=self.first - self.started if self.first is not None else None,
            finish_reason=stream.finish_reason,
            emulated=response is not None and response.headers.get(EMULATOR_HEADER) == "1",
        )


def prepare_prompts(prompts: Iterable[str]) -> list[str]:
    """The prompts as a list; a lone string would be compared letter by letter, so it is refused."""
    if isinstance(prompts, str):
        raise TypeError("prompts is a list of strings; wrap a single prompt in [...]")
    out = list(prompts)
    if not out:
        raise ValueError("compare() needs at least one prompt")
    return out


@dataclasses.dataclass(frozen=True)
class ComparisonData:
    """The measurements of a comparison: two setups, one :class:`ComparisonRow` per prompt, the checks
    the replies were scored with, and how many calls ran at once (None when not known)."""

    base: Setup
    tuned: Setup
    rows: tuple[ComparisonRow, ...]
    checks: tuple[Check, ...] = ()
    concurrency: int | None = None
    """How many calls ran at once: latencies include the wait under that load."""

    def __post_init__(self) -> None:
        if not self.rows:
            raise ValueError("a comparison needs at least one row")
        counts = {len(row.samples(side)) for row in self.rows for side in ("base", "tuned")}
        if len(counts) > 1:
            raise ValueError("every prompt of a comparison needs the same number of samples on both sides")
        if self.checks and not all(
            len(row.scores(side)) == len(row.samples(side))
            and all(len(sample) == len(self.checks) for sample in row.scores(side))
            for row in self.rows
            for side in ("base", "tuned")
        ):
            raise ValueError("rows are not scored with these checks: build it with .with_checks(checks)")

    @property
    def samples(self) -> int:
        """How many times each prompt was asked on each side."""
        return len(self.rows[0].samples("base"))

    @property
    def calls_per_side(self) -> int:
        """How many calls each side made (prompts times samples)."""
        return len(self.rows) * self.samples

    @property
    def emulated(self) -> bool:
        """True when any answer came from the SDK's emulator: the figures are then an emulation's."""
        return any(
            reply.emulated for row in self.rows for side in ("base", "tuned") for reply in row.samples(side)
        )

    def replies(self, side: str) -> list[Reply]:
        """Every reply of ``side``, prompt by prompt, first sample first."""
        return [reply for row in self.rows for reply in row.samples(side)]

    def with_checks(self, checks: Iterable[CheckLike]) -> Self:
        """This comparison with every reply scored by ``checks`` (no new calls)."""
        made = make_checks(checks)
        return dataclasses.replace(self, rows=tuple(row.scored(made) for row in self.rows), checks=made)
