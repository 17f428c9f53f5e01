"""The reports: HTML (structure, escaping, self-contained; drawn by a real headless Chromium where one is
installed), Markdown and JSON."""

from __future__ import annotations

import io
from html.parser import HTMLParser
from pathlib import Path

import orjson
import pytest

from finetune_sdk.evaluate import Comparison, ComparisonRow, Reply, ends_with, no_latin
from finetune_sdk.evaluate._format import listed_prompts, token_label
from finetune_sdk.evaluate._report_html import BASE_COLOUR, TUNED_COLOUR
from finetune_sdk.evaluate._tokens import token_counter

from .browser import colour_pixels, dump_dom, full_bar_rows, needs_chromium, png_pixels, screenshot

HOSTILE = "<script>alert(\"x\")</script> & 'quoted'"


def reply(text: str, latency: float) -> Reply:
    return Reply(text, 300, 12, latency, latency / 3, "stop")


def sample() -> Comparison:
    rows = (
        ComparisonRow(
            "加班",
            reply("关于加班: Generally speaking.", 0.9),
            reply("燃烧的是青春。", 0.1),
            (reply("关于加班。。", 1.1),),
            (reply("燃烧的是青春。", 0.12),),
        ),
        ComparisonRow(
            HOSTILE,
            reply(f"echo {HOSTILE}", 1.0),
            reply("好。", 0.1),
            (reply("x|y", 1.0),),
            (reply("好。", 0.2),),
        ),
    )
    comparison = Comparison(
        base=("Qwen/Qwen2.5-7B-Instruct", "长" * 500), tuned=("ft:LoRA/<b>x</b>", "短"), rows=rows
    )
    return comparison.with_checks([ends_with("。"), no_latin()])


