"""The TA dashboard's numbers for one assignment: one row per student, the score histogram, the share of
each diagnosis.

Rules: best, latest and the counts are grader.service.standings' (stated there); the diagnosis shares count,
among students with a graded submission, those whose newest graded submission carries the diagnosis, or whose
newest graded run ended in a syntax error or a crash (RUN_ENDINGS: a script that never ran has no diagnosis,
yet it is the commonest thing a TA must see); the histogram bins each such student's best score, full marks in
a bar of their own. "Below full marks" means submitted and not at full marks: who submitted nothing is
"nothing submitted". Names sort by their pinyin (Chinese characters) and then as written.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa
import sqlalchemy.orm as so
from pypinyin import lazy_pinyin

from grader.models import CheckResultRow, DeadlineExtension, Submission, User
from grader.service.standings import Standing, standings
from grader.wording import points

SORTS = ("name", "username", "best", "latest", "submissions", "last", "late")
FILTERS = ("all", "submitted", "missing", "late", "below_full", "extended", "failed")
BINS = 10  # of width max/10, and one more for full marks
# how a newest graded run ended, counted beside the diagnoses: the `runs` check's codes, by what they mean
SYNTAX_ERROR, CRASHED = "runs.ended_syntax_error", "runs.ended_crashed"
RUN_ENDINGS = {"runs.syntax_error": SYNTAX_ERROR, "runs.syntax_error_in_cell": SYNTAX_ERROR}


def run_ending(runs_code: str | None) -> str | None:
    """SYNTAX_ERROR or CRASHED for a `runs` check's message code that is not a run to the end; None otherwise."""
    if runs_code is None or runs_code == "runs.ok":
        return None
    return RUN_ENDINGS.get(runs_code, CRASHED)


@dataclass(kw_only=True)
class StudentRow(Standing):
    """A student's standing on the assignment (zeros when they submitted nothing), with what the dashboard adds."""

    user_id: int
    username: str
    display_name: str
    extension: dt.datetime | None = None
    diagnoses: list[str] = field(default_factory=list)  # codes on the newest graded submission
    diagnosis_params: dict[str, dict] = field(default_factory=dict)  # their parameters, by code


@dataclass
class Histogram:
    max_score: float
    counts: list[int]

    @property
    def peak(self) -> int:
        return max(self.counts or [0])

    @property
    def width(self) -> float:
        return self.max_score / (len(self.counts) - 1)

    def low(self, i: int) -> float:
        """The bar's lowest score: the last bar holds full marks only."""
        return self.max_score if i == len(self.counts) - 1 else i * self.width

    def label(self, i: int) -> str:
        if i == len(self.counts) - 1:
            return points(self.max_score)
        return f"{points(self.low(i))}–<{points(self.low(i) + self.width)}"


@dataclass
class Gradebook:
    rows: list[StudentRow]
    histogram: Histogram | None
    diagnoses: list[tuple[str, int, float]]  # (code, students, share of graded students)
    graded_students: int
    examples: dict[str, dict] = field(default_factory=dict)  # one student's parameters per diagnosis code


def gradebook(session: so.Session, assignment_id: str) -> Gradebook:
    students = session.execute(sa.select(User.id, User.username, User.display_name).where(User.role == "student")
                               .order_by(User.username)).all()
    found = standings(session, assignment_id=assignment_id)
    rows = {u.id: StudentRow(**vars(found.get((u.id, assignment_id), Standing())), user_id=u.id, username=u.username,
                             display_name=u.display_name or u.username)
            for u in students}  # staff submissions are not in the gradebook
    newest_graded = {r.newest_graded_id: r for r in rows.values() if r.newest_graded_id is not None}
    for submission_id, diagnoses in session.execute(
            sa.select(Submission.id, Submission.diagnoses).where(Submission.id.in_(newest_graded))):
        found_codes = [d for d in (diagnoses or []) if isinstance(d, dict) and isinstance(d.get("code"), str)]
        newest_graded[submission_id].diagnoses = [d["code"] for d in found_codes]
        newest_graded[submission_id].diagnosis_params = {d["code"]: d.get("params") or {} for d in found_codes}
    for submission_id, code in session.execute(
            sa.select(CheckResultRow.submission_id, CheckResultRow.message_code)
            .where(CheckResultRow.submission_id.in_(newest_graded), CheckResultRow.kind == "runs")):
        ending = run_ending(code)
        if ending:
            newest_graded[submission_id].diagnoses.append(ending)
    for ext in session.scalars(sa.select(DeadlineExtension).where(DeadlineExtension.assignment_id == assignment_id)):
        if ext.user_id in rows:
            rows[ext.user_id].extension = ext.deadline
    graded = [r for r in rows.values() if r.best is not None]
    top = max((r.max_score or 0 for r in graded), default=0)
    histogram = None
    if graded and top > 0:
        counts = [0] * (BINS + 1)
        for r in graded:
            counts[max(0, min(BINS, int(r.best / top * BINS)))] += 1
        histogram = Histogram(top, counts)
    tally = Counter(code for r in graded for code in set(r.diagnoses) if code)
    shares = [(code, n, n / len(graded)) for code, n in tally.most_common()]
    examples = {}
    for r in graded:
        for code, params in r.diagnosis_params.items():
            examples.setdefault(code, params)
    return Gradebook(list(rows.values()), histogram, shares, len(graded), examples)


def _matches(row: StudentRow, query: str, show: str, diagnosis: str) -> bool:
    if query and query not in row.username.casefold() and query not in row.display_name.casefold():
        return False
    if diagnosis and diagnosis not in row.diagnoses:
        return False
    return {
        "all": True,
        "submitted": row.submissions > 0,
        "missing": row.submissions == 0,
        "late": row.late > 0,
        "below_full": row.submissions > 0 and (row.best is None or (row.max_score is not None
                                                                      and row.best < row.max_score)),
        "extended": row.extension is not None,
        "failed": row.failed > 0,
    }.get(show, True)


def name_key(name: str) -> tuple[str, str]:
    """How names sort: Chinese characters by their pinyin (李 among the l's), everything else as written."""
    return " ".join(lazy_pinyin(name)).casefold(), name.casefold()


def _key(sort: str):
    low = float("-inf")
    return {
        "name": lambda r: (name_key(r.display_name), r.username),
        "username": lambda r: (r.username.casefold(), r.username),
        "best": lambda r: (r.best if r.best is not None else low, r.username),
        "latest": lambda r: (r.latest_score if r.latest_score is not None else low, r.username),
        "submissions": lambda r: (r.submissions, r.username),
        "last": lambda r: (r.last_submitted.timestamp() if r.last_submitted else low, r.username),
        "late": lambda r: (r.late, r.username),
    }[sort if sort in SORTS else "name"]


def select_rows(rows: list[StudentRow], *, query: str = "", show: str = "all", diagnosis: str = "",
                sort: str = "name", descending: bool = False) -> list[StudentRow]:
    """The table as asked for: filtered, then sorted (students with no score sort last either way)."""
    query = query.strip().casefold()
    chosen = [r for r in rows if _matches(r, query, show, diagnosis)]
    chosen.sort(key=_key(sort), reverse=descending)
    if sort in ("best", "latest", "last"):
        empty = sorted((r for r in chosen if _key(sort)(r)[0] == float("-inf")), key=_key("name"))
        chosen = [r for r in chosen if _key(sort)(r)[0] != float("-inf")] + empty
    return chosen
