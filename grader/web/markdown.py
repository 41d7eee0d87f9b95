"""An assignment's description (markdown, written by an instructor, shown to every student) as safe HTML.

markdown-it-py renders CommonMark with raw HTML off (a spec's `<script>` arrives as text); nh3 then keeps only
the tags and attributes a description needs and links to http(s) and mailto, so nothing a spec says can run
in a student's browser (a `javascript:` link, an `onerror`, an inline style).
"""
from __future__ import annotations

import functools

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

TAGS = {"p", "br", "hr", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h1", "h2", "h3",
        "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "del", "sub", "sup"}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])


@functools.lru_cache(maxsize=256)
def render_markdown(text: str) -> Markup:
    """`text` as sanitised HTML; links open as the student expects and tell search engines nothing."""
    html = _parser.render(text or "")
    return Markup(nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                            link_rel="noopener noreferrer nofollow"))
