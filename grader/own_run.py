"""The student's own run, judged step by step: each recorded backward() re-computed by the reference at the
student's own parameter values on the student's own batch (local verification), independent of the trajectory.

A step is `right` when the student's .grad equals the reference gradient there, on one of the batches the
harness saw (the step's candidates, smallest first; a batch's loss may also be the sum or the mean of the spec's
per-sample loss); `accumulated` when it equals that gradient plus the step before's .grad (never zeroed);
`wrong` otherwise; `unverifiable` when the step's parameters or samples are unknown. A step on the student's own
data is verified on the inputs the harness recorded for it (small data sets only), else it is unverifiable; a step
on the assignment's inputs with targets of the student's own (the same for a sample at every step) is right, and
its targets are kept (own_targets).
How the student trained (optimizer, learning rate, schedule) is inferred from these steps by grader.protocol.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from grader.checks.compare import as_array, matches
from grader.outcome import Outcome, TraceStep
from grader.reference import Problem, ReferenceRun, gradients_at

VERIFY_STEPS = 1000  # steps verified per training run (the first ones); later steps are read for the schedule only
VERIFY_TOTAL = 6000  # steps verified per submission
FLOAT32_MAX = 3.4e38
PARAMS_RTOL = 1e-5  # a student's float32 values are the reference run's when this close
REDUCTIONS = (None, "sum", "mean")  # the spec's loss as it is, or summed / averaged over a batch
OWN_TARGET_ROWS = 4  # a step's targets of the student's own are solved for on batches this small
TARGET_RTOL = 1e-4  # a sample's own target is the same at every step on it within this
# after this many wrong steps in a row in a run, its later steps are not tried on data or targets of the student's
# own: a data set does not change in mid-run, and those tries cost two thirds of a wrong step's time
SETTLED_WRONG = 30


@dataclass
class StepVerdict:
    index: int                    # 0-based backward() call
    run: int
    status: str                   # "right" | "accumulated" | "wrong" | "unverifiable"
    rows: list[int] | None = None  # the samples the step used, as the verified candidate says
    single: bool = False          # one sample without a batch axis
    reduce: str | None = None     # how the student reduced a per-sample loss over the batch
    expected: dict[str, np.ndarray] = field(default_factory=dict)  # reference gradients (a wrong step's first try)
    got: dict[str, np.ndarray | None] = field(default_factory=dict)
    own: tuple[np.ndarray, np.ndarray] | None = None  # the student's own x and y a step on them was verified on
    targets: list[float] | None = None  # a step right on the assignment's inputs with y of the student's own, per row
    piled: tuple[str, ...] = ()   # accumulated: the parameters whose .grad was never zeroed (all, or some)


def param_arrays(recorded: dict, params: list[str]) -> dict[str, np.ndarray | None]:
    """Each spec parameter's array in one recorded step. One unnamed leaf stands for a lone parameter."""
    arrays = {p: as_array(recorded.get(p)) for p in params}
    if len(params) == 1 and params[0] not in recorded and len(recorded) == 1:
        arrays[params[0]] = as_array(next(iter(recorded.values())))
    return arrays


def _batches(step: TraceStep, samples: int) -> list[tuple[list[int], bool]]:
    out = []
    for candidate in step.batch:
        rows = candidate.indices(samples)
        if rows:
            out.append((rows, candidate.single and len(rows) == 1))
    return out


