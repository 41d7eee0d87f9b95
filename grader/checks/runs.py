"""`runs` checks, all or nothing: the script ran to the end; when it did not, how it stopped: the exception, its
line, the calls in the script that led there, and for a module the sandbox lacks, which modules it has. What ran
before a stop (backward() calls, the last line printed, and what to change for a dtype error) is said once, as a note
beside the checks."""
from __future__ import annotations

import re
import signal

from grader.checks.result import Finding
from grader.checks.stopped import stopped_early
from grader.expected import Expected
from grader.messages import Message
from grader.outcome import RunReport
from grader.spec import AssignmentSpec, Check


TRACEBACK_LINES = 26  # the end of the traceback kept with the finding: its last 8 calls in the script (3 lines each), the error
LAST_OUTPUT_CHARS = 200


def _last_lines(text: str, n: int) -> str:
    return "\n".join(text.rstrip("\n").split("\n")[-n:])


# torch's words for the two dtype slips of the course's scripts
INTEGER_LABELS = re.compile(r"Found dtype Long but expected Float|expected scalar type Float but found Long")
FLOAT64_INPUTS = re.compile(r"Double and Float|Float and Double"
                            r"|expected scalar type (Float but found Double|Double but found Float)")


# .grad read before any backward() made it: `w.grad.data.zero_()` at the top of the loop
# BCELoss's target out of [0, 1]: with criterion(y_data, y_pred) the model's output is the target, and one
# step that takes it outside (or to nan) stops the run
TARGET_OUT_OF_RANGE = re.compile(r"all elements of target should be between 0 and 1")
GRAD_NONE = re.compile(r"'NoneType' object has no attribute '(data|zero_|item)'")
# a data file the script loads by a name of its own (numpy's "data.csv not found.", open()'s Errno 2)
MISSING_DATA_FILE = re.compile(r"([^\s'\"]+\.(?:csv|txt)(?:\.gz)?)'?(?: not found|$)")


def _hints(o, data_file: str | None = None) -> list[Message]:
    """What to change for a RuntimeError of the tensors' dtypes (integer labels, float64 data for a float32 model) or
    of BCELoss's arguments swapped, for a .grad used before the first backward(), or for a data file the assignment
    does not have under that name (`data_file`: the assignment's own)."""
    if o.status != "exception" or not o.error:
        return []
    missing = MISSING_DATA_FILE.search(o.error.message) if o.error.type == "FileNotFoundError" else None
    if missing and data_file:
        return [Message("note.hint_data_file", {"missing": missing.group(1), "file": data_file})]
    if o.error.type == "AttributeError" and o.backward_calls == 0 and GRAD_NONE.search(o.error.message):
        return [Message("note.hint_grad_none")]
    if o.error.type != "RuntimeError":
        return []
    if INTEGER_LABELS.search(o.error.message):
        return [Message("note.hint_integer_labels")]
    if FLOAT64_INPUTS.search(o.error.message):
        return [Message("note.hint_double_inputs")]
    if TARGET_OUT_OF_RANGE.search(o.error.message):
        return [Message("note.hint_loss_arguments")]
    return []


def stopped_notes(report: RunReport, data_file: str | None = None) -> list[Message]:
    """What ran before a run stopped early: its backward() calls and the last line it printed; for an error of
    the tensors' dtypes, a .grad still None or a data file not found (`data_file`: the assignment's), what to
    change."""
    o = report.outcome
    if not stopped_early(o):
        return []
    hints = _hints(o, data_file)
    last = next((line for line in reversed(report.stdout.splitlines()) if line.strip()), None)
    if last is None and o.backward_calls == 0:
        return hints  # nothing ran worth naming: `runs` says where it stopped
    if last is None:
        return [Message("note.stopped_after_silent", {"calls": o.backward_calls})] + hints
    last = last.strip()[:LAST_OUTPUT_CHARS]
    return [Message("note.stopped_after", {"calls": o.backward_calls, "last": last})] + hints


def grade(check: Check, spec: AssignmentSpec, expected: Expected, report: RunReport) -> Finding:
    o = report.outcome
    if report.timed_out:
        return Finding(False, 0.0, Message("runs.timeout", {"seconds": report.wall_limit}))
    if o is None:
        if report.outcome_error:
            return Finding(False, 0.0, Message("runs.bad_outcome", {"reason": report.outcome_error}))
        if report.signal == signal.SIGXCPU:  # the script took SIGXCPU's handler away: the default ended it
            return Finding(False, 0.0, Message("runs.cpu_limit", {"seconds": report.cpu_limit}))
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
        details = {"traceback": _last_lines(e.traceback, TRACEBACK_LINES)} if e and e.traceback else {}
        message = (e.reason.model_dump() if e.reason else e.message) if e else ""
        if e and e.line and e.module:
            return Finding(False, 0.0, Message("runs.missing_module", {
                "module": e.module, "line": e.line, "available": ", ".join(e.available) or "-"}), details)
        if e and e.line and len(e.frames) > 1:
            return Finding(False, 0.0, Message("runs.exception_traced", {
                "type": e.type, "line": e.line, "function": e.frames[-1].function, "message": message,
                "lines": " → ".join(str(f.line) for f in e.frames),
                "called_from": e.frames[0].line}), details)  # the top-level call: a notebook names its cell
        if e and e.line:
            return Finding(False, 0.0, Message("runs.exception", {"type": e.type, "line": e.line, "message": message}),
                           details)
        return Finding(False, 0.0, Message("runs.exception_no_line", {"type": e.type if e else "", "message": message}),
                       details)
    if o.status == "exit":
        return Finding(False, 0.0, Message("runs.exit", {"exit_code": o.exit_code}))
    if o.status == "cpu_limit":
        return Finding(False, 0.0, Message("runs.cpu_limit", {"seconds": report.cpu_limit}))
    if o.status == "os_exit":
        return Finding(False, 0.0, Message("runs.os_exit", {"exit_code": o.exit_code}))
    return Finding(False, 0.0, Message("runs.harness_error", {"message": o.error.message if o.error else ""}))
