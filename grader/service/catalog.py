"""The assignment catalog: validate assignment folders, then insert or update their rows; and the one rule for
a spec's version, which `grader assignments load` and the instructor's pages both follow.

Versioning: a new assignment starts at version 1. Writing a spec whose text (spec_hash) differs from the
stored one makes it version + 1, with its title, deadline and hash, and drops any draft (a draft was written
against the older version). Writing the same text again changes nothing. Submissions keep the version they
were graded under until they are regraded.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy.orm as so

from grader.messages import said
from grader.models import Assignment, utcnow
from grader.spec import (SPEC_FILENAME, AssignmentSpec, SpecError, SpecProblem, bundle_spec, load_spec, parse_spec,
                         spec_hash)


@dataclass
class LoadReport:
    added: list[str]
    updated: list[str]  # spec changed: version bumped
    unchanged: list[str]


def read_specs(directory: Path) -> list[tuple[str, str]]:
    """(id, YAML text) of every valid spec under directory; SpecError listing every problem otherwise."""
    if not directory.is_dir():
        raise SpecError([SpecProblem(str(directory), None, None, said("spec.not_a_folder"))])
    single = directory / SPEC_FILENAME
    paths = [single] if single.is_file() else sorted(directory.glob(f"*/{SPEC_FILENAME}"))
    if not paths:
        raise SpecError([SpecProblem(str(directory), None, None, said("spec.no_specs"))])
    found, errors = [], []
    for path in paths:
        try:
            spec = load_spec(path)
        except SpecError as exc:
            errors += exc.problems
            continue
        # stored text must parse without its folder: data files travel inside it (grader.spec.bundle_spec)
        found.append((spec.id, bundle_spec(path)))
    if errors:
        raise SpecError(errors)
    return found


def add_assignment(session: so.Session, spec: AssignmentSpec, text: str, *, published: bool) -> Assignment:
    """A new assignment at version 1 (not committed)."""
    row = Assignment(id=spec.id, title=spec.title, spec_yaml=text, spec_hash=spec_hash(text), version=1,
                     deadline=spec.deadline, published=published, updated_at=utcnow())
    session.add(row)
    return row


def write_spec(row: Assignment, spec: AssignmentSpec, text: str) -> bool:
    """Make `text` the assignment's spec by the versioning rule (module docstring); False when it is the same."""
    digest = spec_hash(text)
    if row.spec_hash == digest:
        return False
    row.title, row.spec_yaml, row.spec_hash, row.deadline = spec.title, text, digest, spec.deadline
    row.version, row.updated_at, row.draft_yaml = row.version + 1, utcnow(), None
    return True


def load_assignments(session: so.Session, directory: Path) -> LoadReport:
    """Validate every spec first; then insert new assignments (published) and write changed ones (version + 1)."""
    report = LoadReport([], [], [])
    for assignment_id, text in read_specs(directory):
        spec = parse_spec(text, assignment_id)
        row = session.get(Assignment, assignment_id)
        if row is None:
            add_assignment(session, spec, text, published=True)
            report.added.append(assignment_id)
        elif write_spec(row, spec, text):
            report.updated.append(assignment_id)
        else:
            report.unchanged.append(assignment_id)
    session.flush()
    return report