class StepVerifier:
    """Verifies steps of one spec's problem: the data as arrays, the shapes each parameter must have."""

    def __init__(self, problem: Problem, shapes: dict[str, tuple[int, ...]], rtol: float, atol: float,
                 reference: ReferenceRun | None = None):
        self.problem, self.shapes, self.rtol, self.atol = problem, shapes, rtol, atol
        self.x = np.asarray(problem.x, dtype=np.float64)
        self.y = np.asarray(problem.y, dtype=np.float64)
        self._reduced: dict[str, Problem] = {}
        self.reference = _flat_steps(reference, list(shapes), len(self.x)) if reference is not None else []

    def _on_reference(self, k: int, params: dict, got: dict) -> dict[str, np.ndarray] | None:
        """The reference run's gradient at step k of a run, when the student's step is that step: the same
        parameter values up to float32 rounding and the same gradients (then it is the gradient at the student's
        values, well within the trace's tolerance, even when the harness did not see which samples the step
        used: the step's samples are the reference step's); None otherwise, and the gradient is computed afresh."""
        if k >= len(self.reference):
            return None
        values, grads, rows, single, step_grads = self.reference[k]
        if any(got.get(n) is None for n in self.shapes):
            return None
        student = np.concatenate([params[n].ravel() for n in self.shapes])
        student_grads = np.concatenate([got[n].ravel() for n in self.shapes])
        if student.size != values.size or student_grads.size != grads.size:
            return None
        with np.errstate(invalid="ignore"):
            same = (np.all(np.abs(student - values) <= PARAMS_RTOL * np.abs(values) + 1e-9)
                    and np.all(np.abs(student_grads - grads) <= self.atol + self.rtol * np.abs(grads)))
        return step_grads if same else None

    def _problem(self, reduce: str | None) -> Problem:
        if reduce is None:
            return self.problem
        if reduce not in self._reduced:
            self._reduced[reduce] = Problem(self.problem.forward, f"{reduce}({self.problem.loss})",
                                            self.problem.params, self.problem.x, self.problem.y)
        return self._reduced[reduce]

    def _params(self, step: TraceStep) -> dict[str, np.ndarray] | None:
        values = param_arrays(step.values, list(self.shapes))
        out = {}
        for name, value in values.items():
            if value is None or value.size != int(np.prod(self.shapes[name])) or not np.all(np.isfinite(value)):
                return None
            out[name] = value.reshape(self.shapes[name])
        return out

    def _fresh(self, params, rows: list[int], single: bool, reduce: str | None) -> dict[str, np.ndarray] | None:
        x, y = (self.x[rows[0]], self.y[rows[0]]) if single else (self.x[rows], self.y[rows])
        try:
            with np.errstate(all="ignore"):
                return gradients_at(self._problem(reduce), params, x, y)
        except (ValueError, ArithmeticError, IndexError):
            return None

    def _on_own_data(self, index: int, params, step: TraceStep, got: dict,
                     batches: list[tuple[list[int], bool]] = ()) -> StepVerdict | None:
        """A step on the student's own samples, right when some pair of its recorded inputs, read as x and y
        (the data's row shapes, as many rows each), gives the student's gradient; None when none does. Where x is
        the assignment's samples of one of the step's `batches`, the y are targets of the student's own for them."""
        arrays = [a for a in (as_array(t) for t in step.own) if a is not None and np.all(np.isfinite(a))]
        x_row, y_row = self.x.shape[1:], self.y.shape[1:]
        for i, xs in enumerate(arrays):
            for j, ys in enumerate(arrays):
                rows = xs.size // max(1, int(np.prod(x_row)))
                if i == j or rows == 0 or xs.size != rows * int(np.prod(x_row)) or ys.size != rows * int(np.prod(y_row)):
                    continue
                x, y = xs.reshape(rows, *x_row), ys.reshape(rows, *y_row)
                for reduce in REDUCTIONS:
                    try:
                        with np.errstate(all="ignore"):
                            fresh = gradients_at(self._problem(reduce), params, x, y)
                    except (ValueError, ArithmeticError, IndexError):
                        continue
                    if self._same(fresh, got):
                        on = next(((r, one) for r, one in batches if len(r) == rows
                                   and np.array_equal(self.x[r].reshape(x.shape), x)), None)
                        if on is not None:  # the assignment's samples, with targets of the student's own
                            return StepVerdict(index, step.run, "right", on[0], on[1], reduce, fresh, got,
                                               targets=y.reshape(-1).tolist())
                        return StepVerdict(index, step.run, "right", None, False, reduce, fresh, got, own=(x, y))
        return None

    def _same(self, expected: dict[str, np.ndarray], got: dict[str, np.ndarray | None]) -> bool:
        return all(matches(expected[n], got.get(n), self.rtol, self.atol) for n in expected)

    def _piled(self, fresh: dict[str, np.ndarray], got: dict, previous_grads: dict) -> tuple[str, ...]:
        """The parameters whose .grad is this step's gradient plus the step before's (never zeroed), when each of
        the others holds this step's alone (zeroed: a script that zeroes w1 and w2 but forgets b); () otherwise."""
        piled = []
        for n, gradient in fresh.items():
            if matches(gradient, got.get(n), self.rtol, self.atol):
                continue
            before = previous_grads.get(n)
            if before is None or before.size != gradient.size:
                return ()
            if not matches(gradient.ravel() + before, got.get(n), self.rtol, self.atol):
                return ()
            piled.append(n)
        return tuple(piled)

    def verify(self, index: int, step: TraceStep, previous: StepVerdict | None,
               previous_grads: dict | None, k: int = -1, settled_wrong: bool = False) -> StepVerdict:
        """The verdict of one step; `k`: its position in its run (-1: not compared with the reference run).
        The batch and reduction that made the step before right is tried first: a run keeps its way of
        batching, and the other candidates then cost nothing (a wrong step still reports its first candidate).
        `settled_wrong`: the run's last SETTLED_WRONG steps were wrong; a wrong step is not tried on data or targets
        of the student's own then."""
        got = param_arrays(step.grads, list(self.shapes))
        params = self._params(step)
        batches = _batches(step, len(self.x))
        if params is None:
            return StepVerdict(index, step.run, "unverifiable", got=got)
        known = self._on_reference(k, params, got) if k >= 0 else None
        if known is not None:
            rows, single = self.reference[k][2], self.reference[k][3]
            return StepVerdict(index, step.run, "right", rows, single, None, known, got)
        on_own_data = previous is not None and previous.status == "right" and previous.rows is None
        if not batches or (on_own_data and step.own):  # a run on its own data keeps to it (a counter is no batch)
            own = self._on_own_data(index, params, step, got)
            if own is not None or not batches:
                return own if own is not None else StepVerdict(index, step.run, "unverifiable", got=got)
        computed: dict[tuple, dict | None] = {}

        def fresh_for(rows: list[int], single: bool, reduce: str | None):
            key = (tuple(rows), single, reduce)
            if key not in computed:
                computed[key] = self._fresh(params, rows, single, reduce)
            return computed[key]

        if previous is not None and previous.status == "right" and previous.rows is not None \
                and (previous.rows, previous.single) in batches:
            fresh = fresh_for(previous.rows, previous.single, previous.reduce)
            if fresh is not None and not _overflowed(fresh, got) and self._same(fresh, got):
                return StepVerdict(index, step.run, "right", previous.rows, previous.single, previous.reduce, fresh, got)
        first: StepVerdict | None = None
        scaled: StepVerdict | None = None
        for rows, single in batches:
            for reduce in REDUCTIONS if not single else (None,):
                fresh = fresh_for(rows, single, reduce)
                if fresh is None:
                    continue
                if _overflowed(fresh, got):  # float32 overflowed where float64 did not: nothing to compare
                    return StepVerdict(index, step.run, "unverifiable", rows, single, reduce, fresh, got)
                verdict = StepVerdict(index, step.run, "right", rows, single, reduce, fresh, got)
                if self._same(fresh, got):
                    return verdict
                if previous is not None and previous_grads is not None and previous.status in ("right", "accumulated"):
                    piled = self._piled(fresh, got, previous_grads)
                    if piled:
                        verdict.status, verdict.piled = "accumulated", piled
                        return verdict
                if first is None:
                    first = verdict
                if scaled is None and loss_scale([(fresh, got, len(rows))], self.rtol, self.atol) is not None:
                    scaled = verdict  # the batch on which the step is a mean where the spec sums (or a sum)
        first = scaled or first
        if first is None:  # no batch gives the reference a scalar loss
            rows, single = batches[0]
            return StepVerdict(index, step.run, "unverifiable", rows, single, got=got)
        if not settled_wrong:
            own = self._on_own_data(index, params, step, got, batches)  # a loop counter looked like a sample
            if own is not None:
                return own
            own = self._on_own_targets(first, params) if first is not scaled else None
            if own is not None:
                return own
        first.status = "wrong"
        return first

    def _on_own_targets(self, verdict: StepVerdict, params) -> StepVerdict | None:
        """A step on the assignment's inputs that is right with targets of the student's own (y_data = [1, 4, 9]
        for the assignment's [2, 4, 6]): the gradient is affine in y for the squared error and the cross-entropy,
        so the targets that would give the student's gradient are solved for, and kept where they do (verify_steps
        keeps them only where every step on a sample finds the same target for it). None otherwise."""
        rows, single, reduce = verdict.rows, verdict.single, verdict.reduce
        names = list(self.shapes)
        if not rows or len(rows) > OWN_TARGET_ROWS or any(verdict.got.get(n) is None for n in names):
            return None
        x = self.x[rows[0]] if single else self.x[rows]
        base = np.asarray(self.y[rows[0]] if single else self.y[rows], dtype=np.float64)
        if base.size != len(rows):
            return None
        got = np.concatenate([verdict.got[n].ravel() for n in names])

        def gradient(targets: np.ndarray) -> dict[str, np.ndarray] | None:
            try:
                with np.errstate(all="ignore"):
                    return gradients_at(self._problem(reduce), params, x, targets.reshape(base.shape))
            except (ValueError, ArithmeticError, IndexError):
                return None

        def flat(grads: dict[str, np.ndarray]) -> np.ndarray:
            return np.concatenate([np.ravel(grads[n]) for n in names])

        start = base.reshape(-1)
        g0 = gradient(start)
        if g0 is None:
            return None
        if got.size < start.size:  # more unknown targets than gradient values: anything would fit
            return None
        columns = []
        for i in range(start.size):
            moved = gradient(start + np.eye(start.size)[i])
            if moved is None:
                return None
            columns.append(flat(moved) - flat(g0))
        with np.errstate(all="ignore"):
            delta = np.linalg.lstsq(np.stack(columns, axis=1), got - flat(g0), rcond=None)[0]
        if not np.all(np.isfinite(delta)) or np.all(np.abs(delta) <= 1e-6 * (1 + np.abs(start))):
            return None
        for targets in (np.array([float(f"{t:.6g}") for t in start + delta]), start + delta):  # as written, if it fits
            fresh = gradient(targets)
            if fresh is not None and self._same(fresh, verdict.got):
                # expected stays the assignment's gradient: what a step that loses its targets is wrong against
                return StepVerdict(verdict.index, verdict.run, "right", rows, single, reduce, verdict.expected,
                                   verdict.got, targets=targets.tolist())
        return None


