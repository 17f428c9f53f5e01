"""Base model with a long system prompt versus tuned model with a short one, measured side by side.

The guide's own case: a base model needed 553 tokens of style rules to answer on style (and still
wavered); the tuned model answers on style with an 8-token prompt. ``client.compare(...)`` sends the same
prompts to both setups and returns a :class:`Comparison`: for each prompt both replies (``samples`` of each
when asked for), their prompt and completion tokens (from the server's ``usage``) and latency, the scores
of the given checks, plus totals and figures (:meth:`Comparison.figures`): pass rates per check, how
stable each side is, how many prompt tokens the tuned setup saves and how much faster it answers. It
renders as a plain-text table (``str()``), a rich table, JSON, Markdown and a self-contained HTML page.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from .._text import plural, shorten, table_lines
from ._checks import Check, CheckLike, make_checks

if TYPE_CHECKING:
    from rich.table import Table

    from ..chat import AsyncChatStream, ChatStream
    from ._figures import Figures

__all__ = ["Comparison", "ComparisonRow", "Reply", "Setup", "prepare_prompts"]

Setup = tuple[str, "str | None"]
"""``(model, system_prompt)``: one side of a comparison (None for no system prompt)."""

Scores = tuple[tuple[float, ...], ...]
"""One tuple per sample, one score (0-1) per check, in the order of ``Comparison.checks``."""


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


class Clock:
    """Times one streamed reply: started when made, ``tick()`` on every delta, then :meth:`reply`."""

    __slots__ = ("first", "started")

    def __init__(self) -> None:
        self.started: float = time.perf_counter()
        self.first: float | None = None

    def tick(self) -> None:
        if self.first is None:
            self.first = time.perf_counter()

    def reply(self, stream: ChatStream | AsyncChatStream) -> Reply:
        usage = stream.usage
        return Reply(
            text=stream.text,
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            latency=time.perf_counter() - self.started,
            first_delta=self.first - self.started if self.first is not None else None,
            finish_reason=stream.finish_reason,
        )


def prepare_prompts(prompts: Iterable[str]) -> list[str]:
    """The prompts as a list; a lone string would be compared letter by letter, so it is refused."""
    if isinstance(prompts, str):
        raise TypeError("prompts is a list of strings; wrap a single prompt in [...]")
    out = list(prompts)
    if not out:
        raise ValueError("compare() needs at least one prompt")
    return out


def _total(values: Iterable[int | None]) -> int | None:
    """The sum, or None when any count is missing (a partial sum would mislead)."""
    total = 0
    for value in values:
        if value is None:
            return None
        total += value
    return total


def _duration(seconds: float) -> str:
    """``0.54 s`` reads poorly next to ``0.04 s``: milliseconds below a second."""
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:.0f} ms"


def _pair(a: object, b: object) -> str:
    return f"{'-' if a is None else a} / {'-' if b is None else b}"


@dataclasses.dataclass(frozen=True)
class Comparison:
    """The result of ``client.compare(...)``: one :class:`ComparisonRow` per prompt, and totals.

    ``checks`` are the checks the replies were scored with (:meth:`with_checks` scores them anew);
    :meth:`figures` gives pass rates, stability, tokens and speed.
    """

    base: Setup
    tuned: Setup
    rows: tuple[ComparisonRow, ...]
    checks: tuple[Check, ...] = ()

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

    def with_checks(self, checks: Iterable[CheckLike]) -> Comparison:
        """This comparison with every reply scored by ``checks`` (no new calls)."""
        made = make_checks(checks)
        return dataclasses.replace(self, rows=tuple(row.scored(made) for row in self.rows), checks=made)

    @functools.cached_property
    def _figures(self) -> Figures:
        from ._figures import compute

        return compute(self)

    def figures(self) -> Figures:
        """Pass rate per check and side, stability over samples, prompt tokens and speed (computed once)."""
        return self._figures

    def _sum(self, side: str, field: str) -> int | None:
        return _total(getattr(reply, field) for row in self.rows for reply in row.samples(side))

    @property
    def base_prompt_tokens(self) -> int | None:
        """Prompt tokens of all base calls (None if the server reported no usage)."""
        return self._sum("base", "prompt_tokens")

    @property
    def tuned_prompt_tokens(self) -> int | None:
        """Prompt tokens of all tuned calls (None if the server reported no usage)."""
        return self._sum("tuned", "prompt_tokens")

    @property
    def prompt_tokens_saved(self) -> int | None:
        """How many prompt tokens the tuned setup spared over all prompts."""
        base, tuned = self.base_prompt_tokens, self.tuned_prompt_tokens
        return None if base is None or tuned is None else base - tuned

    @property
    def prompt_tokens_saved_share(self) -> float | None:
        """The saving as a share of the base setup's prompt tokens (0.95 = 95% fewer)."""
        saved, base = self.prompt_tokens_saved, self.base_prompt_tokens
        return None if saved is None or not base else saved / base

    @property
    def base_latency(self) -> float:
        """Seconds the base calls took, summed."""
        return sum(reply.latency for row in self.rows for reply in row.samples("base"))

    @property
    def tuned_latency(self) -> float:
        """Seconds the tuned calls took, summed."""
        return sum(reply.latency for row in self.rows for reply in row.samples("tuned"))

    @property
    def speedup(self) -> float | None:
        """How many times faster the tuned setup answered (base latency / tuned latency)."""
        return self.base_latency / self.tuned_latency if self.tuned_latency > 0 else None

    def to_dict(self) -> dict[str, Any]:
        """Everything, totals included, as plain JSON types."""
        return {
            "base": {"model": self.base[0], "system_prompt": self.base[1]},
            "tuned": {"model": self.tuned[0], "system_prompt": self.tuned[1]},
            "samples": self.samples,
            "checks": [{"name": check.name, "threshold": check.threshold} for check in self.checks],
            "rows": [dataclasses.asdict(row) for row in self.rows],
            "figures": self.figures().to_dict(),
            "totals": {
                "base_prompt_tokens": self.base_prompt_tokens,
                "tuned_prompt_tokens": self.tuned_prompt_tokens,
                "prompt_tokens_saved": self.prompt_tokens_saved,
                "prompt_tokens_saved_share": self.prompt_tokens_saved_share,
                "base_completion_tokens": self._sum("base", "completion_tokens"),
                "tuned_completion_tokens": self._sum("tuned", "completion_tokens"),
                "base_latency": self.base_latency,
                "tuned_latency": self.tuned_latency,
                "speedup": self.speedup,
            },
        }

    def to_json(self, *, indent: bool = True) -> str:
        """:meth:`to_dict` as a JSON string."""
        return orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2 if indent else 0).decode()

    def to_markdown(self, *, note: str | None = None) -> str:
        """A Markdown report: setups, checks, stability, tokens and speed, then the answers."""
        from ._report_text import markdown

        return markdown(self, note=note)

    def to_html(
        self, path: str | Path | None = None, *, title: str | None = None, note: str | None = None
    ) -> str:
        """One self-contained HTML page (no scripts, no network): bars of the pass rates per check, of
        tokens and latency, and the answers side by side with failing checks marked. Written to
        ``path`` (UTF-8) when given; returned either way. ``note`` is shown under the title."""
        from ._report_html import html_report

        page = html_report(self, title=title, note=note)
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page

    # -- rendering ------------------------------------------------------------------------------

    _HEADERS = ("#", "prompt", "base reply", "tuned reply", "prompt tok", "completion tok", "latency s")

    def _headers(self) -> tuple[str, ...]:
        return (*self._HEADERS, "checks passed") if self.checks else self._HEADERS

    def _passed(self, row: ComparisonRow) -> tuple[str, ...]:
        """``"3/4 / 4/4"``: how many checks each side's first sample passed (nothing without checks)."""
        if not self.checks:
            return ()
        total = len(self.checks)
        base, tuned = (total - len(row.failed(side, self.checks)) for side in ("base", "tuned"))
        return (f"{base}/{total} / {tuned}/{total}",)

    def _cells(self, width: int) -> list[tuple[str, ...]]:
        return [
            (
                str(i),
                shorten(row.prompt, width),
                shorten(row.base.text, width),
                shorten(row.tuned.text, width),
                _pair(row.base.prompt_tokens, row.tuned.prompt_tokens),
                _pair(row.base.completion_tokens, row.tuned.completion_tokens),
                f"{row.base.latency:.2f} / {row.tuned.latency:.2f}",
                *self._passed(row),
            )
            for i, row in enumerate(self.rows, 1)
        ]

    def summary(self) -> str:
        """The totals in two lines of prose, then the checks' pass rates and the stability, if any."""
        base, tuned, saved = self.base_prompt_tokens, self.tuned_prompt_tokens, self.prompt_tokens_saved
        share = self.prompt_tokens_saved_share
        if saved is None:
            tokens = "prompt tokens: not reported by the server"
        else:
            tokens = f"prompt tokens {base} -> {tuned}: the tuned setup saves {saved}"
            tokens += f" ({share:.0%})" if share is not None else ""
        latency = f"latency {_duration(self.base_latency)} -> {_duration(self.tuned_latency)}"
        speedup = self.speedup
        if speedup is not None and speedup >= 1:
            latency += f": the tuned setup answers {speedup:.2f}x as fast"
        elif speedup is not None:
            latency += f": the tuned setup answers {1 / speedup:.2f}x slower"
        from ._report_text import figure_lines

        return "\n".join([tokens, latency, *figure_lines(self)])

    def _setups(self) -> str:
        def one(name: str, setup: Setup) -> str:
            system = setup[1]
            prompt = f"system prompt of {plural(len(system), 'character')}" if system else "no system prompt"
            return f"{name}: {setup[0]} ({prompt})"

        return f"{one('base ', self.base)}\n{one('tuned', self.tuned)}"

    def table(self, width: int = 32) -> str:
        """A plain-text table (texts cut to ``width`` terminal columns), the two setups and the totals."""
        lines = table_lines([self._headers(), *self._cells(width)], rule=True)
        return f"{self._setups()}\n\n" + "\n".join(lines) + f"\n\n{self.summary()}"

    def __str__(self) -> str:
        return self.table()

    def __rich__(self) -> Table:
        """A rich table (rich is imported only here, so it stays optional)."""
        from rich.table import Table

        table = Table(title="base (long prompt) vs tuned (short prompt)", caption=self.summary())
        for header in self._headers():
            table.add_column(header, overflow="fold")
        for cells in self._cells(60):
            table.add_row(*cells)
        return table

    def print(self) -> None:
        """Print as a rich table if rich is installed, else as plain text."""
        try:
            from rich import print as rich_print
        except ImportError:
            print(self.table())
        else:
            rich_print(self._setups())
            rich_print(self)
