"""Every word table for a value the grader stores as a code (a submission's status, a role, an audit action and
its details, why a submission was queued again), the one way a number is written in feedback and the one way
plain text writes a score, for the pages, the CLI, the API and the CSVs.

Rule: a stored code is looked up here and shown in the reader's language; a code without a word is shown as it
is (underscores as spaces), never hidden. A status is a label ("Queued", "Graded"), capitalised wherever it
appears. Message codes (feedback, reasons, problems) are not words: they live in grader.messages.
"""
from __future__ import annotations

import math

from grader.i18n import N_, gettext

STATUS_WORDS: dict[str, str] = {"queued": N_("Queued"), "running": N_("Running"), "graded": N_("Graded"),
                                "failed": N_("Failed")}
ROLE_WORDS: dict[str, str] = {"student": N_("student"), "ta": N_("TA"), "instructor": N_("instructor")}
AUDIT_ACTION_WORDS: dict[str, str] = {
    "spec_saved": N_("spec saved"), "dry_run": N_("dry run"), "published": N_("published"),
    "unpublished": N_("unpublished"), "spec_published": N_("spec published"),
    "draft_discarded": N_("draft discarded"), "regrade": N_("regrade"), "extension": N_("extension"),
    "extension_revoked": N_("extension revoked"), "override": N_("override"),
    "override_cleared": N_("override cleared"),
}
# why a submission went back to the queue (grader.submissions.REQUEUE_REASONS)
REQUEUE_WORDS: dict[str, str] = {
    "requeue.regrade": N_("a regrade"), "requeue.reaper": N_("the reaper: it was stuck"),
    "requeue.retry": N_("a retry after a failure on our side"),
    "requeue.recovered": N_("a retry once a healthy worker came up"),
}
# the stored codes the pages look up by themselves, whatever kind they are
WORDS: dict[str, str] = {**STATUS_WORDS, **ROLE_WORDS, **AUDIT_ACTION_WORDS, **REQUEUE_WORDS}

# an audit entry's details (grader.web.staff): the name of each, and the words some of them store
DETAIL_LABELS: dict[str, str] = {
    "which": N_("which"), "count": N_("count"), "previous_score": N_("previous score"),
    "previous_status": N_("previous status"), "from": N_("from"), "to": N_("to"), "automatic": N_("grader's score"),
    "repriced": N_("re-priced"), "outcome": N_("outcome"), "version": N_("version"), "hash": N_("hash"),
    "files": N_("files"), "dry_run": N_("dry run"),
    "costs": N_("earlier than the assignment's deadline, confirmed; scores changed"),
}
DETAIL_VALUES: dict[str, dict[str, str]] = {
    "which": {"one": N_("this submission"), "all": N_("every submission"), "failed": N_("the failed ones")},
    "outcome": {"created": N_("created"), "updated": N_("updated"), "draft": N_("draft"),
                "unchanged": N_("unchanged")},
    "previous_status": STATUS_WORDS,
}


def word(lang: str, code: str | None) -> str:
    """The word for a stored code (status, role, audit action) in `lang`."""
    if code is None:
        return ""
    return gettext(lang, WORDS[code]) if code in WORDS else code.replace("_", " ")


def status_word(lang: str, status: str | None) -> str:
    """A submission's status as every page and report says it."""
    return gettext(lang, STATUS_WORDS[status]) if status in STATUS_WORDS else str(status)


def detail_label(lang: str, key: str) -> str:
    return gettext(lang, DETAIL_LABELS[key]) if key in DETAIL_LABELS else key


def detail_word(lang: str, key: str, value: str) -> str | None:
    """The word an audit detail stores as a code (`which`, `outcome`, `previous_status`), else None."""
    table = DETAIL_VALUES.get(key, {})
    return gettext(lang, table[value]) if value in table else None


def number(value) -> str:
    """A value as feedback writes it: floats to 6 significant digits, nan as nan, lists in brackets, nothing as —."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(number(v) for v in value) + "]"
    return str(value)


def points(value: float) -> str:
    """A score or a number of points as plain text writes it (the CLI's reports, the staff's flashes, the
    histogram's bars, the CSVs): up to 6 significant digits, no trailing zeros (40.1, 100). The pages' tables
    write scores in the reader's locale instead (grader.web.language.decimal)."""
    return f"{float(value):g}"
