"""Diagnoses: which known mistake explains a submission, found outside the checks.

A trace that matches a known mistake variant of the reference from its first step on, the state of the
parameters, a missing backward(); for gradients computed by hand, the run recorded from the calls of the
gradient function (else the final parameters a mistake trains to).
"""
from __future__ import annotations

import ast

import math

import numpy as np

from grader.checks.compare import as_array, matches, show
from grader.expected import Expected
from grader.checks.result import CheckResult
from grader.checks.runs import stopped_notes
from grader.checks.stopped import stopped_early
from grader.checks.trace import compare_trace, student_grads, student_values
from grader.messages import Message
from grader.names import NAME_NOTES, extra_params, name_notes
from grader.outcome import Outcome, RunReport
from grader.own_run import loss_scale
from grader.plan import function_calls, hand_gradient
from grader.reference import ReferenceRun, Variant, mistake_variants
from grader.spec import AssignmentSpec
from grader.student_run import student_run, trace_tolerance

DIAGNOSIS_STEPS = 60  # enough steps to tell the variants apart, few enough that float32 drift stays small
DIAGNOSIS_RTOL = 1e-3


DIAGNOSED_NOTES = ("other_loss", "model_activations")  # harness notes diagnose() reads, never shown as notes
SPEC_ACTIVATIONS = ("sigmoid", "tanh", "relu")  # the activations of the spec's expression language


def run_notes(report: RunReport, spec: AssignmentSpec | None = None) -> list[Message]:
    """What the harness changed to run the script (notebook magics blanked, a parameter re-created after
    training judged as trained), how it read the script's names (grader.names), and what ran before a stop."""
    if report.outcome is None:
        return []
    replaced = replaced_notes(report.outcome)
    notes = [Message(f"note.{n.code}", {"lines": n.lines}) for n in report.outcome.notes
             if n.code not in NAME_NOTES and n.code not in DIAGNOSED_NOTES]
    data_file = spec.data.csv if spec is not None else None
    return notes + name_notes(report.outcome) + replaced + stopped_notes(report, data_file)


def replaced_notes(outcome: Outcome) -> list[Message]:
    """One note per re-creation after training: with its line and code where the harness found the statement,
    else per parameter."""
    notes = [Message("note.replaced_after_training_at", {"name": r.name, "line": r.line, "code": r.text})
             for r in outcome.recreated if r.line and set(r.params) & set(outcome.replaced)]
    placed = {p for r in outcome.recreated if r.line for p in r.params}
    return notes + [Message("note.replaced_after_training", {"param": name})
                    for name in outcome.replaced if name not in placed]


def diagnose(spec: AssignmentSpec, ref: Expected, report: RunReport, results: dict[str, CheckResult]) -> list[Message]:
    o = report.outcome
    if o is None or o.status == "syntax_error":
        return []
    params = list(spec.model.params)
    found: list[Message] = []
    autograd = spec.training.autograd
    for name in params:
        value = o.final_params.get(name)
        if value is None or value.kind == "missing":
            if not stopped_early(o):  # a stopped run never reached the definition: `runs` says where it stopped
                found.append(Message("mistake.missing_param", {"param": name}))
        elif value.kind == "number" and not autograd:
            continue  # gradients by hand: a plain number is the natural parameter
        elif value.kind == "other" and value.type == "NoneType" and name.endswith(".bias"):
            found.append(Message("mistake.no_bias", {"param": name, "layer": name.rpartition(".")[0]}))
        elif value.kind in ("number", "other"):
            found.append(Message("mistake.not_tensor_param", {"param": name, "type": value.type or "number"}))
        elif not value.is_leaf:
            found.append(Message("mistake.non_leaf_param", {"param": name}))
    if found and all(m.code == "mistake.missing_param" for m in found):
        held = _params_in_one_tensor(spec, o, [m.params["param"] for m in found])
        if held is not None:
            return [held]
    if found:
        return found
    if not autograd:
        return _hand_gradient_mistakes(spec, ref, report, results)
    if o.backward_calls == 0 and o.status == "ok":
        return [Message("mistake.no_backward")]
    grads_check = next((r for r in results.values() if r.kind == "gradients" and not r.passed), None)
    reduction = loss_reduction(spec, ref, report)
    # a loss reduced otherwise is the one deviation of the gradients: the run it trained is still judged below
    lead = [reduction] if reduction is not None else []
    extra = extra_params(spec, o) if o.trace else []
    other_loss = next((n for n in o.notes if n.code == "other_loss"), None)
    activations = _other_activations(spec, o)
    if grads_check and other_loss is not None:  # the loss object's class says why the gradient is another
        found.append(Message("mistake.other_loss", {"function": spec.functions.loss, "yours": other_loss.yours,
                                                    "ours": other_loss.ours}))
    elif grads_check and activations is not None:  # the lecture 7 homework: other activations than the lecture's
        found.append(Message("mistake.other_activation", activations))
    elif grads_check and grads_check.details.get("first", {}).get("param") and reduction is None and not extra:
        found.append(Message("mistake.wrong_gradient", {"param": grads_check.details["first"]["param"],
                                                        **function_calls(spec)}))  # extra: they are the cause
    if not o.trace:
        return lead + found
    found += extra
    values, grads = student_values(o, params), student_grads(o, params)
    for name in params:
        first = values[0].get(name)
        if spec.model.initial(name) is None:
            continue  # init: student
        init = np.asarray(spec.model.initial(name), dtype=np.float64)
        if first is not None and not matches(init, first, 1e-6, 1e-6):
            found.append(Message("mistake.wrong_init", {"param": name, "expected": show(init), "got": show(first)}))
    if found:  # the facets the training check charged are named too, whatever else went wrong
        return lead + found + _facet_deviations(spec, ref, report, lead + found)
    found = lead + _own_run_mistakes(spec, ref, report, values, grads)
    return found + _logits(spec, results)


