"""Request bodies, checked with pydantic: a bad body is a 400 naming the field (the chat request here,
the job in :mod:`.job_create`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .responses import ApiError


class ContentPart(BaseModel):
    model_config: ClassVar[ConfigDict] = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config: ClassVar[ConfigDict] = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        """The message's text (text parts joined)."""
        if isinstance(self.content, list):
            return "".join(part.text or "" for part in self.content)
        return self.content or ""


class StreamOptions(BaseModel):
    model_config: ClassVar[ConfigDict] = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatRequest(BaseModel):
    """``POST /chat/completions``: the OpenAI shape; parameters the emulator ignores are allowed."""

    model_config: ClassVar[ConfigDict] = ConfigDict(extra="allow")

    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    n: int = Field(1, ge=1, le=1)

    def token_limit(self) -> int | None:
        """The reply's token budget, if the caller set one."""
        return self.max_completion_tokens or self.max_tokens

    def last_user_text(self) -> str:
        """The text of the last user message (what the reply answers)."""
        users = [message.text() for message in self.messages if message.role == "user"]
        return users[-1] if users else self.messages[-1].text()


Body = TypeVar("Body", bound=BaseModel)


def pydantic_message(error: Mapping[str, object]) -> str:
    """The message of one pydantic error, without the ``Value error, `` pydantic puts before a
    validator's own words (the platform says ``must be 1-40 characters``, not ``Value error, must...``)."""
    return str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")


def parse_json(raw: bytes | list[bytes]) -> Any:
    """The JSON value of a request body (whole, or in pieces), or a 400."""
    try:
        return orjson.loads(raw if isinstance(raw, bytes) else b"".join(raw))
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"The body is not valid JSON: {exc}", "invalid_json") from exc


def parse_body(model: type[Body], raw: bytes | list[bytes]) -> Body:
    """``raw`` as a ``model``, or a 400 whose message and ``param`` name the first bad field."""
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise ApiError(400, "The body must be a JSON object", "invalid_json")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        code = "missing_required_parameter" if first["type"] == "missing" else "invalid_value"
        raise ApiError(400, f"{field}: {pydantic_message(first)}", code, param=field) from exc
