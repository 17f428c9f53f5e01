"""The repairs: from the turns a source format gave to messages the platform accepts, each change noted.

A source module turns a record into :class:`Turn` objects (roles already mapped to ``system``, ``user``,
``assistant``, ``developer``, ``tool`` for a tool's result and ``tool_call`` for a call written as its own
turn); :func:`repair` then applies the :class:`Repairs` that are on, in a fixed order, and either returns
the messages or raises :class:`Reject` with the reason. Every change is passed to ``note(code, action)``.
Nothing is invented: every content written comes from the record, joined with a newline where turns or
parts are joined, and tool turns wrapped in the tags of Qwen2.5's chat template.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from .._schema import Conversation, explain_error, is_blank
from .._validate import fast_check

__all__ = ["Note", "Reject", "Repairs", "Turn", "repair"]

Note = Callable[[str, str], None]
"""``note(code, action)``: how a repair reports a change to the record being converted."""


class Reject(Exception):  # noqa: N818 (a verdict, not a failure of the program)
    """The record cannot be converted: ``code`` and ``reason`` go to the rejects file."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, kw_only=True)
class Repairs:
    """Which repairs :func:`~finetune_sdk.convert_file` makes. Each is on by default; a repair that is off
    leaves the problem in place, and the record is then rejected with the validator's reason.

    - ``strip_bom``: skip a UTF-8 byte order mark at the start of the file;
    - ``drop_blank``: skip blank lines (JSON Lines) and empty rows (CSV), counted in ``report.blank``;
    - ``trim``: strip white space around every content;
    - ``map_roles``: map a source's role names (``human`` -> ``user``, ``gpt`` -> ``assistant``...);
    - ``join_parts``: join a ``content`` given as a list of text parts, with a newline;
    - ``developer_to_system``: an OpenAI ``developer`` message becomes the system message;
    - ``tools``: ``"render"`` (default) writes tool calls and tool results as text the way Qwen2.5's chat
      template shows them to the model (``<tool_call>`` in the assistant turn, ``<tool_response>`` in a
      user turn); ``"drop"`` removes them, leaving the assistant's later answer without the result it was
      based on, which teaches the model to answer from nothing. Rendering loses nothing, so it is default.
      ``tool_calls`` on a message that is not the assistant's cannot be rendered: the record is rejected
      (``misplaced_tool_calls``); ``"drop"`` removes them with the rest, each noted;
    - ``tool_definitions``: a record's ``tools`` (the functions it may call) are ``"drop"``-ped by default
      (named in ``ignored_keys``), or ``"render"``-ed into the system message with the fixed text Qwen2.5's
      template puts around them (and its default system prompt when the record has none). Off by default
      because that text is the template's, not the record's; turn it on to teach when to call a tool;
    - ``masked``: an assistant turn (or a tool call turn, which becomes one) with ``weight: 0`` (its author
      did not want it trained on) is either ``"cut"`` (default: the example ends before that turn's
      question) or ``"reject"``-ed; never trained;
    - ``drop_empty_turns``: remove turns with no text;
    - ``move_system``: move a lone system message that is not first to the front;
    - ``merge_turns``: join consecutive turns of one role with a newline;
    - ``drop_leading_assistant``: remove assistant turns before the first user turn (a greeting);
    - ``drop_trailing_user``: remove a last user turn that has no answer.
    """

    strip_bom: bool = True
    drop_blank: bool = True
    trim: bool = True
    map_roles: bool = True
    join_parts: bool = True
    developer_to_system: bool = True
    tools: Literal["render", "drop"] = "render"
    tool_definitions: Literal["drop", "render"] = "drop"
    masked: Literal["cut", "reject"] = "cut"
    drop_empty_turns: bool = True
    move_system: bool = True
    merge_turns: bool = True
    drop_leading_assistant: bool = True
    drop_trailing_user: bool = True


@dataclass
class Turn:
    """One turn as a source gave it: ``content`` may still be a list of parts or ``None`` (beside
    ``calls``, an OpenAI ``tool_calls`` list); ``weight`` is the OpenAI per-turn training weight."""

    role: str
    content: Any
    calls: list[Any] | None = None
    weight: Any = None
    number: int = field(default=0)  # the position in the record, for the notes


