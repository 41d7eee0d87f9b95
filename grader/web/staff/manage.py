"""The instructor's assignment management: upload or edit an assignment.yaml (every problem shown with its line
and field), a dry run of the solution and mistakes on a worker, publish / unpublish, and publishing a changed spec
(version + 1, with an offer to regrade).

Rules: a new assignment starts unpublished. Saving a changed spec of an unpublished assignment replaces it
(version + 1); of a published one, it becomes a draft that students do not see until "publish changes".
The dry run grades the draft (else the spec) with the files uploaded beside it, else those in the assignments
folder; it runs as the worker task DRY_RUN_TASK (the web never imports the sandbox) and writes its result
into the database, which the page polls. Data files uploaded with a spec (CSV, gzip) are read as a folder
beside it would be, and their text is stored inside the spec (grader.spec.bundle_text), as `grader assignments
load` stores a folder's. A refused upload sends back what it received (Kept: the spec as text, the files) so
that the next try changes only what was wrong.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from grader.i18n import N_
from grader.messages import said
from grader.models import Assignment, AssignmentFile, DryRun, Submission, utcnow
from grader.service import audit, catalog
from grader.source_text import MAX_SOURCE_BYTES
from grader.task_names import DRY_RUN_TASK
from grader.spec import (MAX_CSV_BYTES, SLUG, AssignmentSpec, SpecError, SpecProblem, bundle_text, check_spec,
                         parse_spec, spec_hash)
from grader.web.db import get_session
from grader.web.staff import bp
from grader.web.staff.common import assignment_or_404, instructor_required, record, send_task
from grader.web.staff.forms import ActionForm, SpecEditForm, SpecUploadForm
from grader.web.language import _

SPEC_NAME = "assignment.yaml"
MAX_FILE_BYTES = MAX_SOURCE_BYTES  # a spec, a solution or a mistake: no larger than a student's script
MAX_MISTAKES = 40
_MISTAKE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,80}\.py$")
_DATA_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,80}\.(csv|gz)$")
MAX_DATA_FILES = 8


@dataclass
class Problem:
    line: int | None
    field: str
    message: str


def problems_of(records: list[SpecProblem]) -> list[Problem]:
    """A SpecError's records as the page marks them: line, field, message."""
    return [Problem(p.line, p.field or "", p.message) for p in records]


def validate(text: str, assignment_id: str | None = None, train: bool = True, base_dir: Path | None = None
             ) -> tuple[AssignmentSpec | None, list[Problem]]:
    """The spec, or its problems. A spec coming in (`train`) is also checked by training the reference once;
    a draft that came in that way is only parsed when it is published. Its data files are in `base_dir` (an
    upload's), else in the assignments folder's folder of its id."""
    if base_dir is not None:
        try:
            return (check_spec if train else parse_spec)(text, SPEC_NAME, base_dir=base_dir), []
        except SpecError as exc:
            return None, problems_of(exc.problems)
    folder = Path(current_app.config["GRADER"].assignments_dir)
    base = folder / assignment_id if assignment_id and SLUG.match(assignment_id) else None
    try:
        return (check_spec if train else parse_spec)(text, SPEC_NAME, base_dir=base if base and base.is_dir() else None), []
    except SpecError as exc:
        if base is None:  # the id decides the folder of its data files: try again once it is known
            guess = re.search(r"^id:\s*['\"]?([a-z0-9_-]+)", text, re.M)
            if guess and (folder / guess.group(1)).is_dir():
                return validate(text, guess.group(1), train)
        return None, problems_of(exc.problems)


def _read_upload(storage, what: str) -> tuple[str | None, str | None]:
    """(text, None) or (None, a sentence saying what is wrong)."""
    return _text_of(storage.stream.read(MAX_FILE_BYTES + 1), what)


