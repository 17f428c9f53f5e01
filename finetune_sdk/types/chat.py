"""Chat answers: the whole reply of ``client.chat.complete`` and the token counts of a call.

They read OpenAI's chat completion shape (``CreateChatCompletionResponse``) and whatever it allows:
several choices, ``refusal``, tool calls, ``logprobs``, fields added later (kept in ``model_extra``),
and an empty ``choices`` list, which is the caller's to judge (see :attr:`ChatCompletion.has_choices`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from .._models import APIModel, APIPart, request_id_of_model
from ._common import Timestamp

__all__ = ["ChatChoice", "ChatCompletion", "ChatMessage", "ChatUsage"]


class ChatUsage(APIPart):
    """Tokens a chat call used, as the server counted them (``usage`` in the answer)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def __init__(
        self,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        total_tokens: int | None = None,
        **extra: Any,
    ) -> None:
        total = prompt_tokens + completion_tokens if total_tokens is None else total_tokens
        fields: dict[str, Any] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": total,
        }
        super().__init__(**fields, **extra)

    @classmethod
    def from_wire(cls, raw: Mapping[str, Any]) -> ChatUsage:
        """Read a ``usage`` object leniently: missing (or null) counts are 0, a missing total is the sum.
        A count that is no whole number (``1.5``, ``true``, ``"7"``) is a ``ValueError``, not rounded."""
        prompt = _count(raw, "prompt_tokens")
        completion = _count(raw, "completion_tokens")
        total = raw.get("total_tokens")
        return cls(
            prompt, completion, _count(raw, "total_tokens") if total is not None else prompt + completion
        )


def _count(raw: Mapping[str, Any], name: str) -> int:
    value = raw.get(name)
    if value is None:
        return 0
    if value.__class__ is int:
        return int(value)
    if value.__class__ is float and value.is_integer():
        return int(value)  # 7.0: the JSON of some servers
    raise ValueError(f"usage.{name} is not a whole number: {value!r}")


class ChatMessage(APIPart):
    """The message of a choice: its text (``content``), or a ``refusal``, or tool calls."""

    role: str = "assistant"
    content: str | None = None
    refusal: str | None = None
    tool_calls: list[dict[str, Any]] | None = None


class ChatChoice(APIPart):
    """One choice of a reply (there are several when the call asked for ``n > 1``)."""

    index: int = 0
    message: ChatMessage = Field(default_factory=ChatMessage)
    finish_reason: str | None = None
    logprobs: dict[str, Any] | None = None


class ChatCompletion(APIModel):
    """The whole reply of ``client.chat.complete(...)``: OpenAI's chat completion object.

    ``text`` is the first choice's content; ``str(completion)`` is the same text, so a reply prints as
    itself. ``finish_reason`` says why the model stopped, ``usage`` counts tokens, ``request_id`` names
    the request. A server may answer with no choice at all (``choices: []``): ``has_choices`` says so,
    and ``text`` is then empty; nothing is refused on reading.
    """

    id: str = ""
    object: str = "chat.completion"
    created: Timestamp = 0
    model: str = ""
    choices: list[ChatChoice] = Field(default_factory=list[ChatChoice])
    usage: ChatUsage | None = None
    system_fingerprint: str | None = None

    @property
    def has_choices(self) -> bool:
        """Whether the answer holds at least one choice."""
        return bool(self.choices)

    @property
    def choice(self) -> ChatChoice | None:
        """The first choice (index 0), or None when the answer has none."""
        return next((c for c in self.choices if c.index == 0), self.choices[0] if self.choices else None)

    @property
    def text(self) -> str:
        """The first choice's text ("" when it has none, or when there is no choice: see
        :attr:`has_choices` and the choice's ``message.refusal``)."""
        choice = self.choice
        return (choice.message.content or "") if choice is not None else ""

    @property
    def refusal(self) -> str | None:
        """The first choice's refusal, if the model refused instead of answering (``text`` is then
        empty); None otherwise."""
        choice = self.choice
        return choice.message.refusal if choice is not None else None

    @property
    def finish_reason(self) -> str | None:
        """Why the first choice stopped (``"stop"``, ``"length"`` ...), if the server said."""
        choice = self.choice
        return choice.finish_reason if choice is not None else None

    @property
    def request_id(self) -> str | None:
        """The ``x-request-id`` of the answer, to quote when asking for help."""
        return request_id_of_model(self)

    def __str__(self) -> str:
        return self.text
