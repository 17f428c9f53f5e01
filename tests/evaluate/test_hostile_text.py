"""Text from a model, a prompt file or a caller is data: in the Markdown and HTML reports it shows as
the characters it is, and never makes a viewer fetch an image, follow a link or render markup.

The Markdown is rendered by a real CommonMark renderer (markdown-it-py, which rich depends on) with raw
HTML allowed, as a permissive viewer would; the HTML is parsed as a browser would read it.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from finetune_sdk.evaluate import Check, Comparison, ComparisonRow, Reply
from finetune_sdk.evaluate._report_md import md_cell, md_text

BEACON = "http://127.0.0.1:9"
HOSTILE = [
    f"![beacon]({BEACON}/image.png)",
    f"[click here]({BEACON}/link)",
    f"<{BEACON}/autolink>",
    f"see [the docs][1]\n\n[1]: {BEACON}/reference",
    f'<img src="{BEACON}/raw.png"> and <script>alert(1)</script>',
    "&lt;img src=x&gt; &amp; &#x41; &copy;",
    "back\\slash \\| a pipe | and `code` *em* _under_ ~~struck~~ \\[x\\]",
    "line one\nline two\r\nline three",
    "www.example.com and https://example.com/x?a=1",
    "# heading\n- item\n> quote\n1. one",
]
SAFE_TAGS = {"html", "h1", "h2", "p", "blockquote", "table", "thead", "tbody", "tr", "th", "td", "br"}


def hostile_comparison() -> Comparison:
    rows = tuple(
        ComparisonRow(text, Reply(text, 10, 5, 0.2, 0.1, "stop"), Reply(text, 5, 5, 0.1, 0.05, "stop"))
        for text in HOSTILE
    )
    checks = [Check(text, lambda prompt, reply: len(reply) > 30) for text in HOSTILE]
    comparison = Comparison(base=(HOSTILE[0], HOSTILE[1]), tuned=(HOSTILE[2], None), rows=rows)
    return comparison.with_checks(checks)


class Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "br":
            self.text.append("\n")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def collect(page: str) -> Collect:
    parser = Collect()
    parser.feed(page)
    parser.close()
    return parser


def flat_lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def test_markdown_renders_every_hostile_text_as_text() -> None:
    markdown_it = pytest.importorskip("markdown_it")
    note = " ".join(HOSTILE)
    md = hostile_comparison().to_markdown(note=note)
    html = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(md)
    doc = collect(html)
    assert {tag for tag, _ in doc.tags} <= SAFE_TAGS, {tag for tag, _ in doc.tags} - SAFE_TAGS
    assert all(not attrs for _, attrs in doc.tags)  # no src, no href, nothing to fetch
    text = "".join(doc.text)
    for hostile in HOSTILE:  # every line of every text shows as written (white space aside)
        for line in flat_lines(hostile):
            assert line in text, line
    assert " ".join(note.split()) in " ".join(text.split())  # the note, on one line


def test_markdown_breaks_bare_url_autolinks() -> None:
    md = hostile_comparison().to_markdown(note=f"visit {BEACON}/note or WWW.example.org")
    assert "://" not in md.replace("\\://", "")  # GFM would link a bare http:// ...
    assert "www.example" not in md.lower()  # ... and www.
    assert "www\\.example.com" in md and "WWW\\.example.org" in md


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("a|b", "a\\|b"),
        ("a\\b", "a\\\\b"),
        ("![x](y)", "!\\[x\\](y)"),
        ("<b>&amp;</b>", "&lt;b&gt;&amp;amp;&lt;/b&gt;"),
        ("one\ntwo\n\nthree", "one<br>two<br>three"),
        ("", " "),
        ("\n", " "),
    ],
)
def test_a_cell(text: str, cell: str) -> None:
    assert md_cell(text) == cell


def test_the_note_opens_no_block() -> None:
    md = hostile_comparison().to_markdown(note="# not a heading")
    assert "> \\# not a heading" in md.splitlines()
    assert md_text("- x") == "- x"  # inside a cell a dash is only a dash


def test_html_escapes_every_text() -> None:
    comparison = hostile_comparison()
    page = comparison.to_html(title=HOSTILE[4], note=HOSTILE[0], metrics=[{"step": 1, "train_loss": 1.0}])
    doc = collect(page)
    tags = {tag for tag, _ in doc.tags}
    assert not tags & {"img", "a", "script", "iframe", "link", "object", "embed"}
    fetching = {"src", "href", "srcset", "action", "formaction", "data", "poster", "xlink:href", "style"}
    assert [attrs for _, attrs in doc.tags if fetching & attrs.keys()] == []
    assert all(HOSTILE[0] not in (v or "") or k == "title" for _, attrs in doc.tags for k, v in attrs.items())
    text = "".join(doc.text)
    for hostile in HOSTILE:
        assert hostile.replace("\r\n", "\n") in text.replace("\r\n", "\n"), hostile
    assert f"<title>{HOSTILE[4]}" not in page and "<script>" not in page
