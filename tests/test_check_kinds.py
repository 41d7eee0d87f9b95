"""Check kinds are a registry: every kind a spec may name is graded by its own module, all with one signature."""
from __future__ import annotations

import inspect
import typing

from grader.checks.kinds import KINDS
from grader.spec import CheckKind


def test_every_kind_a_spec_may_name_has_a_grading_module():
    assert set(KINDS) == set(typing.get_args(CheckKind))


def test_every_kind_grades_with_the_same_signature():
    for name, kind in KINDS.items():
        assert kind.grade.__module__ == f"grader.checks.{name}"
        assert list(inspect.signature(kind.grade).parameters) == ["check", "spec", "expected", "report"], name


def test_only_runs_is_graded_when_the_script_did_not_run():
    assert [name for name, kind in KINDS.items() if not kind.needs_run] == ["runs"]
