"""`trace` checks: the gradients the student's training recorded at every backward() call, each verified at
the student's own parameter values on the student's own batch (grader.own_run).

The check earns the share of verified steps that are right: it judges the backprop alone (a gradient that is the
assignment's times 1/n at every step, a loss averaged where the spec sums, is said so, not called wrong backprop;
it still is not the assignment's gradient), so a wrong learning rate, another optimizer or another number of epochs
(named by the diagnoses, costing their facets' points) never costs it, and a run that stopped early is judged on
the steps it made (the stop costs `runs` and the trained model's checks). When no step can be verified (the samples
of no step are known), it falls back to the steps of the reference run: the share that match from the first step
on, up to the first that differs (each step depends on every step before it), divided by the longer length.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.checks.compare import as_array, difference, matches, share
from grader.checks.result import Finding
from grader.checks.stopped import stopped_early
from grader.expected import Expected
from grader.messages import Message
from grader.outcome import Outcome, RunReport
from grader.own_run import StepVerdict, loss_scale
from grader.protocol import RunProtocol
from grader.reference import ReferenceRun, Schedule
from grader.spec import AssignmentSpec, Check
from grader.student_run import student_run


def _by_param(recorded: dict, params: list[str]) -> dict[str, np.ndarray | None]:
    """Each spec parameter's array in one recorded step. One unnamed leaf stands for a lone parameter."""
    arrays = {p: as_array(recorded.get(p)) for p in params}
    if len(params) == 1 and params[0] not in recorded and len(recorded) == 1:
        arrays[params[0]] = as_array(next(iter(recorded.values())))
    return arrays


def student_grads(outcome: Outcome, params: list[str]) -> list[dict[str, np.ndarray | None]]:
    """Per backward() call, each spec parameter's .grad."""
    return [_by_param(step.grads, params) for step in outcome.trace]


def student_values(outcome: Outcome, params: list[str]) -> list[dict[str, np.ndarray | None]]:
    """Per recorded backward() call, each spec parameter's value (the harness keeps the first few)."""
    return [_by_param(step.values, params) for step in outcome.trace]


@dataclass
class TraceComparison:
    matched: int
    compared: int
    first: tuple[int, str, np.ndarray, np.ndarray | None] | None  # step index, param, expected, got


def compare_trace(student: list[dict], ref: ReferenceRun, rtol: float, atol: float) -> TraceComparison:
    matched, first = 0, None
    n = min(len(student), len(ref.steps))
    for i in range(n):
        bad = next((p for p, g in ref.steps[i].grads.items() if not matches(g, student[i].get(p), rtol, atol)), None)
        if bad is not None:
            first = (i, bad, ref.steps[i].grads[bad], student[i].get(bad))
            break
        matched += 1
    return TraceComparison(matched, n, first)


def _sample_words(step, schedule: Schedule, n: int):
    """The sample a step trained on, 1-based: a number, or a range for a mini-batch."""
    if step.sample is not None:
        return step.sample + 1
    if getattr(step, "batch", None) is not None and isinstance(schedule.batch, int):
        start = step.batch * schedule.batch
        return f"{start + 1}-{min(start + schedule.batch, n)}"
    return None


def grade(check: Check, spec: AssignmentSpec, expected: Expected, report: RunReport) -> Finding:
    o, params = report.outcome, list(spec.model.params)
    steps = len(expected.run.steps)
    if o is None or not o.trace:
        return Finding(False, 0.0, Message("trace.no_backward"))
    student = student_grads(o, params)
    recorded = {name for step in o.trace for name in step.grads}
    missing = [p for p in params if all(s.get(p) is None for s in student)]
    if missing:
        found = ", ".join(sorted(recorded)) or "nothing"
        return Finding(False, 0.0, Message("trace.missing_param", {"param": missing[0], "found": found}))
    judged = student_run(spec, expected, report)
    verified = [v for v in judged.verdicts if v.status != "unverifiable"] if judged else []
    if verified:
        # judged on the steps that ran: a crash costs the `runs` check and the trained model's checks, and the
        # number of epochs is the training facet's (issue 14, item 5)
        return _verified(check, verified, len(spec.data.x), judged.protocols, judged.outcome or o)
    cmp = compare_trace(student, expected.run, check.rtol, check.atol)
    got = o.backward_calls
    if stopped_early(o) and got < steps:  # here too, only the steps that ran (a crash is `runs`' to charge)
        steps = got
    points = share(check.points, cmp.matched, max(steps, got))
    if cmp.first is not None:
        i, param, exp, got_value = cmp.first
        step = expected.run.steps[i]
        first = {"step": i + 1, "epoch": step.epoch + 1,
                 "sample": _sample_words(step, expected.schedule, len(expected.problem.x)),
                 "param": param, **difference(exp, got_value, check.rtol, check.atol),
                 "matched": cmp.matched, "steps": steps}
        # a full-batch step trained on every sample: "sample None" says nothing
        code = "trace.first_divergence" if first["sample"] is not None else "trace.first_divergence_all_samples"
        return Finding(False, points, Message(code, first), {"first": _with_line(first, o, i)})
    if got != steps:
        code = "trace.too_short" if got < steps else "trace.too_long"
        return Finding(False, points, Message(code, {"got": got, "expected": steps}))
    return Finding(True, check.points, Message("trace.ok", {"steps": steps}))