def repair(turns: list[Turn], repairs: Repairs, note: Note) -> list[dict[str, str]]:
    """The messages of a record after the repairs, or :class:`Reject`."""
    definitions = turns.pop(0).content if turns and turns[0].role == "tools" else None
    for position, turn in enumerate(turns):
        turn.number = position
    turns = _cut_masked(turns, repairs, note)
    for turn in turns:
        turn.content = _text_of(turn, repairs, note)
        if turn.role == "developer":
            if not repairs.developer_to_system:
                raise Reject("developer_role", f"message {turn.number} has the role developer")
            turn.role = "system"
            note("developer_to_system", f"message {turn.number}: developer -> system")
    turns = _render_tools(turns, note) if repairs.tools == "render" else _drop_tools(turns, note)
    if repairs.trim:
        trimmed = [t.number for t in turns if t.content != t.content.strip()]
        for turn in turns:
            turn.content = turn.content.strip()
        if trimmed:
            note("trim", f"stripped white space around message {_numbers(trimmed)}")
    if repairs.drop_empty_turns:
        empty = [t for t in turns if is_blank(t.content)]
        for turn in empty:
            note("drop_empty_turn", f"removed message {turn.number} ({turn.role}): it has no text")
        turns = [t for t in turns if not is_blank(t.content)]
    turns = _place_system(turns, repairs, note)
    if definitions is not None:
        turns = _render_definitions(turns, definitions, note)
    if repairs.merge_turns:
        turns = _merge(turns, note)
    if repairs.drop_leading_assistant:
        start = 1 if turns and turns[0].role == "system" else 0
        while len(turns) > start and turns[start].role == "assistant":
            note(
                "drop_leading_assistant",
                f"removed message {turns[start].number}: an assistant turn before any user turn",
            )
            del turns[start]
    if repairs.drop_trailing_user and turns and turns[-1].role == "user":
        note("drop_trailing_user", f"removed message {turns[-1].number}: a last user turn with no answer")
        turns.pop()
    messages = [{"role": t.role, "content": t.content} for t in turns]
    if not any(t.role == "assistant" for t in turns) and repairs.drop_trailing_user:
        raise Reject("nothing_left", "no user message with an assistant answer is left to train on")
    example = {"messages": messages}
    if fast_check(example):  # the validator's own verdict; the models only to explain a failure
        return messages
    try:
        Conversation.model_validate(example)
    except ValidationError as exc:
        code, _, message = explain_error(exc)
        raise Reject(code, message) from None
    return messages


def _numbers(numbers: list[int]) -> str:
    return ", ".join(map(str, numbers))


def _cut_masked(turns: list[Turn], repairs: Repairs, note: Note) -> list[Turn]:
    for index, turn in enumerate(turns):
        if turn.weight is None:
            continue
        if turn.weight not in (0, 1) or isinstance(turn.weight, bool):
            raise Reject("invalid_weight", f"message {turn.number} has weight {turn.weight!r}: use 0 or 1")
        if turn.weight == 0 and turn.role in ("assistant", "tool_call"):  # a call becomes an assistant turn
            if repairs.masked == "reject":
                raise Reject(
                    "masked_turn",
                    f"message {turn.number} has weight 0: its author did not want it "
                    "trained on, and the platform trains on every assistant turn",
                )
            note(
                "cut_masked",
                f"cut before message {turn.number} (weight 0, not to be trained on): "
                f"{len(turns) - index} of {len(turns)} messages left out",
            )
            return turns[:index]
    return turns


