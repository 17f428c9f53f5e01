"""The repairs: from the turns a source format gave to messages the platform accepts, each change noted.

A source module turns a record into :class:`Turn` objects (roles already mapped to ``system``, ``user``,
``assistant``, ``developer``, ``tool`` for a tool's result and ``tool_call`` for a call written as its own
turn); :func:`repair` then applies the :class:`Repairs` that are on, in a fixed order, and either returns
the messages or raises :class:`Reject` with the reason. Every change is passed to ``note(code, action)``.
Nothing is invented: every content written comes from the record, joined with a newline where turns or
parts are joined, and tool turns wrapped in the tags of Qwen2.5's chat template.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from .._chunk import fast_check
from .._json import as_array, as_object
from .._schema import Conversation, explain_error, is_blank
from ._tools import drop_tools, render_tools, write_definitions
from ._turns import Note, Reject, Turn

__all__ = ["MASKED_RULES", "MEDIA_PARTS", "Note", "Reject", "Repairs", "Turn", "repair"]

MASKED_RULES: dict[str, str] = {
    "drop": "each weight-0 assistant turn is removed and the rest kept (its user turn is joined to the next "
    "user turn, or removed when it is the last)",
    "cut": "the example ends before the first weight-0 assistant turn, its user turn left out too",
    "reject": "an example with a weight-0 assistant turn is rejected",
}
"""What ``Repairs(masked=...)`` does with an assistant turn marked ``weight: 0`` (OpenAI's "do not train on
this turn"; the platform trains on every assistant turn, so such a turn is never written). The same
sentences are in ``finetune convert --help`` and ``docs/datasets.md``."""

#: Content part types that are text, and the key holding it: chat completions' ``text``, the Responses
#: API's ``input_text`` / ``output_text``, and an assistant's ``refusal`` (its words are its reply).
_TEXT_PARTS = {"text": "text", "input_text": "text", "output_text": "text", "refusal": "refusal"}

#: Content part types that are not text: an image, audio or a file (OpenAI's, and other common names).
MEDIA_PARTS = frozenset(
    {"image_url", "image", "input_image", "input_audio", "audio", "file", "input_file", "video", "video_url"}
)


#: Record keys of multimodal exports (LLaVA's ``image``, LLaMA-Factory's ``images``, ``videos`` ...):
#: the turns refer to them with tags such as ``<image>``.
MEDIA_KEYS = ("image", "images", "video", "videos", "audio", "audios")
_MEDIA_TAG = re.compile(r"<(?:image|video|audio)>\n?")


def with_media_checked(
    convert: Callable[[Any, Note], list[Turn]], repairs: Repairs
) -> Callable[[Any, Note], list[Turn]]:
    """``convert``, for records that may name media beside their turns: such a record is rejected
    (``images="reject"``), or its turns are kept without the media's tags (``images="drop"``, listed);
    trained as they are, they would teach answers about a picture the model never sees."""

    def checked(record: Any, note: Note) -> list[Turn]:
        obj = as_object(record)
        media = [key for key in MEDIA_KEYS if obj is not None and obj.get(key)]
        if media and repairs.images == "reject":
            raise Reject(
                "non_text_part",
                f"the record has {', '.join(map(repr, media))}: its turns are about media the platform "
                "cannot train on (--images drop keeps the text, without the media and their tags)",
            )
        turns = convert(record, note)
        if media:
            tags = 0
            for turn in turns:
                if isinstance(turn.content, str):
                    turn.content, found = _MEDIA_TAG.subn("", turn.content)
                    tags += found
            note("drop_media_parts", f"dropped the record's {', '.join(media)} and {tags} tags naming them")
        return turns

    return checked


@dataclass(frozen=True, kw_only=True)
class Repairs:
    """Which repairs :func:`~finetune_sdk.convert_file` makes. Each is on by default; a repair that is off
    leaves the problem in place, and the record is then rejected with the validator's reason.

    - ``strip_bom``: skip a UTF-8 byte order mark at the start of the file;
    - ``drop_blank``: skip blank lines (JSON Lines) and empty rows (tables), counted in ``report.blank``;
    - ``trim``: strip white space around every content;
    - ``map_roles``: map a source's role names (``human`` -> ``user``, ``gpt`` -> ``assistant``...);
    - ``join_parts``: join a ``content`` given as a list of text parts, with a newline;
    - ``images``: a content part that is an image, audio or a file (the platform trains on text only)
      ``"reject"``-s the record (default), or is ``"drop"``-ped, the message's text parts kept, each drop
      listed (``drop_media_parts``); so does a record naming media beside its turns (``image``,
      ``images`` ... of LLaVA or LLaMA-Factory exports), whose ``<image>`` tags are then dropped too;
    - ``developer_to_system``: an OpenAI ``developer`` message becomes the system message;
    - ``tools``: ``"render"`` (default) writes tool calls and tool results as text the way Qwen2.5's chat
      template shows them to the model (``<tool_call>`` in the assistant turn, ``<tool_response>`` in a
      user turn); ``"drop"`` removes them, leaving the assistant's later answer without the result it was
      based on, which teaches the model to answer from nothing. Rendering loses nothing, so it is default.
      ``tool_calls`` on a message that is not the assistant's cannot be rendered: the record is rejected
      (``misplaced_tool_calls``); ``"drop"`` removes them with the rest, each noted;
    - ``tool_definitions``: a record's ``tools`` (the functions it may call) are ``"render"``-ed into the
      system message with the text Qwen2.5's template puts around them (and its default system prompt
      when the record has none) whenever tool calls are rendered (default), so the model learns to call
      only tools it is shown; ``"drop"`` leaves them out (named in ``ignored_keys``). A record whose tool
      calls are rendered without definitions is listed (``no_tool_definitions``) and the report warns;
    - ``masked``: an assistant turn (or a tool call turn, which becomes one) with ``weight: 0``, which its
      author did not want trained on, is never written: with ``"drop"`` (default) {drop}; with ``"cut"``
      {cut}; with ``"reject"`` {reject};
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
    images: Literal["reject", "drop"] = "reject"
    developer_to_system: bool = True
    tools: Literal["render", "drop"] = "render"
    tool_definitions: Literal["render", "drop"] = "render"
    masked: Literal["drop", "cut", "reject"] = "drop"
    drop_empty_turns: bool = True
    move_system: bool = True
    merge_turns: bool = True
    drop_leading_assistant: bool = True
    drop_trailing_user: bool = True


