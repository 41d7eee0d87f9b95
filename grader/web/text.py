"""Every word the pages show goes through here: `_()` for interface text, `feedback()` for stored message codes,
`word()` for stored codes (statuses, roles), and the number and date filters for the viewer's locale.

The viewer's language is, in order: their saved setting, the `lang` cookie (the switch on the login page),
the browser's Accept-Language, the course default (GRADER_DEFAULT_LANGUAGE). Flask-Babel loads the catalogs.
"""
from __future__ import annotations

import math

from babel import numbers
from flask import Flask, current_app, g, request
from flask_babel import Babel, get_locale, gettext, lazy_gettext, ngettext
from flask_login import current_user
from markupsafe import Markup

from grader.feedback import render
from grader.i18n import DOMAIN, LANGUAGES, TRANSLATIONS_DIR, choose
from grader.web.words import audit_details, word

LANG_COOKIE = "lang"


def current_lang() -> str:
    """The viewer's language, worked out once per request."""
    if "lang" not in g:
        g.lang = _choose_language()
    return g.lang


def _choose_language() -> str:
    chosen = getattr(current_user, "language", None) if current_user else None
    return choose((chosen, request.cookies.get(LANG_COOKIE)), request.accept_languages,
                  current_app.config["GRADER"].default_language)


_ = gettext
lazy = lazy_gettext  # `_` for text defined at import time (form labels): translated when shown, per viewer


def _markup(text: str, **params) -> Markup:
    """`_` as templates call it (Flask-Babel's behaviour under autoescape): the message is trusted, every
    parameter is escaped unless it is already Markup (a <time> tag, say)."""
    translated = Markup(gettext(text))
    return translated % params if params else translated


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


def decimal(value, digits: int = 3) -> str:
    """A score or a count in the viewer's locale (grouping, decimal sign), at most `digits` decimals."""
    if value is None:
        return "—"
    return numbers.format_decimal(value, format=f"#,##0.{'#' * digits}" if digits else "#,##0",
                                  locale=get_locale())


def percent(value) -> str:
    if value is None:
        return "—"
    return numbers.format_percent(value, format="#,##0.#%", locale=get_locale())


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=current_lang, default_domain=DOMAIN,
          default_translation_directories=str(TRANSLATIONS_DIR))
    # after Babel: its own `_` would not escape parameters the way _markup does
    app.jinja_env.globals.update(_=_markup, ngettext=ngettext, feedback=feedback, current_lang=current_lang,
                                 word=word, audit_details=audit_details,
                                 languages=LANGUAGES)
    app.jinja_env.filters.update(number=number, decimal=decimal, percent=percent)
