"""The harness's outcome JSON, parsed as untrusted input: size-capped, schema-checked, NaN-safe."""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from grader.messages import said

MAX_OUTCOME_BYTES = 4 * 1024 * 1024
MAX_TENSOR_ELEMENTS = 4096  # the largest tensor the harness records (and a spec's parameter may have)
MAX_TRACE_STEPS = 20_000  # backward() calls the harness records; the plan tells it, the schema holds it to it
UNAPPLIED_STEPS = 2  # backward() calls after a run's last update that no update follows, at most (a printed gradient)
# "nan", "inf", "-inf" arrive as strings; bool is listed so that `true` stays a bool (→ NaN), not 1.0
Number = bool | float | int | str | None
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


# what the harness (worker/harness.py, which cannot import grader.messages) may say as a code
HARNESS_CODES = ("harness.no_param", "harness.param_not_tensor", "harness.param_not_leaf", "harness.param_no_grad",
                 "harness.no_function", "harness.not_function", "harness.forward_not_number",
                 "harness.returned_not_number", "harness.loss_not_tensor", "harness.loss_not_scalar",
                 "harness.param_shape", "harness.no_keyboard")
HarnessCode = Literal[HARNESS_CODES]


class HarnessReason(_Loose):
    """Something the harness could not do with the script, as a message code of grader.messages and its
    parameters (names, type names, a shape)."""

    code: HarnessCode
    params: dict[str, str | int | float | list[int] | None] = Field(default_factory=dict, max_length=8)


# An error the outcome reports: the student's own exception as its text, or the harness's reason as a code
Said = HarnessReason | str


def as_param(error: Said | None) -> str | dict | None:
    """An outcome's error as a message parameter: text as it is, a harness reason as a message ({"code", "params"})."""
    return error.model_dump() if isinstance(error, HarnessReason) else error


class TensorData(_Loose):
    shape: list[int] = Field(default_factory=list, max_length=8)
    data: list[Number] | None = Field(None, max_length=1 << 20)
    dtype: str = ""
    too_large: bool = False
    # a tensor too large to record: its norm and fixed random projections (grader.sketch)
    norm: Number = None
    sketch: list[Number] | None = Field(None, max_length=64)

    def array(self) -> np.ndarray | None:
        """Flat float64 values; None when absent. Non-numbers become NaN, so they never match. Computed once
        (read-only: every check and diagnosis reads the same steps)."""
        return self.values_array

    # a cached_property, not a PrivateAttr: pydantic sets up private attributes on every instance (an outcome
    # holds thousands of tensors) and reads them through __getattr__; this one lives in the instance's __dict__
    @cached_property
    def values_array(self) -> np.ndarray | None:
        if self.data is None:
            return None
        data = self.data
        if all(type(v) is float for v in data):  # what the harness writes: no conversion one by one
            values = np.array(data, dtype=np.float64)
        else:
            values = np.array([_to_float(v) for v in data], dtype=np.float64)
        values.flags.writeable = False
        return values


class NamedValue(TensorData):
    kind: Literal["tensor", "number", "missing", "other"] = "other"
    type: str = ""
    is_leaf: bool = True
    requires_grad: bool = True


class BatchCandidate(_Loose):
    """A variable that held rows of the data set at a backward(): the rows as [start, stop) runs."""

    rows: list[tuple[int, int]] = Field(default_factory=list, max_length=100_000)
    single: bool = False  # one sample without a batch axis (a loop's x), not a batch of one

    def indices(self, samples: int) -> list[int] | None:
        """The row indices in order; None when a run falls outside the data set (forged)."""
        out: list[int] = []
        for start, stop in self.rows:
            if not 0 <= start < stop <= samples or len(out) + stop - start > samples * 4:
                return None
            out.extend(range(start, stop))
        return out


class UnmatchedData(_Loose):
    """The largest sample-shaped variable at a backward() whose rows are not all the assignment's."""

    size: int = Field(0, ge=0)
    matched: int = Field(0, ge=0)


