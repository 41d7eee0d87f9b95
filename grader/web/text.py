"""Every word the pages show goes through here: `_()` for interface text, `feedback()` for stored message codes.

`_` and `ngettext` take Flask-Babel's signatures (`_("%(n)s left", n=3)`), so translation catalogs can be
plugged in later without touching a template or a view.
"""
from __future__ import annotations

import math

from flask import Flask
from markupsafe import Markup

from grader.feedback import render

DEFAULT_LANG = "en"


def current_lang() -> str:
    """The viewer's language (one language for now; the setting, Accept-Language, then the course default later)."""
    return DEFAULT_LANG


def _(text: str, **params) -> str:
    return text % params if params else text


def _markup(text: str, **params) -> Markup:
    """`_` as templates call it (Flask-Babel's behaviour under autoescape): the message is trusted, every
    parameter is escaped unless it is already Markup (a <time> tag, say)."""
    return Markup(text) % params if params else Markup(text)


def ngettext(singular: str, plural: str, num: int, **params) -> str:
    return (singular if num == 1 else plural) % {"num": num, **params}


def feedback(code: str, params: dict | None = None) -> str:
    """A stored message (code + parameters) in the viewer's language."""
    return render(code, params or {}, current_lang())


def number(value) -> str:
    """A value from feedback parameters as the messages write it: 6 significant digits, lists in brackets."""
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(number(v) for v in value) + "]"
    return str(value)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(_=_markup, ngettext=ngettext, feedback=feedback, current_lang=current_lang)
    app.jinja_env.filters["number"] = number