def _verified(check: Check, verified: list[StepVerdict], samples: int, protocols: list[RunProtocol],
              outcome: Outcome) -> Finding:
    """The share of the verified steps that are right; the first wrong one named with its numbers."""
    right = sum(v.status == "right" for v in verified)
    points = share(check.points, right, len(verified))
    if right == len(verified):
        if len(protocols) > 1:  # several runs: their steps summed are no count the student would recognise
            return Finding(True, check.points, Message("trace.ok_runs", {"runs": len(protocols)}))
        calls = protocols[0].calls if protocols else right
        if right < calls:  # the first VERIFY_STEPS of a longer run are the ones checked: say so, with both counts
            return Finding(True, check.points, Message("trace.ok_first", {"steps": right, "calls": calls}))
        return Finding(True, check.points, Message("trace.ok", {"steps": right}))
    scaled = loss_scale([(v.expected, v.got, len(v.rows)) for v in verified if v.rows], check.rtol, check.atol) \
        if right == 0 and all(v.status == "wrong" and v.rows for v in verified) else None
    if scaled is not None:  # the gradient of the student's own loss: a mean where the spec sums (or a sum)
        factor = f"1/{scaled[0]}" if scaled[1] == "mean" else str(scaled[0])
        return Finding(False, points, Message("trace.loss_scaled", {"steps": len(verified), "factor": factor}))
    # a step "accumulated" is wrong too (its .grad holds earlier steps' gradients): the diagnosis says why
    wrong = next(v for v in verified if v.status != "right")
    param = next(n for n in wrong.expected if not matches(wrong.expected[n], wrong.got.get(n), check.rtol, check.atol))
    first = {"step": wrong.index + 1, "right": right, "steps": len(verified), "param": param,
             "epoch": _epoch_of(wrong, protocols), "samples": _samples_words(wrong.rows, samples),
             **difference(wrong.expected[param], wrong.got.get(param), check.rtol, check.atol)}
    return Finding(False, points, Message("trace.wrong_step", first),
                   {"first": _with_line(first, outcome, wrong.index)})


def _with_line(first: dict, outcome: Outcome, index: int) -> dict:
    """The first difference as the table shows it: with the line of the student's code that made the step."""
    line = outcome.trace[index].line if 0 <= index < len(outcome.trace) else None
    return {**first, "line": line} if line else first


def _epoch_of(step: StepVerdict, protocols: list[RunProtocol]) -> int | None:
    """The 1-based epoch of a step within its training run, when the run's epoch length is known."""
    protocol = next((p for p in protocols if p.run == step.run), None)
    if protocol is None or not protocol.steps_per_epoch:
        return None
    return (step.index - protocol.first_call) // protocol.steps_per_epoch + 1


def _samples_words(rows: list[int] | None, samples: int) -> str:
    """The samples a step used, 1-based: "2", "1-3", "all 759" or a short list."""
    if not rows:
        return "?"
    if len(rows) == samples and rows == list(range(samples)):
        return f"1-{samples}"
    if rows == list(range(rows[0], rows[0] + len(rows))):
        return str(rows[0] + 1) if len(rows) == 1 else f"{rows[0] + 1}-{rows[-1] + 1}"
    shown = ", ".join(str(r + 1) for r in rows[:6])
    return shown + (", ..." if len(rows) > 6 else "")