class TraceStep(_Loose):
    values: dict[str, TensorData] = Field(default_factory=dict, max_length=256)
    grads: dict[str, TensorData | None] = Field(default_factory=dict, max_length=256)
    loss: Number = None
    run: int = Field(0, ge=0)  # the training run (0-based) this backward() belongs to
    batch: list[BatchCandidate] = Field(default_factory=list, max_length=8)
    unmatched: UnmatchedData | None = None
    own: list[TensorData] = Field(default_factory=list, max_length=4)  # the inputs of a step on the student's own data
    own_same: bool = False  # its inputs are those of the last step of its run that recorded some (own_inputs_filled)
    line: int | None = Field(None, ge=0)  # the line of the student's code that made the step (its backward() call)


class StudentFrame(_Loose):
    """One call in the traceback, in the student's own file: its line and the function it ran in."""

    line: int | None = None
    function: str = Field("", max_length=200)


class StudentError(_Loose):
    type: str = ""
    message: str = ""
    line: int | None = None
    column: int | None = None
    text: str = ""
    traceback: str = ""
    frames: list[StudentFrame] = Field(default_factory=list, max_length=8)  # the traceback's calls in the script
    module: str | None = Field(None, max_length=100)  # ModuleNotFoundError: the top-level module not found
    available: list[str] = Field(default_factory=list, max_length=40)  # the modules students use that are here
    reason: HarnessReason | None = None  # what the harness knows about it (input() with nobody typing)


class Prediction(_Loose):
    x: float | None = None
    index: int | None = None  # position in the plan's predict_inputs (how a vector input is matched)
    value: TensorData | None = None
    error: Said | None = None

    @field_validator("x", mode="before")
    @classmethod
    def _number_or_none(cls, value: Any) -> float | None:
        """The input the prediction was made for, as a float; anything else (a forged list, a
        400-digit integer) becomes None, which matches no input."""
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            return None
        try:
            return float(value)
        except (ValueError, OverflowError):
            return None


class ProbeResult(_Loose):
    grads: dict[str, TensorData | None] | None = None
    loss: Number = None
    error: Said | None = None


class BatchPrediction(_Loose):
    """forward on all samples of an accuracy check."""

    id: str = ""
    value: TensorData | None = None
    error: Said | None = None


class FunctionProbeResult(_Loose):
    """What the student's own function returned at one probe point (one entry per returned item)."""

    value: list[TensorData] | None = Field(None, max_length=64)
    error: Said | None = None


class Probes(_Loose):
    error: Said | None = None
    results: list[ProbeResult] = Field(default_factory=list, max_length=1000)


class RunNote(_Loose):
    """Something the harness did to run or read the script that the student should know about: notebook
    lines blanked, a spec name read as the student's own (`ours` read from `yours`), or a spec name several
    of the student's names fit equally (`candidates`), or the spec's torch loss (`yours`) standing in for the
    loss object `ours` that the script has not, or a data file loaded by the path it has on the student's own
    machine (`yours`) read as the assignment's file `ours`, or a function `ours` that takes no arguments and
    reads the globals `candidates` in their place, or a loss object of torch's class `yours` where the assignment's
    is `ours`, or the activations (`candidates`: module classes, torch function names) a model object applies."""

    code: Literal["notebook_magics_ignored", "name_read_as", "name_undecided", "loss_stand_in", "data_path_read_as",
                  "arguments_read_as_globals", "other_loss", "model_activations"]
    lines: list[int] = Field(default_factory=list, max_length=20)
    ours: str = Field("", max_length=200)
    yours: str = Field("", max_length=200)
    candidates: list[str] = Field(default_factory=list, max_length=8)


class Recreation(_Loose):
    """A top-level statement after training that bound the name of trained parameters again (`model = Model()`):
    the name, its line and that line's code; the spec's parameters judged as trained for it."""

    name: str = Field("", max_length=200)
    line: int = Field(0, ge=0)
    text: str = Field("", max_length=200)
    params: list[str] = Field(default_factory=list, max_length=256)