def _logits(spec: AssignmentSpec, results: dict[str, CheckResult]) -> list[Message]:
    """A model that returns the value before the assignment's final sigmoid (trained with BCEWithLogitsLoss): the
    first prediction off by exactly that sigmoid, said once."""
    forward = spec.model.forward.replace(" ", "")
    if not (forward.startswith("sigmoid(") and forward.endswith(")")):
        return []
    for result in results.values():
        params = result.message.params
        if result.kind != "predictions" or result.message.code != "predictions.mismatch" or params.get("index"):
            continue
        try:
            got, expected = float(params["got"]), float(params["expected"])
        except (KeyError, TypeError, ValueError):
            continue
        if math.isclose(1 / (1 + math.exp(-min(max(got, -700.0), 700.0))), expected, rel_tol=1e-3, abs_tol=1e-6):
            return [Message("mistake.logits", {"x": params.get("x"), "got": got, "expected": expected})]
    return []


def loss_reduction(spec: AssignmentSpec, ref: Expected, report: RunReport) -> Message | None:
    """A loss averaged over the samples where the spec sums them (or summed where it averages), when every
    verified step of the training, else every gradient probe, is the reference's times 1/n (or n)."""
    judged = student_run(spec, ref, report)
    verified = [v for v in judged.verdicts if v.status != "unverifiable"] if judged else []
    scaled = None
    if verified and all(v.status == "wrong" and v.rows for v in verified):
        scaled = loss_scale([(v.expected, v.got, len(v.rows)) for v in verified], *trace_tolerance(spec))
    o = report.outcome
    if scaled is None and not verified and o.probes.results and any(c.kind == "gradients" for c in spec.checks):
        pairs = []
        for probe, got in zip(ref.probes, o.probes.results):
            if got.error or got.grads is None:
                return None
            pairs.append((probe["grads"], {n: as_array(got.grads.get(n)) for n in probe["grads"]},
                          int(np.shape(probe["x"])[0]) if np.ndim(probe["x"]) else 1))
        check = next(c for c in spec.checks if c.kind == "gradients")
        scaled = loss_scale(pairs, check.rtol, check.atol)
    if scaled is None:
        return None
    code = "mistake.loss_mean_not_sum" if scaled[1] == "mean" else "mistake.loss_sum_not_mean"
    return Message(code, {"samples": scaled[0]})


def _other_activations(spec: AssignmentSpec, o) -> dict | None:
    """The activations the student's model applies, when it applies some the spec's forward does not (ReLU where
    the lecture's network has sigmoid): {"yours", "ours", "function"}; None otherwise."""
    note = next((n for n in o.notes if n.code == "model_activations"), None)
    ours = _called(spec.model.forward, SPEC_ACTIVATIONS)
    if note is None or not ours or not {_plain(a) for a in note.candidates} - set(ours):
        return None
    return {"function": spec.functions.forward, "yours": ", ".join(note.candidates), "ours": ", ".join(ours)}


