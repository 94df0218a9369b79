"""Markdown artifacts as HTML for the run report: CommonMark and tables, no raw HTML, no images.

A module of its own so that markdown-it (~20 ms to import) loads only for a report that shows a
Markdown artifact (html_report reaches it through an `OnDemand` table).
"""

from __future__ import annotations

from markdown_it import MarkdownIt

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").disable("image")


def render_markdown(text: str) -> str:
    return _MARKDOWN.render(text)
