"""The late policy, one rule: grace, a penalty per started day counted up to max_days, the window, re-pricing."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from grader.lateness import penalty, priced, reprice_row, window
from grader.spec import Late

DEADLINE = dt.datetime(2026, 12, 10, 15, 59, tzinfo=dt.timezone.utc)
LATE = Late(grace_minutes=10, penalty_per_day=0.1, max_days=3)


def at(**delta) -> dt.datetime:
    return DEADLINE + dt.timedelta(**delta)


@pytest.mark.parametrize(("when", "expected"), [
    (at(minutes=10), 0.0),                # inside the grace
    (at(minutes=11), 0.1),                # a started day
    (at(days=1, minutes=10), 0.1),        # exactly one day past the grace
    (at(days=1, minutes=11), 0.2),
    (at(days=30), 0.3),                   # days counted up to max_days
])
def test_each_started_day_past_the_grace_costs_the_penalty_up_to_max_days(when, expected):
    assert penalty(LATE, when, DEADLINE) == pytest.approx(expected)


def test_no_deadline_means_nothing_is_late():
    assert penalty(LATE, at(days=30), None) == 0.0
    assert window(LATE, None, at(days=30)).state == "open"


def test_the_penalty_never_takes_more_than_everything():
    assert penalty(Late(penalty_per_day=0.6), at(days=5), DEADLINE) == 1.0


def test_the_window_closes_after_the_last_day_and_says_what_a_submission_loses():
    assert window(LATE, DEADLINE, at(minutes=5)).state == "open"
    late = window(LATE, DEADLINE, at(days=1, minutes=11))
    assert (late.state, late.penalty) == ("late", pytest.approx(0.2))
    closed = window(LATE, DEADLINE, at(days=3, minutes=11))
    assert closed.state == "closed" and closed.last_moment == at(days=3, minutes=10)
    assert closed.penalty == penalty(LATE, at(days=3, minutes=11), DEADLINE)  # one rule for both


def test_a_score_is_the_points_less_the_penalty_rounded_to_cents():
    assert priced(40.1, 0.2) == 32.08 and priced(33.333, 0.0) == 33.33


def test_repricing_a_row_keeps_its_points_and_an_overrides_score():
    checks = [SimpleNamespace(points=30.0), SimpleNamespace(points=10.1)]
    row = SimpleNamespace(submitted_at=at(days=1, minutes=11), late_penalty=0.0, score=40.1, override_score=None,
                          checks=checks)
    assert reprice_row(row, LATE, DEADLINE) and (row.late_penalty, row.score) == (pytest.approx(0.2), 32.08)
    assert not reprice_row(row, LATE, DEADLINE)  # nothing changed
    row.override_score = row.score = 50.0
    assert reprice_row(row, LATE, at(days=5)) and (row.late_penalty, row.score) == (0.0, 50.0)
