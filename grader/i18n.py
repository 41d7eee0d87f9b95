"""Languages the grader speaks, and the gettext catalogs behind them, usable without Flask (the CLI, feedback).

Catalogs live in `grader/translations/<lang>/LC_MESSAGES/messages.po`, are extracted and updated with
`pybabel` (see the Makefile's `translations` target) and compiled to `.mo` by `make install`. English is the
source language: its words are the message ids, so a missing catalog still reads as English.
"""
from __future__ import annotations

import functools
import gettext as _gettext
from pathlib import Path
from typing import Iterable

from babel.support import Translations

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"

# code -> the language's own name for itself (what the switch shows)
LANGUAGES: dict[str, str] = {"en": "English", "zh": "简体中文"}
DEFAULT_LANGUAGE = "en"


def N_(text: str) -> str:
    """Marks a string for extraction where it is defined; it is translated where it is shown."""
    return text


def normalize(tag: str | None) -> str | None:
    """One of LANGUAGES for a tag as users and browsers write it (zh-CN, zh_Hans, ZH, en-GB), else None."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary in LANGUAGES else None


def choose(preferred: Iterable[str | None], accepted: Iterable[tuple[str, float]], default: str) -> str:
    """The first language we speak among the user's own choices, then the browser's Accept-Language (in
    its order of preference), then the course default."""
    for tag in preferred:
        if normalize(tag):
            return normalize(tag)
    for tag, _quality in accepted:
        if normalize(tag):
            return normalize(tag)
    return default


def translations(lang: str | None) -> _gettext.NullTranslations:
    """The compiled catalog for `lang` (any tag normalize() reads: zh, zh-CN, zh_Hans); English (the message
    ids themselves) where there is none."""
    return _catalog(normalize(lang) or DEFAULT_LANGUAGE)


@functools.lru_cache(maxsize=None)
def _catalog(lang: str) -> _gettext.NullTranslations:
    if lang == DEFAULT_LANGUAGE:
        return _gettext.NullTranslations()
    return Translations.load(str(TRANSLATIONS_DIR), [lang], domain=DOMAIN)


def gettext(lang: str, text: str, **params) -> str:
    translated = translations(lang).gettext(text)
    return translated % params if params else translated


def ngettext(lang: str, singular: str, plural: str, num: int, **params) -> str:
    return translations(lang).ngettext(singular, plural, num) % {"num": num, **params}