def _text_of(data: bytes, what: str) -> tuple[str | None, str | None]:
    """An uploaded file's text, or (None, a sentence saying what is wrong)."""
    if len(data) > MAX_FILE_BYTES:
        return None, _("%(what)s is larger than %(kb)s KB.", what=what, kb=MAX_FILE_BYTES // 1024)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, _("%(what)s is not UTF-8 text (byte %(pos)s).", what=what, pos=exc.start)
    if "\x00" in text:
        return None, _("%(what)s contains a NUL byte.", what=what)
    return text.replace("\r\n", "\n"), None


def _pasted_problem(text: str) -> str | None:
    """What is wrong with a spec pasted as text, by the rule of an uploaded one (its size in bytes), or None."""
    return _text_of(text.encode("utf-8"), SPEC_NAME)[1]


def _has_file(storage) -> bool:
    return storage is not None and bool(getattr(storage, "filename", ""))


def files_of(assignment: Assignment) -> dict[str, str]:
    """The dry run's files: those uploaded beside the spec, else those in the assignments folder."""
    rows = get_session().scalars(sa.select(AssignmentFile).where(AssignmentFile.assignment_id == assignment.id)
                                 .order_by(AssignmentFile.name)).all()
    if rows:
        return {r.name: r.source for r in rows}
    folder = Path(current_app.config["GRADER"].assignments_dir) / assignment.id
    found = {}
    if (folder / "solution.py").is_file():
        found["solution.py"] = (folder / "solution.py").read_text("utf-8")
    for path in sorted((folder / "mistakes").glob("*.py")) if folder.is_dir() else []:
        found[f"mistakes/{path.name}"] = path.read_text("utf-8")
    return found


def latest_dry_run(assignment: Assignment) -> DryRun | None:
    return get_session().scalar(sa.select(DryRun).where(DryRun.assignment_id == assignment.id)
                                .order_by(DryRun.created_at.desc(), DryRun.id.desc()).limit(1))


@bp.get("/manage")
@instructor_required
def manage():
    return render_manage(SpecUploadForm(formdata=None))


def render_manage(form: SpecUploadForm, problems: list[Problem] | None = None, text: str = "", error: str = "",
                  status: int = 200, kept: "Kept | None" = None):
    rows = get_session().scalars(sa.select(Assignment).order_by(Assignment.id)).all()
    if kept is not None:  # a refused upload: the form comes back holding what it received
        form.text.data, form.kept.data = kept.text, kept.encoded()
    return render_template("staff/manage.html", assignments=rows, form=form, problems=problems or [], error=error,
                           kept=sorted(kept.files) if kept else [],
                           text_lines=text.split("\n") if problems else [],
                           bad_lines={p.line for p in problems or [] if p.line}), status


def save_spec(text: str, spec: AssignmentSpec, files: dict[str, str] | None) -> tuple[Assignment, str]:
    """Insert or update the assignment from validated text; returns it and what happened:
    "created", "updated" (unpublished: replaced, version + 1), "draft" (published: waits), "unchanged"."""
    session = get_session()
    digest = spec_hash(text)
    row = session.get(Assignment, spec.id)
    if row is None:
        row = catalog.add_assignment(session, spec, text, published=False)
        outcome = "created"
    elif row.spec_hash == digest:
        row.draft_yaml = None
        outcome = "unchanged"
    elif not row.published:
        catalog.write_spec(row, spec, text)
        outcome = "updated"
    else:
        row.draft_yaml = text
        outcome = "draft"
    session.flush()
    if files is not None:
        session.execute(sa.delete(AssignmentFile).where(AssignmentFile.assignment_id == row.id))
        session.add_all(AssignmentFile(assignment_id=row.id, name=n, source=s) for n, s in files.items())
    record("spec_saved", assignment_id=row.id, details={"outcome": outcome, "version": row.version, "hash": digest,
                                                        "files": sorted(files) if files is not None else None})
    return row, outcome


SAVED = {"created": N_("Saved as a new, unpublished assignment. Run the dry run, then publish it."),
         "updated": N_("Saved (version %(version)s). It is not published yet."),
         "draft": N_("Saved as a draft: students still see the published version until you publish the changes."),
         "unchanged": N_("Nothing changed: the spec is the one already saved.")}


@dataclass
class Kept:
    """What an upload received: the spec's text and the files by name (solution.py, mistakes/N.py, data/N)."""

    text: str = ""
    files: dict[str, bytes] = field(default_factory=dict)

    def encoded(self) -> str:
        return base64.b64encode(json.dumps({"text": self.text, "files": {
            n: base64.b64encode(b).decode() for n, b in self.files.items()}}).encode()).decode()

    @classmethod
    def decoded(cls, value: str | None) -> "Kept":
        """The form's `kept` field; nothing for a missing or mangled one (it came back through a browser, and
        every file in it is checked again like a new one)."""
        try:
            raw = json.loads(base64.b64decode(value or "", validate=True) or b"{}")
            return cls(str(raw.get("text", "")), {str(n): base64.b64decode(b) for n, b in raw.get("files", {}).items()})
        except (ValueError, TypeError, AttributeError, binascii.Error):
            return cls()


def _received(form: SpecUploadForm, kept: Kept) -> tuple[Kept, str | None]:
    """The spec's text and the files of this upload over those kept from the last one (a file of the same name
    replaces the kept one), or a sentence saying what is wrong."""
    got = Kept(kept.text, dict(kept.files))
    pasted = (form.text.data or "").replace("\r\n", "\n")
    if _has_file(form.spec.data):
        if pasted.strip() and pasted != kept.text:  # the kept text was sent back in the text box: the file wins
            got.text = pasted
            return got, _("Upload assignment.yaml or paste it, not both.")
        text, problem = _read_upload(form.spec.data, SPEC_NAME)
        if problem:
            return got, problem
        got.text = text
    else:
        got.text = pasted
        problem = _pasted_problem(pasted)
        if problem:
            return got, problem
    if _has_file(form.solution.data):
        got.files["solution.py"] = form.solution.data.stream.read(MAX_FILE_BYTES + 1)
    mistakes = [m for m in (form.mistakes.data or []) if _has_file(m)]
    if len(mistakes) > MAX_MISTAKES:
        return got, _("At most %(n)s mistake files at once.", n=MAX_MISTAKES)
    for m in mistakes:
        name = Path(m.filename.replace("\\", "/")).name
        if not _MISTAKE_NAME.match(name):
            return got, _("%(name)s: a mistake file needs a plain name ending in .py.", name=name)
        got.files[f"mistakes/{name}"] = m.stream.read(MAX_FILE_BYTES + 1)
    data = [d for d in (form.data.data or []) if _has_file(d)]
    for d in data:
        name = Path(d.filename.replace("\\", "/")).name
        if not _DATA_NAME.match(name):
            return got, _("%(name)s: a data file needs a plain name ending in .csv or .gz.", name=name)
        got.files[f"data/{name}"] = d.stream.read(MAX_CSV_BYTES + 1)
    if sum(n.startswith("data/") for n in got.files) > MAX_DATA_FILES:
        return got, _("At most %(n)s data files.", n=MAX_DATA_FILES)
    return got, None


def _sources(files: dict[str, bytes]) -> tuple[dict[str, str], str | None]:
    """The solution's and mistakes' text (the dry run's files), or a sentence saying what is wrong."""
    sources = {}
    for name, data in files.items():
        if name.startswith("data/"):
            if len(data) > MAX_CSV_BYTES:
                return {}, _("%(what)s is larger than %(kb)s KB.", what=name[5:], kb=MAX_CSV_BYTES // 1024)
            continue
        text, problem = _text_of(data, name.removeprefix("mistakes/"))
        if problem:
            return {}, problem
        sources[name] = text
    return sources, None


@bp.post("/manage")
@instructor_required
def upload():
    form = SpecUploadForm()
    kept = Kept.decoded(form.kept.data)
    if not form.validate_on_submit():
        return render_manage(form, error=_("The form was incomplete; please try again."), status=400, kept=kept)
    got, problem = _received(form, kept)
    if problem:
        return render_manage(form, error=problem, status=400, kept=got)
    if not got.text.strip():
        return render_manage(form, error=_("Choose an assignment.yaml file or paste the spec."), status=400, kept=got)
    files, problem = _sources(got.files)
    if problem:
        return render_manage(form, error=problem, status=400, kept=got)
    data = {n.removeprefix("data/"): b for n, b in got.files.items() if n.startswith("data/")}
    text = got.text
    if data:  # read as a folder beside the spec would be, then stored inside it
        with tempfile.TemporaryDirectory(prefix="grader-spec-") as folder:
            for name, content in data.items():
                (Path(folder) / name).write_bytes(content)
            spec, problems = validate(text, base_dir=Path(folder))
            if spec is not None:
                text = bundle_text(text, Path(folder), SPEC_NAME)
    else:
        spec, problems = validate(text)
    if spec is None:
        return render_manage(form, problems=problems, text=text, status=400, kept=got)
    row, outcome = save_spec(text, spec, files or None)
    get_session().commit()
    flash(_(SAVED[outcome], version=row.version) if outcome == "updated" else _(SAVED[outcome]), "ok")
    return redirect(url_for("staff.edit", assignment_id=row.id))


def render_edit(a: Assignment, form: SpecEditForm | None = None, problems: list[Problem] | None = None,
                status: int = 200):
    text = form.text.data if form is not None and form.text.data is not None else (a.draft_yaml or a.spec_yaml)
    form = form or SpecEditForm(formdata=None, data={"text": text})
    run = latest_dry_run(a)
    current = a.draft_yaml or a.spec_yaml
    stale = get_session().scalar(sa.select(sa.func.count()).select_from(Submission).where(
        Submission.assignment_id == a.id, Submission.assignment_version < a.version))
    return render_template("staff/edit.html", a=a, form=form, problems=problems or [], action=ActionForm(),
                           bad_lines={p.line for p in problems or [] if p.line}, text_lines=text.split("\n"),
                           files=files_of(a), run=run, run_current=run is not None and run.spec_hash == spec_hash(current),
                           stale=stale, log=audit.entries(get_session(), assignment_id=a.id, limit=20)), status


@bp.route("/manage/<assignment_id>", methods=["GET", "POST"])
@instructor_required
def edit(assignment_id: str):
    a = assignment_or_404(assignment_id)
    if request.method == "GET":
        return render_edit(a)
    form = SpecEditForm()
    if not form.validate_on_submit():
        return render_edit(a, form, [Problem(None, "", _("The spec is empty."))], 400)
    text = form.text.data.replace("\r\n", "\n")
    problem = _pasted_problem(text)
    if problem:
        return render_edit(a, form, [Problem(None, "", problem)], 400)
    spec, problems = validate(text, a.id)
    if spec is not None and spec.id != a.id:
        spec, problems = None, [Problem(_line_of_id(text), "id",
                                        _("this page edits %(id)s; upload a spec with another id as a new "
                                          "assignment", id=a.id))]
    if spec is None:
        return render_edit(a, form, problems, 400)
    row, outcome = save_spec(text, spec, None)
    get_session().commit()
    flash(_(SAVED[outcome], version=row.version) if outcome == "updated" else _(SAVED[outcome]), "ok")
    return redirect(url_for("staff.edit", assignment_id=a.id))


def _line_of_id(text: str) -> int | None:
    for i, line in enumerate(text.split("\n"), 1):
        if line.startswith("id:"):
            return i
    return None


@bp.post("/manage/<assignment_id>/dry-run")
@instructor_required
def dry_run(assignment_id: str):
    a = assignment_or_404(assignment_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("staff.edit", assignment_id=a.id))
    text = a.draft_yaml or a.spec_yaml
    run = DryRun(assignment_id=a.id, spec_yaml=text, spec_hash=spec_hash(text), files=files_of(a), status="queued",
                 result={}, requested_by=current_user.id, created_at=utcnow())
    session = get_session()
    session.add(run)
    session.flush()
    record("dry_run", assignment_id=a.id, details={"dry_run": run.id, "hash": run.spec_hash})
    session.commit()
    if not send_task(DRY_RUN_TASK, [run.id]):
        run.status, run.result, run.finished_at = "failed", {"ok": False, "files": [], "problems": [
            said("dry_run.queue_unavailable")]}, utcnow()
        session.commit()
    return redirect(url_for("staff.edit", assignment_id=a.id) + "#dry-run")


@bp.get("/manage/<assignment_id>/dry-runs/<int:run_id>")
@instructor_required
def dry_run_status(assignment_id: str, run_id: int):
    run = get_session().get(DryRun, run_id)
    if run is None or run.assignment_id != assignment_id:
        return jsonify(error=_("no such dry run")), 404
    final = run.status in ("done", "failed")
    html = render_template("staff/_dry_run.html", run=run, run_current=True) if final else None
    return jsonify(id=run.id, status=run.status, final=final, ok=bool(run.result.get("ok")) if final else None,
                   html=html)


def _toggle(assignment_id: str, published: bool):
    a = assignment_or_404(assignment_id)
    if ActionForm().validate_on_submit() and a.published != published:
        a.published = published
        record("published" if published else "unpublished", assignment_id=a.id, details={"version": a.version})
        get_session().commit()
        flash(_("Published: students can see it and submit.") if published else
              _("Unpublished: students no longer see it."), "ok")
    return redirect(url_for("staff.edit", assignment_id=a.id))


@bp.post("/manage/<assignment_id>/publish")
@instructor_required
def publish(assignment_id: str):
    return _toggle(assignment_id, True)


@bp.post("/manage/<assignment_id>/unpublish")
@instructor_required
def unpublish(assignment_id: str):
    return _toggle(assignment_id, False)


@bp.post("/manage/<assignment_id>/apply")
@instructor_required
def apply_draft(assignment_id: str):
    """Publish the draft: it becomes the spec (version + 1); existing submissions may then be regraded."""
    a = assignment_or_404(assignment_id)
    if not ActionForm().validate_on_submit() or not a.draft_yaml:
        return redirect(url_for("staff.edit", assignment_id=a.id))
    spec, problems = validate(a.draft_yaml, a.id, train=False)  # checked when it was saved
    if spec is None:
        return render_edit(a, None, problems, 400)
    catalog.write_spec(a, spec, a.draft_yaml)
    a.draft_yaml = None  # also when it was the published text again
    record("spec_published", assignment_id=a.id, details={"version": a.version, "hash": a.spec_hash})
    get_session().commit()
    flash(_("Version %(version)s is live. Submissions graded under earlier versions keep their scores until you "
            "regrade them.", version=a.version), "ok")
    return redirect(url_for("staff.edit", assignment_id=a.id))


@bp.post("/manage/<assignment_id>/discard")
@instructor_required
def discard_draft(assignment_id: str):
    a = assignment_or_404(assignment_id)
    if ActionForm().validate_on_submit() and a.draft_yaml:
        a.draft_yaml = None
        record("draft_discarded", assignment_id=a.id)
        get_session().commit()
        flash(_("The draft is discarded."), "ok")
    return redirect(url_for("staff.edit", assignment_id=a.id))


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc):
    kb = current_app.config["MAX_CONTENT_LENGTH"] // 1024
    return render_template("error.html", title=_("Too large"),
                           message=_("The upload is larger than %(kb)s KB in all.", kb=kb)), 413
