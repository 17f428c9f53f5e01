"""What the ``finetune`` command writes: results on stdout, progress and errors on stderr.

Results are plain text (aligned columns, ``key: value`` lines) or JSON, so they pipe into other tools.
Progress bars and spinners are drawn by rich on stderr, and only when stderr is a terminal; rich also
honours ``NO_COLOR``. Nothing here colours or decorates stdout.

Everything written goes through :func:`safe` first, on a terminal and in a pipe alike: text from the
platform or from file names cannot move the cursor, clear the screen or retitle the terminal, nor show
itself in another order (bidi controls) or hide a character (invisible ones).
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import re
import unicodedata
from collections.abc import Generator, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

import click
import orjson

from .._text import plural, table_lines

# Every command imports this module, ``finetune --help`` too: rich, pydantic, the data side and the
# evaluation load where they are used, not here.
if TYPE_CHECKING:
    from pydantic import BaseModel
    from rich.console import Console

    from ..data._schema import ValidationIssue, ValidationReport
    from ..data._stats import DatasetStats
    from ..evaluate import Comparison

__all__ = [
    "DATASET_FILE",
    "INTERRUPTED",
    "TEXT_FILE",
    "TIMED_OUT",
    "WORKERS",
    "CliError",
    "InputFile",
    "columns",
    "describe_value",
    "echo",
    "error",
    "json_option",
    "key_values",
    "note",
    "print_comparison",
    "print_json",
    "read_text",
    "report_lines",
    "safe",
    "safe_markup",
    "spinner",
    "stats_lines",
    "stderr",
    "when",
]


INTERRUPTED: Final = 130
"""The exit status of a command stopped by Ctrl-C (128 + SIGINT), as shells report it."""

TIMED_OUT: Final = 124
"""The exit status of a wait that gave up after ``--timeout`` (the job still runs), as ``timeout(1)``."""


class CliError(Exception):
    """A failure the command explains in one line (``error: <message>``), exiting with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def read_text(path: Path) -> str:
    """The text of a small input (a system prompt, a prompts file); one that is not UTF-8 is named in
    the error, which Python's own decode error does not do."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CliError(
            f"{path} is not UTF-8 text (byte {exc.start}: {exc.reason}): save it as UTF-8"
        ) from None


class InputFile(click.ParamType):  # type: ignore[type-arg]  # generic only from click 8.2 on
    """A file to read, as a :class:`~pathlib.Path`: one that is missing or a directory is a one-line
    ``error:`` with exit status 1 (like every other failure), not click's usage error."""

    name = "file"

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(value)
        if path.is_dir():
            raise CliError(f"{path} is a directory, not {self.kind}")
        if not path.exists():
            raise CliError(f"No such file: {path}")
        return path


DATASET_FILE = InputFile("a .jsonl file")
"""A dataset argument (``validate FILE``, ``upload FILE``...)."""

TEXT_FILE = InputFile("a text file")
"""A text file option (a system prompt, a list of prompts)."""


class Workers(click.ParamType):  # type: ignore[type-arg]  # generic only from click 8.2 on
    """``auto`` (the SDK's choice: files of 128 MiB and more are split over processes) or a count >= 1."""

    name = "auto|N"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int | str:
        text = str(value).strip()
        if text.lower() == "auto":
            return "auto"
        if not text.isdigit() or int(text) < 1:
            self.fail(f"{text!r} is neither auto nor a whole number from 1", param, ctx)
        return int(text)


WORKERS = Workers()

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
"""``--json`` on the commands that show platform objects: for scripts."""


# What a terminal must not be handed raw, from a server or a file name:
# * C0 controls but newline and tab, DEL, and C1 controls (8-bit CSI, OSC ...); ESC is in C0, so every
#   escape sequence loses its introducer and prints as plain text;
# * every format character (Unicode category Cf, as of Unicode 15): the bidi controls (U+202A-U+202E,
#   U+2066-U+2069, U+200E, U+200F, U+061C) that make a terminal show text in another order than it is
#   (``invoice\u202efdp.exe`` shows as ``invoiceexe.pdf``), and the invisible ones (U+200B-U+200D, U+2060,
#   U+FEFF, the tag characters ...) that make two different names look the same;
# * the line and paragraph separators (U+2028, U+2029) and the Hangul fillers, blank as they are.
_UNSAFE_CLASS = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f"
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
    "\u2028\u2029\u115f\u1160\u3164\uffa0"
)
_UNSAFE = re.compile(f"[{_UNSAFE_CLASS}]")
_UNSAFE_ASCII = re.compile("[\x00-\x08\x0b-\x1f\x7f]")  # the same, for text of ASCII only (faster)
_ZWJ = "\u200d"
# The skin tones and the emoji presentation selector, which end an emoji as a symbol (So) does.
_EMOJI_ENDS = frozenset(["\ufe0f", *map(chr, range(0x1F3FB, 0x1F400))])
# An emoji flag of a region (England: the black flag, the tag letters g b e n g, the cancel tag) is
# written with tag characters: kept whole, as the emoji it is. A longer run of tags is not a flag.
_FLAG = re.compile("\U0001f3f4[\U000e0020-\U000e007e]{1,7}\U000e007f")
_TAGS = range(0xE0020, 0xE0080)