def loss_scale(pairs: list[tuple[dict, dict, int]], rtol: float, atol: float) -> tuple[int, str] | None:
    """(n, "mean") when every (expected, got, samples) pair has got = expected / n within the tolerance, with n
    samples, the same n > 1 throughout (the student averages a loss the spec sums), (n, "sum") when
    got = n · expected (the student sums one the spec averages); None otherwise, or when there is no pair."""
    found = None
    for expected, got, samples in pairs:
        if samples < 2 or not expected:
            return None
        kind = next((kind for kind, factor in (("mean", 1.0 / samples), ("sum", float(samples)))
                     if all(matches(np.asarray(e, dtype=np.float64) * factor, got.get(n), rtol, atol)
                            for n, e in expected.items())), None)
        if kind is None or found not in (None, (samples, kind)):
            return None
        found = (samples, kind)
    return found


def _overflowed(expected: dict[str, np.ndarray], got: dict[str, np.ndarray | None]) -> bool:
    """A diverging run's float32 gradient went inf or nan beyond float32's range (about 3.4e38)."""
    return any(g is not None and not np.all(np.isfinite(g)) and np.max(np.abs(expected[n]), initial=0.0) > FLOAT32_MAX
               for n, g in got.items() if n in expected) or any(not np.all(np.isfinite(e)) for e in expected.values())