def _params_in_one_tensor(spec: AssignmentSpec, o, missing: list[str]) -> Message | None:
    """All the spec's parameters missing, each one number, and the training reaching one tensor of as many numbers
    (w = torch.tensor([1.0, 1.0, 1.0]) for w1, w2, b): one message for that, not one per parameter."""
    if len(missing) != len(spec.model.params) or len(missing) < 2 or not o.trace:
        return None
    if any(int(np.prod(spec.model.shape(name))) != 1 for name in missing):
        return None
    leaves = o.trace[0].values
    if len(leaves) != 1:
        return None
    (name, value), = leaves.items()
    data = value.array()
    if data is None or data.size != len(missing):
        return None
    return Message("mistake.params_in_one_tensor", {"name": name, "count": len(missing), "params": ", ".join(missing)})


def _called(expression: str, names: tuple[str, ...]) -> list[str]:
    """Which of `names` the spec's expression calls (a loaded spec's expression parses)."""
    calls = [node.func.id for node in ast.walk(ast.parse(expression.strip(), mode="eval"))
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)]
    return [name for name in dict.fromkeys(calls) if name in names]


def _plain(activation: str) -> str:
    """An activation's name as the spec's language spells it: LeakyReLU and leaky_relu are leakyrelu, Sigmoid sigmoid."""
    return activation.lower().replace("_", "")


def _facet_deviations(spec, ref: Expected, report: RunReport, found: list[Message]) -> list[Message]:
    """How the graded run deviates from the spec's facets (grader.facets), those not said already."""
    judged = student_run(spec, ref, report)
    codes = {m.code for m in found}
    return [m for m in judged.deviations if m.code not in codes] if judged is not None else []


def _own_run_mistakes(spec, ref: Expected, report: RunReport, values, grads) -> list[Message]:
    """The student's own run against the spec's facets, each deviation once (grader.facets); gradients that
    accumulate, or an update rule not recognised, are explained by the known mistakes' traces."""
    o, params = report.outcome, list(spec.model.params)
    judged = student_run(spec, ref, report)
    if judged is None or judged.graded is None:
        return _trace_mistakes(spec, ref, values, grads, params, o.status, o.backward_calls)
    found = []
    found += _runs_note(spec, judged)
    piled = {n for v in judged.verdicts if v.status == "accumulated" for n in v.piled}
    twice = judged.graded.calls_per_step
    if piled and twice:  # zeroed at every step, but backward() called k times before it: that is why they pile up
        found.append(Message("mistake.backward_several_times", {
            "times": twice, "calls": judged.graded.calls, "steps": judged.graded.optimizer_steps}))
    elif piled and _zeroed_every(judged):  # zeroed, but only every few steps (once per epoch)
        every = _zeroed_every(judged)
        per_epoch = every == judged.graded.steps_per_epoch
        found.append(Message("mistake.zero_grad_per_epoch" if per_epoch else "mistake.zero_grad_every",
                             {"every": every}))
    elif piled and piled != set(params):  # some parameters' gradients zeroed, not all: those named
        found.append(Message("mistake.grad_not_zeroed", {
            "params": ", ".join(n for n in params if n in piled),
            "zeroed": ", ".join(n for n in params if n not in piled)}))
    elif piled or not judged.graded.rule.known:
        # the graded run's own calls: a script of several runs trains each for its own epochs
        known = _trace_mistakes(spec, ref, values, grads, params, o.status, judged.graded.calls)
        found += known or ([Message("mistake.no_zero_grad")] if piled else [])
    codes = {m.code for m in found}
    return found + [m for m in judged.deviations if m.code not in codes]