class Page(HTMLParser):
    """Collects the tags, attributes and text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def parse(page: str) -> Page:
    parser = Page()
    parser.feed(page)
    parser.close()
    return parser


def test_html_is_self_contained_and_escapes_everything(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    page = sample().to_html(path, note="Numbers from an emulation.")
    assert path.read_text(encoding="utf-8") == page
    doc = parse(page)
    assert not doc.all("script") and not doc.all("link") and not doc.all("img") and not doc.all("iframe")
    assert "<script>" not in page and "<b>x</b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;quoted&#x27;" in page
    text = "".join(doc.text)
    assert HOSTILE in text and "ft:LoRA/<b>x</b>" in text  # shown as text, not markup
    csp = doc.all("meta", **{"http-equiv": "Content-Security-Policy"})
    assert csp and "default-src 'none'" in (csp[0]["content"] or "")
    # nothing is fetched: the only URL is the SVG namespace
    urls = [v for _, attrs in doc.tags for k, v in attrs.items() if v and ("//" in v) and k != "xmlns"]
    assert urls == []
    assert "Numbers from an emulation." in text


def test_html_has_the_bars_and_marks_failing_checks() -> None:
    doc = parse(sample().to_html())
    assert [a["aria-label"] for a in doc.all("svg")] == [
        "pass rate per check",
        "prompt tokens per call",
        "latency",
    ]
    base_bars, tuned_bars = (
        doc.all("rect", **{"class": "bar-base"}),
        doc.all("rect", **{"class": "bar-tuned"}),
    )
    assert len(base_bars) == len(tuned_bars) == 3 + 1 + 4  # 2 checks + every check, tokens, 4 speed bars
    width = [float(a["width"] or 0) for a in base_bars[:3]]
    assert width == [0.0, 140.0, 0.0]  # ends with 。: no base sample; no Latin: 1 of 4; every check: none
    assert [float(a["width"] or 0) for a in tuned_bars[:3]] == [560.0, 560.0, 560.0]
    answers = doc.all("div")
    failing = [a for a in answers if a.get("class") == "answer fail"]
    passing = [a for a in answers if a.get("class") == "answer pass"]
    assert len(failing) == 4 and {a["data-side"] for a in failing} == {"base"}
    assert len(passing) == 4 and {a["data-side"] for a in passing} == {"tuned"}
    text = "".join(doc.text)
    assert "✗ ends with 。" in text and "✗ no Latin letters" in text and "✓ every check" in text
    label = token_label(sample().figures())
    assert f"({label}): the tuned setup saves" in text and "median latency 1.00 s -> 110 ms" in text


def test_markdown() -> None:
    md = sample().to_markdown(note="From an\nemulation.")
    lines = md.splitlines()
    assert lines[0] == "# Base versus tuned" and "> From an emulation." in lines
    escaped = "&lt;script&gt;alert(\"x\")&lt;/script&gt; &amp; 'quoted'"
    assert f"| ends with 。 | 0% | 100% | 加班, {escaped} |" in md
    assert "| calls passing every check | 0% | 100% |" in md
    assert "| distinct answers per prompt | 100% | 50% |" in md
    assert "| latency, median | 1.00 s | 110 ms |" in md
    row = next(line for line in lines if line.startswith("| 2 |"))
    assert row.count(" | ") == 3  # the prompt's own characters do not split the row
    assert "<script>" not in md
    assert "✗ ends with 。, no Latin letters (0 of 2 samples pass every check) | 好。 ✓ (2 of 2" in md
    assert "the tuned setup saves" in md and "per 1,000 calls" in md
    assert "median latency 1.00 s -&gt; 110 ms: the tuned setup answers 9.09x as fast" in md


def test_json_carries_checks_scores_and_figures() -> None:
    data = orjson.loads(sample().to_json())
    assert data["samples"] == 2
    assert data["checks"] == [
        {"name": "ends with 。", "threshold": 0.5},
        {"name": "no Latin letters", "threshold": 0.5},
    ]
    assert data["rows"][0]["base_scores"] == [[0.0, 0.0], [0.0, 1.0]]
    assert data["rows"][0]["tuned_extra"][0]["text"] == "燃烧的是青春。"
    figures = data["figures"]
    assert figures["checks"][1]["base_pass_rate"] == 0.25 and figures["checks"][0]["tuned_pass_rate"] == 1.0
    assert figures["tokens_exact"] is token_counter()[1]
    assert figures["base"]["latency_median"] == 1.0
    assert data["totals"]["prompt_tokens_saved"] == 0  # the server's usage, 300 on both sides here


def test_summary_lists_the_checks_and_stability() -> None:
    summary = sample().summary()
    assert "check ends with 。: base 0% -> tuned 100% (differs on 2 of 2 prompts)" in summary
    assert "every check passed: base 0% -> tuned 100% of calls" in summary
    assert "over 2 samples per prompt: distinct answers base 100% -> tuned 50%" in summary


# -- a real browser -----------------------------------------------------------------------------------


@needs_chromium
@pytest.mark.timeout(120)
def test_chromium_draws_the_report(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    sample().to_html(page, note="Numbers from an emulation.")
    # to look at it: FINETUNE_REPORT_SCREENSHOT=/tmp/report.png pytest -k chromium
    width, height, rows = png_pixels(screenshot(page, tmp_path, keep="FINETUNE_REPORT_SCREENSHOT"))
    assert (width, height) == (1200, 1400)
    # the bars are drawn: the tuned side's three 100% pass-rate bars at full length (560 px, 12 px high
    # each); of the base side's, only its longer token and latency bars reach that length
    assert colour_pixels(rows, BASE_COLOUR) > 2000 and colour_pixels(rows, TUNED_COLOUR) > 2000
    tuned_full, base_full = full_bar_rows(rows, TUNED_COLOUR, 550), full_bar_rows(rows, BASE_COLOUR, 550)
    assert 3 * 10 <= tuned_full <= 3 * 12, tuned_full
    assert base_full >= 10, base_full
    dom = dump_dom(page, tmp_path)
    assert "&lt;script&gt;alert" in dom and "<script>" not in dom


def test_table_counts_the_checks_each_first_sample_passed() -> None:
    lines = sample().table(width=14).splitlines()
    assert lines[3].rstrip().endswith("checks passed")
    assert lines[5].rstrip().endswith("0/2 / 2/2")
    rich = pytest.importorskip("rich.console")
    console = rich.Console(width=220, record=True, file=io.StringIO())
    console.print(sample())
    out = console.export_text()
    assert "checks passed" in out and "0/2 / 2/2" in out


def test_long_lists_of_differing_prompts_are_cut() -> None:
    assert listed_prompts([str(i) for i in range(15)]) == ", ".join(str(i) for i in range(12)) + " and 3 more"
    assert listed_prompts([]) == "-"
    assert listed_prompts(["a\nb " + "x" * 60]) == "a b " + "x" * 35 + "…"
