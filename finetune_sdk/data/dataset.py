"""The :class:`Dataset`: a list of conversations the platform accepts, built, loaded, written and divided."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._atomic import atomic_write
from .._text import plural
from ._dedupe import DroppedDuplicate, GroupBy, dedupe_conversations, roles_contents, split_groups
from ._duplicates import Key
from ._inspect import avalidate_file, validate_file
from ._lines import iter_lines, open_regular
from ._schema import (
    Conversation,
    StrPath,
    ValidationIssue,
    ValidationReport,
    explain_error,
    file_issue,
)
from ._stats import DEFAULT_MAX_TOKENS, DatasetStats, StatsBuilder, measure
from ._tokens import DEFAULT_EPOCHS, ExactCounter

if TYPE_CHECKING:
    from .convert import FieldMap, Repairs

__all__ = ["Dataset"]


class Dataset(BaseModel):
    """A list of :class:`Conversation` examples that the platform accepts (at least one).

    Build it in code (``Dataset(conversations=[...])``), from plain records (:meth:`from_records`) or from a
    file (:meth:`from_jsonl`); write it with :meth:`to_jsonl`, divide it with :meth:`split` and size it with
    :meth:`stats`. To check a file without loading it, use :meth:`validate_file`.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(strict=True)

    conversations: list[Conversation] = Field(min_length=1)

    def __len__(self) -> int:
        return len(self.conversations)

    def __iter__(self) -> Iterator[Conversation]:  # type: ignore[override]
        """The conversations in order: ``for conversation in dataset``.

        (A pydantic model iterates over its fields; a dataset is first a collection of examples.)
        """
        return iter(self.conversations)

    def __getitem__(self, index: int) -> Conversation:
        """``dataset[0]``, ``dataset[-1]``: one conversation."""
        return self.conversations[index]

    # The module's functions themselves (one signature, one docstring), reached from the class as well.
    validate_file: ClassVar = staticmethod(validate_file)
    avalidate_file: ClassVar = staticmethod(avalidate_file)

    @classmethod
    def from_jsonl(cls, path: StrPath, *, max_tokens: int = DEFAULT_MAX_TOKENS) -> Dataset:
        """Load a ``.jsonl`` file; raise :class:`~finetune_sdk.DatasetValidationError` if it breaks a rule.

        The error's ``report`` lists the problems (up to 100). Warnings do not stop loading.
        """
        report = cls.validate_file(path, max_tokens=max_tokens)
        report.raise_for_errors()
        with open_regular(path) as file:
            return cls.model_construct(
                conversations=[
                    Conversation.model_validate(orjson.loads(line)) for _, line in iter_lines(file)
                ]
            )

    @classmethod
    def from_sharegpt(
        cls, data: StrPath | Iterable[Mapping[str, Any]], *, repairs: Repairs | None = None,
        fields: FieldMap | None = None,
    ) -> Dataset:  # fmt: skip
        """ShareGPT records (a ``.json``/``.jsonl`` file or dicts) converted like ``finetune convert``;
        raise :class:`~finetune_sdk.DatasetValidationError` listing any record that cannot be. Use
        :func:`~finetune_sdk.convert_file` to see every change."""
        from .convert._memory import examples_from

        return cls.from_records(examples_from("sharegpt", data, repairs=repairs, fields=fields))

    @classmethod
    def from_alpaca(
        cls, data: StrPath | Iterable[Mapping[str, Any]], *, repairs: Repairs | None = None,
        fields: FieldMap | None = None,
    ) -> Dataset:  # fmt: skip
        """Alpaca records (a file or dicts), like :meth:`from_sharegpt`."""
        from .convert._memory import examples_from

        return cls.from_records(examples_from("alpaca", data, repairs=repairs, fields=fields))

    @classmethod
    def from_csv(
        cls, path: StrPath, *, repairs: Repairs | None = None, fields: FieldMap | None = None
    ) -> Dataset:
        """A CSV/TSV file of prompt/response (and system) columns, like :meth:`from_sharegpt`."""
        from .convert._memory import examples_from

        return cls.from_records(examples_from("csv", path, repairs=repairs, fields=fields))

    @classmethod
    def from_records(
        cls, records: Iterable[Mapping[str, Any] | Conversation], *, max_errors: int = 100
    ) -> Dataset:
        """Build a dataset from dicts shaped like the file's lines (or :class:`Conversation` objects).

        Raises :class:`~finetune_sdk.DatasetValidationError` whose report numbers the records from 1 as its
        ``line``.
        """
        conversations: list[Conversation] = []
        errors: list[ValidationIssue] = []
        position = 0
        for position, record in enumerate(records, 1):
            if isinstance(record, Conversation):
                conversations.append(record)
                continue
            try:
                conversations.append(Conversation.model_validate(record))
            except ValidationError as exc:
                code, index, message = explain_error(exc)
                errors.append(ValidationIssue(line=position, code=code, message=message, index=index))
                if len(errors) >= max_errors:
                    break
        if position == 0:
            errors.append(file_issue("empty_file"))
        report = ValidationReport(
            path="<records>", errors=errors, lines=position, stats=_stats_of(conversations)
        )
        report.raise_for_errors()
        return cls.model_construct(conversations=conversations)

    def to_jsonl(self, path: StrPath) -> None:
        """Write the dataset as a ``.jsonl`` file (UTF-8, one conversation per line, extra keys kept).

        Written atomically: a temporary file in the same folder renamed over ``path`` at the end, so a
        failure or a kill leaves ``path`` as it was. ``Dataset.from_jsonl(path)`` reads back an equal
        dataset.
        """
        dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
        with atomic_write(path) as file:
            for conversation in self.conversations:
                file.write(dumps(conversation.model_dump(), option=newline))

    def split(
        self, validation_ratio: float = 0.1, *, seed: int = 0, group_by: GroupBy = "example"
    ) -> tuple[Dataset, Dataset]:
        """Divide into ``(train, validation)`` at random, the same way for the same ``seed``, without
        putting the same example on both sides.

        Examples equal after Unicode NFC and white-space normalisation always go to the same side; with
        ``group_by="prompt"`` so do all examples that share their first user prompt, so the validation
        loss measures answers to prompts the model has not trained on.

        ``validation_ratio`` is in ``(0, 0.5]`` like the platform's ``validation_split`` (default 10%, the
        guide's). The validation side gets ``n * ratio`` examples rounded to the nearest (halves down, so it
        never outnumbers training), at least 1 and at most ``n - 1``, so neither side is empty; groups are
        drawn at random and one that would overshoot that number is skipped, so with large groups the
        validation side may come out smaller. When every group is larger than that number, the smallest
        group is held out whole, so the validation side can then be much larger than asked (groups of 60
        and 40 examples give 40% for a 5% request): compare ``len(validation)`` with what you asked for
        (``finetune split`` says so). Each side keeps the original order. Raises ``ValueError`` when fewer
        than two groups exist (nothing can be held out without leaking).
        """
        if not 0 < validation_ratio <= 0.5:
            raise ValueError(f"validation_ratio must be in (0, 0.5], got {validation_ratio!r}")
        n = len(self.conversations)
        if n < 2:
            raise ValueError(f"cannot split a dataset of {n} example: it needs at least 2")
        groups = split_groups(self.conversations, group_by)
        if len(groups) < 2:
            what = "are copies of one example" if group_by == "example" else "share one first prompt"
            raise ValueError(f"cannot split: all {n} examples {what}, so any split would leak")
        random.Random(seed).shuffle(groups)
        count = min(n - 1, max(1, math.ceil(n * validation_ratio - 0.5)))  # halves round down
        picked: set[int] = set()
        for group in groups:
            if len(picked) + len(group) <= count:
                picked.update(group)
        if not picked:  # every group is larger than the share: hold out the smallest
            smallest: list[int] = min(groups, key=len)
            picked.update(smallest)
        train = [c for i, c in enumerate(self.conversations) if i not in picked]
        validation = [c for i, c in enumerate(self.conversations) if i in picked]
        return (
            type(self).model_construct(conversations=train),
            type(self).model_construct(conversations=validation),
        )

    def dedupe(self, key: Key = "normalized") -> Deduplication:
        """Keep the first copy of each example and drop the later ones; every dropped example is listed.

        ``key="exact"`` drops examples whose messages are equal; ``"normalized"`` (the default) those
        equal after Unicode NFC and white-space normalisation; ``"prompt"`` every example whose first user
        prompt (normalised) an earlier one already has. Returns a :class:`Deduplication`: ``.dataset``
        and ``.dropped`` (each with its line and the line of the copy kept).
        """
        kept, dropped = dedupe_conversations(self.conversations, key)
        return Deduplication(dataset=type(self).model_construct(conversations=kept), dropped=dropped, key=key)

    def stats(
        self,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        *,
        tokens: Literal["estimate", "exact"] = "estimate",
        n_epochs: int = DEFAULT_EPOCHS,
    ) -> DatasetStats:
        """Examples, messages by role, characters, estimated tokens, the longest example, how many
        examples exceed ``max_tokens`` (they would be truncated) and how many repeat an earlier example
        or prompt. ``tokens="exact"`` adds exact Qwen2.5 counts in ``.exact`` (the ``tokens`` extra),
        with the billed total for ``n_epochs``."""
        if tokens not in ("estimate", "exact"):
            raise ValueError(f"tokens must be 'estimate' or 'exact', got {tokens!r}")
        exact = ExactCounter(max_tokens, n_epochs) if tokens == "exact" else None
        return _stats_of(self.conversations, max_tokens, exact)


