"""What each message code the grader stores says, in English (the gettext id; other languages in
grader/translations), and how a stored message is rendered in the reader's language.

Rule: the grader stores a code and its parameters, never a sentence, and words are chosen only when shown.
Every code anything stores is a key of MESSAGES (tests/test_message_codes.py renders each in every language).
A parameter that is itself a message, {"code": ..., "params": {...}}, is rendered in the same language (a
reason inside a sentence); a parameter in PARAM_WORDS is a stored word; anything else (a Python exception's
text, the student's names and values) is shown as it is, numbers as grader.wording.number writes them.
"""
from __future__ import annotations

import string
from dataclasses import dataclass, field

from grader.i18n import DEFAULT_LANGUAGE, N_, translations
from grader.wording import number

# One entry per code; parameters are filled with str.format.
MESSAGES: dict[str, str] = {
    # ---- what a check found (grader.checks) and how a run ended
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
    "runs.exception_traced_in_cell": N_("Your notebook raised {type} in cell {cell}, line {line}, in {function}() "
                                      "(called from cell {from_cell}, line {from_line}): {message}"),
    "runs.exception_traced": N_("Your script raised {type} on line {line}, in {function}() (the calls that led "
                              "there: lines {lines}): {message}"),
    "runs.missing_module": N_("Your script stops at line {line}: it imports {module}, which the grader does not "
                            "have. {available} are available; {module} is not — remove the import."),
    "runs.exit": N_("Your script exited with status {exit_code} before the end."),
    "runs.os_exit": N_("Your script called os._exit({exit_code}) before the end."),
    "runs.timeout": N_("Your script was stopped after {seconds} s (the time limit). Look for an endless loop."),
    "runs.cpu_limit": N_("Your script used its {seconds} s of CPU time and was stopped: look for an endless loop."),
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
    "gradients.ok_by_trace": N_("Your {loss} alone does not give the assignment's gradients at the test points (d loss "
                              "/ d {param}{index} should be {expected}, yours is {got}), but the loss your training "
                              "makes of it has the right gradients at all {steps} steps checked: your training "
                              "scales or reduces it itself."),
    "gradients.ok_by_trace_error": N_("Calling your {loss} alone at a test point failed ({error}), but the loss your "
                                    "training makes of it has the right gradients at all {steps} steps checked: your "
                                    "training reduces it itself."),
    "gradients.unavailable": N_("Your gradients could not be probed: {reason}"),
    # trace
    "trace.ok": N_("All {steps} gradient steps of your training match the reference."),
    "trace.ok_runs": N_("All gradient steps of your {runs} runs match the reference."),
    "trace.ok_first": N_("The first {steps} gradient steps of your training, of {calls}, all match the reference."),
    "trace.first_divergence": N_("{matched} of {steps} steps match. The first difference is at step {step} "
                               "(epoch {epoch}, sample {sample}): {param}.grad{index} should be {expected}, "
                               "yours is {got}."),
    "trace.first_divergence_all_samples": N_("{matched} of {steps} steps match. The first difference is at step "
                                           "{step} (epoch {epoch}, all samples): {param}.grad{index} should be "
                                           "{expected}, yours is {got}."),
    "trace.too_short": N_("Your training made {got} backward() calls; the assignment needs {expected}."),
    "trace.too_long": N_("Your training made {got} backward() calls; the assignment needs {expected}."),
    "trace.loss_scaled": N_("At all {steps} steps your gradient is the assignment's times {factor}: right for the "
                          "loss your training computes, which is not the assignment's (the note below says how)."),
    "trace.wrong_step": N_("Your backprop is right at {right} of {steps} steps. The first wrong one is step {step} "
                         "(its samples: {samples}): at your own parameter values {param}.grad{index} should be "
                         "{expected}; yours is {got}."),
    "trace.no_backward": N_("Your script never called backward(), so no gradient was recorded."),
    "trace.missing_param": N_("No gradient of {param} was recorded during training (found: {found})."),
    # training (the facets of the student's own run: grader.facets)
    "training.ok": N_("Your training follows the assignment in every respect graded ({facets} of {facets})."),
    "training.unknown": N_("Your training could not be read from your run (no step of it was recorded)."),
    "training.no_gradient_calls": N_("Your training never calls {function}(), so its steps could not be read from "
                                     "your run: the assignment's updates use {function}(xs, ys)."),
    "training.unverifiable": N_("Your training could not be read from your run: none of the {steps} steps recorded "
                                "could be checked against the assignment's model (the other checks say why)."),
    "training.deviations": N_("Your training follows the assignment in {matched} of {facets} graded respects; the "
                            "notes below say where it does not."),
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
    "function.one_sample": N_("Your {function}() returns the gradient of one sample (x = {x}) where the assignment "
                              "asks for the mean over all {samples} samples it is given: {function}(xs, ys) averages "
                              "over every sample of the lists."),
    "function.summed": N_("Your {function}() returns {samples} times the assignment's value at every probe: it sums "
                          "over the {samples} samples it is given where the assignment takes their mean (divide the "
                          "sum by len(xs))."),
    "function.averaged": N_("Your {function}() returns 1/{samples} of the assignment's value at every probe: it "
                            "averages over the {samples} samples it is given where the assignment sums them."),
    "function.per_sample": N_("Your {function}() returns one value per sample ({samples} of them) where the "
                              "assignment asks for one over the whole batch, their mean: {function}(xs, ys) takes "
                              "the lists of all samples and returns a single number."),
    # accuracy
    "accuracy.ok": N_("Your model classifies {right} of the {samples} samples right ({percent}%; at least "
                      "{needed}% needed)."),
    "accuracy.low": N_("Your model classifies only {right} of the {samples} samples right ({percent}%); the "
                       "assignment needs {needed}%."),
    "accuracy.on_own_data": N_("Your model classifies {right} of the {samples} samples right ({percent}%), as many "
                               "as the assignment's training reaches on your own data; on the assignment's data "
                               "it needs {needed}%."),
    # a held-out accuracy check before the deadline (grader.visibility): the share would give labels away
    "accuracy.held_out_passed": N_("Your model reaches the accuracy needed on the held-out samples ({needed}%). How "
                                   "many it classifies right is shown after the deadline."),
    "accuracy.held_out_failed": N_("Your model does not reach the accuracy needed on the held-out samples "
                                   "({needed}%). How many it classifies right is shown after the deadline."),
    "accuracy.error": N_("Your model's predictions could not be read: {error}"),
    "predictions.error": N_("forward({x}) failed: {error}"),
    # shared
    "check.not_run": N_("Not checked: your script did not run."),
    "check.other_model": N_("Not checked: your {param} has shape {shape}; the assignment's has shape {expected}, so "
                            "your model is not the assignment's and there is no reference training to hold it to."),
    "check.stopped_cpu_limit": N_("Not checked: your script used up its CPU time before the grader could call "
                                  "your functions."),
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
    "mistake.zero_grad_per_epoch": N_("You zero the gradients once per epoch ({every} steps), so within an epoch "
                                      "they accumulate: zero them after each update, not after the epoch."),
    "mistake.zero_grad_every": N_("You zero the gradients once every {every} steps, so between those they "
                                  "accumulate: zero them after each update."),
    "mistake.no_zero_grad": N_("Your gradients are never zeroed, so they accumulate across steps: zero every "
                             "parameter's gradient after each update (param.grad.zero_(), or optimizer.zero_grad())."),
    "mistake.grad_not_zeroed": N_("You zero the gradients of {zeroed} but never that of {params}, so it accumulates "
                                  "across steps: zero it after each update too."),
    "mistake.update_per_epoch": N_("You update the parameters once per epoch instead of after every sample: "
                                 "move the update into the loop over samples."),
    "mistake.gradient_ascent": N_("Your update climbs the gradient instead of descending it: subtract "
                                "lr * grad (w.data = w.data - lr * w.grad.data)."),
    "mistake.zero_before_update": N_("You zero the gradient before using it, so the parameters never change: in "
                                   "each step call backward(), then update (optimizer.step()), and zero the gradient "
                                   "only after the update or before the next backward()."),
    "mistake.full_batch": N_("You add up the loss over the whole data set ({reduce}) and update once per epoch "
                           "(full-batch gradient descent); this assignment updates after every sample: call "
                           "backward() and update inside the loop over samples."),
    "mistake.learning_rate": N_("Your learning rate looks like {lr}; the assignment uses {expected}."),
    "mistake.lr_schedule": N_("Your learning rate changes during training: {first} at the first step, about {last} "
                            "at the end (a scheduler, or a decay of your own); the assignment keeps it at {expected} "
                            "throughout."),
    "mistake.optimizer_changes": N_("Your run changes optimizer as it trains ({optimizers}, in that order); the "
                                    "assignment asks for {expected_optimizer} with lr {expected_lr} throughout."),
    "mistake.optimizer": N_("You use {optimizer} (lr {lr}); the assignment asks for {expected_optimizer} with "
                          "lr {expected_lr}."),
    "mistake.momentum_plain_sgd": N_("You use SGD with momentum {momentum}; the assignment asks for plain SGD "
                                   "with lr {expected_lr}."),
    "mistake.momentum": N_("You use SGD with momentum {momentum}; the assignment asks for momentum {expected}."),
    "mistake.nesterov_plain_sgd": N_("You use SGD with Nesterov momentum {momentum}; the assignment asks for plain "
                                   "SGD with lr {expected_lr}."),
    "mistake.nesterov": N_("You use SGD with Nesterov momentum {momentum}; the assignment asks for momentum "
                           "{expected} without Nesterov."),
    "mistake.nesterov_expected": N_("You use SGD with momentum {momentum} without Nesterov; the assignment asks for "
                                    "Nesterov momentum {expected}."),
    "mistake.optimizer_decay": N_("You use {optimizer} (lr {lr}, weight_decay {weight_decay}); the assignment asks "
                                  "for {expected_optimizer} with lr {expected_lr}."),
    "mistake.weight_decay_asgd": N_("You use SGD with weight_decay {weight_decay} (or ASGD, whose default "
                                    "lambd=0.0001 updates the same way); the assignment asks for {expected_optimizer} "
                                    "with weight_decay {expected}."),
    "mistake.weight_decay": N_("You use {optimizer} with weight_decay {weight_decay}; the assignment asks for "
                               "weight_decay {expected}."),
    "mistake.per_sample_updates": N_("You update after every sample (stochastic gradient descent, batches of 1); "
                                   "this assignment updates once per epoch, on one batch of all {expected} samples."),
    "mistake.batch_size": N_("Your batches hold {got} of the {samples} samples; the assignment's batch holds "
                           "{expected}."),
    "mistake.own_data": N_("Your data has {samples} samples ({matched} of them the assignment's); the "
                         "assignment's has {expected}. Train on the assignment's data."),
    "mistake.own_inputs_changed": N_("Your data is not the assignment's: x = {yours} where the assignment has "
                                     "x = {expected}. Train on the assignment's data."),
    "mistake.own_data_changed": N_("Your data is not the assignment's (samples that differ from it: {differ} of "
                                   "{samples}). Train on the assignment's data."),
    "mistake.data_subset": N_("You train on {samples} of the assignment's {expected} samples (rows {first}–{last} of "
                              "its data); the assignment trains on all {expected} at every step."),
    "mistake.data_subset_scattered": N_("You train on {samples} of the assignment's {expected} samples; the "
                                        "assignment trains on all {expected} at every step."),
    "mistake.own_targets": N_("Your data's targets are not the assignment's: y = {yours} at x = {x}, where the "
                              "assignment has y = {expected}. Train on the assignment's data."),
    "note.training_runs": N_("Your script trains in {runs} runs, from fresh parameters each time; its last run "
                           "is the one graded."),
    "note.training_runs_earlier": N_("Your script trains in {runs} runs, from fresh parameters each time; run "
                                   "{graded}, the last that trains {model}, is the one graded."),
    "note.unapplied_steps": N_("Your {call} on line {lines} comes after the training's last update and updates "
                               "nothing: it is not counted as a training step."),
    "mistake.clipped_gradients": N_("Your {function} with {setting}={limit} clips the gradients at {clipped} of "
                                    "your {calls} steps; the assignment's {expected_optimizer} steps by the whole "
                                    "gradient. Leave the clipping out."),
    "mistake.gradient_once": N_("Your {function}() is called once, on line {line}, before your updates: every update "
                                "reuses the gradient at the starting {params}. Call {function}() at every update."),
    "mistake.step_several_times": N_("You call optimizer.step() {times} times after each backward() ({steps} "
                                     "steps for {calls} backward() calls), so every gradient is applied {times} "
                                     "times: call step() once per backward()."),
    "mistake.backward_several_times": N_("You call backward() {times} times before each optimizer.step() ({calls} "
                                         "calls for {steps} steps), so the gradients add up in .grad and every step "
                                         "uses {times} times the gradient: call backward() once per step."),
    "mistake.group_learning_rates": N_("Your optimizer's parameter groups train with learning rates {lrs}; the "
                                       "assignment trains every parameter with lr {expected}."),
    "mistake.one_epoch": N_("You train for 1 epoch; the assignment asks for {expected}."),
    "mistake.too_few_epochs": N_("You train for {epochs} epochs; the assignment asks for {expected}."),
    "mistake.too_many_epochs": N_("You train for {epochs} epochs; the assignment asks for {expected}."),
    "mistake.non_leaf_param": N_("{param} was replaced by the result of an operation (as in w = w - lr * w.grad), "
                               "so it is no longer a leaf tensor and its .grad stays None: update {param}.data, "
                               "or update in place under torch.no_grad()."),
    "mistake.not_tensor_param": N_("{param} is a plain {type}; make it a tensor with requires_grad=True."),
    "mistake.missing_param": N_("Your script defines no parameter named {param} at its top level."),
    "mistake.params_in_one_tensor": N_("Your script keeps the assignment's {count} parameters in one tensor, {name}; "
                                       "the assignment asks for them apart, as {params}, each a tensor of its own "
                                       "(its checks set and read each by that name)."),
    "mistake.no_bias": N_("Your {layer} has no bias ({param} is None, as nn.Linear(..., bias=False) leaves it); the "
                          "assignment's layer has one: leave out bias=False."),
    "mistake.wrong_init": N_("{param} starts at {got}; the assignment starts it at {expected}."),
    "mistake.logits": N_("Your model's forward({x}) is {got}, the value before a sigmoid: sigmoid({got}) = {expected} "
                       "is the probability the assignment's model gives. End forward with torch.sigmoid, as the "
                       "assignment's model does (and train it with BCELoss instead of BCEWithLogitsLoss)."),
    "mistake.loss_mean_not_sum": N_("Your loss averages over the {samples} samples where the assignment's sums "
                                  "them (reduction='sum', which size_average=False also says): every gradient of "
                                  "yours is 1/{samples} of the assignment's, so your steps are {samples} times "
                                  "smaller."),
    "mistake.loss_sum_not_mean": N_("Your loss sums over the {samples} samples where the assignment's averages "
                                  "them (reduction='mean', the default): every gradient of yours is {samples} times "
                                  "the assignment's, so your steps are {samples} times larger."),
    "mistake.other_loss": N_("Your {function} is torch.nn.{yours} where the assignment's loss is torch.nn.{ours}, so "
                             "its gradients are another loss's: use torch.nn.{ours}."),
    "mistake.other_activation": N_("Your {function} applies {yours} where the assignment's network applies {ours}, "
                                   "so its gradients are another network's: this assignment grades the lecture's "
                                   "network, with {ours}."),
    "mistake.wrong_gradient": N_("The gradient your loss gives for {param} is wrong even at fixed test points: "
                               "check {forward} and {loss} against the assignment."),
    "note.replaced_after_training": N_("You re-create {param} after training; we judged the {param} you "
                                     "trained."),
    "note.replaced_after_training_at": N_("You re-create {name} after training, on line {line} ({code}); we judged "
                                        "the {name} you trained."),
    "note.replaced_after_training_at_in_cell": N_("You re-create {name} after training, in cell {cell}, line {line} "
                                                "({code}); we judged the {name} you trained."),
    "note.stopped_after": N_("Calls of backward() before your script stopped: {calls}. The last line it printed: "
                           "{last}"),
    "note.stopped_after_silent": N_("Calls of backward() before your script stopped: {calls}. It printed nothing."),
    "note.hint_data_file": N_("{missing} is not in the grader's working directory: the assignment's data is "
                              "{file} there. Load it by that name."),
    "note.hint_grad_none": N_("Before the first backward(), a parameter's .grad is None, so it cannot be zeroed yet: "
                            "zero it after the update, as the lecture does, or only once it is not None."),
    "note.hint_loss_arguments": N_("BCELoss found a target outside [0, 1]: a loss object takes the model's output "
                                   "first and the labels second, criterion(y_pred, y_data); with the two swapped the "
                                   "model's output is the target."),
    "note.hint_integer_labels": N_("Your labels are integers (torch.int64), and BCELoss takes floats: write them as "
                                 "0.0 and 1.0, build them with torch.Tensor(...) as the lecture does, or call "
                                 ".float() on them."),
    "note.hint_double_inputs": N_("Your data is float64 (np.loadtxt and np.array give float64 unless told otherwise) "
                                 "and your model's weights are float32: load it with dtype=np.float32, as the "
                                 "lecture does, or call .float() on the tensors."),
    "note.name_read_as": N_("We read your {yours} as {ours}: the assignment's name for it."),
    "note.arguments_read_as_globals": N_("Your {function}() takes no arguments and reads {names} instead: we set "
                                         "those to each test's values to call it (the assignment passes them as "
                                         "arguments)."),
    "note.data_path_read_as": N_("Your script loads {yours}, a path on your own computer: we read it as {ours}, the "
                                 "assignment's copy of the data, which is in your working directory."),
    "note.loss_stand_in": N_("Your script leaves no loss object {ours} among its globals (one made inside a "
                             "function or an object is out of reach): your model's gradients were probed with the "
                             "assignment's loss, {loss}; the loss your training computes is checked step by step."),
    "names.undecided": N_("Your script has no {ours}, and {candidates} could each be it (the same shape, and nothing "
                          "else told them apart), so none was graded as {ours}: name it {ours}, as the "
                          "assignment does."),
    "names.extra_params": N_("Your model trains parameters the assignment's model does not have: {params}."),
    "note.notebook_magics_ignored": N_("Notebook-only lines were ignored (line {lines}): % magics, ! shell "
                                     "commands and ? help lines do not run in a plain Python script."),
    # a notebook (grader.notebook): how it was run
    "note.notebook_magics_ignored_in_cells": N_("Notebook-only lines in cell {cells} were ignored: % magics, ! "
                                              "shell commands and ? help lines do not run here, where the code "
                                              "cells run as one Python program."),
    "note.notebook_install_not_run": N_("The install in cell {cells} was not run ({packages}): the grader installs "
                                      "nothing. The sandbox has {available}."),
    "note.notebook_cells_skipped": N_("Cell {cells} starts with a cell magic whose body is not Python (such as "
                                    "%%bash or %%html), so the grader left it out."),
    "note.notebook_colab_stand_in": N_("Cell {cells} imports google.colab, which only Colab has: here it is a "
                                     "stand-in that does nothing (drive.mount mounts no Drive, files.upload "
                                     "uploads nothing), so a file on your Drive is not here."),
    "note.notebook_run_out_of_order": N_("Your notebook's cells were last run out of order (cell {cells} ran before "
                                       "a cell above it); the grader ran them once, top to bottom, as Run All in "
                                       "a fresh kernel does."),
    "mistake.wrong_hand_gradient": N_("Your {function}() does not return d loss / d {param}: derive the gradient "
                                    "of the loss again, by the chain rule, and check it at a few points."),
    "mistake.no_backward": N_("Your script never calls backward(): compute the loss, then call l.backward()."),

    # how runs ended, counted beside the diagnoses on the dashboard (grader.service.gradebook.RUN_ENDINGS)
    "runs.ended_syntax_error": N_("The script has a syntax error, so it never ran."),
    "runs.ended_crashed": N_("The script stopped before the end: an exception, a limit or an exit."),

    # ---- reasons and values written into another message's parameters (a parameter {"code", "params"})
    "reason.not_run": N_("the script did not run"),
    "reason.no_result": N_("no result"),
    "reason.no_prediction": N_("no prediction"),
    "reason.no_predictions": N_("no predictions"),
    "reason.non_finite_outputs": N_("some outputs are nan or inf"),
    "reason.output_shape": N_("forward gave shape {shape} for {n} samples"),
    "value.samples": N_("{n} samples"),  # a probe input too long to show
    "value.random": N_("random values"),  # a probe point too large to show
    # why the sandbox stopped a script (grader.outcome.SIGNAL_REASONS)
    "signal.killed": N_("killed: usually the memory or process limit"),
    "signal.cpu_limit": N_("CPU time limit reached"),
    "signal.segfault": N_("segmentation fault"),
    "signal.aborted": N_("aborted"),
    "signal.file_size": N_("file size limit reached"),
    "signal.other": N_("stopped by the sandbox"),
    # a run's report that could not be read (grader.outcome, worker.grading)
    "outcome.over_limit": N_("the report was larger than the limit"),
    "outcome.too_large": N_("the outcome is larger than {n} bytes"),
    "outcome.not_json": N_("the outcome is not JSON ({type})"),
    "outcome.not_object": N_("the outcome is not a JSON object"),
    "outcome.schema": N_("the outcome does not match its schema: {detail}"),
    # the harness (worker/harness.py, which sends only these codes): what it could not do with the script
    "harness.no_param": N_("the script defines no parameter named '{name}'"),
    "harness.param_not_tensor": N_("'{name}' is a {type}, not a tensor"),
    "harness.param_not_leaf": N_("'{name}' is not a leaf tensor (it was replaced by the result of an operation)"),
    "harness.param_no_grad": N_("'{name}' does not require grad"),
    "harness.no_function": N_("the script defines no function named '{name}'"),
    "harness.not_function": N_("'{name}' is a {type}, not a function"),
    "harness.forward_not_number": N_("forward returned {type}, not a tensor or a number"),
    "harness.returned_not_number": N_("returned {type}, not a number or a tensor"),
    "harness.loss_not_tensor": N_("loss returned {type}, not a tensor"),
    "harness.param_shape": N_("your {name} has shape {shape}; the assignment's {expected_name} has shape "
                              "{expected_shape}"),
    "harness.loss_not_scalar": N_("loss returned a tensor of shape {shape}; backward() needs a scalar"),
    "harness.no_keyboard": N_("input() got no answer: the grader runs your script without anyone typing. Remove "
                              "the input() calls (use fixed values) before you submit."),
    # ---- a self-check or dry run (grader.selfcheck, worker.tasks.dry_run): what is wrong with one file
    "selfcheck.solution_missing": N_("Missing: every assignment ships a solution that scores full marks."),
    "selfcheck.solution_not_full": N_("It scored {score} of {max}; the solution must score full marks."),
    "selfcheck.no_expect_line": N_("Its first comment line must name the code it expects (# expect: mistake.x)."),
    "selfcheck.mistake_full_marks": N_("It scored full marks, but it is a mistake ({code})."),
    "selfcheck.mistake_not_caught": N_("Expected {code}; the grader found {found}."),
    "selfcheck.no_diagnosis": N_("no diagnosis"),
    # ... and what is wrong with a dry run as a whole
    "dry_run.sandbox_failed": N_("The sandbox failed: {error}"),
    "dry_run.queue_unavailable": N_("The queue did not answer: no worker can run the dry run now. Try again in a "
                                    "moment."),
    "dry_run.lost": N_("No worker finished this dry run within {minutes} minutes (a worker was lost, or none is "
                       "running); run it again."),
    # ---- what is wrong with a spec (grader.spec): one problem of one field; the file, line and field go beside it
    # the file and its YAML (grader.spec.loading, grader.spec.yaml_lines); {problem} and {context} are PyYAML's words
    "spec.too_large": N_("the spec is larger than {kb} KB"),
    "spec.cannot_read": N_("cannot read: {error}"),
    "spec.not_text": N_("not UTF-8 text (byte {byte})"),
    "spec.yaml": N_("{problem}"),
    "spec.yaml_in_context": N_("{problem} ({context} on line {line})"),
    "spec.yaml_with_context": N_("{problem} ({context})"),
    "spec.yaml_invalid": N_("invalid YAML"),
    "spec.yaml_error": N_("invalid YAML: {error}"),
    "spec.yaml_tag": N_("YAML tags that build objects are not allowed ({problem})"),
    "spec.yaml_character": N_("the character U+{code} is not allowed in YAML (remove it, or write it as an escape "
                              "inside double quotes)"),
    "spec.alias_in_own_anchor": N_("the alias *{anchor} is used inside its own anchor"),
    "spec.too_deep": N_("nested more than {levels} levels deep"),
    "spec.too_many_values": N_("the spec expands to more than {values} values (aliases included)"),
    "spec.not_a_date": N_("{value} is not a real date and time ({error})"),
    "spec.empty": N_("the spec is empty"),
    "spec.not_mapping": N_("the spec must be a mapping of keys (id, title, model, ...)"),
    "spec.duplicate_key": N_("duplicate key {key}"),
    # which spec (grader.spec.loading.find_spec, grader.service.catalog, grader.selfcheck)
    "spec.id_not_folder": N_("{id} does not match its folder name {folder}"),
    "spec.invalid_id": N_("{id} is not a valid assignment id (known: {known})"),
    "spec.invalid_id_none_known": N_("{id} is not a valid assignment id (no assignments under {folder})"),
    "spec.unknown_assignment": N_("unknown assignment {id} (known: {known})"),
    "spec.unknown_assignment_none_known": N_("unknown assignment {id} (no assignments under {folder})"),
    "spec.not_a_folder": N_("not a folder"),
    "spec.no_specs": N_("no */assignment.yaml found"),
    # a value pydantic refused (grader.spec.problems): {got} is the value as the spec has it
    "spec.expected_number": N_("expected a number, got {got}"),
    "spec.expected_whole_number": N_("expected a whole number, got {got}"),
    "spec.expected_finite": N_("expected a finite number, got {got}"),
    "spec.expected_python_name": N_("expected a Python name (letters, digits and _), got {got}"),
    "spec.expected_text": N_("expected text, got {got}"),
    "spec.expected_list": N_("expected a list, got {got}"),
    "spec.expected_mapping": N_("expected a mapping, got {got}"),
    "spec.expected_bool": N_("expected true or false, got {got}"),
    "spec.expected_datetime": N_("expected a date and time like 2026-12-10T23:59:00+08:00, got {got}"),
    "spec.expected_one_of": N_("expected one of {expected}, got {got}"),
    "spec.at_least": N_("must be at least {bound}, got {got}"),
    "spec.at_most": N_("must be at most {bound}, got {got}"),
    "spec.greater_than": N_("must be greater than {bound}, got {got}"),
    "spec.less_than": N_("must be less than {bound}, got {got}"),
    "spec.too_few_items": N_("needs at least {bound} items, got {got}"),
    "spec.too_few_items_one": N_("needs at least 1 item, got {got}"),
    "spec.too_many_items": N_("needs at most {bound} items, got {got}"),
    "spec.too_many_items_one": N_("needs at most 1 item, got {got}"),
    "spec.text_too_short": N_("string should have at least {bound} characters, got {got}"),
    "spec.text_too_short_one": N_("string should have at least 1 character, got {got}"),
    "spec.text_too_long": N_("string should have at most {bound} characters, got {got}"),
    "spec.text_too_long_one": N_("string should have at most 1 character, got {got}"),
    "spec.unknown_key": N_("unknown key (check the spelling; see the README's spec reference)"),
    "spec.missing": N_("required but missing"),
    "spec.refused": N_("{problem}"),  # a ValueError's own text: a validator that gives no code
    "spec.invalid_value": N_("{problem}, got {got}"),  # pydantic's own words, for an error type rare in a spec
    # the schema's own rules (grader.spec.schema)
    "spec.unsafe_id": N_("{id} is not a safe id (lowercase letters, digits, '-' and '_')"),
    "spec.language": N_("{language} is not a language the grader speaks (one of {languages})"),
    "spec.deadline_timezone": N_("the deadline needs a time zone offset, e.g. 2026-12-10T23:59:00+08:00"),
    "spec.deadline_year": N_("expected a deadline between the years 2000 and 2999, got {got}"),
    "spec.samples_differ": N_("x has {x} samples but y has {y}"),
    "spec.ragged_matrix": N_("the rows of a matrix need the same length"),
    "spec.param_ragged": N_("{name}: the rows of a matrix need the same length"),
    "spec.param_name": N_("parameter name {name} is not a Python name"),
    "spec.param_reserved": N_("parameter name {name} is reserved"),
    "spec.shape_size": N_("every size in a shape must be at least 1, got {shape}"),
    "spec.shape_too_large": N_("a parameter may have at most {max} elements, {shape} has {elements}"),
    "spec.student_init_shape": N_("init: student needs a shape, e.g. {example}"),
    "spec.init_shape": N_("init has shape {init} but shape is {shape}"),
    "spec.batch_word": N_("expected one of 'per-sample' or 'full', got {got}"),
    "spec.batch": N_("expected per-sample, full or a mini-batch size (a whole number from 1 to 100000), got {got}"),
    "spec.optimizer": N_("expected one of {optimizers} (torch.optim's names in lower case), got {got}"),
    "spec.betas": N_("each beta must be at least 0 and below 1, got {betas}"),
    "spec.momentum_sgd_only": N_("momentum belongs to optimizer: sgd (Adam has betas)"),
    "spec.nesterov_needs_momentum": N_("nesterov needs optimizer: sgd with a momentum above 0"),
    "spec.betas_adam_only": N_("betas belong to optimizer: adam, adamw or adamax"),
    "spec.eps_optimizers": N_("eps belongs to optimizer: adam, adamw, adamax or rmsprop"),
    "spec.rprop_weight_decay": N_("optimizer: rprop has no weight_decay"),
    "spec.adamw_no_decay": N_("optimizer: adamw with weight_decay 0 is adam: say optimizer: adam, or give its "
                              "weight_decay (torch's default is 0.01)"),
    "spec.predictions_need_inputs": N_("a predictions check needs `inputs`"),
    "spec.function_needs_function": N_("a function check needs `function`: the name of the student's function"),
    "spec.accuracy_needs_threshold": N_("an accuracy check needs `threshold`: the share of samples to classify "
                                        "right, e.g. 0.7"),
    "spec.field_of_kind": N_("`{field}` belongs to {kinds} checks, not {kind}"),
    "spec.field_of_two_kinds": N_("`{field}` belongs to {first} and {second} checks, not {kind}"),
    # data files (grader.spec.data_files): {csv} is the file's name
    "spec.csv_name": N_("expected a plain file name next to the spec, like diabetes.csv, got {got}"),
    "spec.alias_path": N_("expected a relative path like ../dataset/diabetes.csv.gz (at most {up} levels up, plain "
                          "names), got {got}"),
    "spec.csv_columns": N_("expected a column or a range [start, stop) of columns, like [0, 8], got {got}"),
    "spec.csv_column_negative": N_("a column number starts at 0, got {got}"),
    "spec.csv_delimiter": N_("{delimiter} cannot separate numbers"),
    "spec.csv_too_few_columns": N_("{csv} has {width} columns (0 to {last}); {field} asks for columns up to "
                                   "{needed}"),
    "spec.csv_no_folder": N_("{csv} cannot be read: this spec was given without its folder (put the file's "
                             "content under `text:`)"),
    "spec.csv_symlink": N_("{csv} is a symbolic link: put the file itself next to the spec"),
    "spec.csv_missing": N_("no file {csv} next to the spec"),
    "spec.csv_cannot_read": N_("cannot read {csv}: {error}"),
    "spec.csv_too_large": N_("{csv} is larger than {kb} KB"),
    "spec.csv_not_text": N_("{csv} is not UTF-8 text (byte {byte})"),
    "spec.csv_not_gzip": N_("{csv} is not a gzip file (its name ends in .gz)"),
    "spec.csv_not_number": N_("{csv} line {line}, column {column}: {cell} is not a number"),
    "spec.csv_not_finite": N_("{csv} line {line}, column {column}: {cell} is not a finite number"),
    "spec.csv_ragged": N_("{csv} line {line} has {columns} columns, the lines before it {before}"),
    "spec.csv_too_many_rows": N_("{csv} has more than {rows} rows"),
    "spec.csv_no_rows": N_("{csv} holds no rows of numbers"),
    # names and expressions (grader.spec.semantics); {error} is the expression's own refusal (grader.reference)
    "spec.expression": N_("{error}"),
    "spec.loss_without_prediction": N_("the loss never uses y_pred"),
    "spec.duplicate_check_id": N_("duplicate check id {id}"),
    "spec.param_unused": N_("declared but used in neither model.forward nor model.loss"),
    "spec.same_function_names": N_("forward and loss need different names"),
    # the model tried on its data, and the reference trained (grader.spec.trial)
    "spec.check_needs_autograd": N_("a {kind} check reads autograd's gradients, but training.autograd is false"),
    "spec.ragged_samples": N_("every sample of x (and of y) needs the same shape"),
    "spec.too_large_for_float": N_("holds a number too large for a float (beyond about 1.8e308)"),
    "spec.not_computable": N_("cannot be computed on the first batch of the data (x of shape {shape}): {error}"),
    "spec.input_not_computable": N_("forward cannot take this input: {error}"),
    "spec.accuracy_not_computable": N_("forward cannot take all samples at once, as accuracy needs: {error}"),
    "spec.accuracy_output_shape": N_("accuracy needs one output (or one row of class scores) per sample; forward "
                                     "gives shape {shape} for {samples}"),
    "spec.too_many_steps": N_("{epochs} epochs of {per_epoch} backward() calls make {steps} steps; the reference "
                              "trains at most {max} (fewer epochs or larger batches)"),
    "spec.too_many_values_recorded": N_("{steps} steps of {elements} parameter values are more than the reference "
                                        "records ({max}): fewer epochs or larger batches"),
    "spec.not_finite_first_batch": N_("is not a finite number on the first batch of the data (the first loss is "
                                      "{loss}): the reference cannot train from there"),
    "spec.diverges": N_("the reference training diverges: at epoch {epoch}, backward() call {call}, the loss is "
                        "{loss} (or a gradient is not finite); lower training.lr or check the model"),
    "spec.diverges_final": N_("the reference training diverges: its final parameters are not finite; lower "
                              "training.lr or check the model"),
    "spec.prediction_not_finite": N_("the reference's prediction for this input is not a finite number"),
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

# a diagnosis in a few words, where a list names many (the dashboard's filter); a code without one shows its sentence
TITLES: dict[str, str] = {
    "mistake.no_zero_grad": N_("Gradients never zeroed"),
    "mistake.zero_grad_per_epoch": N_("Gradients zeroed once per epoch"),
    "mistake.zero_grad_every": N_("Gradients zeroed only now and then"),
    "mistake.grad_not_zeroed": N_("A gradient never zeroed"),
    "mistake.update_per_epoch": N_("One update per epoch"),
    "mistake.gradient_ascent": N_("Gradient ascent"),
    "mistake.zero_before_update": N_("Gradient zeroed before the update"),
    "mistake.full_batch": N_("Full-batch updates"),
    "mistake.learning_rate": N_("Wrong learning rate"),
    "mistake.optimizer": N_("Wrong optimizer"),
    "mistake.optimizer_changes": N_("Optimizers changed during training"),
    "mistake.optimizer_decay": N_("Wrong optimizer"),
    "mistake.lr_schedule": N_("Learning rate changes"),
    "mistake.weight_decay": N_("Wrong weight decay"),
    "mistake.weight_decay_asgd": N_("Wrong weight decay"),
    "mistake.momentum": N_("Wrong momentum"),
    "mistake.momentum_plain_sgd": N_("Momentum added"),
    "mistake.nesterov": N_("Nesterov momentum"),
    "mistake.nesterov_plain_sgd": N_("Momentum added"),
    "mistake.nesterov_expected": N_("Nesterov momentum missing"),
    "mistake.batch_size": N_("Wrong batch size"),
    "mistake.per_sample_updates": N_("Updates after every sample"),
    "mistake.own_data": N_("Trained on other data"),
    "mistake.own_targets": N_("Trained on other targets"),
    "mistake.own_data_changed": N_("Trained on other data"),
    "mistake.own_inputs_changed": N_("Trained on other data"),
    "mistake.data_subset": N_("Trained on part of the data"),
    "mistake.data_subset_scattered": N_("Trained on part of the data"),
    "mistake.clipped_gradients": N_("Clipped gradients"),
    "mistake.gradient_once": N_("Gradient computed once"),
    "mistake.step_several_times": N_("step() called several times per backward()"),
    "mistake.backward_several_times": N_("backward() called several times per step"),
    "mistake.group_learning_rates": N_("Learning rates per parameter group"),
    "mistake.one_epoch": N_("Too few epochs"),
    "mistake.too_few_epochs": N_("Too few epochs"),
    "mistake.too_many_epochs": N_("Too many epochs"),
    "mistake.non_leaf_param": N_("Parameter replaced by a non-leaf tensor"),
    "mistake.not_tensor_param": N_("Parameter is not a tensor"),
    "mistake.missing_param": N_("Missing parameter"),
    "mistake.no_bias": N_("Layer without a bias"),
    "mistake.params_in_one_tensor": N_("Parameters in one tensor"),
    "mistake.wrong_init": N_("Wrong initial value"),
    "mistake.wrong_gradient": N_("Wrong gradient"),
    "mistake.other_loss": N_("Another loss"),
    "mistake.other_activation": N_("Other activations"),
    "mistake.logits": N_("Model returns logits"),
    "mistake.loss_mean_not_sum": N_("Loss averaged, not summed"),
    "mistake.loss_sum_not_mean": N_("Loss summed, not averaged"),
    "mistake.wrong_hand_gradient": N_("Wrong hand-derived gradient"),
    "mistake.no_backward": N_("backward() never called"),
    "runs.ended_syntax_error": N_("Syntax error"),
    "runs.ended_crashed": N_("Crashed before the end"),
}


def title(code: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """A diagnosis code's few words (TITLES) in `lang`; else its sentence if it needs no parameters, else the code."""
    if code in TITLES:
        return translations(lang).gettext(TITLES[code])
    if code in MESSAGES and not placeholders(MESSAGES[code]):
        return render(code, {}, lang)
    return code


# parameters a message may leave out: `index` names a tensor's entry, and a scalar has none
# (`forward` and `loss`: mistake.wrong_gradient rows stored before it named the assignment's own functions)
DEFAULTS = {"index": "", "forward": "forward(x)", "loss": "loss(x, y)"}

# words some parameters store as codes, translated only in the parameter they belong to
PARAM_WORDS: dict[str, dict[str, str]] = {
    "returns": {"gradient": N_("gradient"), "loss": N_("loss"), "forward": N_("forward")},
    "type": {"number": N_("number")},
}


class UnknownMessage(KeyError):
    """A code MESSAGES does not hold, or a message without a parameter its sentence needs (strict rendering)."""


@dataclass(frozen=True)
class Message:
    """A piece of feedback as stored: a code and its parameters (JSON-able; a parameter may be a Message's dict)."""

    code: str
    params: dict = field(default_factory=dict)

    def render(self, lang: str = DEFAULT_LANGUAGE) -> str:
        return render(self.code, self.params, lang)

    def as_dict(self) -> dict:
        return {"code": self.code, "params": self.params}


def said(code: str, /, **params) -> dict:
    """A message as a parameter or a stored problem holds it: {"code", "params"}."""
    return {"code": code, "params": params}


def is_message(value) -> bool:
    """Is this stored value a message ({"code": str, "params": dict}) rather than data?"""
    return (isinstance(value, dict) and value.keys() == {"code", "params"} and isinstance(value["code"], str)
            and isinstance(value["params"], dict))


def placeholders(template: str) -> set[str]:
    """The parameter names a sentence uses."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def render(code: str, params: dict | None = None, lang: str = DEFAULT_LANGUAGE, strict: bool = False) -> str:
    """Words for a message code in `lang`. An unknown code or a missing parameter still shows something useful
    (a row written by another version of the grader), unless `strict`, where it raises UnknownMessage."""
    params = params or {}
    template = MESSAGES.get(code)
    if template is None:
        if strict:
            raise UnknownMessage(code)
        return f"{code} {_value(params, lang)}".strip()
    template = translations(lang).gettext(template)
    values = {**DEFAULTS, **{k: _value(v, lang, k, strict) for k, v in params.items()}}
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError) as exc:
        if strict:
            raise UnknownMessage(f"{code}: {exc!r} in {template!r}") from None
        return f"{template} ({_value(params, lang)})"


CALL_ARGUMENTS = {"args"}  # parameters written inside a call's parentheses: `gradient([1, 2, 3], [2, 4, 6])`


def _value(value, lang: str, key: str | None = None, strict: bool = False) -> str:
    """One parameter as words: a message rendered, a stored word translated, data as it is."""
    if is_message(value):
        return render(value["code"], value["params"], lang, strict)
    if isinstance(value, str):
        word = PARAM_WORDS.get(key or "", {}).get(value)
        return translations(lang).gettext(word) if word is not None else value
    if isinstance(value, dict):
        return ", ".join(f"{k}={_value(v, lang, strict=strict)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        items = ", ".join(_value(v, lang, strict=strict) for v in value)
        return items if key in CALL_ARGUMENTS else f"[{items}]"
    return number(value)


def located(problem: dict, lang: str = DEFAULT_LANGUAGE) -> str:
    """A problem with its place, {"file", "line", "field", "message"} (a spec's: grader.spec.SpecProblem), as
    `file:line: field: problem` in `lang`; a message stored as text (a row older than codes) is shown as it is."""
    message = problem.get("message")
    words = render(message["code"], message["params"], lang) if is_message(message) else str(message or "")
    where = ":".join(str(part) for part in (problem.get("file"), problem.get("line")) if part is not None)
    return ": ".join(part for part in (where, problem.get("field"), words) if part)


def render_failure(code: str, params: dict, lang: str = DEFAULT_LANGUAGE) -> str:
    """Why grading failed on our side (grader.service.attempts); "failure.attempts" stores its last cause as a
    code and parameters of their own ("cause", "cause_params"), said in the same language; "failure.spec" the
    spec's problems as records ("problems"), each said with its place (a row older than them has "detail")."""
    if code == "failure.attempts":
        cause = render_failure(str(params.get("cause") or "failure.worker_lost"), params.get("cause_params") or {},
                               lang)
        return render(code, {"attempts": params.get("attempts", "?"), "cause": cause}, lang)
    if code == "failure.spec" and "problems" in params:
        return render(code, {"detail": "; ".join(located(p, lang) for p in params["problems"])}, lang)
    return render(code, params, lang)
