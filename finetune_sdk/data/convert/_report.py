"""What a conversion did: :class:`ConversionReport`, with every change and every rejected record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, computed_field

from ..._text import plural

__all__ = ["Change", "ConversionReport", "Preview", "Rejection"]


class Change(BaseModel):
    """One repair made to one record: ``record`` (from 1; ``None`` for the whole file), a stable ``code``
    and the ``action`` taken, in words."""

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)

    record: int | None
    code: str
    action: str

    def __str__(self) -> str:
        return f"{'file' if self.record is None else self.record}: {self.code}: {self.action}"


class Rejection(BaseModel):
    """A record that was not written: its number, a stable ``code`` and the ``reason``."""

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)

    record: int
    code: str
    reason: str

    def __str__(self) -> str:
        return f"{self.record}: {self.code}: {self.reason}"


@dataclass
class Preview:
    """A record as converted, for ``--dry-run --show N``: its number, its changes, and its messages, or
    its ``rejection`` when it was not converted (``messages`` is then empty)."""

    record: int
    changes: list[Change]
    messages: list[dict[str, str]]
    rejection: Rejection | None = field(default=None)


#: How many changes and rejections a report keeps in its lists; the counts always cover them all.
MAX_LISTED = 10_000


class ConversionReport(BaseModel):
    """What :func:`~finetune_sdk.convert_file` read, wrote, changed and rejected.

    ``read`` counts the input records (JSONL lines, array elements or CSV rows; blank ones skipped by the
    ``drop_blank`` repair are counted in ``blank`` instead), and ``written + rejected == read`` always
    (:attr:`balanced`). ``changes`` lists every repair, record by record, and ``rejections`` every record
    left out, with its reason (the rejects file has them all, with the records); to keep memory flat on any
    input, the lists stop at ``max_listed`` entries (``listed_all`` is then false: pass ``on_change`` to
    :func:`~finetune_sdk.convert_file` to see each one), while ``change_counts`` and ``rejected`` count all.
    ``rejection_counts`` counts the rejected records by code. ``source`` is the format read and
    ``detected`` says how ``source="auto"`` chose it; ``problems`` are problems of the file as a whole (a
    JSON array never closed, records that are not UTF-8 and the encoding they look like); ``warnings``
    say what the output may teach that the input did not mean (tool calls trained without their
    definitions, a workbook's other sheets left unread).
    """

    source: str
    detected: str = ""
    path: str
    output: str | None = None
    rejects_path: str | None = None
    changes_path: str | None = None
    read: int = 0
    written: int = 0
    rejected: int = 0
    blank: int = 0
    changes: list[Change] = []
    rejections: list[Rejection] = []
    change_counts: dict[str, int] = {}
    rejection_counts: dict[str, int] = {}
    listed_all: bool = True
    max_listed: int = MAX_LISTED
    problems: list[str] = []
    warnings: list[str] = []
    dry_run: bool = False

    @computed_field  # type: ignore[prop-decorator]
    @property
    def balanced(self) -> bool:
        """``written + rejected == read``: every record is accounted for."""
        return self.written + self.rejected == self.read

    def add_change(self, change: Change) -> None:
        """Count ``change`` and list it while there is room."""
        self.change_counts[change.code] = self.change_counts.get(change.code, 0) + 1
        if len(self.changes) < self.max_listed:
            self.changes.append(change)
        else:
            self.listed_all = False

    def add_rejection(self, rejection: Rejection) -> None:
        """Count ``rejection`` and list it while there is room."""
        self.rejected += 1
        self.rejection_counts[rejection.code] = self.rejection_counts.get(rejection.code, 0) + 1
        if len(self.rejections) < self.max_listed:
            self.rejections.append(rejection)
        else:
            self.listed_all = False

    def headline(self) -> str:
        """One line: the file, its format, and read / written / rejected (by code)."""
        verb = "would write" if self.dry_run else "wrote"
        head = (
            f"{self.path} ({self.source}{': ' + self.detected if self.detected else ''}): read "
            f"{plural(self.read, 'record')}, {verb} {self.written}, rejected {self.rejected}"
        )
        if self.rejection_counts:
            by_code = sorted(self.rejection_counts.items(), key=lambda item: (-item[1], item[0]))
            head += f" ({', '.join(f'{code} {n}' for code, n in by_code)})"
        if self.blank:
            head += f", {plural(self.blank, 'blank record')} skipped"
        return head

    def summary(self) -> str:
        """The headline, then one line per change code with its count, the file's problems and the
        warnings."""
        lines = [self.headline()]
        lines += [f"  {code}: {plural(n, 'change')}" for code, n in sorted(self.change_counts.items())]
        lines += [f"  problem: {problem}" for problem in self.problems]
        lines += [f"  warning: {warning}" for warning in self.warnings]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()
