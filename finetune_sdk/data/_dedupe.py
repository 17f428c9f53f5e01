"""Dropping duplicates, grouping examples for a split, and finding what a training and a validation set
share (see :mod:`finetune_sdk.data._duplicates` for what "the same" means)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from typing import ClassVar, Literal

import orjson
from pydantic import BaseModel, ConfigDict

from .._text import plural
from ._duplicates import Key, example_digest, example_keys, prompt_digest
from ._lines import iter_lines, open_regular
from ._schema import Conversation, StrPath

__all__ = [
    "DroppedDuplicate",
    "GroupBy",
    "Leak",
    "LeakageReport",
    "dedupe_conversations",
    "leakage",
    "roles_contents",
    "split_groups",
]

GroupBy = Literal["example", "prompt"]
"""What :meth:`Dataset.split` keeps on one side: equal (normalised) examples, or also examples that share
their first user prompt."""

_KEYS = ("exact", "normalized", "prompt")


class DroppedDuplicate(BaseModel):
    """One example :meth:`Dataset.dedupe` dropped: its 0-based ``index`` and 1-based ``line`` in the
    dataset (the line of its file when it was loaded from one), and the line of the copy that was kept."""

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)

    index: int
    line: int
    duplicate_of: int
    key: Key
    conversation: Conversation

    def __str__(self) -> str:
        return f"{self.line}: duplicate of line {self.duplicate_of} ({self.key})"


def roles_contents(conversation: Conversation) -> tuple[list[str], list[str]]:
    messages = conversation.messages
    return [m.role for m in messages], [m.content for m in messages]


def dedupe_conversations(
    conversations: Sequence[Conversation], key: Key
) -> tuple[list[Conversation], list[DroppedDuplicate]]:
    """Keep the first copy of every example under ``key``; list the others with the copy they repeat."""
    if key not in _KEYS:
        raise ValueError(f"key must be one of {', '.join(map(repr, _KEYS))}, got {key!r}")
    seen: dict[bytes, int] = {}
    kept: list[Conversation] = []
    dropped: list[DroppedDuplicate] = []
    for index, conversation in enumerate(conversations):
        digest = example_keys(*roles_contents(conversation), key)
        assert digest is not None  # a valid conversation has a user message
        first = seen.setdefault(digest, index)
        if first == index:
            kept.append(conversation)
        else:
            dropped.append(
                DroppedDuplicate(
                    index=index, line=index + 1, duplicate_of=first + 1, key=key, conversation=conversation
                )
            )
    return kept, dropped


def split_groups(conversations: Sequence[Conversation], group_by: GroupBy) -> list[list[int]]:
    """The indexes of ``conversations`` in groups that a split must keep on one side, in order of first
    appearance: equal normalised examples always, and with ``group_by="prompt"`` every example sharing a
    first user prompt (and, through them, their duplicates)."""
    if group_by not in ("example", "prompt"):
        raise ValueError(f"group_by must be 'example' or 'prompt', got {group_by!r}")
    parent: list[int] = list(range(len(conversations)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    firsts: dict[bytes, int] = {}
    for index, conversation in enumerate(conversations):
        roles, contents = roles_contents(conversation)
        digests = [b"e" + example_digest(roles, contents)]
        if group_by == "prompt":
            prompt = prompt_digest(roles, contents)
            if prompt is not None:
                digests.append(b"p" + prompt)
        for digest in digests:
            first = firsts.setdefault(digest, index)
            a, b = root(first), root(index)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for index in range(len(conversations)):
        groups.setdefault(root(index), []).append(index)
    return list(groups.values())


# --- leakage -------------------------------------------------------------------------------------------


class Leak(BaseModel):
    """A validation example found in the training set: its line there, the first training line that holds
    the same example (or prompt), and how many training lines do."""

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)

    validation_line: int
    train_line: int
    train_copies: int = 1


class LeakageReport(BaseModel):
    """What :func:`finetune_sdk.leakage` found: the validation ``examples`` that are also in the training
    set (after normalisation), and in ``prompts`` the other validation examples whose first user prompt
    is. ``ok`` is true when nothing is shared; ``skipped`` counts lines that are not readable examples
    (validate the files for why)."""

    train: str
    validation: str
    train_examples: int = 0
    validation_examples: int = 0
    examples: list[Leak] = []
    prompts: list[Leak] = []
    skipped: int = 0

    @property
    def ok(self) -> bool:
        """True when no validation example or prompt is in the training set."""
        return not self.examples and not self.prompts

    def summary(self) -> str:
        """A headline, then one line per leaked example and per shared prompt, with line numbers."""
        shares = "shares its" if len(self.prompts) == 1 else "share their"
        head = (
            f"{self.validation}: {plural(len(self.examples), 'example')} of {self.validation_examples} "
            f"also in {self.train}, {len(self.prompts)} more {shares} first prompt with one there"
        )
        lines = [head]
        lines += [
            f"{self.validation}:{leak.validation_line}: example also at {self.train}:{leak.train_line}"
            + (f" (and {leak.train_copies - 1} more)" if leak.train_copies > 1 else "")
            for leak in self.examples
        ]
        lines += [
            f"{self.validation}:{leak.validation_line}: first prompt also at {self.train}:{leak.train_line}"
            + (f" (and {leak.train_copies - 1} more)" if leak.train_copies > 1 else "")
            for leak in self.prompts
        ]
        if self.skipped:
            lines.append(f"skipped {plural(self.skipped, 'line')} that are not examples (run validate)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


Source = StrPath | Iterable[Conversation]
"""A set of examples for :func:`leakage`: a ``.jsonl`` path, or a :class:`Dataset` (any iterable of
conversations)."""


def _examples_of(source: Source, side: str) -> tuple[str, Iterator[tuple[int, list[str], list[str]] | None]]:
    """``(name, iterator of (line, roles, contents) or None for an unreadable line)``; a dataset is named
    after its ``side``."""
    if isinstance(source, str | os.PathLike):
        return os.fspath(source), _read_examples(source)
    return f"<{side}>", ((i, *roles_contents(c)) for i, c in enumerate(source, 1))


def _read_examples(path: StrPath) -> Iterator[tuple[int, list[str], list[str]] | None]:
    with open_regular(path) as file:
        for line, raw in iter_lines(file):
            parsed = _parse(raw)
            yield None if parsed is None else (line, *parsed)


def _parse(raw: bytes) -> tuple[list[str], list[str]] | None:
    try:
        messages = orjson.loads(raw)["messages"]
        roles = [m["role"] for m in messages]
        contents = [m["content"] for m in messages]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    if not all(isinstance(x, str) for x in (*roles, *contents)):
        return None
    return roles, contents


def leakage(train: Source, validation: Source) -> LeakageReport:
    """The examples and first user prompts of ``validation`` that are also in ``train``, with line numbers.

    Either side is a ``.jsonl`` path (read as a stream: memory grows with the number of examples, not their
    size) or a :class:`~finetune_sdk.Dataset` (its positions from 1 stand for lines). Examples are
    compared after Unicode NFC and white-space normalisation.
    """
    train_name, train_rows = _examples_of(train, "train")
    examples: dict[bytes, list[int]] = {}  # digest -> [first line, copies]
    prompts: dict[bytes, list[int]] = {}
    skipped = counted = 0
    for row in train_rows:
        if row is None:
            skipped += 1
            continue
        counted += 1
        line, roles, contents = row
        _remember(examples, example_digest(roles, contents), line)
        _remember(prompts, prompt_digest(roles, contents), line)
    validation_name, validation_rows = _examples_of(validation, "validation")
    report = LeakageReport(train=train_name, validation=validation_name, train_examples=counted)
    for row in validation_rows:
        if row is None:
            report.skipped += 1
            continue
        report.validation_examples += 1
        line, roles, contents = row
        hit = examples.get(example_digest(roles, contents))
        if hit is not None:
            report.examples.append(Leak(validation_line=line, train_line=hit[0], train_copies=hit[1]))
            continue
        prompt = prompt_digest(roles, contents)
        hit = None if prompt is None else prompts.get(prompt)
        if hit is not None:
            report.prompts.append(Leak(validation_line=line, train_line=hit[0], train_copies=hit[1]))
    report.skipped += skipped
    return report


def _remember(seen: dict[bytes, list[int]], digest: bytes | None, line: int) -> None:
    if digest is None:
        return
    entry = seen.get(digest)
    if entry is None:
        seen[digest] = [line, 1]
    else:
        entry[1] += 1
