"""Feedback is data: a message code plus parameters, rendered into words only when shown."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from grader.i18n import DEFAULT_LANGUAGE, N_, StoredTexts, translations

# One entry per code, in English (the gettext message id; `grader/translations` holds the other languages).
# Parameters are filled with str.format; numbers go through _fmt first.
MESSAGES_EN: dict[str, str] = {
    # runs
    "runs.ok": N_("Your script ran to the end."),
    "runs.syntax_error": N_("Syntax error on line {line}: {message}"),
    "runs.exception": N_("Your script raised {type} on line {line}: {message}"),
    "runs.exception_no_line": N_("Your script raised {type}: {message}"),
    "runs.syntax_error_in_cell": N_("Syntax error in cell {cell}, line {line}: {message}"),
    "runs.missing_module_in_cell": N_("Your notebook stops in cell {cell}, line {line}: it imports {module}, which "
                                    "the grader does not have. {available} are available; {module} is not — "
                                    "remove the import."),
    "runs.exception_in_cell": N_("Your notebook raised {type} in cell {cell}, line {line}: {message}"),
    "runs.exception_traced": N_("Your script raised {type} on line {line}, in {function}() (the calls that led "
                              "there: lines {lines}): {message}"),
    "runs.missing_module": N_("Your script stops at line {line}: it imports {module}, which the grader does not "
                            "have. {available} are available; {module} is not — remove the import."),
    "runs.exit": N_("Your script exited with status {exit_code} before the end."),
    "runs.os_exit": N_("Your script called os._exit({exit_code}) before the end."),
    "runs.timeout": N_("Your script was stopped after {seconds} s (the time limit). Look for an endless loop."),
    "runs.killed": N_("Your script was killed by signal {signal} ({reason})."),
    "runs.no_outcome": N_("Your script ended the process abruptly, so nothing could be checked."),
    "runs.bad_outcome": N_("Your script's run produced no usable report ({reason})."),
    "runs.harness_error": N_("Your script left objects the grader could not read: {message}"),
    # gradients (probes)
    "gradients.ok": N_("All {probes} gradient probes match the reference."),
    "gradients.mismatch": N_("{matched} of {probes} gradient probes match. First difference: with {at}, "
                           "x={x}, y={y}, d loss / d {param}{index} should be {expected}, yours is {got}."),
    "gradients.no_grad": N_("With {at}, x={x}, y={y}, {param}.grad is None after loss(x, y).backward(): "
                         "{param} does not take part in your loss."),
    "gradients.probe_error": N_("Calling your loss at a test point failed: {error}"),
    "gradients.unavailable": N_("Your gradients could not be probed: {reason}"),
    # trace
    "trace.ok": N_("All {steps} gradient steps of your training match the reference."),
    "trace.first_divergence": N_("{matched} of {steps} steps match. The first difference is at step {step} "
                               "(epoch {epoch}, sample {sample}): {param}.grad{index} should be {expected}, "
                               "yours is {got}."),
    "trace.first_divergence_all_samples": N_("{matched} of {steps} steps match. The first difference is at step "
                                           "{step} (epoch {epoch}, all samples): {param}.grad{index} should be "
                                           "{expected}, yours is {got}."),
    "trace.too_short": N_("Your training made {got} backward() calls; the assignment needs {expected}."),
    "trace.too_long": N_("Your training made {got} backward() calls; the assignment needs {expected}."),
    "trace.no_backward": N_("Your script never called backward(), so no gradient was recorded."),
    "trace.missing_param": N_("No gradient of {param} was recorded during training (found: {found})."),
    # final params
    "final_params.ok": N_("Your final parameters match the reference."),
    "final_params.mismatch": N_("After training, {param}{index} should be {expected}; yours is {got}."),
    "final_params.missing": N_("Your script defines no parameter named {param}."),
    "final_params.not_tensor": N_("{param} is a {type}, not a tensor."),
    # predictions
    "predictions.ok": N_("Your predictions match the reference."),
    "predictions.mismatch": N_("forward({x}){index} should be {expected} after training; yours is {got}."),
    # function (a student function called at test points)
    "function.ok": N_("Your {function}() returns the right values at all {probes} test points."),
    "function.mismatch": N_("{matched} of {probes} test points match. First difference: with {at}, {function}({args}) "
                          "should return {expected} ({returns} of {param}{index}), yours returns {got}."),
    "function.mismatch_value": N_("{matched} of {probes} test points match. First difference: with {at}, "
                                "{function}({args}){index} should return {expected}, yours returns {got}."),
    "function.error": N_("Calling your {function}() at a test point failed: {error}"),
    # accuracy
    "accuracy.ok": N_("Your model classifies {right} of the {samples} samples right ({percent}%; at least "
                      "{needed}% needed)."),
    "accuracy.low": N_("Your model classifies only {right} of the {samples} samples right ({percent}%); the "
                       "assignment needs {needed}%."),
    # a held-out accuracy check before the deadline (grader.visibility): the share would give labels away
    "accuracy.held_out_passed": N_("Your model reaches the accuracy needed on the held-out samples ({needed}%). How "
                                   "many it classifies right is shown after the deadline."),
    "accuracy.held_out_failed": N_("Your model does not reach the accuracy needed on the held-out samples "
                                   "({needed}%). How many it classifies right is shown after the deadline."),
    "accuracy.error": N_("Your model's predictions could not be read: {error}"),
    "predictions.error": N_("forward({x}) failed: {error}"),
    # shared
    "check.not_run": N_("Not checked: your script did not run."),
    "check.stopped_before_defined": N_("Not checked: your script stopped on line {line} before it defined {name}."),
    "check.stopped_before_defined_in_cell": N_("Not checked: your notebook stopped in cell {cell}, line {line}, "
                                             "before it defined {name}."),
    "check.stopped_before_training_in_cell": N_("Not checked: your notebook stopped in cell {cell}, line {line}, "
                                              "before its training began."),
    "check.stopped_during_training_in_cell": N_("Not checked: your notebook stopped in cell {cell}, line {line}, "
                                              "after {calls} of the {steps} backward() calls of the training, so "
                                              "there is no trained model to check."),
    "check.stopped_before_defined_no_line": N_("Not checked: your script stopped before it defined {name}."),
    "check.stopped_before_training": N_("Not checked: your script stopped on line {line} before its training "
                                      "began."),
    "check.stopped_before_training_no_line": N_("Not checked: your script stopped before its training began."),
    "check.stopped_during_training": N_("Not checked: your script stopped on line {line} after {calls} of the "
                                      "{steps} backward() calls of the training, so there is no trained model "
                                      "to check."),
    "check.stopped_during_training_no_line": N_("Not checked: your script stopped after {calls} of the {steps} "
                                              "backward() calls of the training, so there is no trained model "
                                              "to check."),
    "check.no_start": N_("Not checked: no backward() call recorded the starting values of {param}, so there is "
                       "no reference training from your own start to compare with."),
    "check.hidden": N_("This check's result is hidden."),
    "check.after_deadline": N_("This check's result is shown after the deadline."),
    # diagnoses
    "mistake.no_zero_grad": N_("Your gradients are never zeroed, so they accumulate across steps: call "
                             "w.grad.zero_() (or optimizer.zero_grad()) after each update."),
    "mistake.update_per_epoch": N_("You update the parameters once per epoch instead of after every sample: "
                                 "move the update into the loop over samples."),
    "mistake.gradient_ascent": N_("Your update climbs the gradient instead of descending it: subtract "
                                "lr * grad (w.data = w.data - lr * w.grad.data)."),
    "mistake.zero_before_update": N_("You zero the gradient before using it, so the parameters never change: "
                                   "update first, then zero the gradient."),
    "mistake.full_batch": N_("You add up the loss over the whole data set ({reduce}) and update once per epoch "
                           "(full-batch gradient descent); this assignment updates after every sample: call "
                           "backward() and update inside the loop over samples."),
    "mistake.learning_rate": N_("Your learning rate looks like {lr}; the assignment uses {expected}."),
    "mistake.too_few_epochs": N_("You train for {epochs} epochs; the assignment asks for {expected}."),
    "mistake.too_many_epochs": N_("You train for {epochs} epochs; the assignment asks for {expected}."),
    "mistake.non_leaf_param": N_("{param} was replaced by the result of an operation (as in w = w - lr * w.grad), "
                               "so it is no longer a leaf tensor and its .grad stays None: update {param}.data, "
                               "or update in place under torch.no_grad()."),
    "mistake.not_tensor_param": N_("{param} is a plain {type}; make it a tensor with requires_grad=True."),
    "mistake.missing_param": N_("Your script defines no parameter named {param} at its top level."),
    "mistake.wrong_init": N_("{param} starts at {got}; the assignment starts it at {expected}."),
    "mistake.wrong_gradient": N_("The gradient your loss gives for {param} is wrong even at fixed test points: "
                               "check {forward} and {loss} against the assignment."),
    "note.replaced_after_training": N_("You re-create {param} after training; we judged the {param} you "
                                     "trained."),
    "note.stopped_after": N_("Before it stopped, your script made {calls} backward() calls; the last line it "
                           "printed: {last}"),
    "note.stopped_after_silent": N_("Before it stopped, your script made {calls} backward() calls and printed "
                                  "nothing."),
    "note.name_read_as": N_("We read your {yours} as {ours}: the assignment's name for it."),
    "names.undecided": N_("Your script has no {ours}, and {candidates} could each be it (the same shape, and nothing "
                          "else told them apart), so none was graded as {ours}: name it {ours}, as the "
                          "assignment does."),
    "names.extra_params": N_("Your model trains parameters the assignment's model does not have: {params}."),
    "note.notebook_magics_ignored": N_("Notebook-only lines were ignored (line {lines}): % magics and ! shell "
                                     "commands do not run in a plain Python script."),
    # a notebook (grader.notebook): how it was run
    "note.notebook_magics_ignored_in_cells": N_("Notebook-only lines in cell {cells} were ignored: % magics and ! "
                                              "shell commands do not run here, where the code cells run as one "
                                              "Python program."),
    "note.notebook_install_not_run": N_("The install in cell {cells} was not run ({packages}): the grader installs "
                                      "nothing. The sandbox has {available}."),
    "note.notebook_cells_skipped": N_("Cell {cells} starts with a cell magic whose body is not Python (such as "
                                    "%%bash or %%writefile), so the grader left it out."),
    "note.notebook_run_out_of_order": N_("Your notebook's cells were last run out of order (cell {cells} ran before "
                                       "a cell above it); the grader ran them once, top to bottom, as Run All in "
                                       "a fresh kernel does."),
    "mistake.wrong_hand_gradient": N_("Your {function}() does not return d loss / d {param}: derive the gradient "
                                    "of the loss again, by the chain rule, and check it at a few points."),
    "mistake.no_backward": N_("Your script never calls backward(): compute the loss, then call l.backward()."),
    # grading failed on our side (grader.service.attempts): shown to staff, never the student's fault
    "failure.sandbox": N_("The sandbox of worker {worker} could not run the script: {detail}"),
    "failure.timeout": N_("Grading on worker {worker} ran past the task's time limit: {detail}"),
    "failure.spec": N_("The assignment's stored spec could not be read: {detail}"),
    "failure.worker_lost": N_("Worker {worker} stopped renewing its lease while grading (it was killed or lost); "
                            "the submission was sent again."),
    "failure.infrastructure": N_("The database or the broker stayed unreachable: {detail}"),
    "failure.unexpected": N_("Grading stopped on an unexpected error: {detail}"),
    "failure.attempts": N_("Grading did not finish after {attempts} attempts. The last one: {cause}"),
}


# parameters a message may leave out: `index` names a tensor's entry, and a scalar has none
# (`forward` and `loss`: mistake.wrong_gradient rows stored before it named the assignment's own functions)
DEFAULTS = {"index": "", "forward": "forward(x)", "loss": "loss(x, y)"}

# What our own code writes into a parameter (a reason, an error it noticed, a stand-in for a long array):
# stored in English like the message ids, translated where shown, so old submissions change language too.
# Anything else in a parameter (a Python exception's text, the student's names and values) stays as it is.
PARAM_TEXTS = StoredTexts(
    # grader.checks
    N_("the script did not run"), N_("no result"), N_("no prediction"), N_("no predictions"),
    N_("some outputs are nan or inf"), N_("forward gave shape {shape} for {n} samples"), N_("{n} samples"),
    N_("random values"),  # grader.checks.gradients: a probe point too large to show
    # grader.outcome.SIGNAL_REASONS: why the sandbox stopped the script
    N_("killed: usually the memory or process limit"), N_("CPU time limit reached"), N_("segmentation fault"),
    N_("aborted"), N_("file size limit reached"), N_("stopped by the sandbox"),
    # worker.grading, grader.outcome: a report that could not be read
    N_("the report was larger than the limit"), N_("the outcome is larger than {n} bytes"),
    N_("the outcome is not JSON ({type})"), N_("the outcome is not a JSON object"),
    N_("the outcome does not match its schema: {detail}"),
    # worker/harness.py: why the gradients could not be probed
    N_("the script defines no parameter named {name}"), N_("{name} is a {type}, not a tensor"),
    N_("{name} is not a leaf tensor (it was replaced by the result of an operation)"),
    N_("{name} does not require grad"),
    # worker/harness.py: input() in the sandbox, where nobody types
    N_("input() got no answer: the grader runs your script without anyone typing. Remove the input() calls "
       "(use fixed values) before you submit."),
)
# single words, translated only in the parameter they belong to
PARAM_WORDS: dict[str, dict[str, str]] = {
    "returns": {"gradient": N_("gradient"), "loss": N_("loss"), "forward": N_("forward")},
    "type": {"number": N_("number")},
}


def _param_text(value: str, lang: str, key: str | None = None) -> str:
    """A parameter's text in `lang` when our own code wrote it, else the text as it is."""
    word = PARAM_WORDS.get(key or "", {}).get(value)
    if word is not None:
        return translations(lang).gettext(word)
    return PARAM_TEXTS.translate(value, lang)


