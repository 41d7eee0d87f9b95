"""The assignment spec's schema: pydantic models of every field (loading and error lines: grader.spec.loading)."""
from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from grader.i18n import LANGUAGES, normalize
from grader.messages import render
from grader.outcome import MAX_TENSOR_ELEMENTS
from grader.reference.expr import FUNCTIONS
from grader.reference.trainer import BATCH_MODES, OPTIMIZERS

# \Z, not $: "$" also matches before a final newline, and "runs\n" is no safe id
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}\Z")
PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
PYTHON_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
FUNCTIONS_IN_EXPRESSIONS = set(FUNCTIONS)

Value = float | list[float] | list[list[float]]
Facet = Literal["data", "optimizer", "lr", "momentum", "batch", "epochs"]  # grader.facets


class Strict(BaseModel):
    # strict: `lr: true` or `epochs: "100"` is a mistake to report, not a value to coerce; NaN/inf never make sense
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def describe(value: Any) -> str:
    """A value as a problem quotes it: its repr, cut at 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def refused(code: str, /, **params) -> PydanticCustomError:
    """A validator's refusal as a message code and its parameters (grader.messages): pydantic keeps them as the
    error's type and context, and grader.spec.problems reads them back from there."""
    return PydanticCustomError(code, render(code, params), params)


def shape_of(value: Value) -> tuple[int, ...]:
    """The shape of a number or a (rectangular) nested list."""
    if not isinstance(value, list):
        return ()
    inner = {shape_of(item) for item in value}
    if len(inner) > 1:
        raise refused("spec.ragged_matrix")
    return (len(value), *(inner.pop() if inner else ()))


class Late(Strict):
    grace_minutes: int = Field(0, ge=0, le=7 * 24 * 60)
    penalty_per_day: float = Field(0.0, ge=0.0, le=1.0)
    max_days: int | None = Field(None, ge=0, le=365)  # None: late work accepted with no end


class Limits(Strict):
    wall_seconds: float = Field(30.0, gt=0, le=600)
    cpu_seconds: int = Field(20, gt=0, le=600)
    memory_mb: int = Field(1024, ge=256, le=16384)
    output_kb: int = Field(256, ge=1, le=10240)


class Data(Strict):
    """Samples (the first axis of x and y). From a CSV, the loader fills x and y and keeps the file's
    name and text in `csv` and `text`, and the other paths learners open it by in `aliases`
    (grader.spec.data_files): each is written into the job's working directory tree."""

    x: list[float | list[float] | list[list[float]]] = Field(min_length=1, max_length=100_000)
    y: list[float | list[float]] = Field(min_length=1, max_length=100_000)
    csv: str | None = None
    text: str | None = None
    aliases: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _same_length(self) -> "Data":
        if len(self.x) != len(self.y):
            raise refused("spec.samples_differ", x=len(self.x), y=len(self.y))
        return self


class Param(Strict):
    """A parameter with a shape: `{shape: [8, 6], init: student}`, or explicit values `{init: [[...]]}`."""

    shape: list[int] | None = Field(None, max_length=4)
    init: Literal["student"] | float | list[float] | list[list[float]]

    @field_validator("shape")
    @classmethod
    def _sizes(cls, shape: list[int] | None) -> list[int] | None:
        if shape is None:
            return shape
        if any(size < 1 for size in shape):
            raise refused("spec.shape_size", shape=shape)
        if math.prod(shape) > MAX_TENSOR_ELEMENTS:
            raise refused("spec.shape_too_large", max=MAX_TENSOR_ELEMENTS, shape=shape, elements=math.prod(shape))
        return shape

    @model_validator(mode="after")
    def _init_fits(self) -> "Param":
        if self.init == "student":
            if self.shape is None:
                raise refused("spec.student_init_shape", example="{shape: [8, 6], init: student}")
            return self
        if isinstance(self.init, list) and self.shape is not None and list(shape_of(self.init)) != self.shape:
            raise refused("spec.init_shape", init=list(shape_of(self.init)), shape=self.shape)
        return self


