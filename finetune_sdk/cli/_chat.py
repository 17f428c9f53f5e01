"""``finetune chat`` (one prompt, or a conversation read from stdin) and ``finetune compare``."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from .._client import Client
from .._text import plural
from ._output import TEXT_FILE, CliError, echo, note, safe_comparison, spinner
from ._state import State, pass_state

__all__ = ["chat", "compare"]

_EXIT_WORDS = frozenset({"/exit", "/quit"})

LENGTH_NOTE = "[stopped: max_tokens reached]"
"""On stderr after a reply that stopped because it used up ``--max-tokens`` (finish_reason "length")."""


def _sampling(max_tokens: int | None, temperature: float | None) -> dict[str, Any]:
    """The chat keywords given on the command line (the SDK's defaults for the others)."""
    options = {"max_tokens": max_tokens, "temperature": temperature}
    return {key: value for key, value in options.items() if value is not None}


_MAX_TOKENS = click.option("--max-tokens", type=click.IntRange(min=1), help="The longest reply, in tokens.")
_TEMPERATURE = click.option("--temperature", type=click.FloatRange(min=0), help="Sampling temperature.")


def _stream_reply(
    client: Client, model: str, messages: Any, system: str | None, options: dict[str, Any]
) -> str:
    """Print the reply to stdout piece by piece as it arrives; return it whole.

    A reply cut short by the token budget is followed by a note on stderr saying so.
    """
    with client.chat(model, messages, system=system, **options) as stream:
        for delta in stream:
            echo(delta, nl=False)
    echo()
    if stream.finish_reason == "length":
        note(LENGTH_NOTE)
    return stream.text


def _typed_lines() -> Iterator[str]:
    """Lines typed at a terminal, after a ``> `` prompt on stderr, until Ctrl-D."""
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401 - gives input() line editing and history
    while True:
        click.echo("> ", err=True, nl=False)
        try:
            yield input()
        except EOFError:
            click.echo(err=True)
            return


@click.command()
@click.option("--model", "-m", required=True, help="A base model or a tuned model (ft:...).")
@click.option("--system", "-s", help="The system prompt.")
@_MAX_TOKENS
@_TEMPERATURE
@click.argument("prompt", required=False)
@pass_state
def chat(
    state: State,
    *,
    model: str,
    system: str | None,
    max_tokens: int | None,
    temperature: float | None,
    prompt: str | None,
) -> None:
    """Chat with a model: one PROMPT, or a conversation.

    The reply is streamed to stdout as it arrives. Without PROMPT, lines are read from stdin.

    In a conversation each line is one turn and the history is kept; /exit (or the end of the
    input) ends it, /reset forgets the history.
    """
    if prompt is not None and not prompt.strip():
        raise CliError("the prompt is empty: give some text, or no PROMPT to chat line by line", exit_code=2)
    client = state.client()
    options = _sampling(max_tokens, temperature)
    if prompt is not None:
        _stream_reply(client, model, prompt, system, options)
        return
    typed = sys.stdin.isatty()
    if typed:
        note(f"chatting with {model}: /exit or Ctrl-D to leave, /reset to start over")
    history: list[dict[str, str]] = []
    for line in _typed_lines() if typed else sys.stdin:
        text = line.strip()
        if not text:
            continue
        if text in _EXIT_WORDS:
            break
        if text == "/reset":
            history.clear()
            continue
        history.append({"role": "user", "content": text})
        reply = _stream_reply(client, model, history, system, options)
        history.append({"role": "assistant", "content": reply})


def _read_system(path: Path | None) -> str | None:
    if path is None:
        return None
    return path.read_text(encoding="utf-8").strip() or None


@click.command()
@click.option("--base", required=True, metavar="MODEL", help="The base model.")
@click.option("--base-system", type=TEXT_FILE, metavar="FILE", help="The base setup's (long) system prompt.")
@click.option("--tuned", required=True, metavar="MODEL", help="The tuned model (ft:...).")
@click.option(
    "--tuned-system", type=TEXT_FILE, metavar="FILE", help="The tuned setup's (short) system prompt."
)
@click.option("--prompts-file", type=TEXT_FILE, metavar="FILE", help="More prompts, one per line.")
@_MAX_TOKENS
@_TEMPERATURE
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@click.argument("prompts", nargs=-1)
@pass_state
def compare(
    state: State,
    *,
    base: str,
    base_system: Path | None,
    tuned: str,
    tuned_system: Path | None,
    prompts_file: Path | None,
    max_tokens: int | None,
    temperature: float | None,
    as_json: bool,
    prompts: tuple[str, ...],
) -> None:
    """Compare a base setup with a tuned one.

    Sends each prompt to both and prints replies, prompt tokens and latency side by side.
    """
    todo = list(prompts)
    if prompts_file is not None:
        todo += [
            line.strip() for line in prompts_file.read_text(encoding="utf-8").splitlines() if line.strip()
        ]
    if not todo:
        raise click.UsageError("give at least one prompt (PROMPTS... or --prompts-file)")
    client = state.client()
    with spinner(f"asking {base} and {tuned} {plural(len(todo), 'prompt')}"):
        comparison = client.compare(
            todo,
            base=(base, _read_system(base_system)),
            tuned=(tuned, _read_system(tuned_system)),
            **_sampling(max_tokens, temperature),
        )
    if as_json:
        echo(comparison.to_json())
    elif Console().is_terminal:
        safe_comparison(comparison).print()
    else:
        echo(comparison.table())
