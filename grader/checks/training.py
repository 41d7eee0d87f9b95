"""`training` checks: the facets of the student's own training (grader.facets) against the spec's `training`.

The check's points are shared equally among the facets it grades (its `facets`, else every facet the spec does
not leave free) that the run shows; a facet earns its share when the run follows the spec in it. Each deviation is named once, by
the diagnoses; with this check in a spec, final parameters and predictions are held against the reference
replayed with the student's own choices (grader.student_run), so a deviation costs only its facet's share.
"""
from __future__ import annotations

from grader.checks.compare import share
from grader.checks.result import Finding
from grader.expected import Expected
from grader.facets import graded_facets
from grader.messages import Message
from grader.outcome import RunReport
from grader.plan import hand_gradient
from grader.spec import AssignmentSpec, Check
from grader.student_run import student_run


def grade(check: Check, spec: AssignmentSpec, expected: Expected, report: RunReport) -> Finding:
    judged = student_run(spec, expected, report)
    facets = graded_facets(check.facets, spec)
    if judged is None or judged.graded is None:
        function = None if spec.training.autograd else hand_gradient(spec)
        if function:  # by hand there is no backward(): name the function
            return Finding(False, 0.0, Message("training.no_gradient_calls", {"function": function}))
        return Finding(False, 0.0, Message("trace.no_backward"))
    # a facet the run does not show (epochs of a run that crashed, the lr of an update rule not recognised)
    # is left out: the crash or the trace is what costs points there
    known = [f for f in facets if judged.facets.get(f) is not None]
    followed = sum(judged.facets[f] is True for f in known)
    details = {"facets": {f: judged.facets.get(f) for f in facets}}
    if not known:  # steps recorded, none of them checkable against the assignment's model, say so: not "none recorded"
        recorded = judged.graded.recorded
        if recorded:
            return Finding(False, 0.0, Message("training.unverifiable", {"steps": recorded}), details)
        return Finding(False, 0.0, Message("training.unknown"), details)
    if followed == len(known):
        return Finding(True, check.points, Message("training.ok", {"facets": len(known)}), details)
    return Finding(False, share(check.points, followed, len(known)),
                   Message("training.deviations", {"matched": followed, "facets": len(known)}), details)
