"""The assignment catalog: validate assignment folders, then insert or update their rows."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy.orm as so

from grader.models import Assignment, utcnow
from grader.spec import SPEC_FILENAME, SpecError, bundle_spec, load_spec, parse_spec, spec_hash


@dataclass
class LoadReport:
    added: list[str]
    updated: list[str]  # spec changed: version bumped
    unchanged: list[str]


def read_specs(directory: Path) -> list[tuple[str, str]]:
    """(id, YAML text) of every valid spec under directory; SpecError listing every problem otherwise."""
    if not directory.is_dir():
        raise SpecError([f"{directory}: not a folder"])
    single = directory / SPEC_FILENAME
    paths = [single] if single.is_file() else sorted(directory.glob(f"*/{SPEC_FILENAME}"))
    if not paths:
        raise SpecError([f"{directory}: no */assignment.yaml found"])
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


def load_assignments(session: so.Session, directory: Path) -> LoadReport:
    """Validate every spec first; then insert new assignments and update changed ones (version + 1)."""
    report = LoadReport([], [], [])
    for assignment_id, text in read_specs(directory):
        spec = parse_spec(text, assignment_id)
        digest = spec_hash(text)
        row = session.get(Assignment, assignment_id)
        if row is None:
            session.add(Assignment(id=assignment_id, title=spec.title, spec_yaml=text, spec_hash=digest,
                                   version=1, deadline=spec.deadline, published=True))
            report.added.append(assignment_id)
        elif row.spec_hash != digest:
            row.title, row.spec_yaml, row.spec_hash = spec.title, text, digest
            row.deadline, row.version, row.updated_at = spec.deadline, row.version + 1, utcnow()
            report.updated.append(assignment_id)
        else:
            report.unchanged.append(assignment_id)
    session.flush()
    return report