class Model(Strict):
    params: dict[str, float | list[float] | list[list[float]] | Param] = Field(min_length=1)
    forward: str = Field(min_length=1, max_length=2000)
    loss: str = Field(min_length=1, max_length=2000)

    @field_validator("params")
    @classmethod
    def _param_names(cls, params: dict) -> dict:
        reserved = FUNCTIONS_IN_EXPRESSIONS | {"x", "y", "y_pred"}
        for name, value in params.items():
            if not PARAM_NAME.match(name):
                raise refused("spec.param_name", name=repr(name))
            if name in reserved:
                raise refused("spec.param_reserved", name=repr(name))
            if not isinstance(value, Param):
                try:
                    shape_of(value)
                except ValueError:
                    raise refused("spec.param_ragged", name=name) from None
        return params

    def shape(self, name: str) -> tuple[int, ...]:
        value = self.params[name]
        if isinstance(value, Param):
            return tuple(value.shape) if value.shape is not None else shape_of(value.init)
        return shape_of(value)

    def initial(self, name: str) -> float | list | None:
        """The spec's initial value of a parameter (a number fills its shape); None for init: student."""
        value = self.params[name]
        if not isinstance(value, Param):
            return value
        if value.init == "student":
            return None
        if isinstance(value.init, list) or value.shape is None:
            return value.init
        filled: Any = float(value.init)
        for size in reversed(value.shape):
            filled = [filled] * size
        return filled

    @property
    def student_init(self) -> list[str]:
        """Parameters whose initial values are the student's own (read from their first backward())."""
        return [name for name, value in self.params.items() if isinstance(value, Param) and value.init == "student"]


class Training(Strict):
    lr: float = Field(gt=0, le=100)
    epochs: int = Field(ge=1, le=100_000)
    batch: str | int = "per-sample"  # per-sample, full, or a mini-batch size
    optimizer: str = "sgd"  # one the reference trains (grader.reference.trainer.OPTIMIZERS), as torch.optim does
    momentum: float = Field(0.0, ge=0, lt=1)
    nesterov: bool = False
    weight_decay: float = Field(0.0, ge=0, le=1)
    betas: list[float] = Field([0.9, 0.999], min_length=2, max_length=2)
    eps: float = Field(1e-8, gt=0, le=1)
    autograd: bool = True  # false: the student computes gradients by hand (no trace or gradients checks)
    # facets the student may choose (grader.facets): never a deviation; final parameters and predictions are
    # then held against the reference replayed with the student's own choice
    free: list[Facet] = Field(default_factory=list)

    @field_validator("batch", mode="before")
    @classmethod
    def _batch(cls, value: Any) -> Any:
        if value in BATCH_MODES or (type(value) is int and 1 <= value <= 100_000):
            return value
        if isinstance(value, str):
            raise refused("spec.batch_word", got=describe(value))
        raise refused("spec.batch", got=describe(value))

    @field_validator("optimizer")
    @classmethod
    def _optimizer(cls, optimizer: str) -> str:
        if optimizer not in OPTIMIZERS:
            raise refused("spec.optimizer", optimizers=", ".join(OPTIMIZERS), got=describe(optimizer))
        return optimizer

    @field_validator("betas")
    @classmethod
    def _betas(cls, betas: list[float]) -> list[float]:
        if not all(0 <= b < 1 for b in betas):
            raise refused("spec.betas", betas=str(betas))
        return betas

    @model_validator(mode="after")
    def _optimizer_fields(self) -> "Training":
        # judged by value, not by the fields given: a spec dumped to JSON and read back gives them all
        if self.optimizer != "sgd" and self.momentum:
            raise refused("spec.momentum_sgd_only")
        if self.nesterov and not (self.optimizer == "sgd" and self.momentum):
            raise refused("spec.nesterov_needs_momentum")
        if self.optimizer not in ("adam", "adamw", "adamax") and self.betas != [0.9, 0.999]:
            raise refused("spec.betas_adam_only")
        if self.optimizer not in ("adam", "adamw", "adamax", "rmsprop") and self.eps != 1e-8:
            raise refused("spec.eps_optimizers")
        if self.optimizer == "rprop" and self.weight_decay:
            raise refused("spec.rprop_weight_decay")
        if self.optimizer == "adamw" and not self.weight_decay:
            raise refused("spec.adamw_no_decay")
        return self


class Functions(Strict):
    """Names of the functions the student's script must define (`forward: model` for an nn.Module)."""

    forward: str = Field("forward", pattern=PYTHON_NAME)
    loss: str = Field("loss", pattern=PYTHON_NAME)


class Probes(Strict):
    random: int = Field(8, ge=0, le=200)
    seed: int = Field(0, ge=0, le=2**63 - 1)  # numpy refuses a negative seed
    scale: float = Field(2.0, gt=0, le=1000)  # probe parameters are drawn from [-scale, scale]


class PredictionInput(Strict):
    """One predictions input with its own tolerance."""

    x: float | list[float] | list[list[float]]
    rtol: float | None = Field(None, ge=0, le=1)
    atol: float | None = Field(None, ge=0)


CheckKind = Literal["runs", "gradients", "trace", "final_params", "predictions", "function", "accuracy", "training"]
# field -> (its default, the kinds it belongs to)
KIND_FIELDS = {"inputs": (None, ("predictions",)), "probes": (None, ("gradients", "function")),
               "function": (None, ("function",)), "returns": ("gradient", ("function",)),
               "threshold": (None, ("accuracy",)), "cutoff": (0.5, ("accuracy",)), "data": (None, ("accuracy",)),
               "facets": (None, ("training",))}


