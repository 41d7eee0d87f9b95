"""`runs` checks, all or nothing: the script ran to the end; when it did not, how it stopped."""
from __future__ import annotations

from grader.checks.result import Finding
from grader.expected import Expected
from grader.feedback import Message
from grader.outcome import RunReport
from grader.spec import AssignmentSpec, Check


def grade(check: Check, spec: AssignmentSpec, expected: Expected, report: RunReport) -> Finding:
    o = report.outcome
    if report.timed_out:
        return Finding(False, 0.0, Message("runs.timeout", {"seconds": report.wall_limit}))
    if o is None:
        if report.outcome_error:
            return Finding(False, 0.0, Message("runs.bad_outcome", {"reason": report.outcome_error}))
        if report.signal:
            return Finding(False, 0.0, Message("runs.killed", {"signal": report.signal, "reason": report.signal_reason()}))
        return Finding(False, 0.0, Message("runs.no_outcome"))
    if o.status == "ok":
        return Finding(True, check.points, Message("runs.ok"))
    if o.status == "syntax_error":
        e = o.error
        return Finding(False, 0.0, Message("runs.syntax_error", {"line": e.line if e else None, "message": e.message if e else ""}))
    if o.status == "exception":
        e = o.error
        if e and e.line:
            return Finding(False, 0.0, Message("runs.exception", {"type": e.type, "line": e.line, "message": e.message}))
        return Finding(False, 0.0, Message("runs.exception_no_line", {"type": e.type if e else "", "message": e.message if e else ""}))
    if o.status == "exit":
        return Finding(False, 0.0, Message("runs.exit", {"exit_code": o.exit_code}))
    if o.status == "os_exit":
        return Finding(False, 0.0, Message("runs.os_exit", {"exit_code": o.exit_code}))
    return Finding(False, 0.0, Message("runs.harness_error", {"message": o.error.message if o.error else ""}))
