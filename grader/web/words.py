"""Words the database stores as codes (a status, a role, an audit action and its details), in the viewer's
language."""
from __future__ import annotations

import datetime as dt

from flask_babel import format_decimal, gettext

from grader.i18n import N_
from grader.web.timezones import local

WORDS: dict[str, str] = {
    # submission statuses
    "queued": N_("queued"), "running": N_("running"), "graded": N_("graded"), "failed": N_("failed"),
    # roles
    "student": N_("student"), "ta": N_("TA"), "instructor": N_("instructor"),
    # audit actions
    "spec_saved": N_("spec saved"), "dry_run": N_("dry run"), "published": N_("published"),
    "unpublished": N_("unpublished"), "spec_published": N_("spec published"),
    "draft_discarded": N_("draft discarded"), "regrade": N_("regrade"), "extension": N_("extension"),
    "extension_revoked": N_("extension revoked"), "override": N_("override"),
    "override_cleared": N_("override cleared"),
    # why a submission went back to the queue (grader.submissions.REQUEUE_REASONS)
    "requeue.regrade": N_("a regrade"), "requeue.reaper": N_("the reaper: it was stuck"),
    "requeue.retry": N_("a retry after a failure on our side"),
    "requeue.recovered": N_("a retry once a healthy worker came up"),
}

# an audit entry's details (grader.web.staff): the name of each, and the words some of them store
DETAIL_LABELS: dict[str, str] = {
    "which": N_("which"), "count": N_("count"), "previous_score": N_("previous score"),
    "previous_status": N_("previous status"), "from": N_("from"), "to": N_("to"), "automatic": N_("grader's score"),
    "repriced": N_("re-priced"), "outcome": N_("outcome"), "version": N_("version"), "hash": N_("hash"),
    "files": N_("files"), "dry_run": N_("dry run"),
}
DETAIL_VALUES: dict[str, dict[str, str]] = {
    "which": {"one": N_("this submission"), "all": N_("every submission"), "failed": N_("the failed ones")},
    "outcome": {"created": N_("created"), "updated": N_("updated"), "draft": N_("draft"),
                "unchanged": N_("unchanged")},
}


def word(code: str | None) -> str:
    """The word for a stored code; a code we have no word for is shown as it is, never hidden."""
    if code is None:
        return ""
    return gettext(WORDS[code]) if code in WORDS else code.replace("_", " ")


def audit_details(details: dict | None) -> list[tuple[str, str]]:
    """An audit entry's details as (label, value) in the viewer's language: dates in their zone, numbers in
    their locale, stored words translated; a detail we have no label for is shown as it is."""
    return [(gettext(DETAIL_LABELS[k]) if k in DETAIL_LABELS else k, _detail_value(k, v))
            for k, v in (details or {}).items()]


def _detail_value(key: str, value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return f"#{value}" if key == "dry_run" else format_decimal(value, format="#,##0.###")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    value = str(value)
    if key in DETAIL_VALUES:
        return gettext(DETAIL_VALUES[key][value]) if value in DETAIL_VALUES[key] else value
    if key == "previous_status":
        return word(value)
    if key == "hash":
        return value[:12]
    if key in ("from", "to"):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        return local(moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc))
    return value