class Check(Strict):
    id: str
    kind: CheckKind
    points: float = Field(ge=0, le=10_000)
    rtol: float = Field(1e-4, ge=0, le=1)
    atol: float = Field(1e-5, ge=0)
    visibility: Literal["visible", "hidden", "after_deadline"] = "visible"
    probes: Probes | None = None
    inputs: list[float | list[float] | list[list[float]] | PredictionInput] | None = Field(None, max_length=1000)
    function: str | None = Field(None, pattern=PYTHON_NAME)  # function: the student's function to call
    returns: Literal["gradient", "loss", "forward"] = "gradient"  # function: what it must return
    threshold: float | None = Field(None, ge=0, le=1)  # accuracy: the share of samples to classify right
    cutoff: float = 0.5  # accuracy: one output above it is class 1; several outputs: the largest wins
    data: Data | None = None  # accuracy: held-out samples (only their x enter the sandbox); default: the training data
    facets: list[Facet] | None = Field(None, min_length=1, max_length=6)  # training: the facets graded

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise refused("spec.unsafe_id", id=repr(value))
        return value

    @model_validator(mode="after")
    def _kind_fields(self) -> "Check":
        if self.kind == "predictions" and not self.inputs:
            raise refused("spec.predictions_need_inputs")
        if self.kind == "function" and not self.function:
            raise refused("spec.function_needs_function")
        if self.kind == "accuracy" and self.threshold is None:
            raise refused("spec.accuracy_needs_threshold")
        for field, (default, kinds) in KIND_FIELDS.items():
            if getattr(self, field) != default and self.kind not in kinds:
                if len(kinds) == 1:
                    raise refused("spec.field_of_kind", field=field, kinds=kinds[0], kind=self.kind)
                raise refused("spec.field_of_two_kinds", field=field, first=kinds[0], second=kinds[1], kind=self.kind)
        return self

    @property
    def probe_settings(self) -> Probes:
        """The probes to draw (gradients and function checks): the spec's, else the defaults."""
        return self.probes or Probes()

    @property
    def prediction_inputs(self) -> list[PredictionInput]:
        return [i if isinstance(i, PredictionInput) else PredictionInput(x=i) for i in self.inputs or []]


class SpecText(Strict):
    """The title and description in one more language; what is left out is shown as the spec has it."""

    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = None


class AssignmentSpec(Strict):
    id: str
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    translations: dict[str, SpecText] = Field(default_factory=dict, max_length=8)  # language code -> its words
    deadline: dt.datetime | None = Field(None, strict=False)  # a quoted ISO string is fine too
    late: Late = Late()
    limits: Limits = Limits()
    seed: int | None = Field(None, ge=0, le=2**63 - 1)  # torch.manual_seed(seed) before the script runs
    data: Data
    model: Model
    functions: Functions = Functions()
    # by_role: a parameter or function the script names otherwise is matched by its shape, place and kind and
    # graded with a note ("we read your w_1 as w1"); strict: only the spec's names count
    names: Literal["by_role", "strict"] = "by_role"
    training: Training
    checks: list[Check] = Field(min_length=1)

    @field_validator("translations")
    @classmethod
    def _languages(cls, value: dict[str, SpecText]) -> dict[str, SpecText]:
        for code in value:
            if code not in LANGUAGES:
                raise refused("spec.language", language=repr(code), languages=", ".join(LANGUAGES))
        return value

    def title_in(self, lang: str | None) -> str:
        text = self.translations.get(normalize(lang) or "")
        return text.title if text is not None and text.title else self.title

    def description_in(self, lang: str | None) -> str:
        text = self.translations.get(normalize(lang) or "")
        return text.description if text is not None and text.description is not None else self.description

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise refused("spec.unsafe_id", id=repr(value))
        return value

    @field_validator("deadline", mode="before")
    @classmethod
    def _date_and_time(cls, value: Any) -> Any:
        # lax datetime parsing would take a number as a Unix time and a bare date as naive midnight
        if isinstance(value, (bool, int, float)) or type(value) is dt.date:
            raise refused("spec.expected_datetime", got=describe(value))
        return value

    @field_validator("deadline")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise refused("spec.deadline_timezone")
        # late days are added to it and it is stored in UTC: year 9999 or 0001 would overflow
        if value is not None and not 2000 <= value.year <= 2999:
            raise refused("spec.deadline_year", got=value.isoformat())
        return value

    @property
    def max_points(self) -> float:
        return sum(c.points for c in self.checks)
