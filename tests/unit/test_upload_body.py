"""``_upload``'s pure parts: the body an upload sends, and how each input is named, without a server."""

from __future__ import annotations

import io
import os
from pathlib import Path

import httpx
import pytest

from finetune_sdk._core.upload import Body, open_source, upload_spec


def test_a_body_is_the_stream_from_where_it_stood() -> None:
    stream = io.BytesIO(b"skip" + b"0123456789")
    stream.seek(4)
    seen: list[tuple[int, int]] = []
    body = Body(stream, lambda sent, total: seen.append((sent, total)))
    assert body.size == 10 and body.tell() == 0
    assert body.read(3) == b"012" and body.read() == b"3456789" and body.read() == b""
    assert seen == [(3, 10), (10, 10)]
    assert body.seek(0) == 0 and body.read(2) == b"01"  # a retry starts again, and so does the count
    assert seen[-1] == (2, 10)
    assert body.seek(-2, os.SEEK_END) == 8 and body.read() == b"89"
    assert body.seek(-1, os.SEEK_CUR) == 9


def test_a_silent_view_of_a_body_reports_nothing() -> None:
    seen: list[tuple[int, int]] = []
    body = Body(io.BytesIO(b"HEAD" + b"x" * 3_000_000), lambda sent, total: seen.append((sent, total)))
    body.read(10)
    body.seek(0)
    seen.clear()
    quiet = body.silent()
    assert quiet.read() == b"HEAD" + b"x" * 3_000_000 and seen == []


def test_httpx_sends_the_window_not_the_whole_file() -> None:
    stream = io.BytesIO(b"HEAD" + b'{"a": 1}\n')
    stream.seek(4)
    with open_source(("a.jsonl", stream)) as source:
        spec = upload_spec(source, "fine-tune", None)
        assert spec.files is not None
        request = httpx.Request("POST", "http://127.0.0.1/v1/files", files=spec.files(), data=spec.data)
        sent = request.read()
        again = httpx.Request("POST", "http://127.0.0.1/v1/files", files=spec.files(), data=spec.data)
        assert again.read().count(b'{"a": 1}\n') == 1  # a second attempt sends it once more, whole
    assert b'filename="a.jsonl"' in sent and b'{"a": 1}\n' in sent and b"HEAD" not in sent
    assert int(request.headers["content-length"]) == len(sent)


@pytest.mark.parametrize(
    ("given", "filename", "sent", "shown"),
    [
        (b"{}", None, "upload.jsonl", "upload.jsonl"),
        (b"{}", "x.jsonl", "x.jsonl", "x.jsonl"),
        (("p.jsonl", b"{}"), None, "p.jsonl", "p.jsonl"),
        (("p.jsonl", b"{}"), "p.jsonl", "p.jsonl", "p.jsonl"),
    ],
)
def test_names_sent_and_shown(given: object, filename: str | None, sent: str, shown: str) -> None:
    with open_source(given, filename=filename) as source:  # type: ignore[arg-type]
        assert (source.filename, source.shown_as) == (sent, shown)


def test_an_open_file_is_sent_under_its_name_and_shown_under_its_path(tmp_path: Path) -> None:
    path = str(tmp_path / "local.jsonl")
    Path(path).write_bytes(b"{}\n")
    with open(path, "rb") as file, open_source(file) as source:
        assert (source.filename, source.shown_as) == ("local.jsonl", path)
        assert source.path is None  # the caller's stream is read as it is, not copied
    with open(path, "rb") as file, open_source(file, filename="remote.jsonl") as source:
        assert (source.filename, source.shown_as) == ("remote.jsonl", "remote.jsonl")
