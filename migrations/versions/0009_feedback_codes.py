"""feedback as codes: the English reasons older graders stored inside feedback parameters and dry-run results
become message codes with parameters (grader.messages), so every row renders in the reader's language and no
code path that shows a row ever reads English back

Rewritten: check_results.message_params and details["first"] (a signal's reason, an unreadable outcome, the
harness's probe errors, "the script did not run", "60 samples", input() with nobody typing), and
dry_runs.result (each file's problem from its fields; the lost, sandbox and queue problems; a spec's problem
lines move to "spec_problems" as records (file, line, field, message) with the line as the message). A text that matches none of the old sentences (a student's
own exception) stays as it is. The patterns below are the sentences as the grader wrote them until this
revision; they are frozen here, not shared with the code.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""
from __future__ import annotations

import json
import re

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

EXACT = {
    "the script did not run": "reason.not_run", "no result": "reason.no_result",
    "no prediction": "reason.no_prediction", "no predictions": "reason.no_predictions",
    "some outputs are nan or inf": "reason.non_finite_outputs", "random values": "value.random",
    "killed: usually the memory or process limit": "signal.killed", "CPU time limit reached": "signal.cpu_limit",
    "segmentation fault": "signal.segfault", "aborted": "signal.aborted",
    "file size limit reached": "signal.file_size", "stopped by the sandbox": "signal.other",
    "the report was larger than the limit": "outcome.over_limit",
    "the outcome is not a JSON object": "outcome.not_object",
    "input() got no answer: the grader runs your script without anyone typing. Remove the input() calls (use "
    "fixed values) before you submit.": "harness.no_keyboard",
}
_NAME = r"'(?P<name>.+)'"
_TYPE = r"(?P<type>[\w.]+)"
PATTERNS = [(re.compile(f"^{regex}$", re.S), code) for regex, code in [
    (r"forward gave shape (?P<shape>\[[\d, ]*\]) for (?P<n>\d+) samples", "reason.output_shape"),
    (r"(?P<n>\d+) samples", "value.samples"),
    (r"the outcome is larger than (?P<n>\d+) bytes", "outcome.too_large"),
    (r"the outcome is not JSON \((?P<type>\w+)\)", "outcome.not_json"),
    (r"the outcome does not match its schema: (?P<detail>.*)", "outcome.schema"),
]]
# the harness's own errors, stored bare or after the exception type it raised them as
HARNESS = [(re.compile(rf"^(?:(?:LookupError|TypeError|ValueError): )?{regex}$", re.S), code) for regex, code in [
    (rf"the script defines no parameter named {_NAME}", "harness.no_param"),
    (rf"{_NAME} is a {_TYPE}, not a tensor", "harness.param_not_tensor"),
    (rf"{_NAME} is not a leaf tensor \(it was replaced by the result of an operation\)", "harness.param_not_leaf"),
    (rf"{_NAME} does not require grad", "harness.param_no_grad"),
    (rf"the script defines no function named {_NAME}", "harness.no_function"),
    (rf"{_NAME} is a {_TYPE}, not a function", "harness.not_function"),
    (rf"forward returned {_TYPE}, not a tensor or a number", "harness.forward_not_number"),
    (rf"returned {_TYPE}, not a number or a tensor", "harness.returned_not_number"),
    (rf"loss returned {_TYPE}, not a tensor", "harness.loss_not_tensor"),
    (r"loss returned a tensor of shape (?P<shape>\[[\d, ]*\]); backward\(\) needs a scalar", "harness.loss_not_scalar"),
]]
LOST = re.compile(r"^no worker finished this dry run within (?P<minutes>\d+) minutes \(a worker was lost, or none "
                  r"is running\); run it again$")
SANDBOX = re.compile(r"^the sandbox failed: (?P<error>.*)$", re.S)
QUEUE = "The queue did not answer: no worker can run the dry run now. Try again in a moment."


def _said(code: str, /, **params) -> dict:
    return {"code": code, "params": params}


def _params(match: re.Match) -> dict:
    values = {}
    for key, value in match.groupdict().items():
        values[key] = int(value) if key == "n" else json.loads(value) if key == "shape" else value
    return values


# which codes a parameter could hold: a student's text elsewhere ("aborted" as an exception's message) stays
REASON_KEYS = ("reason", "error")
VALUE_KEYS = ("x", "y", "at", "args")


def as_code(text: str, key: str | None) -> dict | None:
    """The message an old stored sentence was, or None when it is not one of ours."""
    code = EXACT.get(text)
    if code is not None:
        wanted = (key == "message" and code == "harness.no_keyboard" or key in REASON_KEYS
                  or key in VALUE_KEYS and code.startswith("value."))
        return _said(code) if wanted else None
    for pattern, code in PATTERNS + HARNESS:
        m = pattern.match(text)
        if m and (key in REASON_KEYS or key in VALUE_KEYS and code.startswith("value.")):
            return _said(code, **_params(m))
    return None


def rewrite(value, key: str | None = None):
    """A message's parameters with every old sentence of ours as its message; `key` is the parameter's name
    (the outer one, for a value inside a list or a dict of probe values)."""
    if isinstance(value, str):
        said = as_code(value, key)
        return value if said is None else said
    if isinstance(value, list):
        return [rewrite(v, key) for v in value]
    if isinstance(value, dict) and set(value) != {"code", "params"} and "$float" not in value:
        return {k: rewrite(v, key if key in VALUE_KEYS else k) for k, v in value.items()}
    return value


def file_problem(f: dict) -> dict | None:
    """A dry-run file's problem from its fields, as grader.selfcheck words it since this revision."""
    if f.get("ok"):
        return None
    score, max_score = f.get("score"), f.get("max_score")
    if f.get("kind") == "solution":
        if score is None:
            return _said("selfcheck.solution_missing")
        return _said("selfcheck.solution_not_full", score=score, max=max_score)
    if f.get("expected") is None:
        return _said("selfcheck.no_expect_line")
    if score is not None and max_score is not None and score >= max_score:
        return _said("selfcheck.mistake_full_marks", code=f["expected"])
    got = f.get("got") or []
    return _said("selfcheck.mistake_not_caught", code=f["expected"],
                 found=", ".join(got) if got else _said("selfcheck.no_diagnosis"))