def verify_steps(verifier: StepVerifier, outcome: Outcome) -> list[StepVerdict]:
    """A verdict for each of the first VERIFY_STEPS recorded steps of every run, in order (VERIFY_TOTAL in all:
    the graded run's first, see _steps_to_verify)."""
    verdicts: list[StepVerdict] = []
    previous, previous_grads = None, None
    chosen = _steps_to_verify(outcome.trace, outcome.graded_run(list(verifier.shapes)))
    start, wrong_in_a_row = 0, 0
    for index, step in enumerate(outcome.trace):
        if index not in chosen:
            continue
        same_run = previous is not None and previous.run == step.run and previous.index == index - 1
        if not same_run:
            start, wrong_in_a_row = index, 0
        verdict = verifier.verify(index, step, previous if same_run else None, previous_grads if same_run else None,
                                  index - start, settled_wrong=wrong_in_a_row >= SETTLED_WRONG)
        wrong_in_a_row = wrong_in_a_row + 1 if verdict.status == "wrong" else 0
        verdicts.append(verdict)
        previous, previous_grads = verdict, verdict.got
    _keep_consistent_targets(verdicts)
    return verdicts


def _steps_to_verify(trace, graded: int | None) -> set[int]:
    """The trace indices verified: each run's first VERIFY_STEPS, at most VERIFY_TOTAL in all, the graded run's
    before the others (a script comparing seven optimizers over 1000 epochs each has 7000 steps, and its last
    run's must be verified, not the first six runs' alone)."""
    first_of_run: dict[int, list[int]] = {}
    for index, step in enumerate(trace):
        steps = first_of_run.setdefault(step.run, [])
        if len(steps) < VERIFY_STEPS:
            steps.append(index)
    runs = list(first_of_run)  # in the order they start
    if not runs:
        return set()
    first = graded if graded in first_of_run else runs[-1]
    chosen = first_of_run[first][:VERIFY_TOTAL]
    for run in runs:
        if run != first:
            chosen += first_of_run[run][:VERIFY_TOTAL - len(chosen)]
    return set(chosen)