if Repairs.__doc__:  # the rules written once: the docstring shows the same sentences as the CLI's help
    Repairs.__doc__ = Repairs.__doc__.format(**MASKED_RULES)


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
    if repairs.tools == "render":
        calls = any(t.calls or t.role == "tool_call" for t in turns)
        turns = render_tools(turns, note)
        if calls and definitions is None:
            note("no_tool_definitions", "tool calls trained without the tool definitions they call")
    else:
        turns = drop_tools(turns, note)
        definitions = None
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
        turns = write_definitions(turns, definitions, note)
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
    """Apply ``repairs.masked`` to the assistant turns marked ``weight: 0`` (see :data:`MASKED_RULES`)."""
    kept: list[Turn] = []
    for index, turn in enumerate(turns):
        weight: object = turn.weight
        if weight is not None and (isinstance(weight, bool) or weight not in (0, 1)):
            raise Reject("invalid_weight", f"message {turn.number} has weight {turn.weight!r}: use 0 or 1")
        if weight is not None and turn.role not in ("assistant", "tool_call"):  # a call becomes an assistant
            note(
                "ignored_keys",
                f"left out the weight {weight!r} of message {turn.number} ({turn.role}): only assistant "
                "turns are weighted",
            )
        if turn.weight != 0 or turn.role not in ("assistant", "tool_call"):
            kept.append(turn)
            continue
        if repairs.masked == "reject":
            raise Reject(
                "masked_turn",
                f"message {turn.number} has weight 0: its author did not want it trained on, and the "
                "platform trains on every assistant turn",
            )
        if repairs.masked == "cut":
            asked = index - 1 if index and turns[index - 1].role == "user" else index
            note(
                "cut_masked",
                f"cut before message {turns[asked].number} (message {turn.number} has weight 0, not to be "
                f"trained on): {len(turns) - asked} of {len(turns)} messages left out",
            )
            return turns[:asked]
        note("drop_masked", f"removed message {turn.number} (weight 0, not to be trained on)")
    return kept


def _text_of(turn: Turn, repairs: Repairs, note: Note) -> str:
    content = turn.content
    if isinstance(content, str):
        return content
    if content is None:
        return ""
    parts = as_array(content)
    if parts is not None:
        return _parts_text(turn, parts, repairs, note)
    raise Reject(
        "invalid_content", f"message {turn.number} has a content of type {type(content).__name__}, not text"
    )


def _parts_text(turn: Turn, parts: list[Any], repairs: Repairs, note: Note) -> str:
    """The text of a content given as a list of parts; media parts dropped or rejected."""
    texts: list[str] = []
    dropped: dict[str, int] = {}
    for part in parts:
        obj = as_object(part)
        kind = obj.get("type", "text") if obj is not None else type(part).__name__
        key = _TEXT_PARTS.get(kind) if isinstance(kind, str) else None
        text = obj.get(key) if obj is not None and key is not None else None
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(text, str):
            texts.append(text)
        elif kind in MEDIA_PARTS and repairs.images == "drop":
            dropped[str(kind)] = dropped.get(str(kind), 0) + 1
        else:
            advice = " (--images drop keeps the message's text)" if kind in MEDIA_PARTS else ""
            raise Reject(
                "non_text_part",
                f"message {turn.number} has a content part of type {kind!r}: the platform trains on "
                f"text only{advice}",
            )
    if not repairs.join_parts:
        raise Reject("content_parts", f"message {turn.number} has its content as a list of parts")
    if dropped:
        what = ", ".join(f"{n} {kind} part{'s' if n > 1 else ''}" for kind, n in dropped.items())
        note("drop_media_parts", f"message {turn.number}: dropped {what}, kept its text")
    note("join_parts", f"message {turn.number}: joined {len(texts)} text parts with a newline")
    return "\n".join(texts)


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
