"""What a student may know of a graded submission: the one rule for the pages, the status JSON, the API and
best/latest.

The rule: before a check opens to a student, no number or word shown to them depends on it.
- A check opens to its student when it is `visible`; an `after_deadline` one once their own deadline has
  passed (an extension moves it); a `hidden` one never. Staff see every check, always.
- The score shown is the open checks' points, the late penalty taken off, out of the open checks' maximum; the
  closed checks' maximum is named as points not shown yet (it is the spec's, not the student's). With every
  check open it is the stored score. A TA's override is staff's word to the student: shown as it is, said to
  be set by staff, beside the grader's own score by the same rule (so it never tells a closed check either).
- Best and latest compare these shown scores (grader.service.standings takes them), so which submission is
  "best" never tells a closed check's result either.
- A diagnosis is shown only when every check of the kinds it is drawn from is open (EVIDENCE); the plots and
  the first divergent step come from the trace check's details, so they open with that check.
- A held-out accuracy check (one with data of its own, whose labels never enter the sandbox) says only whether
  it passed until the student's deadline; the share after it: a script that recognises the held-out inputs
  could otherwise read one label per submission from the share.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

from grader.lateness import priced
from grader.models import CheckResultRow, Submission, utcnow

# which check kinds a diagnosis code is drawn from: a trace (autograd) or, for gradients by hand, where the
# training ended; codes not named here are drawn from everything (shown only when every check is open)
# (the facets of grader.facets, and how the gradients piled up, are all read from the recorded run)
_TRAINED = ("mistake.no_zero_grad", "mistake.update_per_epoch", "mistake.gradient_ascent",
            "mistake.zero_before_update", "mistake.full_batch", "mistake.learning_rate", "mistake.too_few_epochs",
            "mistake.too_many_epochs", "mistake.one_epoch", "mistake.grad_not_zeroed", "mistake.zero_grad_per_epoch",
            "mistake.zero_grad_every", "mistake.backward_several_times", "mistake.step_several_times",
            "mistake.clipped_gradients", "mistake.gradient_once", "mistake.optimizer", "mistake.optimizer_changes",
            "mistake.optimizer_decay", "mistake.lr_schedule", "mistake.weight_decay", "mistake.weight_decay_asgd",
            "mistake.momentum", "mistake.momentum_plain_sgd", "mistake.nesterov", "mistake.nesterov_plain_sgd",
            "mistake.nesterov_expected", "mistake.batch_size", "mistake.per_sample_updates", "mistake.own_data",
            "mistake.own_targets", "mistake.own_data_changed", "mistake.own_inputs_changed", "mistake.data_subset",
            "mistake.data_subset_scattered", "mistake.group_learning_rates")
EVIDENCE: dict[str, frozenset[str]] = {
    **{code: frozenset({"trace"}) for code in _TRAINED},
    "mistake.wrong_init": frozenset({"trace"}),
    "mistake.no_backward": frozenset({"trace"}),
    "mistake.wrong_gradient": frozenset({"gradients"}),
    "mistake.logits": frozenset({"predictions"}),
    "mistake.loss_mean_not_sum": frozenset({"gradients", "trace"}),  # from the trace's steps, else the probes
    "mistake.loss_sum_not_mean": frozenset({"gradients", "trace"}),
    "mistake.wrong_hand_gradient": frozenset({"function"}),
    "mistake.missing_param": frozenset({"final_params"}),
    "mistake.not_tensor_param": frozenset({"final_params"}),
    "mistake.non_leaf_param": frozenset({"final_params"}),
    "names.undecided": frozenset({"final_params"}),  # grader.names: like a missing parameter
    "names.extra_params": frozenset({"trace"}),  # read from the trace's parameters
}
HAND_GRADIENT_EVIDENCE = frozenset({"final_params"})  # _TRAINED codes where the student computes gradients by hand
NOTE_EVIDENCE = frozenset({"runs"})  # note.*: what the harness did to run the script
HELD_OUT_CODES = {True: "accuracy.held_out_passed", False: "accuracy.held_out_failed"}


def check_open(visibility: str, staff: bool, deadline: dt.datetime | None, now: dt.datetime | None = None) -> bool:
    """Whether a check's result is shown: hidden ones only to staff; after_deadline ones once it passed."""
    if staff or visibility == "visible":
        return True
    return visibility == "after_deadline" and deadline is not None and (now or utcnow()) > deadline


def closed_code(visibility: str) -> str:
    """The message a closed check shows instead of its result."""
    return "check.hidden" if visibility == "hidden" else "check.after_deadline"


