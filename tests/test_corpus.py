"""A corpus of learner scripts for lectures 3–7 of the course the grader serves (刘二大人《PyTorch 深度学习实践》),
graded end to end through the fork-server sandbox against the shipped, course-faithful assignments.

`tests/corpus/<lecture>/<case>.py` are the scripts; `tests/corpus/cases.yaml` says, per lecture, the assignment
they are graded against and, per case, what its grade must be:
  full     correct work: full marks, every check passed, no diagnosis but notes ("we read your w_1 as w1")
  passes   check ids that must pass (a deviation costs its own facet, never the backprop it got right)
  fails    check ids that must fail
  says     words the feedback (every check's message and every diagnosis, in English) must contain
  once     words it must contain exactly once: a deviation is named once, with its numbers
  never    words it must not contain: no false diagnosis
  assignment   another assignment than the lecture's (lecture 4 has two)
  data: course  the spec's data file replaced by the course's own (real) file, when this machine has it
  xfail    the issue-14 item the case waits for; strict, so the case fails as soon as its feature lands
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from grader.source_text import decode_script
from grader.spec import load_spec
from worker.grading import grade_source

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).parent / "corpus"
COURSE_DATA = ROOT.parent / "shared" / "data"  # the course's real files: beside the checkout, never in it
KEYS = {"full", "passes", "fails", "says", "once", "never", "assignment", "data", "xfail"}


def _cases(lectures: tuple[str, ...] | None = None) -> list:
    """The cases of `lectures` (all when None), as pytest params."""
    table = yaml.safe_load((CORPUS / "cases.yaml").read_text("utf-8"))
    params = []
    for lecture, group in table.items():
        if lectures is not None and lecture not in lectures:
            continue
        for name, case in group["cases"].items():
            unknown = set(case) - KEYS
            assert not unknown, f"{lecture}/{name}: unknown keys {unknown}"
            case = {"assignment": group["assignment"], **case}
            marks = [pytest.mark.xfail(strict=True, reason=case["xfail"])] if case.get("xfail") else []
            params.append(pytest.param(lecture, name, case, id=f"{lecture}/{name}", marks=marks))
    return params


CASES = _cases()
# lectures 5 and 6 are graded in tests/test_corpus_lecture5.py and _lecture6.py: a test module runs in one process
# (make test's --dist loadfile), and the whole corpus in one process was the suite's longest module
HERE = ("lecture3", "lecture4", "lecture7")


def _spec(case: dict, tmp_path: Path):
    folder = ROOT / "assignments" / case["assignment"]
    if case.get("data") != "course":
        return load_spec(folder / "assignment.yaml")
    spec = load_spec(folder / "assignment.yaml")
    real = COURSE_DATA / spec.data.csv
    if not real.is_file():
        pytest.skip(f"the course's {spec.data.csv} is not on this machine ({COURSE_DATA})")
    shutil.copytree(folder, tmp_path / folder.name)
    shutil.copyfile(real, tmp_path / folder.name / spec.data.csv)
    return load_spec(tmp_path / folder.name / "assignment.yaml")


def feedback_text(result) -> str:
    """Everything the student reads about their grade, in English: each check's message and each diagnosis."""
    return "\n".join([c.message.render("en") for c in result.checks] + [d.render("en") for d in result.diagnoses])


def test_the_corpus_is_large_and_every_script_has_its_case():
    scripts = {f"{p.parent.name}/{p.stem}" for p in CORPUS.glob("*/*.py")}
    assert {p.id for p in CASES} == scripts
    assert len(scripts) >= 60


@pytest.mark.parametrize("lecture, name, case", _cases(HERE))
def test_corpus_case(sandbox, tmp_path, lecture, name, case):
    check_case(sandbox, tmp_path, lecture, name, case)


def check_case(sandbox, tmp_path, lecture: str, name: str, case: dict) -> None:
    """Grade one corpus script and hold its grade to its case (the keys in this module's docstring)."""
    spec = _spec(case, tmp_path)
    source, _ = decode_script((CORPUS / lecture / f"{name}.py").read_bytes())
    result, _ = grade_source(spec, source, sandbox)
    text = feedback_text(result)
    failed = {c.id: c.message.render("en") for c in result.checks if not c.passed}
    if case.get("full"):
        assert failed == {}
        assert result.score == result.max_score
        assert [d.render("en") for d in result.diagnoses if not d.code.startswith("note.")] == []
    elif "full" in case:
        assert result.score < result.max_score
    for check in case.get("passes", []):
        assert check not in failed, text
    for check in case.get("fails", []):
        assert check in failed, text
    for words in case.get("says", []):
        assert words in text
    for words in case.get("once", []):
        assert text.count(words) == 1, text
    for words in case.get("never", []):
        assert words not in text