def _text_of(turn: Turn, repairs: Repairs, note: Note) -> str:
    content = turn.content
    if isinstance(content, str):
        return content
    if content is None:
        return ""
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif (
                isinstance(part, dict)
                and part.get("type", "text") == "text"
                and isinstance(part.get("text"), str)
            ):
                texts.append(part["text"])
            else:
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise Reject(
                    "non_text_part",
                    f"message {turn.number} has a content part of type "
                    f"{kind!r}: the platform trains on text only",
                )
        if not repairs.join_parts:
            raise Reject("content_parts", f"message {turn.number} has its content as a list of parts")
        note("join_parts", f"message {turn.number}: joined {len(texts)} text parts with a newline")
        return "\n".join(texts)
    raise Reject(
        "invalid_content", f"message {turn.number} has a content of type {type(content).__name__}, not text"
    )


#: The deepest nesting of lists and objects a tool call or definition may have. Checked by counting, so
#: the verdict is the same whatever the interpreter's recursion limit (real tools nest a few levels).
MAX_NESTING = 128


def _value_depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (0 for a scalar), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            if deepest > MAX_NESTING:
                break
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _text_depth(text: str) -> int:
    """How deeply brackets nest in JSON ``text``, outside its strings."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _too_deep(value: Any) -> bool:
    if isinstance(value, str):
        return value.lstrip()[:1] in ("[", "{") and _text_depth(value) > MAX_NESTING
    return _value_depth(value) > MAX_NESTING


def render_call(call: Any) -> str:
    """One tool call as Qwen2.5's template writes it: ``<tool_call>\\n{"name": ..., "arguments": ...}\\n
    </tool_call>`` (``arguments`` given as a JSON string are parsed first, as the template expects).
    A call nested deeper than :data:`MAX_NESTING` is :class:`Reject`-ed."""
    function = call.get("function") if isinstance(call, dict) else None
    arguments = function.get("arguments") if isinstance(function, dict) else None
    if _too_deep(call) or (arguments is not None and _too_deep(arguments)):
        raise Reject("invalid_tool_call", "a tool call is nested too deep to be written as JSON")
    try:
        return _render_call(call)
    except RecursionError:
        raise Reject("invalid_tool_call", "a tool call is nested too deep to be written as JSON") from None


def _render_call(call: Any) -> str:
    if isinstance(call, dict) and isinstance(call.get("function"), dict):
        call = call["function"]
    if isinstance(call, str):
        try:
            call = _strict_loads(call)
        except ValueError:
            return f"<tool_call>\n{call}\n</tool_call>"
    if not isinstance(call, dict) or "name" not in call:
        raise Reject("invalid_tool_call", f"a tool call is not an object with a name: {call!r:.80}")
    arguments = call.get("arguments", {})
    if isinstance(arguments, str):
        with contextlib.suppress(ValueError):  # else kept as the string it is
            arguments = _strict_loads(arguments)
    body = json.dumps({"name": call["name"], "arguments": arguments}, ensure_ascii=False)
    return f"<tool_call>\n{body}\n</tool_call>"


def _strict_loads(text: str) -> Any:
    """JSON text parsed only when writing it again cannot change it: ``NaN``, ``Infinity``, a number
    too large for a float or a repeated key is a ``ValueError`` (the text is then kept as it is)."""
    return json.loads(text, parse_constant=_refuse, parse_float=_exact_float, object_pairs_hook=_unique)


def _refuse(word: str) -> Any:
    raise ValueError(f"{word} is not JSON")


def _exact_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is too large for a float")
    return value


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("a key repeats")
    return found


def _render_tools(turns: list[Turn], note: Note) -> list[Turn]:
    out: list[Turn] = []
    results: list[str] = []  # a run of tool results, put in one user turn (joined once, at its end)
    for turn in turns:
        if turn.role == "tool":
            if not results:
                out.append(Turn("user", "", number=turn.number))
            results.append(f"<tool_response>\n{turn.content}\n</tool_response>")
            note(
                "render_tool_result",
                f"message {turn.number}: the tool result written as <tool_response> text in a user turn",
            )
            continue
        if results:
            out[-1].content, results = "\n".join(results), []
        if turn.calls and turn.role != "assistant":
            raise Reject(
                "misplaced_tool_calls",
                f"message {turn.number} ({turn.role}) has tool_calls: only an assistant turn calls tools",
            )
        if turn.role == "assistant" and turn.calls:
            calls = "\n".join(render_call(c) for c in turn.calls)
            turn.content = f"{turn.content}\n{calls}" if turn.content.strip() else calls
            note(
                "render_tool_calls",
                f"message {turn.number}: {len(turn.calls)} tool call(s) written as <tool_call> text",
            )
        elif turn.role == "tool_call":
            turn.role, turn.content = "assistant", render_call(turn.content)
            note(
                "render_tool_calls",
                f"message {turn.number}: the tool call written as <tool_call> text in an assistant turn",
            )
        out.append(turn)
    if results:
        out[-1].content = "\n".join(results)
    return out


def _drop_tools(turns: list[Turn], note: Note) -> list[Turn]:
    out: list[Turn] = []
    for turn in turns:
        if turn.role in ("tool", "tool_call"):
            kind = "result" if turn.role == "tool" else "call"
            note("drop_tool_turn", f"removed message {turn.number} (a tool {kind})")
            continue
        if turn.calls:
            note("drop_tool_turn", f"message {turn.number}: removed its {len(turn.calls)} tool call(s)")
        out.append(turn)
    return out


#: Qwen2.5's chat template: its default system prompt, and the text around tool definitions.
QWEN_DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
_TOOLS_HEAD = (
    "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
)
_TOOLS_TAIL = (
    "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
    '<tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": '
    "<args-json-object>}\n</tool_call>"
)


def render_definitions(system: str | None, definitions: Any) -> str:
    """The system message Qwen2.5's template writes for ``definitions`` (a list of tools, or its JSON)."""
    if _too_deep(definitions):
        raise Reject("invalid_tools", "the record's tools are nested too deep to be written as JSON")
    try:
        if isinstance(definitions, str):
            try:
                definitions = json.loads(definitions)
            except ValueError:
                raise Reject("invalid_tools", "the record's tools are not JSON") from None
        if not isinstance(definitions, list):
            raise Reject("invalid_tools", "the record's tools are not a list")
        lines = "".join("\n" + json.dumps(tool, ensure_ascii=False) for tool in definitions)
    except RecursionError:
        raise Reject(
            "invalid_tools", "the record's tools are nested too deep to be written as JSON"
        ) from None
    return f"{system if system is not None else QWEN_DEFAULT_SYSTEM}{_TOOLS_HEAD}{lines}{_TOOLS_TAIL}"


