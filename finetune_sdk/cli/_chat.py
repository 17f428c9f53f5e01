"""``finetune chat`` (one prompt, or a conversation read from stdin) and ``finetune compare``."""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from .._atomic import atomic_write_text, check_outputs
from .._client import Client
from .._text import plural
from ..evaluate import CHECK_NAMES, Check, Comparison, parse_check
from ..evaluate._run import DEFAULT_CONCURRENCY, MAX_SAMPLES
from ..types import FineTuneJob, MetricsHistory
from ._options import count_option
from ._output import TEXT_FILE, CliError, echo, note, print_comparison, read_text, stderr
from ._state import State, pass_state

__all__ = ["CHECK_OPTION", "chat", "compare"]

_EXIT_WORDS = frozenset({"/exit", "/quit"})

LENGTH_NOTE = "[stopped: max_tokens reached]"
"""On stderr after a reply that stopped because it used up ``--max-tokens`` (finish_reason "length")."""


def _sampling(max_tokens: int | None, temperature: float | None) -> dict[str, Any]:
    """The chat keywords given on the command line (the SDK's defaults for the others)."""
    options = {"max_tokens": max_tokens, "temperature": temperature}
    return {key: value for key, value in options.items() if value is not None}


_MAX_TOKENS = click.option("--max-tokens", type=click.IntRange(min=1), help="The longest reply, in tokens.")
_TEMPERATURE = click.option("--temperature", type=click.FloatRange(0, 2), help="Sampling temperature.")


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
        importlib.import_module("readline")  # gives input() line editing and history
    while True:
        click.echo("> ", err=True, nl=False)
        try:
            yield input()
        except EOFError:
            click.echo(err=True)
            return


@click.command()
@click.option("--model", "-m", required=True, metavar="MODEL", help="A base model or a tuned model (ft:...).")
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
    return read_text(path).strip() or None


def _checks(ctx: click.Context, param: click.Parameter, specs: tuple[str, ...]) -> list[Check]:
    """``--check ends-with=。`` ... as checks; a wrong one is a usage error naming it."""
    try:
        return [parse_check(spec) for spec in specs]
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


CHECK_OPTION = click.option(
    "--check",
    "checks",
    multiple=True,
    metavar="CHECK",
    callback=_checks,
    help=f"Score every reply with a named check (repeatable): {', '.join(CHECK_NAMES)};"
    " a value follows '=', e.g. ends-with=。, max-chars=40, valid-json=title,score, matches=REGEX.",
)
"""``--check CHECK`` (repeatable), parsed into checks: ``compare`` and ``tune``."""


@contextlib.contextmanager
def _call_progress(description: str, total: int) -> Generator[Callable[[int, int], None] | None, None, None]:
    """A bar of the calls made, on stderr when it is a terminal (else nothing: logs stay clean)."""
    console = stderr()
    if not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda done, all_calls: progress.update(task, completed=done)


_REPORT_SUFFIXES = frozenset({".html", ".htm", ".md", ".markdown", ".json"})


def _write_report(comparison: Comparison, path: Path, job: tuple[FineTuneJob, MetricsHistory] | None) -> None:
    """``.md`` gets Markdown, ``.json`` JSON, ``.html`` the HTML page (with the tuned job's loss curves
    when it is known), written atomically."""
    suffix = path.suffix.lower()
    if suffix in {".md", ".markdown"}:
        text = comparison.to_markdown()
    elif suffix == ".json":
        text = comparison.to_json()
    elif job is not None:
        text = comparison.to_html(metrics=job[1], job=job[0])
    else:
        text = comparison.to_html()
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise CliError(f"cannot write the report to {path}: {exc.strerror or exc}") from None
    note(f"report written to {path}")


def _tuned_job(client: Client, job_id: str, tuned: str | None) -> tuple[FineTuneJob, MetricsHistory]:
    """The job and its metrics; a job that made another model than ``--tuned`` is a usage error."""
    job = client.jobs.retrieve(job_id)
    if tuned is not None and job.fine_tuned_model not in (None, tuned):
        raise click.UsageError(f"job {job.id} made {job.fine_tuned_model}, not {tuned}")
    return job, client.jobs.metrics(job)