def _zeroed_every(judged) -> int | None:
    """Steps between zeroings, where the graded run's gradients pile up and are reset to a fresh one at a steady
    interval (w.grad.zero_() after the epoch's loop, not after each update); None where they never are."""
    steps = [v for v in judged.verdicts if v.run == judged.graded.run]
    resets = [i for i in range(1, len(steps)) if steps[i].status == "right" and steps[i - 1].status == "accumulated"]
    gaps = {b - a for a, b in zip(resets, resets[1:])}
    trace = judged.outcome.trace
    # updated at every step in between: one update per epoch (mistake.update_per_epoch) piles up as well, unmoved
    moved = any(0 < v.index < len(trace) and trace[v.index].values != trace[v.index - 1].values
                for v in steps if v.status == "accumulated")
    return gaps.pop() if len(resets) >= 2 and len(gaps) == 1 and moved else None


def _gradient_once(spec, o: Outcome, judged) -> Message | None:
    """A gradient by hand computed once, before the loop, and used for every update: one call, and parameters that
    moved further than one update of the spec's lr with that gradient would take them."""
    if judged.graded.calls != 1 or spec.training.epochs < 2 or len(o.trace) != 1:
        return None
    step = o.trace[0]
    for name in spec.model.params:
        start, grad, final = (as_array(step.values.get(name)), as_array(step.grads.get(name)),
                              as_array(o.final_params[name]) if name in o.final_params else None)
        if start is None or grad is None or final is None or start.size != final.size or grad.size != final.size:
            continue
        if np.max(np.abs(final.ravel() - start.ravel())) > 1.5 * spec.training.lr * np.max(np.abs(grad)):
            return Message("mistake.gradient_once", {"function": hand_gradient(spec), "line": step.line or "?",
                                                     "params": ", ".join(spec.model.params)})
    return None


def _runs_note(spec, judged) -> list[Message]:
    """Which of several training runs is graded (the last, or the last that trains the assignment's model), and
    the calls after the training that no update followed, which no step counts (Outcome.without_unapplied_steps)."""
    runs, notes = len(judged.protocols), []
    if runs > 1 and judged.graded is judged.protocols[-1]:
        notes.append(Message("note.training_runs", {"runs": runs}))
    elif runs > 1:
        notes.append(Message("note.training_runs_earlier", {
            "runs": runs, "graded": judged.graded.run + 1, "model": ", ".join(dict.fromkeys(
                name.split(".")[0] for name in spec.model.params))}))
    lines = sorted({step.line for step in judged.unapplied if step.line})
    if lines:
        call = "backward()" if spec.training.autograd else f"{hand_gradient(spec)}()"
        notes.append(Message("note.unapplied_steps", {"call": call, "lines": ", ".join(map(str, lines))}))
    return notes


def _hand_gradient_mistakes(spec, ref: Expected, report: RunReport, results: dict[str, CheckResult]) -> list[Message]:
    """Gradients computed by hand leave no backward() trace: judge the function at the probe points, then how the
    run the harness recorded from the calls of the gradient function deviates from the spec (grader.facets);
    without such a record, which known mistake (learning rate, ascent, epochs) trained to the final parameters."""
    o = report.outcome
    failing = next((r for r in results.values() if r.kind == "function" and not r.passed
                    and r.message.code == "function.mismatch"), None)
    if failing is not None and failing.message.params.get("returns") == "gradient":
        p = failing.message.params
        return [Message("mistake.wrong_hand_gradient", {"function": p["function"], "param": p["param"]})]
    if stopped_early(o):
        return []  # the parameters of a run that stopped are not where a training ended
    judged = student_run(spec, ref, report)
    if judged is not None and judged.graded is not None:  # the recorded run says how it trained: nothing is guessed
        once = _gradient_once(spec, judged.outcome, judged)
        if once is not None:  # its one call is no epoch count: the updates after it reuse its gradient
            epochs = ("mistake.too_few_epochs", "mistake.one_epoch")
            return [once] + [m for m in judged.deviations if m.code not in epochs]
        return _runs_note(spec, judged) + judged.deviations
    if o.hand_calls == 0:
        return []  # it trained without the gradient function (a stochastic_gradient of its own): nothing to guess from
    final = {name: o.final_params[name].array() for name in ref.run.final_params if name in o.final_params}
    if len(final) != len(ref.run.final_params) or any(v is None for v in final.values()):
        return []
    rtol, atol = 1e-6, 1e-9
    if all(matches(ref.run.final_params[n], v, rtol, atol) for n, v in final.items()):
        return []
    for variant in [v for v in mistake_variants(ref.schedule) if v.code != "mistake.no_zero_grad"]:
        run = ref.variant_run(variant)
        if all(matches(run.final_params[n], v, rtol, atol) for n, v in final.items()):
            if variant.code == "mistake.learning_rate":
                return [Message(variant.code, {"lr": variant.lr, "expected": spec.training.lr})]
            return [Message(variant.code)]
    longer = ref.variant_run(Variant(code="epochs", epochs=2 * spec.training.epochs))
    for epoch, params in enumerate(longer.epoch_params, start=1):
        if epoch != spec.training.epochs and all(matches(params[n], v, rtol, atol) for n, v in final.items()):
            code = "mistake.too_few_epochs" if epoch < spec.training.epochs else "mistake.too_many_epochs"
            return [Message(code, {"epochs": epoch, "expected": spec.training.epochs})]
    return []