def _render_definitions(turns: list[Turn], definitions: Any, note: Note) -> list[Turn]:
    if turns and turns[0].role == "system":
        turns[0].content = render_definitions(turns[0].content, definitions)
        note(
            "render_tool_definitions", "the tools written into the system message as Qwen2.5's template does"
        )
        return turns
    note(
        "render_tool_definitions",
        "the tools written into a system message with Qwen2.5's default prompt, as its template does",
    )
    return [Turn("system", render_definitions(None, definitions)), *turns]


def _place_system(turns: list[Turn], repairs: Repairs, note: Note) -> list[Turn]:
    systems = [t for t in turns if t.role == "system"]
    if not systems or (len(systems) == 1 and turns[0].role == "system"):
        return turns
    if len(systems) > 1:
        raise Reject(
            "several_system",
            f"{len(systems)} system messages (messages {_numbers([t.number for t in systems])}): keep one",
        )
    if not repairs.move_system:
        return turns
    note("move_system", f"moved the system message {systems[0].number} to the front")
    return [systems[0], *(t for t in turns if t is not systems[0])]


def _merge(turns: list[Turn], note: Note) -> list[Turn]:
    out: list[Turn] = []
    runs: dict[int, list[str]] = {}  # the texts of a turn that others join, by its place in out
    for turn in turns:
        if out and out[-1].role == turn.role and turn.role != "system":
            runs.setdefault(len(out) - 1, [out[-1].content]).append(turn.content)
            note("merge_turns", f"joined message {turn.number} to the {turn.role} turn before it")
            continue
        out.append(turn)
    for place, texts in runs.items():  # joined once: a run of n turns costs its length, not n times it
        out[place].content = "\n".join(t for t in texts if t.strip())
    return out
