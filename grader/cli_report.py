"""The lines of the command line's reports (`grader grade`, `grader submit --wait`) and the CLI's language
(--lang, else the environment): headings, marks and score lines in the reader's language. Stored codes are
worded by grader.wording (statuses) and grader.messages (feedback), not here."""
from __future__ import annotations

import os
import unicodedata

import click

from grader.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_, choose, gettext, normalize
from grader.wording import points, status_word


def language_from_env() -> str:
    """GRADER_LANGUAGE, else the terminal's locale (LC_ALL, LC_MESSAGES, LANG: zh_CN.UTF-8 reads as zh)."""
    names = ("GRADER_LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
    return choose((os.environ.get(name) for name in names), (), DEFAULT_LANGUAGE)


class LanguageTag(click.ParamType):
    """en or zh, also as a locale or browser writes them (zh-CN, zh_CN.UTF-8, zh-Hans)."""

    name = "language"

    def get_metavar(self, *_args, **_kwargs) -> str:
        return "[" + "|".join(LANGUAGES) + "]"

    def convert(self, value, param, ctx):
        lang = normalize(value)
        if lang is None:
            self.fail(f"{value!r}: not a language the grader speaks (one of {', '.join(LANGUAGES)})", param, ctx)
        return lang


lang_option = click.option(
    "--lang", type=LanguageTag(), default=None,
    help="Language of the report [default: GRADER_LANGUAGE, else the locale, else en].")


def score_line(lang: str, score: float, max_score: float, late_penalty: float | None) -> str:
    line = gettext(lang, N_("Score: %(score)s / %(max)s"), score=points(score), max=points(max_score))
    if late_penalty:
        line += "  " + gettext(lang, N_("(late: -%(penalty)s)"), penalty=f"{late_penalty:.0%}")
    return line


def _columns(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def check_mark(lang: str, passed: bool | None) -> str:
    """PASS, FAIL or ----, padded to one width so the columns after it line up in any language."""
    marks = {True: gettext(lang, N_("PASS")), False: gettext(lang, N_("FAIL")), None: "----"}
    width = max(_columns(m) for m in marks.values())
    return marks[passed] + " " * (width - _columns(marks[passed]))


def hidden_note(lang: str, visibility: str) -> str:
    if visibility == "hidden":
        return "  " + gettext(lang, N_("[hidden from students]"))
    if visibility == "after_deadline":
        return "  " + gettext(lang, N_("[shown to students after the deadline]"))
    return ""


def first_difference_place(first: dict) -> dict | None:
    """Where the student's code made a check's first differing step: {"line"} for a script, {"cell", "line"} for a
    notebook (grader.notebook.locate_details); None when the check names no such step."""
    if not isinstance(first, dict) or not isinstance(first.get("line"), int):
        return None
    return {k: first[k] for k in ("cell", "line") if isinstance(first.get(k), int)}


def first_difference_line(lang: str, place: dict) -> str:
    """The report's line under a check for first_difference_place()."""
    if "cell" in place:
        return gettext(lang, N_("The first step that differs was made in cell %(cell)s, line %(line)s."), **place)
    return gettext(lang, N_("The first step that differs was made on line %(line)s."), **place)


def diagnosis_heading(lang: str) -> str:
    return gettext(lang, N_("Diagnosis:"))


def output_heading(lang: str) -> str:
    return gettext(lang, N_("Your script's output:"))


def failed_text(lang: str) -> str:
    return gettext(lang, N_("Grading failed for a reason on the server's side, not yours; you may submit again."))


def status_text(lang: str, status: str) -> str:
    return gettext(lang, N_("Status: %(status)s"), status=status_word(lang, status))


def cannot_read(lang: str, path, exc: OSError) -> str:
    return gettext(lang, N_("%(path)s: cannot read: %(error)s"), path=path, error=exc.strerror or exc)
