"""What a submission is graded against: the reference run, probes and predictions of one spec."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from grader.reference import Problem, ReferenceRun, Schedule, Variant, train


@dataclass
class Reference:
    """Everything the grader knows that the student must never see, computed once per spec."""

    problem: Problem
    schedule: Schedule
    run: ReferenceRun
    probes: list[dict]  # {"params", "x", "y", "check", "grads"}
    predictions: dict[float | str, np.ndarray]  # by grader.checks.compare.input_key of the input
    variants: dict[Variant, ReferenceRun] = field(default_factory=dict)
    function_probes: list[dict] = field(default_factory=list)  # {"params", "args", "check", "expected": [arrays]}
    student_init_missing: list[str] = field(default_factory=list)  # init: student params whose values were not read

    def variant_run(self, variant: Variant, keep: bool = True) -> ReferenceRun:
        """The run of a known mistake, kept for the next submission unless `keep` is False: a variant made
        from one student's run (their estimated learning rate) would otherwise pile up in a long-lived worker."""
        if not keep:
            return self.variants.get(variant) or train(self.problem, self.schedule, variant)
        if variant not in self.variants:
            self.variants[variant] = train(self.problem, self.schedule, variant)
        return self.variants[variant]

    def full_batch_run(self, reduce: str) -> ReferenceRun | None:
        """The run of a student who sums (or averages) the loss over all samples and updates once per
        epoch; None when the loss cannot be reduced that way."""
        key = Variant(code=f"mistake.full_batch_{reduce}")
        if key not in self.variants:
            problem = dataclasses.replace(self.problem, loss=f"{reduce}({self.problem.loss})")
            schedule = dataclasses.replace(self.schedule, batch="full")
            try:
                self.variants[key] = train(problem, schedule)
            except (ValueError, ArithmeticError):
                self.variants[key] = None
        return self.variants[key]
