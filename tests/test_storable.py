"""Non-finite numbers reach every JSON column on SQLite and on PostgreSQL (whose json type refuses NaN)."""
from __future__ import annotations

import math

from grader.db import Database, upgrade
from grader.models import AuditEntry, CheckResultRow, DryRun, Submission
from grader.service import accounts, audit, catalog
from grader.storable import from_storable, to_storable
from grader.submissions import store
from service_helpers import ASSIGNMENTS


def test_non_finite_floats_are_tagged_and_come_back():
    value = {"got": math.nan, "up": [math.inf, -math.inf, 1.5], "pair": (1, math.nan), "word": "nan"}
    stored = to_storable(value)
    assert stored == {"got": {"$float": "nan"}, "up": [{"$float": "inf"}, {"$float": "-inf"}, 1.5],
                      "pair": [1, {"$float": "nan"}], "word": "nan"}
    back = from_storable(stored)
    assert math.isnan(back["got"]) and back["up"] == [math.inf, -math.inf, 1.5] and back["word"] == "nan"


def test_nested_and_parsed_non_finite_values_and_numpy_numbers_are_storable():
    import json

    import numpy as np

    value = {"rows": [[1.0, math.nan], [{"deep": [-math.inf]}]], "parsed": float("1e309"),
             "from_json": json.loads('[1e309, -1e309, NaN]'), "f32": np.float32("nan"), "i64": np.int64(3),
             "array": np.array([1.5, np.inf])}
    stored = to_storable(value)
    text = json.dumps(stored, allow_nan=False)  # what PostgreSQL's json takes: no NaN or Infinity token
    assert stored["rows"] == [[1.0, {"$float": "nan"}], [{"deep": [{"$float": "-inf"}]}]]
    assert stored["parsed"] == {"$float": "inf"} and stored["i64"] == 3 and type(stored["i64"]) is int
    back = from_storable(json.loads(text))
    assert back["from_json"][:2] == [math.inf, -math.inf] and math.isnan(back["from_json"][2])
    assert math.isnan(back["f32"]) and back["array"] == [1.5, math.inf]


def test_a_dict_that_only_looks_tagged_stays_a_dict():
    assert from_storable({"$float": "seven"}) == {"$float": "seven"}
    assert from_storable({"$float": "nan", "other": 1}) == {"$float": "nan", "other": 1}


def test_nan_and_inf_are_stored_in_every_json_column(any_db_url):
    upgrade(any_db_url)
    db = Database(any_db_url)
    try:
        with db.session() as session:
            catalog.load_assignments(session, ASSIGNMENTS)
            user = accounts.create_user(session, "nan-student")
            sub = store(session, user, "backprop-linear", "x = 1\n", "hw.py")
            sub.diagnoses = [{"code": "mistake.no_zero_grad", "params": {"lr": math.inf}}]
            session.add(CheckResultRow(submission_id=sub.id, check_id="params", kind="final_params", passed=False,
                                       points=0, max_points=15, message_code="final_params.mismatch",
                                       message_params={"expected": 2.0, "got": math.nan},
                                       details={"series": [1.0, math.nan, -math.inf]}))
            session.add(DryRun(assignment_id="backprop-linear", spec_yaml="", spec_hash="",
                               result={"ok": False, "files": [{"score": math.nan}]}))
            audit.record(session, None, "ta", "regrade", submission_id=sub.id,
                         details={"previous_score": math.nan, "scores": [[math.inf]]})
            sub.error_params = {"cause_params": {"got": [-math.inf]}}
            sub.stdout_cells = [[1, 0]]
        with db.session() as session:
            got = session.get(Submission, sub.id)
            assert got.diagnoses[0]["params"]["lr"] == math.inf
            check = got.checks[0]
            assert math.isnan(check.message_params["got"]) and check.message_params["expected"] == 2.0
            assert check.details["series"][0] == 1.0 and math.isnan(check.details["series"][1])
            assert check.details["series"][2] == -math.inf
            run = session.query(DryRun).one()
            assert math.isnan(run.result["files"][0]["score"])
            entry = session.query(AuditEntry).one()
            assert math.isnan(entry.details["previous_score"]) and entry.details["scores"] == [[math.inf]]
            assert got.error_params == {"cause_params": {"got": [-math.inf]}}
    finally:
        db.dispose()


def test_feedback_renders_a_stored_nan_as_nan():
    from grader.messages import render

    params = from_storable(to_storable({"param": "w", "index": "", "expected": 2.0, "got": math.nan}))
    assert render("final_params.mismatch", params, "en") == "After training, w should be 2; yours is nan."
