"""A grade task parses the stored spec without training the reference: the reference is trained only for what
the checks and diagnoses compare with, once per spec, and a spec is trained to check it only when it comes in."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

import grader.expected
import grader.spec.trial
import grader.student_run
from grader.db import Database, upgrade
from grader.models import Submission
from grader.reference import trainer
from grader.service import accounts, catalog
from grader.spec import bundle_spec, check_spec, parse_spec
from grader.submissions import store

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = ROOT / "assignments"
LINEAR = ASSIGNMENTS / "backprop-linear"


@pytest.fixture
def trains(monkeypatch) -> list[str]:
    """Every training of the reference from now on, by who asked: every module that imported the trainer (the
    expected values, the spec's trial, the student's own run), with a fresh cache, so nothing counted is hidden."""
    importlib.import_module("worker.tasks")  # the grade task's modules, loaded before they are looked through
    calls: list[str] = []
    real = trainer.train
    users = [m for name, m in sorted(sys.modules.items()) if name.split(".")[0] in ("grader", "worker")
             and not name.startswith("grader.reference") and getattr(m, "train", None) is real]
    assert {grader.expected, grader.spec.trial, grader.student_run} <= set(users)
    for module in users:
        def counted(*args, _who=module.__name__, **kwargs):
            calls.append(_who)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, "train", counted)
    grader.expected._expected_cached.cache_clear()
    grader.expected._probes_cached.cache_clear()
    return calls


@pytest.mark.parametrize("folder", sorted(p.parent for p in ASSIGNMENTS.glob("*/assignment.yaml")), ids=lambda p: p.name)
def test_parsing_a_stored_spec_trains_nothing_and_checking_it_trains_once(folder, trains):
    text = bundle_spec(folder / "assignment.yaml")  # as the catalog stores it
    assert trains == []
    parse_spec(text, f"assignment {folder.name}")
    assert trains == []
    check_spec(text, "assignment.yaml")  # an upload
    assert trains == ["grader.spec.trial"]


@pytest.fixture
def linear_task(tmp_path, task_runtime):
    """A fresh SQLite database with the shipped assignments and one student's linear solution, the grade task's
    runtime pointed at it."""
    url = f"sqlite:///{tmp_path / 'grader.db'}"
    upgrade(url)
    db = Database(url)
    with db.session() as session:
        catalog.load_assignments(session, ASSIGNMENTS)
        student = accounts.create_user(session, "student01")
        submission = store(session, student, "backprop-linear", (LINEAR / "solution.py").read_text(), "solution.py")
        submission_id = submission.id
    task_runtime(db)
    return db, submission_id


@pytest.mark.slow
def test_a_grade_task_parses_its_spec_without_training_the_reference(linear_task, trains):
    from worker.tasks import grade

    db, submission_id = linear_task
    assert grade.apply(args=[submission_id]).get() == "graded"
    with db.session() as session:
        graded = session.get(Submission, submission_id)
        assert graded.status == "graded" and graded.score == graded.max_score
    # the solution matches the reference run: that one run is all its checks and diagnoses need
    assert trains == ["grader.expected"]