# what the harness writes of an optimizer's class name, a setting's name and a setting given as text (line_search_fn)
DeclaredText = Annotated[str, Field(max_length=40)]


class DeclaredOptimizer(_Loose):
    """An optimizer as the script declared it (worker/harness.py: describe_optimizer); its words reach the report."""

    name: DeclaredText
    settings: dict[DeclaredText, bool | int | float | DeclaredText | None] = Field(default_factory=dict, max_length=8)
    group_lrs: list[Number] = Field(default_factory=list, max_length=8)  # each param group's, where they differ


class GradientClip(_Loose):
    """A run's gradient clipping as the harness counted it: torch's function, its limit (max_norm or clip_value),
    its calls and how many of them changed a gradient."""

    function: Literal["clip_grad_norm_", "clip_grad_value_"]
    limit: Number = None
    calls: int = Field(0, ge=0)
    clipped: int = Field(0, ge=0)


class Outcome(_Loose):
    """What the harness reported. Any field may be forged by the student; none is trusted blindly."""

    version: int = 1
    status: Literal["ok", "exception", "syntax_error", "exit", "os_exit", "cpu_limit", "harness_error"]
    error: StudentError | None = None
    exit_code: int | None = None
    backward_calls: int = 0
    runs: list[int] = Field(default_factory=list, max_length=1000)  # backward() calls per training run
    # per training run: torch.optim step() calls (an LBFGS step evaluates its closure several times) and the
    # optimizer that made them, as the script declared it (its class and settings: a claim, checked by the steps)
    optimizer_steps: list[int] = Field(default_factory=list, max_length=1000)
    optimizers: list[DeclaredOptimizer | None] = Field(default_factory=list, max_length=1000)
    clips: list[GradientClip | None] = Field(default_factory=list, max_length=1000)  # per run, when it clipped
    # the harness records at most this many steps (the plan's max_trace_steps): a longer trace is forged,
    # and refused before its steps cost the worker time to validate
    trace: list[TraceStep] = Field(default_factory=list, max_length=MAX_TRACE_STEPS)
    trace_truncated: bool = False
    final_params: dict[str, NamedValue] = Field(default_factory=dict, max_length=256)
    predictions: list[Prediction] = Field(default_factory=list, max_length=1000)
    probes: Probes = Field(default_factory=Probes)
    batch_predictions: list[BatchPrediction] = Field(default_factory=list, max_length=100)
    function_probes: list[FunctionProbeResult] = Field(default_factory=list, max_length=1000)
    notes: list[RunNote] = Field(default_factory=list, max_length=64)
    # parameters the script re-created after training, judged as trained (worker/harness.py: _restore_trained)
    replaced: list[str] = Field(default_factory=list, max_length=256)
    recreated: list[Recreation] = Field(default_factory=list, max_length=64)  # where, of those with a line
    # gradients by hand: the calls of the student's gradient function (exact), the first ones as steps
    hand_calls: int = Field(0, ge=0)
    hand_trace: list[TraceStep] = Field(default_factory=list, max_length=MAX_TRACE_STEPS)
    hand_truncated: bool = False
    # the harness's own errors while recording (a bug of ours, never the student's): logged by the worker
    recorder_errors: list[str] = Field(default_factory=list, max_length=5)

    @field_validator("recorder_errors")
    @classmethod
    def _short_errors(cls, errors: list[str]) -> list[str]:
        return [e[:300] for e in errors]

    @model_validator(mode="after")
    def own_inputs_filled(self) -> Outcome:
        """The harness records a step's inputs once while they stay the same; every step gets them here."""
        for trace in (self.trace, self.hand_trace):
            last: dict[int, list[TensorData]] = {}
            for step in trace:
                if step.own:
                    last[step.run] = step.own
                elif step.own_same:
                    step.own = last.get(step.run, [])
        return self

    def as_trained(self, autograd: bool) -> Outcome:
        """The outcome whose backward_calls, runs and trace are the training's steps: backward() calls with
        autograd; by hand, the calls of the gradient function, read as one training run (what the protocol, the
        facets, the replay and a stop's count of steps then read the same way)."""
        if autograd:
            return self
        steps, calls = _without_repeated_calls(self.hand_trace, self.hand_calls)
        trace, runs = _hand_runs(steps, calls)
        return self.model_copy(update={"trace": trace, "backward_calls": calls, "runs": runs,
                                       "trace_truncated": self.hand_truncated})

    def without_unapplied_steps(self, params: list[str]) -> tuple[Outcome, list[TraceStep]]:
        """The outcome without the last run's final UNAPPLIED_STEPS or fewer steps that no update followed (one
        more backward() after the training, to print a gradient), and those steps; they count in no epoch. With
        torch.optim, they are the calls beyond its step() calls, at the final parameters. With updates by hand,
        such a step is at the final parameters with a gradient that is not zero, right after a step the parameters
        moved from, or (a run that converged until its updates vanish in float32 rounding stands still over its
        last steps) on inputs none of the training's steps used. Only for a script that ran to its end, where the trace
        holds its every call and every parameter's final value is known."""
        last = len(self.runs) - 1
        if self.status != "ok" or last < 0 or len(self.trace) != self.backward_calls or self.runs[last] < 2:
            return self, []  # a run that stopped (a crash mid-training) leaves its parameters where it stopped
        final = {n: self.final_params[n].array() for n in params if n in self.final_params}
        if len(final) != len(params) or any(v is None for v in final.values()):
            return self, []

        def at_final(step: TraceStep) -> bool:
            values = {n: step.values[n].array() if n in step.values else None for n in params}
            return all(v is not None and v.size == final[n].size and np.array_equal(v.ravel(), final[n].ravel())
                       for n, v in values.items())

        def has_gradient(step: TraceStep) -> bool:
            return any(g is not None and g.array() is not None and np.any(g.array()) for g in step.grads.values())

        def inputs(step: TraceStep) -> tuple | None:
            return tuple(tuple(t.array().ravel().tolist()) for t in step.own) if step.own else None

        steps = self.trace[len(self.trace) - self.runs[last]:]
        stepped = self.optimizer_steps[last] if last < len(self.optimizer_steps) else 0
        if stepped:  # torch.optim counted its step() calls: the backward() calls beyond them, if they are the last
            unapplied = self.runs[last] - stepped
            if not 0 < unapplied <= UNAPPLIED_STEPS or not all(at_final(step) for step in steps[-unapplied:]):
                return self, []
        else:  # updates by hand: the steps at the end at the final parameters, with a gradient
            unapplied = 0
            while unapplied < min(UNAPPLIED_STEPS + 1, len(steps) - 1) and at_final(steps[-1 - unapplied]) \
                    and has_gradient(steps[-1 - unapplied]):
                unapplied += 1
            if unapplied > UNAPPLIED_STEPS or at_final(steps[-1 - unapplied]):
                # a converged run stands still at its end: then only steps on inputs its training never used
                seen = {inputs(step) for step in steps[:-UNAPPLIED_STEPS]}
                unapplied = 0
                while unapplied < UNAPPLIED_STEPS and at_final(steps[-1 - unapplied]) \
                        and has_gradient(steps[-1 - unapplied]) and inputs(steps[-1 - unapplied]) not in seen | {None}:
                    unapplied += 1
        if not unapplied:
            return self, []
        runs = self.runs[:last] + [self.runs[last] - unapplied]
        return self.model_copy(update={"trace": self.trace[:-unapplied], "runs": runs,
                                       "backward_calls": self.backward_calls - unapplied}), self.trace[-unapplied:]

    def graded_run(self, params: list[str]) -> int | None:
        """The training run graded: the last one, unless its recorded steps reach none of the assignment's
        parameters while an earlier run's do. A second network trained after the assignment's (the lecture 7
        homework's ReLU model beside the sigmoid one, to compare their losses) is the student's own experiment;
        the assignment's model and its final parameters are the earlier run's. A run recorded not at all (past
        the recording budget) is not known to train another model, and stays the graded one."""
        wanted, reaching, recorded = set(params), set(), set()
        for step in self.trace:
            recorded.add(step.run)
            if wanted & set(step.grads):
                reaching.add(step.run)
        runs = range(max(len(self.runs), max(recorded, default=-1) + 1))
        if not reaching:
            return runs[-1] if runs else None
        return next(run for run in reversed(runs) if run in reaching or run not in recorded)

    def without_side_runs(self, params: list[str]) -> Outcome:
        """The outcome without the runs that update nothing and reach none of the assignment's parameters while
        another run's steps do: a backward() on tensors of the script's own beside the training (the lecture's
        exercise of one loss's gradients, printed) trains nothing. A run that trains a model of its own (the
        lecture's y = w·x before the quadratic) stays a run. Only runs recorded whole are dropped, so a step's
        place in the trace stays its backward() call among the rest."""
        if len(self.runs) < 2:
            return self
        wanted, start, spans = set(params), 0, []
        for run, calls in enumerate(self.runs):
            steps = self.trace[start:start + calls]
            whole = len(steps) == calls and all(step.run == run for step in steps)
            still = all(step.values == steps[0].values for step in steps[1:])
            spans.append((steps, whole and still and not any(wanted & set(step.grads) for step in steps)))
            start += calls
        if all(side for _, side in spans) or not any(side for _, side in spans):
            return self
        kept = [(steps, calls) for (steps, side), calls in zip(spans, self.runs) if not side]
        trace = [step.model_copy(update={"run": run}) for run, (steps, _) in enumerate(kept) for step in steps]
        trace += [step.model_copy(update={"run": len(kept) - 1}) for step in self.trace[start:]]  # beyond the runs
        sides = [side for _, side in spans]
        return self.model_copy(update={
            "trace": trace, "runs": [calls for _, calls in kept], "backward_calls": sum(calls for _, calls in kept),
            "optimizer_steps": [n for n, side in zip(self.optimizer_steps, sides) if not side],
            "optimizers": [o for o, side in zip(self.optimizers, sides) if not side],
            "clips": [c for c, side in zip(self.clips, sides) if not side]})