def _is_emoji(char: str) -> bool:
    return char in _EMOJI_ENDS or unicodedata.category(char) == "So"


def _joins_emoji(text: str, at: int) -> bool:
    """Whether the zero-width joiner at ``at`` is part of an emoji sequence (woman, ZWJ, laptop: a woman
    at a computer): an emoji on each side (or the edge of ``text`` on one side only, as a streamed reply
    may be cut there)."""
    before = text[at - 1] if at > 0 else None
    after = text[at + 1] if at + 1 < len(text) else None
    if before is None and after is None:
        return False
    return (before is None or _is_emoji(before)) and (after is None or _is_emoji(after))


def _in_flag(text: str, at: int) -> bool:
    """Whether the tag character at ``at`` belongs to a region's flag (at most 9 characters long)."""
    start = text.rfind("\U0001f3f4", max(0, at - 8), at)
    return start >= 0 and (found := _FLAG.match(text, start)) is not None and at < found.end()


def _escaped(char: str) -> str:
    # The JSON escape: readable as text, and the same character again inside a JSON string (a character
    # beyond U+FFFF as its two surrogates, as JSON writes it).
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def _visible(found: re.Match[str]) -> str:
    char = found[0]
    if char == _ZWJ and _joins_emoji(found.string, found.start()):
        return char
    if ord(char) in _TAGS and _in_flag(found.string, found.start()):
        return char
    return _escaped(char)


def safe(text: str) -> str:
    """``text`` with every control character but newline and tab, every bidi control and every invisible
    character shown as ``\\u001b``, ``\\u202e`` and the like (a CR-LF line end is kept as a newline; the
    zero-width joiner inside an emoji sequence, and the tags of a region's flag, are kept)."""
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    return (_UNSAFE_ASCII if text.isascii() else _UNSAFE).sub(_visible, text)


def safe_markup(text: str) -> str:
    """:func:`safe` text for a rich markup string (a progress column): ``[...]`` shown as it is."""
    from rich.markup import escape

    return escape(safe(text))


def print_comparison(comparison: Comparison) -> None:
    """The comparison on a terminal: the setups, then a rich table of the answers with the summary (the
    figures every report shows) as its caption; every text :func:`safe` and none read as markup."""
    from rich.console import Console
    from rich.text import Text

    from ..evaluate._report_text import rich_table, setups

    console = Console(highlight=False)
    console.print(Text(safe(setups(comparison))))
    console.print(rich_table(comparison, comparison.figures(), clean=safe))