def dry_run_result(result: dict) -> dict:
    files = result.get("files") or []
    own = {f.get("problem") for f in files if isinstance(f.get("problem"), str)}
    new_files = [{**f, "problem": file_problem(f)} if isinstance(f.get("problem"), str) else f for f in files]
    problems, spec_problems = [], list(result.get("spec_problems") or [])
    for p in result.get("problems") or []:
        if not isinstance(p, str):
            problems.append(p)
        elif p in own:
            continue  # said again by its file
        elif p == QUEUE:
            problems.append(_said("dry_run.queue_unavailable"))
        elif LOST.match(p):
            problems.append(_said("dry_run.lost", minutes=int(LOST.match(p).group("minutes"))))
        elif SANDBOX.match(p):
            problems.append(_said("dry_run.sandbox_failed", error=SANDBOX.match(p).group("error")))
        else:
            spec_problems.append({"file": None, "line": None, "field": None, "message": p})  # a spec's problem
    out = {**result, "files": new_files, "problems": problems}
    if spec_problems:
        out["spec_problems"] = spec_problems
    return out


def upgrade() -> None:
    conn = op.get_bind()
    checks = sa.table("check_results", sa.column("submission_id", sa.Integer), sa.column("check_id", sa.String),
                      sa.column("message_params", sa.JSON), sa.column("details", sa.JSON))
    for row in conn.execute(sa.select(checks.c.submission_id, checks.c.check_id, checks.c.message_params,
                                      checks.c.details)).all():
        params, details = rewrite(row.message_params or {}), dict(row.details or {})
        if isinstance(details.get("first"), dict):
            details["first"] = rewrite(details["first"])
        if params != (row.message_params or {}) or details != (row.details or {}):
            conn.execute(checks.update().where(checks.c.submission_id == row.submission_id,
                                               checks.c.check_id == row.check_id)
                         .values(message_params=params, details=details))
    runs = sa.table("dry_runs", sa.column("id", sa.Integer), sa.column("result", sa.JSON))
    for row in conn.execute(sa.select(runs.c.id, runs.c.result)).all():
        if isinstance(row.result, dict):
            new = dry_run_result(row.result)
            if new != row.result:
                conn.execute(runs.update().where(runs.c.id == row.id).values(result=new))


def downgrade() -> None:
    # The codes stay: an older grader shows a code it does not know as the code and its parameters.
    pass
