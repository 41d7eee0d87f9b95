"""Specs for tensor models: shaped and student-owned parameters, optimisers, data files, function and accuracy
checks. Every refusal names the file, the line and the field."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.plan import build_plan
from grader.spec import SpecError, load_spec, parse_spec

ROOT = Path(__file__).resolve().parent.parent
CSV = "1,2,0\n3,4,1\n5,6,1\n"

SPEC = """\
id: demo
title: Demo
seed: 3
data: {csv: d.csv, x: [0, 2], y: [2, 3]}
model:
  params:
    model.l.weight: {shape: [1, 2], init: student}
    model.l.bias: {shape: [1], init: 0.0}
  forward: "sigmoid(linear(x, model.l.weight, model.l.bias))"
  loss: "bce(y_pred, y)"
functions: {forward: model, loss: criterion}
training: {lr: 0.1, epochs: 5, batch: 2, optimizer: adam}
checks:
  - {id: runs, kind: runs, points: 10}
  - {id: acc, kind: accuracy, points: 10, threshold: 0.5}
  - {id: pred, kind: predictions, points: 10, inputs: [[1.0, 2.0], {x: [3.0, 4.0], rtol: 0.01}]}
  - {id: grad, kind: gradients, points: 10}
"""
LINE = {key: i + 1 for i, text in enumerate(SPEC.splitlines()) for key in [text.strip().split(":")[0].lstrip("- {")]}


def write(tmp_path: Path, text: str = SPEC, csv: str | None = CSV) -> Path:
    folder = tmp_path / "demo"
    folder.mkdir(exist_ok=True)
    if csv is not None:
        (folder / "d.csv").write_text(csv)
    (folder / "assignment.yaml").write_text(text)
    return folder / "assignment.yaml"


def refusal(tmp_path: Path, text: str = SPEC, csv: str | None = CSV) -> list[str]:
    path = write(tmp_path, text, csv)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    return [line.replace(str(path), "SPEC") for line in caught.value.lines]


def edit(old: str, new: str) -> str:
    assert old in SPEC, old
    return SPEC.replace(old, new, 1)


def test_a_tensor_spec_loads_with_its_data_file(tmp_path):
    spec = load_spec(write(tmp_path))
    assert spec.data.x == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]] and spec.data.y == [[0.0], [1.0], [1.0]]
    assert spec.data.csv == "d.csv" and spec.data.text == CSV
    assert spec.model.student_init == ["model.l.weight"]
    assert spec.model.shape("model.l.weight") == (1, 2) and spec.model.initial("model.l.bias") == [0.0]
    assert spec.seed == 3 and spec.training.batch == 2 and spec.training.optimizer == "adam"


def test_the_plan_carries_the_file_the_seed_and_inputs_but_no_reference_value(tmp_path):
    plan = build_plan(load_spec(write(tmp_path)))
    assert plan["files"] == {"d.csv": CSV} and plan["seed"] == 3
    assert plan["batch_inputs"] == [{"id": "acc", "x": [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]}]
    assert plan["predict_inputs"] == [[1.0, 2.0], [3.0, 4.0]]
    for probe in plan["probes"]:
        assert set(probe) == {"params", "x", "y"}  # inputs only: the reference's gradients stay outside
        assert len(probe["x"]) in (1, 2)  # a mini-batch of 2 (the last one short), as the schedule's steps are


def test_a_held_out_accuracy_set_sends_only_its_inputs(tmp_path):
    text = edit("threshold: 0.5}", "threshold: 0.5, data: {x: [[9.0, 9.0]], y: [[1.0]]}}")
    plan = build_plan(load_spec(write(tmp_path, text)))
    assert plan["batch_inputs"] == [{"id": "acc", "x": [[9.0, 9.0]]}]
    assert "[1.0]" not in str(plan["batch_inputs"])


def test_the_shipped_tensor_assignments_load():
    for name in ("gradient-descent", "linear-regression-module", "logistic-regression", "multiple-dimension-input"):
        load_spec(ROOT / "assignments" / name / "assignment.yaml")


@pytest.mark.parametrize("old, new, expected", [
    ("{shape: [1, 2], init: student}", "{init: student}",
     "model.params.model.l.weight: init: student needs a shape, e.g. {shape: [8, 6], init: student}"),
    ("{shape: [1, 2], init: student}", "{shape: [1, 0], init: student}",
     "model.params.model.l.weight.shape: every size in a shape must be at least 1, got [1, 0]"),
    ("{shape: [1, 2], init: student}", "{shape: [100, 100], init: student}",
     "model.params.model.l.weight.shape: a parameter may have at most 4096 elements, [100, 100] has 10000"),
    ("{shape: [1, 2], init: student}", "{shape: [1, 2], init: teacher}",
     "model.params.model.l.weight.init: expected one of 'student', got 'teacher'"),
    ("{shape: [1, 2], init: student}", "{shape: [1, 2], init: [[1.0, 2.0, 3.0]]}",
     "model.params.model.l.weight: init has shape [1, 3] but shape is [1, 2]"),
    ("{shape: [1, 2], init: student}", "{shape: [1, 2], init: student, scale: 2}",
     "model.params.model.l.weight.scale: unknown key (check the spelling; see the README's spec reference)"),
    ("seed: 3", "seed: -1", "seed: must be at least 0, got -1"),
    ("seed: 3", "seed: lucky", "seed: expected a whole number, got 'lucky'"),
])
def test_parameter_and_seed_errors_name_file_line_and_field(tmp_path, old, new, expected):
    lines = refusal(tmp_path, edit(old, new))
    assert len(lines) == 1 and lines[0].endswith(expected), lines
    line = SPEC.splitlines().index(next(t for t in SPEC.splitlines() if old in t)) + 1
    assert lines[0].startswith(f"SPEC:{line}: "), lines


@pytest.mark.parametrize("old, new, expected", [
    ("batch: 2", "batch: 0", "training.batch: expected per-sample, full or a mini-batch size"),
    ("batch: 2", "batch: mini", "training.batch: expected one of 'per-sample' or 'full', got 'mini'"),
    ("optimizer: adam", "optimizer: lbfgs", "training.optimizer: expected one of sgd, adam, adamw, adagrad, rmsprop, "
     "adamax, rprop (torch.optim's names in lower case), got 'lbfgs'"),
    ("optimizer: adam", "optimizer: adam, momentum: 0.9", "training: momentum belongs to optimizer: sgd"),
    ("optimizer: adam", "optimizer: sgd, betas: [0.5, 0.9]", "training: betas belong to optimizer: adam, adamw or adamax"),
    ("optimizer: adam", "optimizer: sgd, eps: 1.0e-6", "training: eps belongs to optimizer: adam, adamw, adamax or rmsprop"),
    ("optimizer: adam", "optimizer: adam, betas: [0.5]", "training.betas: needs at least 2 items, got 1"),
    ("optimizer: adam", "optimizer: adam, betas: [0.5, 1.5]", "training.betas: each beta must be at least 0 and below 1"),
    ("optimizer: adam", "optimizer: sgd, momentum: 1.0", "training.momentum: must be less than 1, got 1.0"),
    ("optimizer: adam", "optimizer: adam, eps: 0", "training.eps: must be greater than 0, got 0"),
    ("optimizer: adam", "optimizer: sgd, weight_decay: -0.1", "training.weight_decay: must be at least 0, got -0.1"),
    ("optimizer: adam", "optimizer: adam, autograd: maybe", "training.autograd: expected true or false, got 'maybe'"),
])
def test_training_errors_name_file_line_and_field(tmp_path, old, new, expected):
    lines = refusal(tmp_path, edit(old, new))
    assert len(lines) == 1 and expected in lines[0], lines
    assert lines[0].startswith(f"SPEC:{SPEC.splitlines().index(next(t for t in SPEC.splitlines() if old in t)) + 1}: ")


L_DATA = 4


@pytest.mark.parametrize("old, new, csv, expected", [
    ("csv: d.csv", "csv: ../d.csv", CSV, "data.csv: expected a plain file name next to the spec"),
    ("csv: d.csv", "csv: /etc/passwd", CSV, "data.csv: expected a plain file name next to the spec"),
    ("csv: d.csv", "csv: e.csv", CSV, "data.csv: no file e.csv next to the spec"),
    ("csv: d.csv", "csv: d.csv", "1,2,0\n3,x,1\n", "data.csv: d.csv line 2, column 1: 'x' is not a number"),
    ("csv: d.csv", "csv: d.csv", "1,2,0\n3,4\n", "data.csv: d.csv line 2 has 2 columns, the lines before it 3"),
    ("csv: d.csv", "csv: d.csv", "1,2,nan\n", "data.csv: d.csv line 1, column 2: nan is not a finite number"),
    ("csv: d.csv", "csv: d.csv", "\n\n", "data.csv: d.csv holds no rows of numbers"),
    ("csv: d.csv", "csv: d.csv", "1,2,3\n" * 40_000, "data.csv: d.csv is larger than 200 KB"),
    ("csv: d.csv", "csv: d.csv", b"\xff\xfe".decode("latin-1"), "data.csv: d.csv is not UTF-8 text"),
    ("x: [0, 2]", "x: [0, 5]", CSV, "data.x: d.csv has 3 columns (0 to 2); x asks for columns up to 4"),
    ("x: [0, 2]", "x: [2, 1]", CSV, "data.x: expected a column or a range [start, stop) of columns"),
    ("y: [2, 3]", "y: -1", CSV, "data.y: a column number starts at 0, got -1"),
    ("y: [2, 3]", "y: [2, 3], delimiter: ';;'", CSV, "data.delimiter: string should have at most 1 character"),
    ("y: [2, 3]", "y: [2, 3], skip_rows: -1", CSV, "data.skip_rows: must be at least 0, got -1"),
    ("y: [2, 3]", "y: [2, 3], colour: red", CSV, "data.colour: unknown key"),
])
def test_data_file_errors_name_file_line_and_field(tmp_path, old, new, csv, expected):
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "d.csv").write_bytes(csv.encode("latin-1") if "\xff" in csv else csv.encode())
    (folder / "assignment.yaml").write_text(edit(old, new))
    with pytest.raises(SpecError) as caught:
        load_spec(folder / "assignment.yaml")
    lines = [line.replace(str(folder / "assignment.yaml"), "SPEC") for line in caught.value.lines]
    assert len(lines) == 1 and lines[0].startswith(f"SPEC:{L_DATA}: ") and expected in lines[0], lines


def test_a_data_file_may_be_given_inline_and_a_spec_without_its_folder_says_so():
    inline = SPEC.replace("data: {csv: d.csv, x: [0, 2], y: [2, 3]}",
                          'data: {csv: d.csv, x: [0, 2], y: [2, 3], text: "1,2,0\\n3,4,1\\n"}')
    assert parse_spec(inline).data.x == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(SpecError) as caught:
        parse_spec(SPEC, "assignment demo")
    assert caught.value.lines == ["assignment demo:4: data.csv: d.csv cannot be read: this spec was given without "
                                  "its folder (put the file's content under `text:`)"]


def test_a_header_row_is_skipped_and_a_column_gives_scalars(tmp_path):
    text = edit("data: {csv: d.csv, x: [0, 2], y: [2, 3]}", "data: {csv: d.csv, x: [0, 2], y: 2, skip_rows: 1}")
    text = text.replace('loss: "bce(y_pred, y)"', 'loss: "mean((y_pred - y)**2)"')
    spec = load_spec(write(tmp_path, text, "a,b,label\n" + CSV))
    assert spec.data.y == [0.0, 1.0, 1.0]


@pytest.mark.parametrize("old, new, line, expected", [
    ("{id: acc, kind: accuracy, points: 10, threshold: 0.5}", "{id: acc, kind: accuracy, points: 10}", 15,
     "checks[1]: an accuracy check needs `threshold`"),
    ("threshold: 0.5}", "threshold: 1.5}", 15, "checks[1].threshold: must be at most 1, got 1.5"),
    ("threshold: 0.5}", "threshold: 0.5, function: f}", 15, "checks[1]: `function` belongs to function checks, not accuracy"),
    ("{id: runs, kind: runs, points: 10}", "{id: runs, kind: runs, points: 10, threshold: 0.5}", 14,
     "checks[0]: `threshold` belongs to accuracy checks, not runs"),
    ("{id: runs, kind: runs, points: 10}", "{id: f, kind: function, points: 10}", 14,
     "checks[0]: a function check needs `function`"),
    ("{id: runs, kind: runs, points: 10}", "{id: f, kind: function, points: 10, function: 'a b'}", 14,
     "checks[0].function: expected a Python name"),
    ("{id: runs, kind: runs, points: 10}", "{id: f, kind: function, points: 10, function: g, returns: hessian}", 14,
     "checks[0].returns: expected one of 'gradient', 'loss' or 'forward', got 'hessian'"),
    ("{x: [3.0, 4.0], rtol: 0.01}", "{x: [3.0, 4.0], rtol: 2}", 16, "checks[2].inputs[1].rtol: must be at most 1, got 2"),
    ("{x: [3.0, 4.0], rtol: 0.01}", "{x: [3.0, 4.0, 5.0]}", 16, "checks[2].inputs[1]: forward cannot take this input"),
    ("[[1.0, 2.0], {x", "[[1.0, 'a'], {x", 16, "checks[2].inputs[0][1]: expected a number, got 'a'"),
])
def test_check_errors_name_file_line_and_field(tmp_path, old, new, line, expected):
    lines = refusal(tmp_path, edit(old, new))
    assert len(lines) == 1 and lines[0].startswith(f"SPEC:{line}: ") and expected in lines[0], lines


def test_a_trace_check_without_autograd_is_refused(tmp_path):
    text = edit("optimizer: adam}", "optimizer: adam, autograd: false}")
    assert refusal(tmp_path, text) == [
        "SPEC:17: checks[3].kind: a gradients check reads autograd's gradients, but training.autograd is false"]


@pytest.mark.parametrize("old, new, field, expected", [
    ('loss: "bce(y_pred, y)"', 'loss: "mse(y_pred, y, reduction=\'avg\')"', "model.loss",
     'needs "mean", "sum" or "none"'),
    ('loss: "bce(y_pred, y)"', 'loss: "cross_entropy(y_pred, y)"', "model.loss", "one label per row"),
    ("data: {csv: d.csv, x: [0, 2], y: [2, 3]}", "data: {csv: d.csv, x: [0, 2], y: 2}", "model.loss",
     "needs a prediction and a target of the same shape"),
    ("{shape: [1, 2], init: student}", "{shape: [2, 2], init: student}", "model.loss", "same shape"),
    ("{shape: [1, 2], init: student}", "{shape: [1, 3], init: student}", "model.forward", "do not fit"),
    ('forward: "sigmoid(linear(x, model.l.weight, model.l.bias))"',
     'forward: "sigmoid(linear(x, model.l.weight, model.l.bias, x, x))"', "model.forward",
     "linear() takes 2 or 3 arguments, got 5"),
])
def test_a_model_that_cannot_run_on_its_data_is_refused_at_the_model_line(tmp_path, old, new, field, expected):
    lines = refusal(tmp_path, edit(old, new))
    line = 9 if field == "model.forward" else 10
    assert len(lines) == 1 and lines[0].startswith(f"SPEC:{line}: {field}: ") and expected in lines[0], lines


def test_a_bundled_spec_carries_its_data_files_and_parses_without_its_folder():
    from grader.spec import bundle_spec

    path = ROOT / "assignments" / "multiple-dimension-input" / "assignment.yaml"
    bundled = bundle_spec(path)
    spec, original = parse_spec(bundled, "assignment multiple-dimension-input"), load_spec(path)
    assert spec == original
    linear = ROOT / "assignments" / "backprop-linear" / "assignment.yaml"
    assert bundle_spec(linear) == linear.read_text()  # no data file: the text is stored as written
