"""What every HTML page of the package shares: the escape, the page around a body, and its CSS.

A page is self-contained: inline CSS and SVG, no script, no font or image to fetch, and a
Content-Security-Policy that forbids it any network access, so it opens the same from a mail attachment,
an artifact store or a laptop offline. The font stack names the common CJK fonts of each system, so
Chinese prompts and answers render wherever one of them is installed.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

__all__ = ["CJK_FONT_STACK", "CSS", "e", "facts_table", "page"]

CJK_FONT_STACK = (
    'system-ui, -apple-system, "Segoe UI", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", '
    '"Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", sans-serif'
)
"""Latin text in the system's font; Chinese in the first CJK font present (macOS, Windows, Linux)."""

CSS = f"""
body {{ font: 14px/1.45 {CJK_FONT_STACK}; color: #1a202c; margin: 24px auto; max-width: 1100px;
  padding: 0 16px; }}
h1 {{ font-size: 22px; margin: 0 0 4px; }}
h2 {{ font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #e2e8f0; padding-bottom: 4px; }}
.note {{ background: #fffbea; border-left: 4px solid #d69e2e; padding: 6px 10px; margin: 8px 0; }}
.emulated {{ background: #ebf8ff; border-left: 4px solid #3182ce; padding: 6px 10px; margin: 8px 0;
  font-weight: 600; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid #edf2f7; }}
th {{ background: #f7fafc; font-weight: 600; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
table.facts {{ width: auto; min-width: 360px; }}
table.facts th {{ background: none; font-weight: 500; color: #4a5568; }}
.chart {{ max-width: 100%; height: auto; }}
svg text {{ font-size: 12px; fill: #1a202c; }}
"""


def e(text: object) -> str:
    """``text`` escaped for an HTML text node or a quoted attribute."""
    return html.escape(str(text), quote=True)


def facts_table(facts: Sequence[tuple[str, object]], *, css_class: str = "facts") -> str:
    """``(name, value)`` pairs as a two-column table, both escaped."""
    rows = "".join(f"<tr><th>{e(name)}</th><td>{e(value)}</td></tr>" for name, value in facts)
    return f'<table class="{e(css_class)}">{rows}</table>'


def page(title: str, body: list[str], *, css: str = "") -> str:
    """A whole page: ``title`` (escaped here) and the ``body`` parts (already HTML), with the shared CSS
    and ``css`` after it."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="und"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="'
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)}</title><style>{CSS}{css}</style></head>\n"
        "<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
