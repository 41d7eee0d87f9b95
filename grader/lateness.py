"""Lateness, stated once: how late work is priced, when it is refused, and re-pricing after an extension.

The rule:
- A submission is on time until the deadline plus `late.grace_minutes`.
- After that, each started day (24 hours) costs `late.penalty_per_day` of the points, counting days up to
  `late.max_days`, and never more than all of them. A score is the points earned times (1 - penalty),
  rounded to 2 decimals.
- With `max_days`, a student may submit until the grace's end plus `max_days` days; after that the window is
  closed and their submissions are refused (staff may still submit; theirs are priced with the days counted
  up to `max_days`, like any other).
- The deadline is the student's own: their extension's when a TA granted one, else the assignment's
  (grader.service.deadlines). No deadline: nothing is late. Granting or withdrawing an extension re-prices
  the student's graded work at once: the points stay, the penalty and the score change (an override keeps
  its score). A student's deadline earlier than the assignment's takes time away: staff must confirm it,
  after being shown what it costs each graded submission (grader.web.staff.students).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: the web reads this rule without loading the spec's reference engine
    from grader.spec import Late


def penalty(late: Late, submitted_at: dt.datetime | None, deadline: dt.datetime | None) -> float:
    """The fraction of the points a submission made at `submitted_at` loses, 0.0–1.0."""
    if submitted_at is None or deadline is None:
        return 0.0
    over = submitted_at - deadline - dt.timedelta(minutes=late.grace_minutes)
    if over <= dt.timedelta(0):
        return 0.0
    days = math.ceil(over / dt.timedelta(days=1))
    if late.max_days is not None:
        days = min(days, late.max_days)
    return min(1.0, days * late.penalty_per_day)


def priced(points: float, penalty: float) -> float:
    """The score of `points` earned with `penalty` taken off."""
    return round(points * (1 - penalty), 2)


@dataclass(frozen=True)
class Window:
    """Where a moment falls for one student and assignment."""

    state: str  # "open" | "late" | "closed"
    deadline: dt.datetime | None
    last_moment: dt.datetime | None  # the end of the last late day; None: no end
    penalty: float  # the fraction a submission made now loses

    @property
    def passed(self) -> bool:
        return self.state != "open"


def window(late: Late, deadline: dt.datetime | None, now: dt.datetime | None = None) -> Window:
    """Whether a student may submit now (`deadline` is theirs), and what a submission made now loses."""
    now = now or dt.datetime.now(dt.timezone.utc)
    if deadline is None:
        return Window("open", None, None, 0.0)
    free_until = deadline + dt.timedelta(minutes=late.grace_minutes)
    last = None if late.max_days is None else free_until + dt.timedelta(days=late.max_days)
    if now <= free_until:
        return Window("open", deadline, last, 0.0)
    state = "closed" if last is not None and now > last else "late"
    return Window(state, deadline, last, penalty(late, now, deadline))


def repriced(result, late: Late, submitted_at: dt.datetime | None, deadline: dt.datetime | None):
    """A GradeResult priced for the student's own deadline; its checks' points stay."""
    new = penalty(late, submitted_at, deadline)
    if new != result.late_penalty:
        result.late_penalty = new
        result.score = priced(sum(c.points for c in result.checks), new)
    return result


def price_for(submission, late: Late, deadline: dt.datetime | None) -> tuple[float, float | None]:
    """(penalty, score) a graded submission's row would have with `deadline`; an override keeps its score."""
    new = penalty(late, submission.submitted_at, deadline)
    if submission.override_score is not None or new == submission.late_penalty:
        return new, submission.score
    return new, priced(sum(c.points for c in submission.checks), new)


def reprice_row(submission, late: Late, deadline: dt.datetime | None) -> bool:
    """A graded submission's row re-priced for a new deadline (an override keeps its score); True if it changed."""
    new, score = price_for(submission, late, deadline)
    if new == submission.late_penalty:
        return False
    submission.late_penalty, submission.score = new, score
    return True