@dataclass(frozen=True)
class ShownScore:
    """A graded submission's score as one viewer may see it."""

    points: float  # the open checks' points less the late penalty (or the override)
    max_points: float  # the open checks' maximum
    not_shown: float = 0.0  # the closed checks' maximum
    graders: "ShownScore | None" = None  # with a TA's override (the points): the grader's own score, as shown

    @property
    def set_by_staff(self) -> bool:
        return self.graders is not None


def shown_score(s: Submission, staff: bool, deadline: dt.datetime | None,
                now: dt.datetime | None = None) -> ShownScore | None:
    """The score this viewer may see of `s` (the module's rule); None unless it is graded."""
    if s.status != "graded" or s.score is None:
        return None
    graders = graders_score(s, staff, deadline, now)
    if s.override_score is None:
        return graders
    return ShownScore(s.score, s.max_score or 0.0, graders=graders)


def graders_score(s: Submission, staff: bool, deadline: dt.datetime | None,
                  now: dt.datetime | None = None) -> ShownScore:
    """The grader's own score of graded `s` (whatever an override says), as this viewer may see it."""
    opened, closed = [], []
    for c in s.checks:
        (opened if check_open(c.visibility, staff, deadline, now) else closed).append(c)
    if not closed:
        # the stored score is the grader's unless a TA replaced it
        points = s.score if s.override_score is None else priced(sum(c.points for c in opened), s.late_penalty or 0.0)
        return ShownScore(points, s.max_score or 0.0)
    return ShownScore(priced(sum(c.points for c in opened), s.late_penalty or 0.0),
                      sum(c.max_points for c in opened), sum(c.max_points for c in closed))


def shown_message(c: CheckResultRow, is_open: bool, held_out: bool, deadline: dt.datetime | None,
                  staff: bool, now: dt.datetime | None = None) -> tuple[str, dict]:
    """The (code, params) a check shows: its own, a closed check's placeholder, or a held-out accuracy
    check's pass/fail before the deadline."""
    if not is_open:
        return closed_code(c.visibility), {}
    if (held_out and not staff and c.kind == "accuracy" and c.message_code in ("accuracy.ok", "accuracy.low")
            and not (deadline is not None and (now or utcnow()) > deadline)):
        threshold = (c.message_params or {}).get("threshold")
        needed = round(100 * threshold, 1) if isinstance(threshold, (int, float)) else "?"
        return HELD_OUT_CODES[bool(c.passed)], {"needed": needed}
    return c.message_code, c.message_params or {}


def shown_diagnoses(s: Submission, closed_kinds: Iterable[str], autograd: bool = True) -> list[dict]:
    """The stored diagnoses ({"code", "params"}) none of whose evidence is a closed check's kind."""
    closed = set(closed_kinds)
    shown = []
    for d in s.diagnoses or []:
        if not isinstance(d, dict):
            continue
        code = str(d.get("code", ""))
        if code.startswith("note."):
            evidence = NOTE_EVIDENCE
        elif code in _TRAINED and not autograd:
            evidence = HAND_GRADIENT_EVIDENCE
        else:
            evidence = EVIDENCE.get(code)
        if (evidence is None and closed) or (evidence is not None and evidence & closed):
            continue
        shown.append(d)
    return shown


@dataclass
class ShownCheck:
    """One check as the viewer may see it."""

    row: CheckResultRow
    open: bool
    code: str
    params: dict


@dataclass
class Shown:
    """A submission as one viewer may see it (the module's rule)."""

    checks: list[ShownCheck]
    score: ShownScore | None
    diagnoses: list[dict]


def shown(s: Submission, staff: bool, deadline: dt.datetime | None, held_out: Iterable[str] = (),
          autograd: bool = True, now: dt.datetime | None = None) -> Shown:
    """What this viewer may see of `s`: `deadline` is the student's own, `held_out` the ids of the spec's
    accuracy checks with data of their own, `autograd` the spec's training.autograd."""
    now = now or utcnow()
    held = set(held_out)
    checks = []
    for c in s.checks:
        is_open = check_open(c.visibility, staff, deadline, now)
        code, params = shown_message(c, is_open, c.check_id in held, deadline, staff, now)
        checks.append(ShownCheck(c, is_open, code, params))
    closed_kinds = {c.row.kind for c in checks if not c.open}
    diagnoses = shown_diagnoses(s, closed_kinds, autograd) if s.status == "graded" else []
    return Shown(checks, shown_score(s, staff, deadline, now), diagnoses)