def _without_repeated_calls(steps: list[TraceStep], calls: int) -> tuple[list[TraceStep], int]:
    """The calls of a gradient function by hand without those at the same parameters and inputs as the call before
    (the gradient printed again beside the update's): nothing moved in between, so no step was taken. Only where
    every call was recorded, so that the count stays exact, and where no two such calls follow each other: a
    converged run stands still over many calls, which are its steps all the same."""
    if len(steps) != calls or calls < 2:
        return steps, calls
    repeated = [i for i in range(1, calls) if steps[i].values == steps[i - 1].values
                and steps[i].batch == steps[i - 1].batch and steps[i].own == steps[i - 1].own]
    if not repeated or any(b == a + 1 for a, b in zip(repeated, repeated[1:])):
        return steps, calls  # a run standing still over several calls converged (or never moves): all are steps
    dropped = set(repeated)
    return [step for i, step in enumerate(steps) if i not in dropped], calls - len(dropped)


def _hand_runs(steps: list[TraceStep], calls: int) -> tuple[list[TraceStep], list[int]]:
    """The calls of a gradient function by hand as training runs: where every call was recorded, a call at the
    parameters' first values again, after they had moved, starts a new run (`w = 1.0` set again for the lecture's
    second part); else one run."""
    if not calls:
        return steps, []
    if len(steps) != calls:
        return steps, [calls]

    def values(step: TraceStep) -> list:
        return [None if v.array() is None else v.array().tolist() for _, v in sorted(step.values.items())]

    seen = [values(step) for step in steps]
    starts = [0] + [i for i in range(1, len(seen)) if seen[i] == seen[0] and seen[i - 1] != seen[0]]
    if len(starts) == 1:
        return steps, [calls]
    bounds = starts + [calls]
    runs = [b - a for a, b in zip(bounds, bounds[1:])]
    run_of = [r for r, count in enumerate(runs) for _ in range(count)]
    return [step.model_copy(update={"run": run}) for step, run in zip(steps, run_of)], runs


