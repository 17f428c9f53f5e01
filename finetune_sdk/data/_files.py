"""Work on dataset files as wholes: split one into a training and a validation file, drop its duplicates
into two files, and the SHA-256 of a file's bytes. Every output is written atomically (all of a call's
files renamed together at the end, nothing left behind on a failure or a kill) and never over an input.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from typing import IO, ClassVar

import orjson
from pydantic import BaseModel, ConfigDict

from .._atomic import atomic_writes, check_outputs
from .._text import plural
from ._dedupe import DroppedDuplicate, GroupBy, split_groups
from ._duplicates import Key
from ._lines import BLOCK_SIZE, open_regular
from ._schema import Conversation, StrPath
from ._threads import in_a_thread
from .dataset import Dataset, Deduplication

__all__ = [
    "SplitReport",
    "adedupe_file",
    "asha256_file",
    "asplit_file",
    "dedupe_file",
    "sha256_file",
    "split_file",
    "write_conversations",
]


def write_conversations(file: IO[bytes], conversations: Iterable[Conversation]) -> None:
    """Write ``conversations`` to ``file`` as JSON Lines (extra keys kept)."""
    dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    for conversation in conversations:
        file.write(dumps(conversation.model_dump(), option=newline))


def sha256_file(path: StrPath) -> str:
    """The SHA-256 of the bytes of the file at ``path``, as 64 hex digits, read in 1 MiB blocks (memory
    stays flat). A folder, a FIFO or a device is refused (:class:`NotARegularFileError`)."""
    digest = hashlib.sha256()
    with open_regular(path) as file:
        while block := file.read(BLOCK_SIZE):
            digest.update(block)
    return digest.hexdigest()


class SplitReport(BaseModel):
    """What :func:`split_file` wrote: the two files and how many examples each holds, how they were
    grouped (``grouped_examples`` examples in ``groups`` groups of more than one, each kept on one side)
    and whether the validation side came out far from the ratio asked (``off_ratio``: its groups could
    not be cut)."""

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)

    source: str
    train_path: str
    validation_path: str
    train: int
    validation: int
    validation_ratio: float
    group_by: GroupBy
    grouped_examples: int
    groups: int
    seed: int

    @property
    def off_ratio(self) -> bool:
        """True when the validation side is far from ``validation_ratio`` of the examples."""
        total = self.train + self.validation
        asked = total * self.validation_ratio
        return abs(self.validation - asked) > max(1.0, asked / 2)

    def summary(self) -> str:
        """Two lines: each file and its examples."""
        return (
            f"{self.train_path}  {plural(self.train, 'example')}\n"
            f"{self.validation_path}  {plural(self.validation, 'example')}"
        )

    def __str__(self) -> str:
        return self.summary()


def split_file(
    path: StrPath,
    train: StrPath,
    validation: StrPath,
    *,
    validation_ratio: float = 0.1,
    seed: int = 0,
    group_by: GroupBy = "prompt",
) -> SplitReport:
    """Split the ``.jsonl`` file at ``path`` into ``train`` and ``validation`` files without leakage: as
    :meth:`Dataset.split` (examples equal once normalised, and by default all examples sharing a first
    user prompt, stay on one side), both files written atomically and renamed together.

    Raises :class:`~finetune_sdk.OutputConflictError` before reading when an output is the input or the
    other output (a link included), :class:`~finetune_sdk.DatasetValidationError` when the file breaks a
    rule, ``ValueError`` when it cannot be split without leaking (fewer than two groups).
    """
    check_outputs([("the training file", train), ("the validation file", validation)], [("the input", path)])
    dataset = Dataset.from_jsonl(path)
    groups = split_groups(dataset.conversations, group_by)
    train_set, held_out = dataset.split(validation_ratio, seed=seed, group_by=group_by)
    with atomic_writes([train, validation], inputs=[path]) as (train_file, validation_file):
        write_conversations(train_file, train_set)
        write_conversations(validation_file, held_out)
    shared = [g for g in groups if len(g) > 1]
    return SplitReport(
        source=os.fspath(path),
        train_path=os.fspath(train),
        validation_path=os.fspath(validation),
        train=len(train_set),
        validation=len(held_out),
        validation_ratio=validation_ratio,
        group_by=group_by,
        grouped_examples=sum(map(len, shared)),
        groups=len(shared),
        seed=seed,
    )


def _dropped_line(item: DroppedDuplicate) -> bytes:
    record = {
        "line": item.line,
        "duplicate_of": item.duplicate_of,
        "key": item.key,
        "example": item.conversation.model_dump(),
    }
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


def dedupe_file(
    path: StrPath, output: StrPath, dropped: StrPath | None = None, *, key: Key = "normalized"
) -> Deduplication:
    """Write the ``.jsonl`` file at ``path`` without its repeated examples (the first copy kept, see
    :meth:`Dataset.dedupe`) to ``output``, and each dropped example, with its line and the line of the
    copy kept (``{"line", "duplicate_of", "key", "example"}``), to ``dropped`` when given. Both written
    atomically and renamed together; an output that is the input or the other output (a link
    included) is refused first with :class:`~finetune_sdk.OutputConflictError`."""
    named = [("the output", output)] + ([("the dropped file", dropped)] if dropped is not None else [])
    check_outputs(named, [("the input", path)])
    result = Dataset.from_jsonl(path).dedupe(key)
    with atomic_writes([target for _, target in named], inputs=[path]) as files:
        write_conversations(files[0], result.dataset)
        if dropped is not None:
            files[1].writelines(map(_dropped_line, result.dropped))
    return result


# The async twins: the same functions in a worker thread, with the same arguments.
asha256_file = in_a_thread(sha256_file)
asplit_file = in_a_thread(split_file)
adedupe_file = in_a_thread(dedupe_file)