@click.command()
@click.option("--base", required=True, metavar="MODEL", help="The base model.")
@click.option("--base-system", type=TEXT_FILE, metavar="FILE", help="The base setup's (long) system prompt.")
@click.option("--tuned", metavar="MODEL", help="The tuned model (ft:...); with --job, its model by default.")
@click.option(
    "--tuned-system", type=TEXT_FILE, metavar="FILE", help="The tuned setup's (short) system prompt."
)
@click.option("--prompts-file", type=TEXT_FILE, metavar="FILE", help="More prompts, one per line.")
@CHECK_OPTION
@count_option(
    "--samples",
    default=1,
    most=MAX_SAMPLES,
    help="Ask each prompt this many times on each side (with --temperature: how stable each side is).",
)
@count_option("--concurrency", default=DEFAULT_CONCURRENCY, help="Calls at once.")
@click.option(
    "--report",
    "reports",
    multiple=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    metavar="FILE",
    help="Also write a report: FILE.html (one self-contained page), FILE.md (Markdown) or FILE.json;"
    " repeatable, every report showing the same figures.",
)
@click.option(
    "--job",
    "job_id",
    metavar="JOB",
    help="The tuned model's job: the HTML report shows its loss curves (--tuned defaults to its model).",
)
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
    tuned: str | None,
    tuned_system: Path | None,
    prompts_file: Path | None,
    checks: list[Check],
    samples: int,
    concurrency: int,
    reports: tuple[Path, ...],
    job_id: str | None,
    max_tokens: int | None,
    temperature: float | None,
    as_json: bool,
    prompts: tuple[str, ...],
) -> None:
    """Compare a base setup with a tuned one.

    Sends each prompt to both and prints replies, prompt tokens and latency side by side, then the
    figures (median and p95 latency, time to first token, tokens per call counted by the SDK and as
    the server reported them) and with --check the pass rate of every check on each side. The reports
    show the same figures; all say "emulated" when the server is the finetune emulator. With --job,
    the HTML report adds the tuned job's loss curves.
    """
    todo = list(prompts)
    if prompts_file is not None:
        todo += [line.strip() for line in read_text(prompts_file).splitlines() if line.strip()]
    if not todo:
        raise click.UsageError("give at least one prompt (PROMPTS... or --prompts-file)")
    # Before any call: a report over an input, or two reports in one file, would lose what was paid for.
    inputs = [path for path in (base_system, tuned_system, prompts_file) if path is not None]
    check_outputs([("the report", path) for path in reports], [("an input", path) for path in inputs])
    for report in reports:
        if report.suffix.lower() not in _REPORT_SUFFIXES:
            raise click.BadParameter(
                f"{report}: a report is FILE.html (or .htm), FILE.md (or .markdown) or FILE.json",
                param_hint="'--report'",
            )
        if not report.absolute().parent.is_dir():
            raise CliError(f"cannot write the report to {report}: No such file or directory")
    client = state.client()
    job = _tuned_job(client, job_id, tuned) if job_id is not None else None
    tuned = tuned or (job[0].fine_tuned_model if job is not None else None)
    if not tuned:
        raise click.UsageError("give the tuned model (--tuned MODEL) or a job that has one (--job JOB)")
    total = 2 * samples * len(todo)
    with _call_progress(f"comparing {plural(len(todo), 'prompt')}", total) as on_progress:
        comparison = client.chat.compare(
            todo,
            base=(base, _read_system(base_system)),
            tuned=(tuned, _read_system(tuned_system)),
            checks=checks,
            samples=samples,
            concurrency=concurrency,
            on_progress=on_progress,
            **_sampling(max_tokens, temperature),
        )
    for report in reports:
        _write_report(comparison, report, job)
    if as_json:
        echo(comparison.to_json())
    elif Console().is_terminal:
        print_comparison(comparison)
    else:
        echo(comparison.table())
