"""The audit log: every change staff make by hand, with who, when and why (rows are only ever added)."""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from grader.models import AuditEntry, User, utcnow

ACTIONS = ("override", "override_cleared", "extension", "extension_revoked", "regrade", "spec_saved",
           "spec_published", "published", "unpublished", "draft_discarded", "dry_run")


def record(session: so.Session, actor_id: int | None, actor: str, action: str, *, assignment_id: str | None = None,
           submission_id: int | None = None, student_id: int | None = None, reason: str = "",
           details: dict | None = None) -> AuditEntry:
    """Add one entry (the caller commits it with the change it describes: both or neither)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(at=utcnow(), actor_id=actor_id, actor=actor[:64], action=action, assignment_id=assignment_id,
                       submission_id=submission_id, student_id=student_id, reason=reason, details=details or {})
    session.add(entry)
    return entry


def entries(session: so.Session, *, assignment_id: str | None = None, submission_id: int | None = None,
            limit: int = 200) -> list[AuditEntry]:
    query = sa.select(AuditEntry)
    if assignment_id is not None:
        query = query.where(AuditEntry.assignment_id == assignment_id)
    if submission_id is not None:
        query = query.where(AuditEntry.submission_id == submission_id)
    return list(session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)))


def student_names(session: so.Session, log: list[AuditEntry]) -> dict[int, tuple[str, str]]:
    """{student id: (name, username)} of the students a log's entries are about: the log names people, not ids."""
    ids = {e.student_id for e in log if e.student_id is not None}
    if not ids:
        return {}
    rows = session.execute(sa.select(User.id, User.display_name, User.username).where(User.id.in_(ids)))
    return {r.id: (r.display_name or r.username, r.username) for r in rows}


def override_reason(session: so.Session, submission_id: int) -> str:
    """The reason of a submission's standing override (its latest `override` entry): written for the student,
    who reads it beside the score."""
    query = (sa.select(AuditEntry.reason).where(AuditEntry.submission_id == submission_id,
                                                AuditEntry.action == "override")
             .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(1))
    return session.scalar(query) or ""
