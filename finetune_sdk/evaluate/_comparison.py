"""Base model with a long system prompt versus tuned model with a short one, measured side by side.

The guide's own case: a base model needed 553 tokens of style rules to answer on style (and still
wavered); the tuned model answers on style with an 8-token prompt. ``client.compare(...)`` sends the same
prompts to both setups and returns a :class:`Comparison`: for each prompt both replies, their prompt and
completion tokens (from the server's ``usage``) and latency, plus totals: how many prompt tokens the
tuned setup saves and how much faster it answers. It renders as a plain-text table (``str()``), as a
rich table when rich is installed (``rich.print(comparison)`` or :meth:`Comparison.print`), and as JSON.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import orjson

from ._text import plural, shorten, table_lines

if TYPE_CHECKING:
    from rich.table import Table

    from .chat import AsyncChatStream, ChatStream

__all__ = ["Comparison", "ComparisonRow", "Reply", "Setup", "prepare_prompts"]

Setup = tuple[str, "str | None"]
"""``(model, system_prompt)``: one side of a comparison (None for no system prompt)."""


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
    """One prompt, answered by both setups."""

    prompt: str
    base: Reply
    tuned: Reply


class Clock:
    """Times one streamed reply: started when made, ``tick()`` on every delta, then :meth:`reply`."""

    __slots__ = ("first", "started")

    def __init__(self) -> None:
        self.started = time.perf_counter()
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
    """The result of ``client.compare(...)``: one :class:`ComparisonRow` per prompt, and totals."""

    base: Setup
    tuned: Setup
    rows: tuple[ComparisonRow, ...]

    def _sum(self, side: str, field: str) -> int | None:
        return _total(getattr(getattr(row, side), field) for row in self.rows)

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
        return sum(row.base.latency for row in self.rows)

    @property
    def tuned_latency(self) -> float:
        """Seconds the tuned calls took, summed."""
        return sum(row.tuned.latency for row in self.rows)

    @property
    def speedup(self) -> float | None:
        """How many times faster the tuned setup answered (base latency / tuned latency)."""
        return self.base_latency / self.tuned_latency if self.tuned_latency > 0 else None

    def to_dict(self) -> dict[str, Any]:
        """Everything, totals included, as plain JSON types."""
        return {
            "base": {"model": self.base[0], "system_prompt": self.base[1]},
            "tuned": {"model": self.tuned[0], "system_prompt": self.tuned[1]},
            "rows": [dataclasses.asdict(row) for row in self.rows],
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

    # -- rendering ------------------------------------------------------------------------------

    _HEADERS = ("#", "prompt", "base reply", "tuned reply", "prompt tok", "completion tok", "latency s")

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
            )
            for i, row in enumerate(self.rows, 1)
        ]

    def summary(self) -> str:
        """The totals in two lines of prose."""
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
        return f"{tokens}\n{latency}"

    def _setups(self) -> str:
        def one(name: str, setup: Setup) -> str:
            system = setup[1]
            prompt = f"system prompt of {plural(len(system), 'character')}" if system else "no system prompt"
            return f"{name}: {setup[0]} ({prompt})"

        return f"{one('base ', self.base)}\n{one('tuned', self.tuned)}"

    def table(self, width: int = 32) -> str:
        """A plain-text table (texts cut to ``width`` terminal columns), the two setups and the totals."""
        lines = table_lines([self._HEADERS, *self._cells(width)], rule=True)
        return f"{self._setups()}\n\n" + "\n".join(lines) + f"\n\n{self.summary()}"

    def __str__(self) -> str:
        return self.table()

    def __rich__(self) -> Table:
        """A rich table (rich is imported only here, so it stays optional)."""
        from rich.table import Table

        table = Table(title="base (long prompt) vs tuned (short prompt)", caption=self.summary())
        for header in self._HEADERS:
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
