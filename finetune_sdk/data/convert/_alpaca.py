"""Alpaca records: ``instruction``, ``input``, ``output``, an optional ``system`` and ``history`` as
``[[question, answer], ...]`` (earlier turns), the way LLaMA-Factory reads them: the prompt is the
instruction, then the input on a new line when there is one.

Preference data (``chosen`` and ``rejected``, or an ``output`` list of ranked answers) is rejected with its
reason (``preference_pair``): joined into one answer, it would train on the rejected one.

Nothing is dropped silently: an ``input``, ``system`` or ``history`` that is neither missing, ``null`` nor
of its type (text; text; a list of pairs) rejects the record with its reason rather than being left out.
"""

from __future__ import annotations

from typing import Any

from .._json import as_array, as_object, as_pair_list
from ._fields import FieldMap
from ._repairs import Note, Reject, Turn

__all__ = ["alpaca_turns"]


def alpaca_turns(record: Any, fields: FieldMap, note: Note) -> list[Turn]:
    """The turns of one Alpaca record."""
    prompt_key, response_key, system_key = fields.prompt, fields.response, fields.system
    input_key = fields.input or "input"
    assert prompt_key
    assert response_key
    obj = as_object(record)
    if obj is None:
        raise Reject("not_an_object", f"the record is a JSON {type(record).__name__}, not an object")
    if response_key not in obj and "chosen" in obj and "rejected" in obj:
        raise Reject(
            "preference_pair",
            f"the record has no {response_key!r} but a 'chosen' and a 'rejected' answer (preference data, "
            "for DPO): the platform trains on one answer per prompt; to train on the chosen ones, convert "
            "with --field response=chosen (fields=FieldMap(response='chosen'))",
        )
    for key in (prompt_key, response_key):
        if key not in obj:
            raise Reject("missing_field", f"the record has no {key!r}")
    answers = as_array(obj[response_key])
    if answers is not None and len(answers) > 1:
        # LLaMA-Factory's ranking data: the chosen answer, then the rejected one; joined, the model would
        # be trained on the answer that was rejected.
        raise Reject(
            "preference_pair",
            f"the {response_key!r} is a list of {len(answers)} answers (ranking data: the chosen answer "
            "first, then the rejected): the platform trains on one answer per prompt; keep the chosen one "
            f"as the {response_key!r}",
        )
    turns: list[Turn] = []
    system = obj.get(system_key) if system_key else None
    if system is not None and not isinstance(system, str):
        raise Reject("invalid_content", f"the {system_key!r} is a JSON {type(system).__name__}, not text")
    if system is not None and system.strip():
        turns.append(Turn("system", system))
    given = obj.get("history")
    history = [] if given is None else as_array(given)
    if history is None:
        raise Reject("invalid_history", "history is not a list of [question, answer] pairs")
    for number, item in enumerate(history):
        pair = as_pair_list(item)
        if pair is None or len(pair) != 2:
            raise Reject("invalid_history", f"history item {number} is not a [question, answer] pair")
        turns += [Turn("user", pair[0]), Turn("assistant", pair[1])]
    prompt, extra = obj[prompt_key], obj.get(input_key)
    if extra is not None and not isinstance(extra, str):
        raise Reject("invalid_content", f"the {input_key!r} is a JSON {type(extra).__name__}, not text")
    if isinstance(prompt, str) and isinstance(extra, str) and extra.strip():
        prompt = f"{prompt}\n{extra}" if prompt.strip() else extra
        note("join_input", "the input joined to the instruction with a newline")
    turns += [Turn("user", prompt), Turn("assistant", obj[response_key])]
    used = (prompt_key, response_key, system_key, input_key, "history")
    ignored = sorted(str(k) for k in obj if k not in used)  # in memory, keys of any type
    if ignored:
        note("ignored_keys", f"left out the record's keys {', '.join(ignored)} (not training text)")
    return turns