class Deduplication(BaseModel):
    """What :meth:`Dataset.dedupe` did: the ``dataset`` with the first copy of each example, and every
    example it ``dropped`` with the line of the copy it kept. ``kept + len(dropped)`` is the input size."""

    dataset: Dataset
    dropped: list[DroppedDuplicate] = []
    key: Key = "normalized"

    @property
    def kept(self) -> int:
        """How many examples are left."""
        return len(self.dataset)

    def summary(self) -> str:
        """A headline (kept, dropped, the key), then one ``LINE: duplicate of line N`` per dropped example."""
        head = (
            f"kept {plural(self.kept, 'example')}, dropped {plural(len(self.dropped), 'duplicate')} "
            f"(key: {self.key})"
        )
        return "\n".join([head, *map(str, self.dropped)])

    def __str__(self) -> str:
        return self.summary()


def _stats_of(
    conversations: Iterable[Conversation],
    max_tokens: int = DEFAULT_MAX_TOKENS,
    exact: ExactCounter | None = None,
) -> DatasetStats:
    builder = StatsBuilder(max_tokens=max_tokens, exact=exact)
    for position, conversation in enumerate(conversations, 1):
        messages = conversation.messages
        chars, extra, singles = measure(m.content for m in messages)
        builder.add(len(messages), messages[0].role == "system", chars, extra, None, singles=singles)
        roles, contents = roles_contents(conversation)
        if builder.duplicates is not None:
            builder.duplicates.add(roles, contents, position)
        if exact is not None:
            exact.add(roles, contents, position)
    return builder.build()
