"""The figures of a comparison: check pass rates, stability over repeated samples, tokens and speed.

:func:`compute` is the one place they are computed: a pure function over the replies (no I/O), so the
command line's summary, the HTML, Markdown and JSON reports and the tests all show the same numbers
(:mod:`._format` words them). Per side: every call counts once (``samples`` calls per prompt).
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Sequence
from typing import Any

from ._rows import ComparisonData, ComparisonRow, Reply
from ._tokens import TokenCounter, prompt_tokens, token_counter

__all__ = ["CheckResult", "Figures", "SideFigures", "compute", "percentile"]

SIDES = ("base", "tuned")


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """One check over all calls of both sides."""

    name: str
    threshold: float
    base_pass_rate: float
    """Share of the base calls whose score reached the threshold."""
    tuned_pass_rate: float
    base_mean_score: float
    tuned_mean_score: float
    differing_prompts: tuple[str, ...]
    """The prompts on which the two sides' pass rates differ (with one sample: one passes, one fails)."""


@dataclasses.dataclass(frozen=True)
class SideFigures:
    """One setup's figures."""

    calls: int
    prompt_tokens_per_call: float
    """Counted by the SDK (see ``Figures.tokens_exact``): system prompt, prompt and chat template."""
    reported_prompt_tokens_per_call: float | None
    """As the server's ``usage`` said (None when a call had none)."""
    completion_tokens_per_call: float | None
    ttft_median: float | None
    """Seconds to the first text (None when no call sent any)."""
    ttft_p95: float | None
    latency_median: float
    """Seconds to the end of the stream."""
    latency_p95: float
    all_checks_pass: float | None
    """Share of calls passing every check (None without checks)."""
    distinct_share: float | None
    """Per prompt, distinct answers / samples, averaged: 1/samples when every sample is the same answer,
    1.0 when all differ (None with one sample)."""
    length_spread: float | None
    """Per prompt, the standard deviation of the answers' lengths in characters, averaged (None with one
    sample)."""
    mean_chars: float


@dataclasses.dataclass(frozen=True)
class Figures:
    """Everything a report shows besides the answers themselves."""

    samples: int
    """Calls per prompt and side."""
    prompts: int
    checks: tuple[CheckResult, ...]
    base: SideFigures
    tuned: SideFigures
    tokens_exact: bool
    """True when prompt tokens were counted exactly, False for the SDK's estimate."""
    prompt_tokens_saved_per_call: float
    """As the SDK counts them (exactly, or its estimate: ``tokens_exact``)."""
    prompt_tokens_saved_share: float | None
    prompt_tokens_saved_per_1000_calls: float
    reported_prompt_tokens_saved_per_call: float | None
    """As the server's ``usage`` said (None when a call had none)."""
    latency_ratio: float | None
    """Median base latency / median tuned latency, over every call of each side (2.0: the tuned setup
    answers in half the time; 0.5: it takes twice as long). The one speed-up every report states."""
    ttft_ratio: float | None
    """Median base time to first token / median tuned one."""
    concurrency: int | None = None
    """How many calls ran at once (None when not known): the latencies include the wait under that load."""
    emulated: bool = False
    """True when the answers came from the SDK's emulator: the figures are an emulation's."""

    def side(self, name: str) -> SideFigures:
        return self.base if name == "base" else self.tuned

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share=0.95``: p95): a value that was measured, never interpolated."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _mean_or_none(values: Sequence[int | None]) -> float | None:
    if any(value is None for value in values):
        return None
    return _mean([float(value) for value in values if value is not None])


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b <= 0 else a / b


def _passes(scores: Sequence[Sequence[float]], thresholds: Sequence[float], check: int) -> list[bool]:
    return [sample[check] >= thresholds[check] for sample in scores]


def _pass_share(
    rows: Sequence[ComparisonRow], side: str, check: int, thresholds: Sequence[float]
) -> list[float]:
    """Per prompt, the share of its samples passing ``check``."""
    out: list[float] = []
    for row in rows:
        passed = _passes(row.scores(side), thresholds, check)
        out.append(sum(passed) / len(passed))
    return out


