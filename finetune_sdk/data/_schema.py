"""The data model of a training example and of a validation report.

The platform takes a ``.jsonl`` file, one conversation per line::

    {"messages": [{"role": "system", "content": "..."}, {"role": "user", "content": "..."},
                  {"role": "assistant", "content": "..."}]}

The models are strict (``content=42`` is an error, not ``"42"``) and apply every rule of the platform, so a
:class:`Conversation` that exists is one the platform accepts. :func:`explain_error` turns the models'
errors into the stable codes that ``docs/datasets.md`` lists.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal, Protocol

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

from .._text import plural
from ..errors import FineTuneError
from ._stats import DatasetStats

__all__ = [
    "Conversation",
    "DatasetValidationError",
    "Message",
    "Role",
    "StrPath",
    "ValidationIssue",
    "ValidationReport",
    "classify_error",
    "explain_error",
    "explain_order",
    "file_issue",
    "is_blank",
    "role_order_issue",
]

Role = Literal["system", "user", "assistant"]
"""The three roles the platform knows; case matters."""

StrPath = str | os.PathLike[str]

#: How a conversation's roles can break the platform's order rules (checks 7-10, in that order).
_ROLE_ORDER_CODES = ("system_not_first", "first_not_user", "not_alternating", "unpaired")


OrderCode = Literal["system_not_first", "first_not_user", "not_alternating", "unpaired"]


class HasRole(Protocol):
    """What the order rules read of a message: its role."""

    @property
    def role(self) -> str: ...


def role_order_issue(roles: Sequence[str]) -> tuple[OrderCode, int | None] | None:
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

    model_config: ClassVar[ConfigDict] = ConfigDict(strict=True, frozen=True, extra="allow")

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

    model_config: ClassVar[ConfigDict] = ConfigDict(strict=True, extra="allow")

    messages: list[Message] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_order(self) -> Conversation:
        found = role_order_issue([m.role for m in self.messages])
        if found is not None:
            code, index = found
            message = explain_order(code, index, self.messages)
            raise PydanticCustomError(code, "{message}", {"index": index, "message": message})
        return self


class ValidationIssue(BaseModel):
    """One problem found in a dataset.

    ``line`` is 1-based (``None`` for a problem of the whole file), ``code`` a stable identifier (listed in
    ``docs/datasets.md``), ``message`` says what is wrong and how to fix it, and ``index`` is the 0-based
    position of the message to blame inside the conversation, when there is one.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)

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


class DatasetValidationError(FineTuneError, ValueError):
    """A dataset does not follow the platform's rules.

    ``report`` is the full :class:`~finetune_sdk.ValidationReport`: every issue with its line number,
    code and message, plus the statistics. (It lives here, with the report it carries, so that neither
    module needs the other.)
    """

    report: ValidationReport

    def __init__(self, message: str, *, report: ValidationReport) -> None:
        super().__init__(message)
        self.report = report


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
        found = classify_error(err)
        rank = (found[0], found[1])
        if best is None or rank < (best[0], best[1]):
            best = found
    assert best is not None
    return best[2], best[3], best[4]


def classify_error(err: Any) -> tuple[int, int, str, int | None, str]:
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


def explain_order(code: str, index: int | None, messages: Sequence[HasRole]) -> str:
    """The sentence for the order rule ``code`` broken at message ``index``."""
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