@functools.cache
def stderr() -> Console:
    """The console for progress and errors; ``stderr().is_terminal`` decides whether bars are drawn."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def echo(text: str = "", *, nl: bool = True) -> None:
    """A result line on stdout (``nl=False``: a piece of one, as a streamed reply)."""
    click.echo(safe(text), nl=nl)


def note(text: str) -> None:
    """A progress or help line on stderr (plain, so it is readable in logs)."""
    click.echo(safe(text), err=True)


def error(message: str) -> None:
    """``error: <message>`` on stderr, the prefix in red on a colour terminal."""
    from rich.text import Text

    stderr().print(Text.assemble(("error:", "bold red"), " ", safe(message)))


def print_json(value: BaseModel | Sequence[BaseModel]) -> None:
    """A model, or a list of models, as indented JSON on stdout."""
    if isinstance(value, Sequence):
        data = [item.model_dump(mode="json") for item in value]
        echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
    else:
        echo(value.model_dump_json(indent=2))


def columns(rows: Iterable[Sequence[object]]) -> None:
    """Rows as left-aligned columns, two spaces apart, on stdout (None shows as ``-``)."""
    cells = [["-" if cell is None else str(cell) for cell in row] for row in rows]
    for line in table_lines(cells):
        echo(line)


def key_values(pairs: Iterable[tuple[str, object]]) -> None:
    """``key: value`` lines on stdout, skipping values that are None."""
    for key, value in pairs:
        if value is not None:
            echo(f"{key}: {value}")


def when(timestamp: int | None) -> str | None:
    """A Unix time as local ``YYYY-MM-DD HH:MM:SS``."""
    if timestamp is None:
        return None
    return datetime.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")


@contextlib.contextmanager
def spinner(text: str) -> Generator[None, None, None]:
    """A spinner with ``text`` on stderr while the block runs (nothing when stderr is not a terminal)."""
    console = stderr()
    if not console.is_terminal:
        yield
        return
    with console.status(text):
        yield


# -- datasets ------------------------------------------------------------------------------------


def _issue_line(path: str, issue: ValidationIssue, kind: str = "") -> str:
    where = path if issue.line is None else f"{path}:{issue.line}"
    return f"{where}: {kind}{issue.code}: {issue.message}"


#: Codes that say a file is another format (the convert command comes with them).
FORMAT_CODES = frozenset(
    {
        "json_array", "looks_like_sharegpt", "looks_like_alpaca", "looks_like_openai", "looks_like_table",
        "csv_file", "not_utf8", "compressed_file", "parquet_file", "arrow_file", "xlsx_file", "xls_file",
        "zip_file",
    }
)  # fmt: skip
#: Line errors printed for a file of another format before the count of the others.
SHOWN_LINE_ERRORS = 5


def report_lines(report: ValidationReport, *, every: bool = False) -> list[str]:
    """The lines for one file's report, as every command prints them: for a file of another format, what
    it is and the command that converts it first, then a few line errors and the count of the others (all
    of them with ``every``); else every problem; then the summary line."""
    foreign = [e for e in report.errors if e.code in FORMAT_CODES]
    others = [e for e in report.errors if e.code not in FORMAT_CODES]
    report = report.model_copy(update={"errors": foreign + others})  # the format and its command first
    line_errors = sum(1 for e in report.errors if e.line is not None)
    if not foreign or every or line_errors <= SHOWN_LINE_ERRORS:
        return _all_lines(report)
    cut = len(report.errors) - line_errors + SHOWN_LINE_ERRORS
    *shown, _ = _all_lines(report.model_copy(update={"errors": report.errors[:cut]}))
    more = line_errors - SHOWN_LINE_ERRORS
    stopped = " at least (validation stopped early)" if report.truncated else ""
    count = (
        f"{report.path}: ... and {plural(more, 'more line error')}{stopped}, most likely all from the format "
        "above (finetune validate --all-issues lists every one)"
    )
    at = len(shown) - len(report.warnings)
    return [*shown[:at], count, *shown[at:], _all_lines(report)[-1]]


def _all_lines(report: ValidationReport) -> list[str]:
    """Each problem as ``FILE:LINE: code: message`` (editors jump to it), then a summary line."""
    lines = [_issue_line(report.path, issue) for issue in report.errors]
    lines += [_issue_line(report.path, issue, "warning: ") for issue in report.warnings]
    errors, warnings = len(report.errors), len(report.warnings)
    if report.ok:
        head = f"{report.path}: ok, {plural(report.stats.examples, 'example')}"
    else:
        head = f"{report.path}: not valid, {plural(errors, 'error')}"
        if report.truncated:
            head += f" (stopped after {report.lines} lines, there may be more)"
    if warnings:
        head += f", {plural(warnings, 'warning')}"
    return [*lines, head]


def stats_lines(stats: DatasetStats) -> list[str]:
    """The statistics as ``key: value`` lines."""
    roles = stats.messages_by_role
    longest = f"{stats.longest_example_tokens} tokens"
    if stats.longest_example_line is not None:
        longest += f" (line {stats.longest_example_line})"
    return [
        f"examples: {stats.examples}",
        f"messages: {stats.messages} (system {roles.get('system', 0)}, user {roles.get('user', 0)},"
        f" assistant {roles.get('assistant', 0)})",
        f"characters: {stats.characters}",
        f"estimated tokens: {stats.estimated_tokens}",
        f"longest example: {longest}",
        f"over max_tokens ({stats.max_tokens}): {stats.over_max_tokens}",
    ]


def describe_value(value: Any) -> str:
    """A compact rendering of a mapping (``k=v, ...``) or a value, for ``key: value`` lines."""
    if isinstance(value, dict):
        pairs: dict[object, object] = cast("dict[object, object]", value)
        return ", ".join(f"{k}={v}" for k, v in pairs.items())
    return str(value)