def _check_result(comparison: ComparisonData, index: int) -> CheckResult:
    check = comparison.checks[index]
    thresholds = [c.threshold for c in comparison.checks]
    rows = comparison.rows
    shares = {side: _pass_share(rows, side, index, thresholds) for side in SIDES}
    scores = {side: [s[index] for row in rows for s in row.scores(side)] for side in SIDES}
    passed = {side: [score >= check.threshold for score in scores[side]] for side in SIDES}
    differ = tuple(
        row.prompt for row, a, b in zip(rows, shares["base"], shares["tuned"], strict=True) if a != b
    )
    return CheckResult(
        name=check.name,
        threshold=check.threshold,
        base_pass_rate=_mean([float(p) for p in passed["base"]]),
        tuned_pass_rate=_mean([float(p) for p in passed["tuned"]]),
        base_mean_score=_mean(scores["base"]),
        tuned_mean_score=_mean(scores["tuned"]),
        differing_prompts=differ,
    )


def _side(comparison: ComparisonData, side: str, count: TokenCounter) -> SideFigures:
    rows = comparison.rows
    system = (comparison.base if side == "base" else comparison.tuned)[1]
    replies: list[Reply] = comparison.replies(side)
    counted = [prompt_tokens(system, row.prompt, count) for row in rows for _ in row.samples(side)]
    firsts = [reply.first_delta for reply in replies if reply.first_delta is not None]
    latencies = [reply.latency for reply in replies]
    thresholds = [c.threshold for c in comparison.checks]
    all_pass: float | None = None
    if comparison.checks:
        every = [
            all(s >= t for s, t in zip(sample, thresholds, strict=True))
            for row in rows
            for sample in row.scores(side)
        ]
        all_pass = _mean([float(ok) for ok in every])
    distinct = spread = None
    if comparison.samples > 1:
        texts = [[reply.text for reply in row.samples(side)] for row in rows]
        distinct = _mean([len(set(group)) / len(group) for group in texts])
        spread = _mean([statistics.pstdev([len(text) for text in group]) for group in texts])
    return SideFigures(
        calls=len(replies),
        prompt_tokens_per_call=_mean([float(n) for n in counted]),
        reported_prompt_tokens_per_call=_mean_or_none([reply.prompt_tokens for reply in replies]),
        completion_tokens_per_call=_mean_or_none([reply.completion_tokens for reply in replies]),
        ttft_median=statistics.median(firsts) if firsts else None,
        ttft_p95=percentile(firsts, 0.95) if firsts else None,
        latency_median=statistics.median(latencies),
        latency_p95=percentile(latencies, 0.95),
        all_checks_pass=all_pass,
        distinct_share=distinct,
        length_spread=spread,
        mean_chars=_mean([float(len(reply.text)) for reply in replies]),
    )


def compute(comparison: ComparisonData, counter: tuple[TokenCounter, bool] | None = None) -> Figures:
    """The figures of ``comparison`` (prompt tokens counted with ``counter``, by default the SDK's)."""
    count, exact = counter or token_counter()
    base, tuned = _side(comparison, "base", count), _side(comparison, "tuned", count)
    saved = base.prompt_tokens_per_call - tuned.prompt_tokens_per_call
    reported = (
        None
        if base.reported_prompt_tokens_per_call is None or tuned.reported_prompt_tokens_per_call is None
        else base.reported_prompt_tokens_per_call - tuned.reported_prompt_tokens_per_call
    )
    return Figures(
        samples=comparison.samples,
        prompts=len(comparison.rows),
        checks=tuple(_check_result(comparison, i) for i in range(len(comparison.checks))),
        base=base,
        tuned=tuned,
        tokens_exact=exact,
        prompt_tokens_saved_per_call=saved,
        prompt_tokens_saved_share=_ratio(saved, base.prompt_tokens_per_call),
        prompt_tokens_saved_per_1000_calls=saved * 1000,
        reported_prompt_tokens_saved_per_call=reported,
        latency_ratio=_ratio(base.latency_median, tuned.latency_median),
        ttft_ratio=_ratio(base.ttft_median, tuned.ttft_median),
        concurrency=comparison.concurrency,
        emulated=comparison.emulated,
    )
