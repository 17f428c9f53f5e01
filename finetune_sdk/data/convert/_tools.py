"""Tool calls, tool results and tool definitions written as Qwen2.5's chat template shows them to the
model (``<tool_call>`` in an assistant turn, ``<tool_response>`` in a user turn, the definitions in the
system message), or removed."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from .._json import as_array, as_object
from ._turns import Note, Reject, Turn

__all__ = [
    "MAX_NESTING",
    "QWEN_DEFAULT_SYSTEM",
    "drop_tools",
    "render_call",
    "render_definitions",
    "render_tools",
    "write_definitions",
]


#: The deepest nesting of lists and objects a tool call or definition may have. Checked by counting, so
#: the verdict is the same whatever the interpreter's recursion limit (real tools nest a few levels).
MAX_NESTING = 128


def _value_depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (0 for a scalar), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        obj = as_object(item)
        children = list(obj.values()) if obj is not None else as_array(item)
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
    function = as_object((as_object(call) or {}).get("function"))
    arguments = function.get("arguments") if function is not None else None
    if _too_deep(call) or (arguments is not None and _too_deep(arguments)):
        raise Reject("invalid_tool_call", "a tool call is nested too deep to be written as JSON")
    try:
        return _render_call(call)
    except RecursionError:
        raise Reject("invalid_tool_call", "a tool call is nested too deep to be written as JSON") from None


def _render_call(given: Any) -> str:
    wrapper = as_object(given)
    inner = as_object(wrapper.get("function")) if wrapper is not None else None
    value: Any = inner if inner is not None else given
    if isinstance(value, str):
        try:
            value = _strict_loads(value)
        except ValueError:
            return f"<tool_call>\n{value}\n</tool_call>"
    call = as_object(value)
    if call is None or "name" not in call:
        raise Reject("invalid_tool_call", f"a tool call is not an object with a name: {value!r:.80}")
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


def render_tools(turns: list[Turn], note: Note) -> list[Turn]:
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


def drop_tools(turns: list[Turn], note: Note) -> list[Turn]:
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
        tools = as_array(definitions)
        if tools is None:
            raise Reject("invalid_tools", "the record's tools are not a list")
        lines = "".join("\n" + json.dumps(tool, ensure_ascii=False) for tool in tools)
    except RecursionError:
        raise Reject(
            "invalid_tools", "the record's tools are nested too deep to be written as JSON"
        ) from None
    return f"{system if system is not None else QWEN_DEFAULT_SYSTEM}{_TOOLS_HEAD}{lines}{_TOOLS_TAIL}"


def write_definitions(turns: list[Turn], definitions: Any, note: Note) -> list[Turn]:
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
