"""Where a source keeps its conversation: :class:`FieldMap`, and each format's default names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

__all__ = ["ALPACA", "CSV", "OPENAI", "SHAREGPT", "FieldMap"]

#: Role names the converter knows, mapped to its own: ``tool`` is a tool's result, ``tool_call`` a tool
#: call written as a turn of its own (ShareGPT's ``function_call``).
_COMMON_ROLES = {
    "system": "system",
    "user": "user",
    "assistant": "assistant",
    "developer": "developer",
    "tool": "tool",
    "function": "tool",  # the OpenAI role before "tool"
}
_SHAREGPT_ROLES = {
    **_COMMON_ROLES,
    "human": "user",
    "gpt": "assistant",
    "observation": "tool",
    "function_call": "tool_call",
}


@dataclass(frozen=True, kw_only=True)
class FieldMap:
    """The keys and role names of a source, for files that name them otherwise.

    For message lists (ShareGPT, OpenAI, JSON Lines): ``messages``, ``role`` and ``content`` are the keys of
    the list and of each message, ``system`` a top-level key holding a system prompt, and ``roles`` maps
    the file's role names to ``system``, ``user``, ``assistant``, ``developer``, ``tool`` (a tool's result)
    or ``tool_call`` (a tool call as a turn of its own); it is added to the source's own table. For tables
    (CSV, TSV, Excel, Parquet columns) and Alpaca files, ``prompt``, ``response``, ``system`` and ``input``
    (joined to the prompt with a newline) name the columns (keys); a table's column may also be given by
    its position from 1 (``prompt="1"``). ``header_row`` is the number from 1 of a table's header row
    (CSV, TSV, Excel), for a header below a title: the rows above it are skipped, each listed; without
    it a header below a few title rows is found when it names known columns. ``None`` keeps the
    source's default.

    ``FieldMap(messages="dialog", role="speaker", content="text", roles={"Kunde": "user", "Bot":
    "assistant"})``
    """

    messages: str | None = None
    role: str | None = None
    content: str | None = None
    system: str | None = None
    prompt: str | None = None
    response: str | None = None
    input: str | None = None
    header_row: int | None = None
    roles: Mapping[str, str] = field(default_factory=dict[str, str])

    def over(self, defaults: FieldMap) -> FieldMap:
        """These names where given, ``defaults`` elsewhere; role tables merged (these win)."""
        given = {k: v for k, v in vars(self).items() if v is not None and k != "roles"}
        return replace(defaults, **given, roles={**defaults.roles, **self.roles})


SHAREGPT = FieldMap(
    messages="conversations", role="from", content="value", system="system", roles=_SHAREGPT_ROLES
)
OPENAI = FieldMap(messages="messages", role="role", content="content", system="system", roles=_SHAREGPT_ROLES)
ALPACA = FieldMap(prompt="instruction", response="output", system="system", input="input")
CSV = FieldMap()
