"""What a run that stopped early leaves unjudged: a check whose evidence the script never produced says where
the script stopped, instead of judging a run that never happened or comparing with values from a model the
student never had.

A run stopped early when the script raised, exited with a non-zero status, called os._exit or used up its CPU
time. Each check kind
names the evidence it judges (grader.checks.kinds):
- "probes" (the student's functions called at test points after the run): judged whenever the script defined
  what the check calls; a name the harness could not find after a stop was never reached, not missing, unless
  the script binds it nowhere (the harness says so: `unbound`);
- "trace" (the gradients of the training as it ran): judged over the steps that ran, unless none did;
- "end" (the trained model: final parameters, predictions, accuracy): judged only when the run made at least
  as many backward() calls (by hand: calls of the gradient function) as the reference's training (a stop after training, such as an input() at the end,
  loses only the `runs` points); and final parameters and predictions, with `init: student` parameters, only
  when the run recorded the starting values the reference trains from (else the reference would train from
  zeros the student never had; an accuracy needs no reference).
"""
from __future__ import annotations

import math

from grader.expected import Expected
from grader.messages import Message
from grader.outcome import Outcome, RunReport
from grader.spec import AssignmentSpec, Check

STOPPED = ("exception", "exit", "os_exit", "cpu_limit")
# what the harness says, as a code, when a name the plan asks for is not in the script (worker/harness.py); a
# string error is the student's own exception, never read for a name
_MISSING_CODES = ("harness.no_function", "harness.no_param")


def stopped_early(outcome: Outcome | None) -> bool:
    """The script raised, exited with a non-zero status, called os._exit or used its CPU time: its run did not
    reach its end."""
    return outcome is not None and outcome.status in STOPPED


def stop_line(outcome: Outcome) -> int | None:
    return outcome.error.line if outcome.error else None


def unjudged(evidence: str, check: Check, spec: AssignmentSpec, expected: Expected, report: RunReport) -> Message | None:
    """Why `check` cannot be judged on this run (a message for the student), or None when it can."""
    o = report.outcome
    if o is None or not evidence:
        return None
    if stopped_early(o):
        line, steps = stop_line(o), len(expected.run.steps)
        calls = o.as_trained(spec.training.autograd).backward_calls  # by hand: the gradient function's calls
        if evidence == "probes" and o.status == "cpu_limit":  # no probe ran: the CPU time was spent
            return Message("check.stopped_cpu_limit")
        if evidence == "probes":
            name = _unreached_name(check, o)
            if name is not None:
                return _stopped("check.stopped_before_defined", line, name=name)
        elif evidence == "trace" and calls == 0:
            return _stopped("check.stopped_before_training", line)
        elif evidence == "end" and calls < steps:
            if calls == 0:
                return _stopped("check.stopped_before_training", line)
            return _stopped("check.stopped_during_training", line, calls=calls, steps=steps)
    # the gradients and the trained model are the reference's; the training's facets (lr, epochs) are not
    other = _other_shape(spec, o) if check.kind == "trace" or (evidence == "end" and check.kind != "accuracy") else None
    if other is not None:  # another model than the spec's: no reference run, from zeros the student never had
        return Message("check.other_model", other)
    if evidence == "end" and check.kind != "accuracy" and expected.student_init_missing:
        return Message("check.no_start", {"param": expected.student_init_missing[0]})
    return None


def _other_shape(spec: AssignmentSpec, o: Outcome) -> dict | None:
    """A spec parameter the run's first steps recorded with another shape than the spec's (an extra layer
    shifts every layer after it): {"param", "shape", "expected"}, or None."""
    for name in spec.model.params:
        value = next((step.values[name] for step in o.trace[:3] if step.values.get(name) is not None), None)
        expected = list(spec.model.shape(name))
        if value is not None and value.shape and math.prod(value.shape) != math.prod(expected):
            return {"param": name, "shape": list(value.shape), "expected": expected}
    return None


def _stopped(code: str, line: int | None, **params) -> Message:
    if line is None:  # os._exit, sys.exit() from a library: no line of the script to name
        return Message(f"{code}_no_line", params)
    return Message(code, {"line": line, **params})


def _unreached_name(check: Check, o: Outcome) -> str | None:
    """The name a probe check needed and the stopped script never defined, or None."""
    if check.kind == "gradients":
        errors = [o.probes.error]
    else:
        errors = [r.error for r in o.function_probes]
    for error in errors:
        params = getattr(error, "params", None) or {}
        # a name the script binds nowhere is missing, whether or not it stopped: the check judges that
        if getattr(error, "code", None) in _MISSING_CODES and params.get("name") and not params.get("unbound"):
            return str(params["name"])
    return None