def _fmt(value, lang: str = DEFAULT_LANGUAGE, key: str | None = None) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fmt(v, lang) for v in value) + "]"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_fmt(v, lang)}" for k, v in value.items())
    if isinstance(value, str):
        return _param_text(value, lang, key)
    return str(value)


@dataclass(frozen=True)
class Message:
    """A piece of feedback as stored: a code and its parameters (JSON-able)."""

    code: str
    params: dict = field(default_factory=dict)

    def render(self, lang: str = "en") -> str:
        return render(self.code, self.params, lang)

    def as_dict(self) -> dict:
        return {"code": self.code, "params": self.params}


def render(code: str, params: dict, lang: str = "en") -> str:
    """Words for a message code; an unknown code still shows something useful."""
    template = MESSAGES_EN.get(code)
    if template is None:
        return f"{code} {_fmt(params)}".strip()
    template = translations(lang).gettext(template)
    safe = {**DEFAULTS, **{k: _fmt(v, lang, k) for k, v in params.items()}}
    try:
        return template.format(**safe)
    except (KeyError, IndexError, ValueError):
        return f"{template} ({_fmt(params, lang)})"


def render_failure(code: str, params: dict, lang: str = "en") -> str:
    """Why grading failed on our side; "failure.attempts" names its last cause in words too."""
    if code == "failure.attempts":
        cause = render_failure(str(params.get("cause") or "failure.worker_lost"), params.get("cause_params") or {},
                               lang)
        params = {k: v for k, v in params.items() if k not in ("cause", "cause_params")}
        template = translations(lang).gettext(MESSAGES_EN[code])
        return template.format(attempts=_fmt(params.get("attempts", "?"), lang), cause=cause)
    return render(code, params, lang)