class OutcomeError(ValueError):
    """The outcome channel held something that is not a valid outcome; `reason` says why, as a message
    ({"code": "outcome.*", "params"}) of grader.messages."""

    def __init__(self, code: str, /, **params):
        super().__init__(code, params)
        self.reason = said(code, **params)


def _to_float(value: Any) -> float:
    if isinstance(value, bool) or value is None:
        return math.nan
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:  # an integer beyond float range: no tensor holds that
            return math.nan
    if isinstance(value, str):
        return {"inf": math.inf, "infinity": math.inf, "-inf": -math.inf, "-infinity": -math.inf}.get(value, math.nan)
    return math.nan


def parse_outcome(raw: bytes | None) -> Outcome | None:
    """None when nothing came; OutcomeError when what came is not an outcome."""
    if not raw:
        return None
    if len(raw) > MAX_OUTCOME_BYTES:
        raise OutcomeError("outcome.too_large", n=MAX_OUTCOME_BYTES)
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=lambda name: name.lower())
    except (ValueError, RecursionError) as exc:  # ValueError: also an integer of > 4300 digits
        raise OutcomeError("outcome.not_json", type=type(exc).__name__) from None
    if _SURROGATE_ESCAPE.search(raw):
        data = _without_lone_surrogates(data)
    if not isinstance(data, dict):
        raise OutcomeError("outcome.not_object")
    try:
        return Outcome.model_validate(data)
    except (ValidationError, RecursionError) as exc:
        raise OutcomeError("outcome.schema", detail=str(exc)[:300]) from None


