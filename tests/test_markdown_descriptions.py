"""An assignment's description is markdown: shown rendered, and sanitised, so nothing an instructor's spec says
(by mistake or by a hostile upload) runs in a student's browser."""
from __future__ import annotations

import hashlib
from html.parser import HTMLParser

import pytest
import yaml

from grader.models import Assignment
from grader.web.markdown import render_markdown
from web_helpers import client_as, db_of

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD4=)",
    "![x](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=https://evil.example></iframe>",
    '<div style="position:fixed">x</div>',
    '[x](https://ok.example "t" onclick=alert(1))',
    "<svg onload=alert(1)>",
    "[x](vbscript:msgbox(1))",
    "<<script>script>alert(1)<</script>/script>",
]
SAFE_TAGS = {"p", "br", "hr", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h1", "h2", "h3",
             "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "del", "sub", "sup"}


class Elements(HTMLParser):
    """Every element and attribute the browser would build from the HTML."""

    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def assert_inert(html: str) -> None:
    for tag, attrs in Elements(html).found:
        assert tag in SAFE_TAGS, tag
        assert not any(name.startswith("on") or name in ("style", "src") for name in attrs), attrs
        href = attrs.get("href")
        assert href is None or href.split(":", 1)[0].lower() in ("http", "https", "mailto"), href


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_descriptions_are_shown_as_text_never_as_markup(text):
    assert_inert(str(render_markdown(text)))


def test_markdown_is_rendered():
    html = str(render_markdown("Train **not** `w`, see [the notes](https://example.org/n).\n\n- one\n- two\n\n"
                               "```python\nw = 1.0\n```\n\n| x | y |\n|---|---|\n| 1 | 2 |\n"))
    assert "<strong>not</strong>" in html and "<code>w</code>" in html
    assert '<a href="https://example.org/n" rel="noopener noreferrer nofollow">the notes</a>' in html
    assert "<li>one</li>" in html and "<pre><code>w = 1.0" in html and "<td>1</td>" in html


def _set_description(app, assignment_id: str, description: str) -> None:
    with db_of(app).session() as session:
        a = session.get(Assignment, assignment_id)
        spec = yaml.safe_load(a.spec_yaml)
        spec["description"] = description
        spec.pop("translations", None)
        a.spec_yaml = yaml.safe_dump(spec, allow_unicode=True, sort_keys=False)
        a.spec_hash = hashlib.sha256(a.spec_yaml.encode()).hexdigest()


def test_the_assignment_page_shows_the_description_rendered(app):
    page = client_as(app, "alice").get("/assignments/gradient-descent").get_data(as_text=True)
    assert "<strong>by hand</strong>" in page and "**by hand**" not in page
    assert "<code>y_pred = w * x</code>" in page


def test_a_hostile_description_on_the_page_is_inert(app):
    _set_description(app, "gradient-descent", "\n\n".join(HOSTILE) + "\n\n**still bold**")
    response = client_as(app, "alice").get("/assignments/gradient-descent")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    description = page.split('<div class="description">', 1)[1].split("</div>", 1)[0]
    assert "<strong>still bold</strong>" in description and "&lt;script&gt;" in description
    assert_inert(description)
