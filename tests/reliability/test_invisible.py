"""The ``finetune`` command never writes a bidi control or an invisible character it got from a server or
a file name: ``invoice\\u202efdp.exe`` would show as ``invoiceexe.pdf``, ``train\\u200b.jsonl`` as
``train.jsonl``. They print as visible escapes (``\\u202e``, the JSON escape, so ``--json`` output still
says exactly what was sent), through a pipe and on a terminal alike; an emoji written with a zero-width
joiner or with tag characters (a region's flag) is kept whole."""

from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path

import orjson
import pytest

from finetune_sdk.cli._app import run
from finetune_sdk.emulator import Emulator

from ..cli.conftest import FAST, cli_env, command, on_a_terminal, write_dataset
from .hostile import TAINTED_COMMANDS, HostileServer, tainted_platform

#: Right-to-left override and isolate, pop, zero-width space, word joiner, byte order mark, left-to-right
#: mark, Arabic letter mark, a soft hyphen, a tag letter (ASCII smuggling), a line separator.
HIDDEN = "\u202e\u2066\u2069\u200b\u2060\ufeff\u200e\u061c\u00ad\U000e0041\u2028"
ESCAPED = "\\u202e\\u2066\\u2069\\u200b\\u2060\\ufeff\\u200e\\u061c\\u00ad\\udb40\\udc41\\u2028"
NAME = "invoice\u202efdp.exe"


def unsafe_in(text: str) -> list[str]:
    """Every format character (Cf), line or paragraph separator, or control but newline and tab."""
    return [
        f"U+{ord(c):04X}"
        for c in text
        if unicodedata.category(c) in ("Cf", "Zl", "Zp")
        or (unicodedata.category(c) == "Cc" and c not in "\n\t")
    ]


def hidden_server() -> HostileServer:
    return tainted_platform(HIDDEN, f"{NAME}{HIDDEN}.jsonl")


COMMANDS = [*TAINTED_COMMANDS, ["files", "list", "--json"]]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_server_text_prints_without_bidi_or_invisible_characters(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with hidden_server() as server:
        run(["--api-key", "k", "--base-url", server.base_url, *args])
    out, err = capsys.readouterr()
    assert unsafe_in(out + err) == [], (out + err)[:500]
    assert ESCAPED in out + err  # shown, not obeyed
    if args[:3] == ["jobs", "get", "--json"]:
        assert orjson.loads(out)["model"] == f"Qwen{HIDDEN}"  # the JSON still says exactly what was sent
    if args[:3] == ["files", "list", "--json"]:
        assert orjson.loads(out)[0]["filename"] == f"{NAME}{HIDDEN}.jsonl"


@pytest.mark.parametrize("content", ["not json\n", None], ids=["invalid", "valid"])
def test_a_file_name_prints_without_bidi_or_invisible_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None
) -> None:
    path = tmp_path / f"{NAME}\u200b.jsonl"
    if content is None:
        write_dataset(path)
    else:
        path.write_text(content, encoding="utf-8")
    run(["validate", str(path)])
    out, err = capsys.readouterr()
    assert unsafe_in(out + err) == [], (out + err)[:500]
    assert "invoice\\u202efdp.exe\\u200b.jsonl" in out + err


def test_a_missing_file_named_with_a_bidi_control(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["validate", str(tmp_path / NAME)]) == 1
    out, err = capsys.readouterr()
    assert unsafe_in(out + err) == [], err
    assert "invoice\\u202efdp.exe" in err


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal")
def test_on_a_terminal_too(tmp_path: Path) -> None:
    """``upload`` (its progress bar names the file), then ``files list``, with stdout and stderr on a
    terminal, against the emulator, which keeps the name as it was sent."""
    path = write_dataset(tmp_path / f"{NAME}\u2066.jsonl")
    with Emulator(time_scale=FAST) as emu:
        env = cli_env(emu, NO_COLOR="1")
        uploaded_code, _, uploaded = on_a_terminal(command("upload", str(path)), env, stdout=True)
        listed_code, _, listed = on_a_terminal(command("files", "list"), env, stdout=True)
    assert uploaded_code == 0 and listed_code == 0, uploaded + listed
    uploaded, listed = (_without_terminal_codes(shown) for shown in (uploaded, listed))
    assert unsafe_in(uploaded) == [], uploaded
    assert unsafe_in(listed) == [], listed
    assert "uploading invoice\\u202efdp.exe\\u2066.jsonl" in uploaded  # the progress bar
    assert "invoice\\u202efdp.exe\\u2066.jsonl" in listed


def _without_terminal_codes(shown: str) -> str:
    """What a terminal showed, without the cursor and colour sequences rich draws its bar with."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown).replace("\r", "")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("invoice\u202efdp.exe", "invoice\\u202efdp.exe"),
        ("a\u2066b\u2067c\u2068d\u2069", "a\\u2066b\\u2067c\\u2068d\\u2069"),
        ("\u200e\u200f\u061c", "\\u200e\\u200f\\u061c"),
        ("train\u200b.jsonl", "train\\u200b.jsonl"),
        ("\ufeffkey\u2060", "\\ufeffkey\\u2060"),
        ("a\u200cb\u200db", "a\\u200cb\\u200db"),  # joiners between letters: shown
        ("hidden\U000e0068\U000e0069", "hidden\\udb40\\udc68\\udb40\\udc69"),  # tag letters: ASCII smuggling
        ("\u2028\u2029", "\\u2028\\u2029"),
        ("\u3164", "\\u3164"),
        ("\U0001f469\u200d\U0001f4bb", "\U0001f469\u200d\U0001f4bb"),  # woman at a computer: kept
        ("\U0001f469\U0001f3fd\u200d\U0001f52c", "\U0001f469\U0001f3fd\u200d\U0001f52c"),  # with a skin tone
        ("\U0001f3f3\ufe0f\u200d\U0001f308", "\U0001f3f3\ufe0f\u200d\U0001f308"),  # rainbow flag
        ("\u200d\U0001f4bb", "\u200d\U0001f4bb"),  # a streamed reply cut inside the sequence
        ("\u200d", "\\u200d"),
        ("\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", None),  # England's flag
        (
            "\U0001f3f4" + "\U000e0061" * 9 + "\U000e007f",
            "\U0001f3f4" + "\\udb40\\udc61" * 9 + "\\udb40\\udc7f",
        ),
        ("中文 مرحبا ok", None),
        ("plain\ttext\nnext", None),
    ],
)
def test_safe(text: str, shown: str | None) -> None:
    from finetune_sdk.cli._output import safe

    assert safe(text) == (text if shown is None else shown)


def test_every_escape_reads_back_as_the_character_in_json() -> None:
    from finetune_sdk.cli._output import safe

    every = "".join(HIDDEN) + "\x1b\x9b" + "".join(chr(c) for c in range(0xE0020, 0xE0080))
    assert orjson.loads(f'"{safe(every)}"') == every


def test_every_format_character_of_this_pythons_unicode_is_shown() -> None:
    """The class of characters is written out (building it at import would slow the command down):
    a newer Unicode with a new format character fails here until it is added."""
    from finetune_sdk.cli._output import safe

    formats = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]
    kept = [f"U+{ord(c):04X}" for c in formats if safe(f"a{c}b") == f"a{c}b"]
    assert kept == []
