"""Words the database stores as codes (a status, a role, an audit action), in the viewer's language."""
from __future__ import annotations

from flask_babel import gettext

from grader.i18n import N_

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
}


def word(code: str | None) -> str:
    """The word for a stored code; a code we have no word for is shown as it is, never hidden."""
    if code is None:
        return ""
    return gettext(WORDS[code]) if code in WORDS else code.replace("_", " ")
