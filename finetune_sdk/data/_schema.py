"""Training data: :class:`Message`, :class:`Conversation` and :class:`Dataset`, and their validation.

The platform takes a ``.jsonl`` file, one conversation per line::

    {"messages": [{"role": "system", "content": "..."}, {"role": "user", "content": "..."},
                  {"role": "assistant", "content": "..."}]}

The models are strict (``content=42`` is an error, not ``"42"``) and apply every rule of the platform, so a
:class:`Dataset` that exists is one the platform accepts. :meth:`Dataset.validate_file` checks a file of any
size without building models (see :mod:`finetune_sdk._validate`) and reports every problem with its line,
a stable code and a message that says how to fix it; ``docs/datasets.md`` lists the codes.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    computed_field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ._stats import DEFAULT_MAX_TOKENS, DatasetStats, StatsBuilder, measure
from ._text import plural
from .errors import DatasetValidationError

__all__ = [
    "Conversation",
    "Dataset",
    "DatasetStats",
    "Message",
    "Role",
    "ValidationIssue",
    "ValidationReport",
]

Role = Literal["system", "user", "assistant"]
"""The three roles the platform knows; case matters."""

StrPath = str | os.PathLike[str]

#: How a conversation's roles can break the platform's order rules (checks 7-10, in that order).
_ROLE_ORDER_CODES = ("system_not_first", "first_not_user", "not_alternating", "unpaired")


def role_order_issue(roles: Sequence[str]) -> tuple[str, int | None] | None:
    """The first order rule that ``roles`` breaks, as ``(code, index of the message to blame)``, or ``None``.

    A system message may only come first; then ``user`` and ``assistant`` take turns, starting with
    ``user`` and ending with ``assistant``, at least one pair.
    """
    for i in range(1, len(roles)):
        if roles[i] == "system":
            return "system_not_first", i
    start = 1 if roles and roles[0] == "system" else 0
    expect = "user"
    for i in range(start, len(roles)):
        if roles[i] != expect:
            return ("first_not_user" if i == start else "not_alternating"), i
        expect = "assistant" if expect == "user" else "user"
    if len(roles) == start:
        return "unpaired", None
    if expect == "assistant":
        return "unpaired", len(roles) - 1
    return None


def is_blank(text: str) -> bool:
    """True for an empty string or one of only white space (the platform refuses such content)."""
    return not text or text.isspace()


class Message(BaseModel):
    """One turn of a conversation: ``Message(role="user", content="Hello")``.

    ``role`` is exactly ``"system"``, ``"user"`` or ``"assistant"``; ``content`` is a string that is not empty
    or only white space and can be written as UTF-8. Extra keys are kept (and written back by
    :meth:`Dataset.to_jsonl`); the platform ignores them.
    """

    model_config = ConfigDict(strict=True, frozen=True, extra="allow")

    role: Role
    content: str

    @field_validator("content")
    @classmethod
    def _check_content(cls, value: str) -> str:
        if is_blank(value):
            raise PydanticCustomError("invalid_content", "content must not be empty or only white space")
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise PydanticCustomError(
                    "invalid_encoding", "content holds a lone surrogate and cannot be written as UTF-8"
                ) from None
        return value


class Conversation(BaseModel):
    """One training example: an optional system message, then user/assistant pairs.

    ``Conversation(messages=[Message(role="user", content="Hi"), Message(role="assistant", content="Yo")])``
    (dicts work too). The order rules are checked on creation.
    """

    model_config = ConfigDict(strict=True, extra="allow")

    messages: list[Message] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_order(self) -> Conversation:
        found = role_order_issue([m.role for m in self.messages])
        if found is not None:
            code, index = found
            raise PydanticCustomError(code, _explain_order(code, index, self.messages), {"index": index})
        return self


class ValidationIssue(BaseModel):
    """One problem found in a dataset.

    ``line`` is 1-based (``None`` for a problem of the whole file), ``code`` a stable identifier (listed in
    ``docs/datasets.md``), ``message`` says what is wrong and how to fix it, and ``index`` is the 0-based
    position of the message to blame inside the conversation, when there is one.
    """

    model_config = ConfigDict(frozen=True)

    line: int | None
    code: str
    message: str
    index: int | None = None

    def __str__(self) -> str:
        return f"{'file' if self.line is None else self.line}: {self.code}: {self.message}"


class ValidationReport(BaseModel):
    """What :meth:`Dataset.validate_file` found: ``ok``, ``errors``, ``warnings`` and ``stats``.

    ``truncated`` is true when validation stopped after ``max_errors`` errors with lines left unread; then
    ``lines`` (the lines read) and ``stats`` cover only the part before the stop. ``str(report)`` gives one
    ``LINE: code: message`` line per issue; ``report.model_dump_json()`` gives it all as JSON.
    """

    path: str
    errors: list[ValidationIssue] = []
    warnings: list[ValidationIssue] = []
    stats: DatasetStats = DatasetStats()
    lines: int = 0
    truncated: bool = False

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """True when no error was found (warnings do not count)."""
        return not self.errors

    def summary(self) -> str:
        """A readable summary: a headline, then one ``LINE: code: message`` line per issue."""
        if self.ok:
            head = f"{self.path}: ok, {plural(self.stats.examples, 'example')}"
        else:
            more = " (stopped early, there may be more)" if self.truncated else ""
            head = f"{self.path}: {plural(len(self.errors), 'error')}{more}"
        issues = [str(e) for e in self.errors] + [f"warning: {w}" for w in self.warnings]
        return "\n".join([head, *issues])

    def __str__(self) -> str:
        return self.summary()

    def raise_for_errors(self) -> None:
        """Raise :class:`~finetune_sdk.DatasetValidationError` carrying this report if it has errors."""
        if not self.ok:
            raise DatasetValidationError(f"the dataset is not valid:\n{self.summary()}", report=self)


class Dataset(BaseModel):
    """A list of :class:`Conversation` examples that the platform accepts (at least one).

    Build it in code (``Dataset(conversations=[...])``), from plain records (:meth:`from_records`) or from a
    file (:meth:`from_jsonl`); write it with :meth:`to_jsonl`, divide it with :meth:`split` and size it with
    :meth:`stats`. To check a file without loading it, use :meth:`validate_file`.
    """

    model_config = ConfigDict(strict=True)

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

    @classmethod
    def validate_file(
        cls,
        path: StrPath,
        *,
        max_errors: int = 100,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        filename: str | None = None,
        workers: int | Literal["auto"] = "auto",
    ) -> ValidationReport:
        """Check a ``.jsonl`` file line by line against the platform's rules, streaming it.

        Never raises for the content (only ``FileNotFoundError`` and other I/O errors): every problem is in
        the returned :class:`ValidationReport`. Stops after ``max_errors`` errors (``report.truncated``).
        ``max_tokens`` is the limit for the "would be truncated" warning; ``filename`` is the name whose
        extension is checked (default: the path's, useful when an upload was saved under another name);
        ``workers`` splits a large file over that many processes. The default ``"auto"`` uses one per
        core (at most 4) for files of 128 MiB and more when they can be forked safely (no other thread
        running), and validates in-process otherwise; ``workers=1`` never starts a process. An explicit
        ``workers > 1`` in a threaded program starts its workers from a fork server, which imports the
        main module: guard scripts with ``if __name__ == "__main__":``. Workers that cannot start fall
        back to one process; the report is the same either way.
        """
        from ._validate import validate_path

        return validate_path(
            path, max_errors=max_errors, max_tokens=max_tokens, filename=filename, workers=workers
        )

    @classmethod
    def from_jsonl(cls, path: StrPath, *, max_tokens: int = DEFAULT_MAX_TOKENS) -> Dataset:
        """Load a ``.jsonl`` file; raise :class:`~finetune_sdk.DatasetValidationError` if it breaks a rule.

        The error's ``report`` lists the problems (up to 100). Warnings do not stop loading.
        """
        report = cls.validate_file(path, max_tokens=max_tokens)
        report.raise_for_errors()
        from ._validate import iter_lines

        with open(path, "rb") as file:
            return cls.model_construct(
                conversations=[
                    Conversation.model_validate(orjson.loads(line)) for _, line in iter_lines(file)
                ]
            )

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

        ``Dataset.from_jsonl(path)`` reads back an equal dataset.
        """
        with open(path, "wb") as file:
            for conversation in self.conversations:
                file.write(orjson.dumps(conversation.model_dump(), option=orjson.OPT_APPEND_NEWLINE))

    def split(self, validation_ratio: float = 0.1, *, seed: int = 0) -> tuple[Dataset, Dataset]:
        """Divide into ``(train, validation)`` at random, the same way for the same ``seed``.

        ``validation_ratio`` is in ``(0, 0.5]`` like the platform's ``validation_split`` (default 10%, the
        guide's). The validation side gets ``n * ratio`` examples rounded to the nearest (halves down, so it
        never outnumbers training), at least 1 and at most ``n - 1``, so neither side is empty; each side
        keeps the original order. Needs at least 2 examples.
        """
        if not 0 < validation_ratio <= 0.5:
            raise ValueError(f"validation_ratio must be in (0, 0.5], got {validation_ratio!r}")
        n = len(self.conversations)
        if n < 2:
            raise ValueError(f"cannot split a dataset of {n} example: it needs at least 2")
        order = list(range(n))
        random.Random(seed).shuffle(order)
        count = min(n - 1, max(1, math.ceil(n * validation_ratio - 0.5)))  # halves round down
        picked = set(order[:count])
        train = [c for i, c in enumerate(self.conversations) if i not in picked]
        validation = [c for i, c in enumerate(self.conversations) if i in picked]
        return (
            type(self).model_construct(conversations=train),
            type(self).model_construct(conversations=validation),
        )

    def stats(self, max_tokens: int = DEFAULT_MAX_TOKENS) -> DatasetStats:
        """Examples, messages by role, characters, estimated tokens, the longest example and how many
        examples exceed ``max_tokens`` (they would be truncated)."""
        return _stats_of(self.conversations, max_tokens)


def _stats_of(conversations: Iterable[Conversation], max_tokens: int = DEFAULT_MAX_TOKENS) -> DatasetStats:
    builder = StatsBuilder(max_tokens=max_tokens)
    for conversation in conversations:
        messages = conversation.messages
        chars, extra = measure(m.content for m in messages)
        builder.add(len(messages), messages[0].role == "system", chars, extra, None)
    return builder.build()


# --- explaining a problem -------------------------------------------------------------------------------

_FILE_MESSAGES = {
    "wrong_extension": "the file name must end in .jsonl (the platform takes only JSON Lines files): "
    "rename the file",
    "empty_file": "the file holds no examples: add at least one line with a conversation",
}

#: Checks on one message, in the order they are reported.
_MESSAGE_CHECKS = ("invalid_message", "missing_field", "invalid_role", "invalid_content")


def file_issue(code: str, line: int | None = None) -> ValidationIssue:
    """A problem of the whole file (``wrong_extension``, ``empty_file``)."""
    return ValidationIssue(line=line, code=code, message=_FILE_MESSAGES[code])


def explain_error(exc: ValidationError) -> tuple[str, int | None, str]:
    """Turn the pydantic errors of ``Conversation.model_validate`` into the first failing check:
    ``(code, index, message)``, following the order of ``docs/datasets.md``."""
    best: tuple[int, int, str, int | None, str] | None = None
    for err in exc.errors():
        found = _classify(err)
        rank = (found[0], found[1])
        if best is None or rank < (best[0], best[1]):
            best = found
    assert best is not None
    return best[2], best[3], best[4]


def _classify(err: Any) -> tuple[int, int, str, int | None, str]:
    """``(element, check order, code, index, message)`` for one pydantic error."""
    loc: tuple[Any, ...] = tuple(err["loc"])
    kind: str = err["type"]
    value = err.get("input")
    if not loc:
        if kind in _ROLE_ORDER_CODES:
            index = err.get("ctx", {}).get("index")
            return -1, 0, kind, index, str(err["msg"])
        return (
            -1,
            0,
            "not_an_object",
            None,
            (
                f"the line is {_describe(value)}, not a JSON object: write each example as "
                '{"messages": [...]}'
            ),
        )
    if len(loc) == 1:
        if kind == "missing":
            return (
                -1,
                0,
                "missing_messages",
                None,
                ('the object has no "messages" key: put the conversation in a "messages" array'),
            )
        if kind == "too_short":
            return (
                -1,
                0,
                "empty_messages",
                None,
                ('"messages" is empty: add at least one user message and its assistant answer'),
            )
        return (
            -1,
            0,
            "messages_not_list",
            None,
            (
                f'"messages" is {_describe(value)}, not an array: make it an array of '
                '{"role": ..., "content": ...} objects'
            ),
        )
    index = int(loc[1])
    where = f"message {index}"
    if len(loc) == 2:
        return (
            index,
            0,
            "invalid_message",
            index,
            (f'{where} is {_describe(value)}, not an object: write it as {{"role": ..., "content": ...}}'),
        )
    field = str(loc[2])
    if kind == "missing":
        return (
            index,
            1,
            "missing_field",
            index,
            (f'{where} has no "{field}": every message needs both "role" and "content"'),
        )
    if field == "role":
        return (
            index,
            2,
            "invalid_role",
            index,
            (
                f'{where} has role {_describe(value)}: use exactly "system", "user" or "assistant" '
                "(lower case)"
            ),
        )
    if kind == "invalid_encoding":
        return index, 3, kind, index, f"{where}: {err['msg']}: replace the broken character"
    return (
        index,
        3,
        "invalid_content",
        index,
        (f"{where} has content {_describe(value)}: content must be a string with some text in it"),
    )


def _describe(value: object) -> str:
    """A short description of a JSON value for a message: ``the string "User"``, ``a number`` ..."""
    if isinstance(value, str):
        if is_blank(value):
            return "an empty string" if not value else "only white space"
        shown = value if len(value) <= 40 else value[:37] + "..."
        return orjson.dumps(shown).decode() if value.isascii() else repr(shown)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


def _explain_order(code: str, index: int | None, messages: Sequence[Message]) -> str:
    if code == "system_not_first":
        return (
            f"message {index} is a system message but not the first: put the system message first "
            "(only one is allowed) or remove it"
        )
    assert index is not None or code == "unpaired"
    if code == "first_not_user":
        return (
            f"message {index} is the first after the system message but comes from assistant: "
            "a conversation starts with a user message"
            if index
            else "message 0 comes from assistant: a conversation starts with a user message "
            "(or a system message, then a user message)"
        )
    if code == "not_alternating":
        role = messages[index].role if index is not None else "?"
        return (
            f"message {index} comes from {role} right after another {role} message: user and "
            "assistant must take turns (merge the two, or add the missing turn between them)"
        )
    if index is None:
        return "the conversation has no user message with an assistant answer: add at least one pair"
    return f"message {index} (user) has no assistant answer after it: add the answer or remove the message"
