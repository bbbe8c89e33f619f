"""A receipt (the ingest's Markdown) shown as HTML: rendered by markdown-it with raw HTML off, so
that text from a submission (already escaped by the receipt) can never become markup or a link
to a script."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup

_RENDERER = MarkdownIt("commonmark", {"html": False}).enable("table")


def receipt_html(markdown: str) -> Markup:
    """The receipt's HTML (raw HTML in the Markdown is shown as text; unsafe links are dropped)."""
    return Markup(_RENDERER.render(markdown))