def _without_lone_surrogates(data: Any) -> Any:
    """JSON may escape half a UTF-16 pair ("\\ud800"); such a str cannot be encoded, stored or printed."""
    def clean(text: str) -> str:
        return text.encode("utf-8", "replace").decode("utf-8")

    root = [data]
    stack = [root]
    while stack:  # no recursion: the nesting is whatever json.loads accepted
        container = stack.pop()
        items = container.items() if isinstance(container, dict) else enumerate(container)
        for key, value in list(items):
            if isinstance(value, str):
                container[key] = clean(value)
            elif isinstance(value, (list, dict)):
                stack.append(value)
            if isinstance(container, dict) and isinstance(key, str) and clean(key) != key:
                container[clean(key)] = container.pop(key)
    return root[0]


# why the sandbox stopped a script, by the signal that ended it: message codes of grader.messages
SIGNAL_REASONS = {9: "signal.killed", 24: "signal.cpu_limit", 11: "signal.segfault", 6: "signal.aborted",
                  25: "signal.file_size"}
OTHER_SIGNAL = "signal.other"


@dataclass
class RunReport:
    """One sandboxed run as scoring sees it: the parsed outcome plus how the process ended."""

    outcome: Outcome | None
    stdout: str = ""
    stderr: str = ""
    outcome_error: dict | None = None  # why the outcome could not be read, as a message (OutcomeError.reason)
    timed_out: bool = False
    wall_limit: float = 0.0
    cpu_limit: float = 0.0  # the job's CPU seconds (the soft limit, where the harness reports)
    signal: int | None = None
    exit_code: int | None = None
    wall_seconds: float = 0.0
    stdout_truncated: bool = False

    def signal_reason(self) -> dict:
        """Why the sandbox stopped the script, as a message."""
        return said(SIGNAL_REASONS.get(self.signal or 0, OTHER_SIGNAL))
