"""The reference backprop: a small numpy autodiff, the spec's expression language, and a trainer.

Pure numpy by design (never torch): it must be independent of what the student's code runs on.
"""

from .engine import Node
from .expr import CompiledExpression, ExpressionError, compile_expression
from .trainer import (
    LBFGSSettings,
    Problem,
    ReferenceRun,
    Schedule,
    Step,
    Variant,
    gradients_at,
    loss_at,
    mistake_variants,
    predict,
    train,
    train_lbfgs,
    updates,
)

__all__ = [
    "CompiledExpression",
    "ExpressionError",
    "Node",
    "LBFGSSettings",
    "Problem",
    "ReferenceRun",
    "Schedule",
    "Step",
    "Variant",
    "compile_expression",
    "gradients_at",
    "loss_at",
    "mistake_variants",
    "predict",
    "train",
    "train_lbfgs",
    "updates",
]
