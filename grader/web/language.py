"""The viewer's language on the pages, and the one path every word the pages show takes: `_()` for interface
text, `feedback()` for stored message codes (grader.messages), `word()` and `audit_details()` for stored codes
(grader.wording's tables), and the number filters for the viewer's locale.

The viewer's language is, in order: their saved setting, the `lang` cookie (the switch on the login page),
the browser's Accept-Language, the course default (GRADER_DEFAULT_LANGUAGE). Flask-Babel loads the catalogs.
"""
from __future__ import annotations

import datetime as dt

from babel import Locale, numbers
from flask import Flask, current_app, g, request
from flask_babel import Babel, get_locale, gettext, lazy_gettext, ngettext
from flask_login import current_user
from markupsafe import Markup

from grader import wording
from grader.i18n import DOMAIN, LANGUAGES, N_, TRANSLATIONS_DIR, choose
from grader.messages import is_message, render, title
from grader.web.timezones import local

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


def said_text(stored: dict | str | None) -> str:
    """A stored message ({"code", "params"}, as grader.messages.said writes it) in the viewer's language; text a
    row of an older grader stored instead (see migrations/) is shown as it is, never translated back."""
    if is_message(stored):
        return feedback(stored["code"], stored["params"])
    return "" if stored is None else str(stored)


def diagnosis_title(code: str) -> str:
    """A diagnosis in a few words, in the viewer's language (grader.messages.TITLES)."""
    return title(code, current_lang())


# a queued submission's place, by the language's ordinal category (CLDR: 1st, 2nd, 3rd, 4th; Chinese has one form)
QUEUE_PLACE = {"one": N_("%(n)sst in the queue, about %(time)s"), "two": N_("%(n)snd in the queue, about %(time)s"),
               "few": N_("%(n)srd in the queue, about %(time)s"), "other": N_("%(n)sth in the queue, about %(time)s")}


def about(seconds: float) -> str:
    """A rough duration: whole seconds under a minute, else whole minutes."""
    if seconds < 60:
        return gettext("%(n)s s", n=max(1, round(seconds)))
    return gettext("%(n)s min", n=round(seconds / 60))


def queue_note(place) -> str:
    """"3rd in the queue, about 2 s" for a grader.service.queue.Place; "" for None (not queued)."""
    if place is None:
        return ""
    form = Locale.parse(current_lang()).ordinal_form(place.position)
    return gettext(QUEUE_PLACE.get(form, QUEUE_PLACE["other"]), n=place.position, time=about(place.seconds))


def word(code: str | None) -> str:
    """A stored code (status, role, audit action) in the viewer's language."""
    return wording.word(current_lang(), code)


def status_word(status: str | None) -> str:
    return wording.status_word(current_lang(), status)


def audit_details(details: dict | None) -> list[tuple[str, str]]:
    """An audit entry's details as (label, value) in the viewer's language: dates in their zone, numbers in
    their locale, stored words translated; a detail we have no label for is shown as it is."""
    lang = current_lang()
    return [(wording.detail_label(lang, k), _detail_value(lang, k, v)) for k, v in (details or {}).items()]


def _detail_value(lang: str, key: str, value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return f"#{value}" if key == "dry_run" else decimal(value)
    if key == "costs" and isinstance(value, list):  # [{"id", "from", "to"}]: what an earlier deadline cost
        return ", ".join(f"#{c.get('id')} {decimal(c.get('from'))} → {decimal(c.get('to'))}"
                         for c in value if isinstance(c, dict)) or "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    value = str(value)
    stored_word = wording.detail_word(lang, key, value)
    if stored_word is not None:
        return stored_word
    if key == "hash":
        return value[:12]
    if key in ("from", "to"):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        return local(moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc))
    return value


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
    app.jinja_env.globals.update(_=_markup, ngettext=ngettext, feedback=feedback, said_text=said_text, current_lang=current_lang,
                                 word=word, status_word=status_word, audit_details=audit_details,
                                 diagnosis_title=diagnosis_title, queue_note=queue_note,
                                 languages=LANGUAGES)
    app.jinja_env.filters.update(number=wording.number, decimal=decimal, percent=percent)