def _trace_mistakes(spec, ref: Expected, values, grads, params, outcome_status: str,
                    backward_calls: int) -> list[Message]:
    """Which known mistake explains the student's trace, from its first step on (epochs from the exact
    number of backward() calls, not from the recorded steps)."""
    rtol, atol = trace_tolerance(spec)
    cmp = compare_trace(grads, ref.run, rtol, atol)
    n_ref, n_student = len(ref.run.steps), backward_calls
    per_epoch = max(1, n_ref // spec.training.epochs)
    if cmp.first is None:
        if outcome_status != "ok":
            return []  # a run that stopped early is explained by how it stopped
        epochs = n_student // per_epoch if n_student % per_epoch == 0 else round(n_student / per_epoch, 2)
        if n_student < n_ref:
            return [Message("mistake.too_few_epochs", {"epochs": epochs, "expected": spec.training.epochs})]
        if n_student > n_ref:
            return [Message("mistake.too_many_epochs", {"epochs": epochs, "expected": spec.training.epochs})]
        return []
    candidates = [(variant, True) for variant in mistake_variants(ref.schedule)]
    lr = _estimated_lr(values, grads, params)
    if lr is not None and lr > 0 and not math.isclose(lr, spec.training.lr, rel_tol=1e-3):
        candidates.insert(0, (Variant(code="mistake.learning_rate", lr=lr), False))
    for variant, keep in candidates:
        if _explains(grads, ref.variant_run(variant, keep), max(rtol, DIAGNOSIS_RTOL), atol):
            if variant.code == "mistake.learning_rate":
                return [Message(variant.code, {"lr": variant.lr, "expected": spec.training.lr})]
            return [Message(variant.code)]
    if spec.training.batch == "per-sample":
        for reduce in ("sum", "mean"):
            run = ref.full_batch_run(reduce)
            if run is not None and _explains(grads, run, max(rtol, DIAGNOSIS_RTOL), atol):
                return [Message("mistake.full_batch", {"reduce": reduce})]
    return []


def _estimated_lr(values: list[dict], grads: list[dict], params: list[str]) -> float | None:
    """lr from the first update the student made: -(v1 - v0) / g0, on the first parameter that moved."""
    if len(values) < 2:
        return None
    for p in params:
        v0, v1, g0 = values[0].get(p), values[1].get(p), grads[0].get(p)
        if v0 is None or v1 is None or g0 is None or v0.size != v1.size or v0.size != g0.size:
            continue
        mask = np.abs(g0) > 1e-8
        if not np.any(mask):
            continue
        lr = float(np.median(-(v1[mask] - v0[mask]) / g0[mask]))
        if math.isfinite(lr) and lr != 0:
            return float(f"{lr:.3g}")
    return None


def _finite_steps(steps: list[dict]) -> int:
    """How many leading steps hold only finite gradients (diverging runs end in inf and nan)."""
    for i, step in enumerate(steps):
        if any(g is None or not np.all(np.isfinite(g)) for g in step.values()):
            return i
    return len(steps)


def _explains(student: list[dict], run: ReferenceRun, rtol: float, atol: float) -> bool:
    """Does a mistake variant reproduce the student's trace? Judged on the leading finite steps only:
    float32 and float64 runs part ways once a diverging run blows up."""
    n = min(len(student), len(run.steps), DIAGNOSIS_STEPS)
    n = min(n, _finite_steps(student[:n]), _finite_steps([s.grads for s in run.steps[:n]]))
    if n < min(2, len(student)):
        return False
    return compare_trace(student[:n], run, rtol, atol).first is None