def _keep_consistent_targets(verdicts: list[StepVerdict]) -> None:
    """Own targets stand only where every step on a sample found the same one for it, at two steps at least (a data
    set of the student's, trained on over epochs): a wrong gradient (a loss off by a factor, a wrong derivative)
    fits a different target at each step, a loop counter read as a sample fits one once, and their steps are wrong."""
    seen: dict[tuple[int, int], list[float]] = {}
    for v in verdicts:
        for row, target in zip(v.rows or (), v.targets or ()):
            seen.setdefault((v.run, row), []).append(target)
    consistent = {}
    for (run, _), targets in seen.items():
        same = len(targets) >= 2 and max(targets) - min(targets) <= TARGET_RTOL * max(1.0, abs(targets[0]))
        consistent[run] = consistent.get(run, True) and same
    for v in verdicts:
        if v.targets is not None and not consistent[v.run]:
            v.status, v.targets = "wrong", None


def own_targets(verdicts: list[StepVerdict], run: int) -> dict[int, float]:
    """The student's own target of each sample of a run whose steps are right with targets of its own."""
    return {row: target for v in verdicts if v.run == run and v.targets is not None
            for row, target in zip(v.rows, v.targets)}


_flat_cache: list[tuple[ReferenceRun, list]] = []


def _flat_steps(run: ReferenceRun, names: list[str], samples: int) -> list[tuple]:
    """Per step of a reference run: its values and gradients as flat arrays, its samples and whether it is one
    sample, and its gradients by name; cached per run (the spec's run is the same for every submission)."""
    for held, steps in _flat_cache:
        if held is run:
            return steps
    steps = []
    for step in run.steps:
        if step.sample is not None:
            rows, single = [step.sample], True
        elif step.batch is not None:
            size = -(-samples // max(1, len({s.batch for s in run.steps[:samples] if s.epoch == 0})))
            rows, single = list(range(step.batch * size, min(samples, (step.batch + 1) * size))), False
        else:
            rows, single = list(range(samples)), False
        steps.append((np.concatenate([np.ravel(step.params[n]) for n in names]),
                      np.concatenate([np.ravel(step.grads[n]) for n in names]), rows, single, step.grads))
    _flat_cache.append((run, steps))
    del _flat_cache[:-8]
    return steps
