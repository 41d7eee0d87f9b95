"""The registry of check kinds: a spec's `kind:` → the module that grades it.

Every kind's module has one function, `grade(check, spec, expected, report) -> Finding`. Adding a kind is its
module, one line in KINDS, its name in grader.spec.schema.CheckKind (what a spec may say) and its message
codes. A kind with `needs_run` earns nothing, without being asked, when the script did not run (no outcome,
or a syntax error); only `runs` says how a script that did not run stopped. `evidence` names what a kind
judges ("probes", "trace" or "end"), which says what a run that stopped early leaves unjudged
(grader.checks.stopped).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from grader.checks import accuracy, final_params, function, gradients, predictions, runs, trace, training
from grader.checks.result import Finding
from grader.expected import Expected
from grader.outcome import RunReport
from grader.spec import AssignmentSpec, Check

Grade = Callable[[Check, AssignmentSpec, Expected, RunReport], Finding]


@dataclass(frozen=True)
class Kind:
    grade: Grade
    needs_run: bool = True
    evidence: str = ""


KINDS: dict[str, Kind] = {
    "runs": Kind(runs.grade, needs_run=False),
    "gradients": Kind(gradients.grade, evidence="probes"),
    "trace": Kind(trace.grade, evidence="trace"),
    "final_params": Kind(final_params.grade, evidence="end"),
    "predictions": Kind(predictions.grade, evidence="end"),
    "function": Kind(function.grade, evidence="probes"),
    "accuracy": Kind(accuracy.grade, evidence="end"),
    "training": Kind(training.grade, evidence="trace"),
}
