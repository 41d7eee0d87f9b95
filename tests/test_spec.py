"""Assignment specs: what loads, and how every refusal names the file, the line and the field."""

import datetime as dt
import json
import re
import time
import tracemalloc
from pathlib import Path

import pytest

from grader.messages import said
from grader.spec import (
    MAX_SPEC_BYTES,
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
    AssignmentSpec,
    SpecError,
    SpecProblem,
    find_spec,
    load_spec,
    parse_spec,
    spec_hash,
)

ASSIGNMENTS = Path(__file__).resolve().parent.parent / "assignments"

# A small valid spec in block style, so that each field sits on a line of its own.
VALID = """\
id: demo
title: "Demo"
deadline: 2026-12-10T23:59:00+08:00
data:
  x: [1.0, 2.0, 3.0]
  y: [2.0, 4.0, 6.0]
model:
  params: {w: 1.0}
  forward: "w * x"
  loss: "(y_pred - y)**2"
training:
  lr: 0.01
  epochs: 100
checks:
  - id: runs
    kind: runs
    points: 10
  - id: prediction
    kind: predictions
    points: 5
    inputs: [4.0]
"""
# line numbers in VALID
L_ID, L_TITLE, L_DEADLINE, L_DATA, L_X, L_Y, L_MODEL, L_PARAMS, L_FORWARD, L_LOSS = range(1, 11)
L_TRAINING, L_LR, L_EPOCHS, L_CHECKS = 11, 12, 13, 14
L_RUNS_ID, L_RUNS_KIND, L_RUNS_POINTS, L_PRED_ID, L_PRED_KIND, L_PRED_POINTS, L_PRED_INPUTS = range(15, 22)

PYDANTIC_INTERNALS = ("pydantic", "validation error", "input_value", "input_type", "Traceback", "[type=",
                      "model_type", "literal_error")


def edit(*replacements: tuple[str, str], text: str = VALID) -> str:
    """VALID with each (old, new) replaced once; old must be there, so a test never edits nothing."""
    for old, new in replacements:
        assert text.count(old) == 1, f"{old!r} is not exactly once in the spec"
        text = text.replace(old, new)
    return text


def write(tmp_path: Path, content: str | bytes, folder: str = "demo") -> Path:
    path = tmp_path / folder / "assignment.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def refusal(tmp_path: Path, content: str | bytes, folder: str = "demo", with_line: bool = True) -> list[str]:
    """The lines of the SpecError that loading `content` raises, with the file's path written as SPEC."""
    path = write(tmp_path, content, folder)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    lines = caught.value.lines
    assert lines, "a SpecError with no lines"
    assert str(caught.value) == "\n".join(lines)
    for line in lines:
        assert line.startswith(f"{path}:"), line
        if with_line:
            assert re.match(rf"{re.escape(str(path))}:\d+: ", line), line
        for internal in PYDANTIC_INTERNALS:
            assert internal not in line, line
    return [line.replace(str(path), "SPEC", 1) for line in lines]


# --- what loads ---


@pytest.mark.parametrize("assignment_id", ["backprop-linear", "backprop-quadratic"])
def test_the_shipped_specs_load(assignment_id):
    spec = load_spec(ASSIGNMENTS / assignment_id / "assignment.yaml")
    assert spec.id == assignment_id
    assert spec.max_points == 100
    assert spec.deadline.utcoffset() == dt.timedelta(hours=8)
    assert spec.data.x == [1.0, 2.0, 3.0] and spec.data.y == [2.0, 4.0, 6.0]
    assert [c.kind for c in spec.checks] == ["runs", "gradients", "trace", "training", "final_params", "predictions"]
    assert spec.checks[-1].inputs == [4.0]
    assert spec.checks[1].probes.seed == 1


def test_the_quadratic_spec_names_its_three_parameters():
    spec = load_spec(ASSIGNMENTS / "backprop-quadratic" / "assignment.yaml")
    assert spec.model.params == {"w1": 1.0, "w2": 1.0, "b": 1.0}
    assert spec.training.lr == 0.01 and spec.training.epochs == 100 and spec.training.batch == "per-sample"


@pytest.mark.parametrize("assignment_id", ["backprop-linear", "backprop-quadratic"])
def test_a_spec_survives_a_json_round_trip(assignment_id):
    # specs are compared, cached (grader.expected) and stored by their JSON
    spec = load_spec(ASSIGNMENTS / assignment_id / "assignment.yaml")
    assert AssignmentSpec.model_validate_json(spec.model_dump_json()) == spec


def test_a_small_spec_loads_with_its_defaults(tmp_path):
    spec = load_spec(write(tmp_path, VALID))
    assert isinstance(spec, AssignmentSpec)
    assert spec.id == "demo" and spec.title == "Demo"
    assert spec.deadline == dt.datetime(2026, 12, 10, 15, 59, tzinfo=dt.timezone.utc)
    assert spec.limits.wall_seconds == 30.0 and spec.late.grace_minutes == 0
    assert spec.functions.forward == "forward" and spec.functions.loss == "loss"
    assert spec.checks[0].visibility == "visible" and spec.checks[0].rtol == 1e-4
    assert spec.max_points == 15


def test_whole_numbers_are_accepted_where_numbers_are_expected(tmp_path):
    spec = load_spec(write(tmp_path, edit(("lr: 0.01", "lr: 1"), ("params: {w: 1.0}", "params: {w: 2}"))))
    assert spec.training.lr == 1.0 and isinstance(spec.training.lr, float)
    assert spec.model.params["w"] == 2.0


def test_a_quoted_deadline_is_read_as_a_date_and_time(tmp_path):
    spec = load_spec(write(tmp_path, edit(("deadline: 2026-12-10T23:59:00+08:00",
                                           'deadline: "2026-12-10T23:59:00+08:00"'))))
    assert spec.deadline == dt.datetime(2026, 12, 10, 15, 59, tzinfo=dt.timezone.utc)


def test_a_small_use_of_aliases_still_loads(tmp_path):
    spec = load_spec(write(tmp_path, edit(("x: [1.0, 2.0, 3.0]", "x: &same [1.0, 2.0, 3.0]"),
                                          ("y: [2.0, 4.0, 6.0]", "y: *same"))))
    assert spec.data.y == [1.0, 2.0, 3.0]


def test_a_spec_outside_an_assignment_folder_needs_no_matching_folder(tmp_path):
    path = tmp_path / "elsewhere.yaml"
    path.write_text(VALID)
    assert load_spec(path).id == "demo"


def test_parse_spec_names_its_source(tmp_path):
    with pytest.raises(SpecError) as caught:
        parse_spec(edit(("lr: 0.01", "lr: fast")))
    assert caught.value.lines == [f"<spec>:{L_LR}: training.lr: expected a number, got 'fast'"]


def test_a_spec_error_carries_each_problem_as_file_line_field_and_a_message_code():
    with pytest.raises(SpecError) as caught:
        parse_spec(edit(("lr: 0.01", "lr: fast"), ("epochs: 100", "epochs: -1")), "assignment.yaml")
    assert caught.value.problems == [
        SpecProblem("assignment.yaml", L_LR, "training.lr", said("spec.expected_number", got="'fast'")),
        SpecProblem("assignment.yaml", L_EPOCHS, "training.epochs", said("spec.at_least", bound=1, got="-1"))]
    assert [p.problem() for p in caught.value.problems] == ["expected a number, got 'fast'",
                                                            "must be at least 1, got -1"]
    assert str(caught.value) == "\n".join(caught.value.lines)  # the readable lines, as before
    assert caught.value.text_lines("zh") != caught.value.lines  # ... and in the reader's language
    with pytest.raises(SpecError) as caught:
        parse_spec("[1, 2]", "assignment.yaml")
    assert caught.value.problems == [SpecProblem("assignment.yaml", 1, None, said("spec.not_mapping"))]
    assert caught.value.lines == ["assignment.yaml:1: the spec must be a mapping of keys (id, title, model, ...)"]


def test_the_spec_hash_follows_the_text():
    assert spec_hash(VALID) == spec_hash(str(VALID))
    assert spec_hash(VALID) != spec_hash(VALID + "\n")
    assert len(spec_hash(VALID)) == 64


# --- wrong values: file, line, field, message ---


def test_a_wrong_type_names_file_line_and_field(tmp_path):
    path = write(tmp_path, edit(("lr: 0.01", "lr: fast")))
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert caught.value.lines == [f"{path}:{L_LR}: training.lr: expected a number, got 'fast'"]


@pytest.mark.parametrize("old, new, expected", [
    ("lr: 0.01", "lr: true", f"SPEC:{L_LR}: training.lr: expected a number, got True"),
    ("lr: 0.01", 'lr: "0.01"', f"SPEC:{L_LR}: training.lr: expected a number, got '0.01'"),
    ("epochs: 100", "epochs: 1.5", f"SPEC:{L_EPOCHS}: training.epochs: expected a whole number, got 1.5"),
    ("epochs: 100", "epochs: 100.0", f"SPEC:{L_EPOCHS}: training.epochs: expected a whole number, got 100.0"),
    ("epochs: 100", 'epochs: "100"', f"SPEC:{L_EPOCHS}: training.epochs: expected a whole number, got '100'"),
    ('title: "Demo"', "title: 12", f"SPEC:{L_TITLE}: title: expected text, got 12"),
    ('title: "Demo"', "title: !!binary aGVsbG8=", f"SPEC:{L_TITLE}: title: expected text, got b'hello'"),
    ("    points: 10", "    points: '10'", f"SPEC:{L_RUNS_POINTS}: checks[0].points: expected a number, got '10'"),
    ("    kind: runs", "    kind: run",
     f"SPEC:{L_RUNS_KIND}: checks[0].kind: expected one of 'runs', 'gradients', 'trace', 'final_params', "
     "'predictions', 'function', 'accuracy' or 'training', got 'run'"),
    ("  epochs: 100", "  epochs: 100\n  batch: minibatch",
     f"SPEC:{L_EPOCHS + 1}: training.batch: expected one of 'per-sample' or 'full', got 'minibatch'"),
    ("  x: [1.0, 2.0, 3.0]", "  x: [1.0, 'a', 3.0]", f"SPEC:{L_X}: data.x[1]: expected a number, got 'a'"),
    ("  params: {w: 1.0}", "  params: {w: {shape: 2, init: student}}",
     f"SPEC:{L_PARAMS}: model.params.w.shape: expected a list, got 2"),
    ("  params: {w: 1.0}", "  params: w", f"SPEC:{L_PARAMS}: model.params: expected a mapping, got 'w'"),
    ("training:\n  lr: 0.01\n  epochs: 100\n", "training: 5\n",
     f"SPEC:{L_TRAINING}: training: expected a mapping, got 5"),
    ("  - id: prediction", "  - id: 7", f"SPEC:{L_PRED_ID}: checks[1].id: expected text, got 7"),
])
def test_wrong_types_are_refused_in_words(tmp_path, old, new, expected):
    assert refusal(tmp_path, edit((old, new))) == [expected]


def test_checks_that_are_not_a_list_are_refused(tmp_path):
    text = VALID[: VALID.index("checks:")] + "checks: 5\n"
    assert refusal(tmp_path, text) == [f"SPEC:{L_CHECKS}: checks: expected a list, got 5"]


def test_a_value_in_a_list_of_lists_is_named_by_both_indexes(tmp_path):
    lines = refusal(tmp_path, edit(("x: [1.0, 2.0, 3.0]", "x: [1.0, [1, 'a', 'b'], 3.0]")))
    assert lines == [f"SPEC:{L_X}: data.x[1][1]: expected a number, got 'a'",
                     f"SPEC:{L_X}: data.x[1][2]: expected a number, got 'b'"]


@pytest.mark.parametrize("old, new, expected", [
    ("    points: 10", "    points: -1", f"SPEC:{L_RUNS_POINTS}: checks[0].points: must be at least 0, got -1"),
    ("lr: 0.01", "lr: 0", f"SPEC:{L_LR}: training.lr: must be greater than 0, got 0"),
    ("lr: 0.01", "lr: 1000", f"SPEC:{L_LR}: training.lr: must be at most 100, got 1000"),
    ("epochs: 100", "epochs: 0", f"SPEC:{L_EPOCHS}: training.epochs: must be at least 1, got 0"),
    ("    points: 10", "    points: 10\n    rtol: 2", f"SPEC:{L_RUNS_POINTS + 1}: checks[0].rtol: must be at most 1, got 2"),
    ('title: "Demo"', 'title: ""', f"SPEC:{L_TITLE}: title: string should have at least 1 character, got ''"),
    ("  x: [1.0, 2.0, 3.0]\n  y: [2.0, 4.0, 6.0]", "  x: []\n  y: []",
     f"SPEC:{L_X}: data.x: needs at least 1 item, got 0"),
])
def test_values_out_of_range_are_refused(tmp_path, old, new, expected):
    assert refusal(tmp_path, edit((old, new)))[0] == expected


@pytest.mark.parametrize("old, new, expected", [
    ("lr: 0.01", "lr: .nan", f"SPEC:{L_LR}: training.lr: expected a finite number, got nan"),
    ("params: {w: 1.0}", "params: {w: .inf}", f"SPEC:{L_PARAMS}: model.params.w: expected a finite number, got inf"),
    ("x: [1.0, 2.0, 3.0]", "x: [1.0, -.inf, 3.0]", f"SPEC:{L_X}: data.x[1]: expected a finite number, got -inf"),
    ("    points: 10", "    points: 10\n    atol: .inf",
     f"SPEC:{L_RUNS_POINTS + 1}: checks[0].atol: expected a finite number, got inf"),
])
def test_nan_and_infinity_are_refused(tmp_path, old, new, expected):
    assert refusal(tmp_path, edit((old, new))) == [expected]


def test_a_limit_below_its_minimum_is_refused(tmp_path):
    text = edit(("training:", "limits: {memory_mb: 1}\ntraining:"))
    assert refusal(tmp_path, text) == [f"SPEC:{L_TRAINING}: limits.memory_mb: must be at least 256, got 1"]


# --- unknown and duplicate keys, missing fields ---


def test_unknown_keys_are_refused_where_they_are(tmp_path):
    text = edit(("  epochs: 100", "  epochs: 100\n  epoch: 3"), ("    points: 5", "    points: 5\n    hidden: true"))
    assert refusal(tmp_path, text) == [
        f"SPEC:{L_EPOCHS + 1}: training.epoch: unknown key (check the spelling; see the README's spec reference)",
        f"SPEC:{L_PRED_POINTS + 2}: checks[1].hidden: unknown key (check the spelling; see the README's spec reference)",
    ]


@pytest.mark.parametrize("key", ["float", "a[b]", "str"])
def test_an_unknown_key_that_looks_like_a_type_keeps_its_name(tmp_path, key):
    lines = refusal(tmp_path, VALID + f"{key}: 1\n")
    assert lines == [f"SPEC:22: {key}: unknown key (check the spelling; see the README's spec reference)"]


def test_a_duplicate_key_is_refused_instead_of_keeping_the_last(tmp_path):
    lines = refusal(tmp_path, edit(('title: "Demo"', 'title: "Demo"\nid: other')))
    assert lines == [f"SPEC:{L_TITLE + 1}: id: duplicate key 'id'"]


def test_a_duplicate_key_inside_a_check_names_its_path(tmp_path):
    lines = refusal(tmp_path, edit(("    points: 10", "    points: 10\n    points: 20")))
    assert lines == [f"SPEC:{L_RUNS_POINTS + 1}: checks[0].points: duplicate key 'points'"]


def test_a_missing_top_level_field_is_reported_on_line_one(tmp_path):
    assert refusal(tmp_path, edit(('title: "Demo"\n', ""))) == ["SPEC:1: title: required but missing"]


def test_a_missing_nested_field_is_reported_where_its_parent_is(tmp_path):
    lines = refusal(tmp_path, edit(("  lr: 0.01\n", "")))
    assert lines == [f"SPEC:{L_TRAINING}: training.lr: required but missing"]


def test_a_check_without_points_is_refused(tmp_path):
    lines = refusal(tmp_path, edit(("    kind: runs\n    points: 10\n", "    kind: runs\n")))
    assert lines == [f"SPEC:{L_RUNS_ID}: checks[0].points: required but missing"]


def test_duplicate_check_ids_are_refused_at_the_second(tmp_path):
    lines = refusal(tmp_path, edit(("  - id: prediction", "  - id: runs")))
    assert lines == [f"SPEC:{L_PRED_ID}: checks[1].id: duplicate check id 'runs'"]


# --- data, expressions ---


def test_x_and_y_of_different_lengths_are_refused(tmp_path):
    lines = refusal(tmp_path, edit(("y: [2.0, 4.0, 6.0]", "y: [2.0, 4.0]")))
    assert lines == [f"SPEC:{L_DATA}: data: x has 3 samples but y has 2"]


def test_a_name_the_forward_does_not_know_is_refused(tmp_path):
    lines = refusal(tmp_path, edit(('forward: "w * x"', 'forward: "w * z"')))
    assert lines == [f'SPEC:{L_FORWARD}: model.forward: unknown name "z": the names allowed here are w, x']


def test_the_loss_may_not_use_x(tmp_path):
    lines = refusal(tmp_path, edit(('loss: "(y_pred - y)**2"', 'loss: "(x - y)**2"')))
    assert lines == [f'SPEC:{L_LOSS}: model.loss: unknown name "x": the names allowed here are w, y, y_pred']


def test_a_loss_that_never_uses_the_prediction_is_refused(tmp_path):
    lines = refusal(tmp_path, edit(('loss: "(y_pred - y)**2"', 'loss: "(w - y)**2"')))
    assert lines == [f"SPEC:{L_LOSS}: model.loss: the loss never uses y_pred"]


@pytest.mark.parametrize("expression, message", [
    ("x.real * w", 'attribute access "x.real" is not allowed'),
    ("foo(x) * w", '"foo(...)" is not allowed: functions are exp, log, sigmoid, tanh, relu, sum, mean'),
    ("__import__('os').system('touch x') * w", "attribute access"),
    ("x[0] * w", 'indexing "x[0]" is not allowed'),
    ("(lambda: w)() * x", "lambda"),
    ("'text' * w * x", "text 'text' is not allowed: only numbers"),
    ("w * x if w else x", "a conditional"),
    ("[w, x]", "a list"),
    ("w // x", 'operator "//" is not allowed'),
    ("w ^ x", "for a power write **"),
    ("w < x", "a comparison"),
    ("exp", '"exp" is a function'),
])
def test_expressions_outside_the_language_are_refused(tmp_path, expression, message):
    text = edit(('forward: "w * x"', f'forward: "{expression}"'))
    lines = refusal(tmp_path, text)
    assert len(lines) == 1
    assert lines[0].startswith(f"SPEC:{L_FORWARD}: model.forward: ")
    assert message in lines[0]


def test_a_parameter_name_must_be_a_python_name(tmp_path):
    lines = refusal(tmp_path, edit(("params: {w: 1.0}", 'params: {w: 1.0, "v\\n": 2.0}')))
    assert lines == [f"SPEC:{L_PARAMS}: model.params: parameter name 'v\\n' is not a Python name"]


@pytest.mark.parametrize("name", ["fwd\n", "my-forward", "2fast", ""])
def test_the_function_names_must_be_python_names(tmp_path, name):
    lines = refusal(tmp_path, edit(("training:", f"functions: {{forward: {json.dumps(name)}}}\ntraining:")))
    assert lines == [f"SPEC:{L_TRAINING}: functions.forward: expected a Python name (letters, digits and _), "
                     f"got {name!r}"]


def test_forward_and_loss_need_different_function_names(tmp_path):
    lines = refusal(tmp_path, edit(("training:", "functions: {forward: f, loss: f}\ntraining:")))
    assert lines == [f"SPEC:{L_TRAINING}: functions: forward and loss need different names"]


def test_a_parameter_may_not_take_a_reserved_name(tmp_path):
    lines = refusal(tmp_path, edit(("params: {w: 1.0}", "params: {w: 1.0, y_pred: 2.0}")))
    assert lines == [f"SPEC:{L_PARAMS}: model.params: parameter name 'y_pred' is reserved"]


# --- ids ---


@pytest.mark.parametrize("bad_id", ["../etc", "A B", "Runs", "", "a/b", "-runs", "x" * 65, "runs\n"])
def test_a_check_id_must_be_a_safe_slug(tmp_path, bad_id):
    lines = refusal(tmp_path, edit(("  - id: runs", f"  - id: {json.dumps(bad_id)}")))
    assert lines == [f"SPEC:{L_RUNS_ID}: checks[0].id: {bad_id!r} is not a safe id "
                     "(lowercase letters, digits, '-' and '_')"]


@pytest.mark.parametrize("bad_id", ["../etc", "Demo", "a b"])
def test_the_spec_id_must_be_a_safe_slug(tmp_path, bad_id):
    lines = refusal(tmp_path, edit(("id: demo", f"id: '{bad_id}'")))
    assert lines == [f"SPEC:{L_ID}: id: {bad_id!r} is not a safe id (lowercase letters, digits, '-' and '_')"]


def test_the_spec_id_must_match_its_folder(tmp_path):
    lines = refusal(tmp_path, VALID, folder="other")
    assert lines == [f"SPEC:{L_ID}: id: 'demo' does not match its folder name 'other'"]


# --- deadlines and kinds ---


def test_a_deadline_without_a_time_zone_is_refused(tmp_path):
    lines = refusal(tmp_path, edit(("2026-12-10T23:59:00+08:00", "2026-12-10T23:59:00")))
    assert lines == [f"SPEC:{L_DEADLINE}: deadline: the deadline needs a time zone offset, "
                     "e.g. 2026-12-10T23:59:00+08:00"]


@pytest.mark.parametrize("value, shown", [("2026-12-10", "datetime.date(2026, 12, 10)"), ("1700000000", "1700000000"),
                                          ("soon", "'soon'")])
def test_a_deadline_must_be_a_date_and_time(tmp_path, value, shown):
    lines = refusal(tmp_path, edit(("2026-12-10T23:59:00+08:00", value)))
    assert len(lines) == 1
    assert lines[0].startswith(f"SPEC:{L_DEADLINE}: deadline: expected a date and time like "
                               "2026-12-10T23:59:00+08:00, got ")
    if value != "soon":  # pydantic's own parse error for text; the message is the same kind
        assert lines[0].endswith(shown)


def test_inputs_belong_only_to_predictions_checks(tmp_path):
    lines = refusal(tmp_path, edit(("    kind: runs\n", "    kind: runs\n    inputs: [1.0]\n")))
    assert lines == [f"SPEC:{L_RUNS_ID}: checks[0]: `inputs` belongs to predictions checks, not runs"]


def test_a_predictions_check_needs_inputs(tmp_path):
    lines = refusal(tmp_path, edit(("    inputs: [4.0]\n", "")))
    assert lines == [f"SPEC:{L_PRED_ID}: checks[1]: a predictions check needs `inputs`"]


def test_probes_belong_only_to_gradients_checks(tmp_path):
    lines = refusal(tmp_path, edit(("    kind: runs\n", "    kind: runs\n    probes: {random: 2}\n")))
    assert lines == [f"SPEC:{L_RUNS_ID}: checks[0]: `probes` belongs to gradients and function checks, not runs"]


# --- several problems at once ---


def test_every_problem_in_a_spec_is_reported(tmp_path):
    text = edit(("lr: 0.01", "lr: fast"), ("    points: 10", "    points: -1"), ("  epochs: 100", "  epochs: 100\n  epoch: 3"),
                ("  x: [1.0, 2.0, 3.0]", "  x: [1.0, 2.0, 3.0]\n  x: [1.0]"))
    assert refusal(tmp_path, text) == [
        f"SPEC:{L_X + 1}: data.x: duplicate key 'x'",
        f"SPEC:{L_DATA}: data: x has 1 samples but y has 3",  # YAML kept the last x
        f"SPEC:{L_LR + 1}: training.lr: expected a number, got 'fast'",
        f"SPEC:{L_EPOCHS + 2}: training.epoch: unknown key (check the spelling; see the README's spec reference)",
        f"SPEC:{L_RUNS_POINTS + 2}: checks[0].points: must be at least 0, got -1",
    ]


def test_every_problem_the_schema_cannot_see_is_reported(tmp_path):
    text = edit(('forward: "w * x"', 'forward: "w * z"'), ('loss: "(y_pred - y)**2"', 'loss: "y ** 2"'),
                ("  - id: prediction", "  - id: runs"))
    assert refusal(tmp_path, text) == [
        f"SPEC:{L_PRED_ID}: checks[1].id: duplicate check id 'runs'",
        f'SPEC:{L_FORWARD}: model.forward: unknown name "z": the names allowed here are w, x',
        f"SPEC:{L_LOSS}: model.loss: the loss never uses y_pred",
    ]


# --- not a spec at all ---


def test_an_empty_file_is_refused(tmp_path):
    assert refusal(tmp_path, "") == ["SPEC:1: the spec is empty"]


def test_a_file_of_comments_only_is_refused_as_empty(tmp_path):
    assert refusal(tmp_path, "# nothing yet\n\n") == ["SPEC:1: the spec is empty"]


@pytest.mark.parametrize("content", ["- id: demo\n- title: x\n", "just a sentence\n", "42\n"])
def test_a_file_that_is_not_a_mapping_is_refused(tmp_path, content):
    assert refusal(tmp_path, content) == ["SPEC:1: the spec must be a mapping of keys (id, title, model, ...)"]


def test_non_utf8_bytes_are_refused(tmp_path):
    content = VALID.replace('"Demo"', '"D\xe9mo"').encode("latin-1")
    at = content.index(b"\xe9")
    lines = refusal(tmp_path, content, with_line=False)
    assert lines == [f"SPEC: not UTF-8 text (byte {at})"]


def test_a_tab_indent_is_refused_with_its_line(tmp_path):
    lines = refusal(tmp_path, edit(("  lr: 0.01", "\tlr: 0.01")))
    assert len(lines) == 1
    assert lines[0].startswith(f"SPEC:{L_LR}: found character '\\t' that cannot start any token")


def test_an_unclosed_bracket_is_refused_with_where_it_opened(tmp_path):
    lines = refusal(tmp_path, edit(("x: [1.0, 2.0, 3.0]", "x: [1.0, 2.0, 3.0")))
    assert lines == [f"SPEC:{L_Y}: expected ',' or ']', but got ':' (while parsing a flow sequence on line {L_X})"]


def test_a_second_document_is_refused(tmp_path):
    lines = refusal(tmp_path, VALID + "---\nid: again\n")
    assert len(lines) == 1 and lines[0].startswith("SPEC:22: ")
    assert "expected a single document" in lines[0]


def test_an_unhashable_key_is_refused(tmp_path):
    lines = refusal(tmp_path, VALID + "? [a]\n: 1\n")
    assert lines == ["SPEC:22: found unhashable key (while constructing a mapping on line 1)"]


# --- YAML that would run code ---


@pytest.mark.parametrize("tagged", [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/apply:subprocess.check_call [['touch', '{marker}']]",
    "!!python/object/new:subprocess.Popen [['touch', '{marker}']]",
    "!!python/name:os.system",
    "!!python/module:os",
    "!!python/object:pathlib.PosixPath {{}}",
    "!!python/tuple [1, 2]",
    "!custom 'x'",
])
def test_yaml_tags_never_build_python_objects(tmp_path, tagged):
    marker = tmp_path / "marker"
    value = tagged.format(marker=marker)
    for text in (f"{value}\n", edit(('title: "Demo"', f"title: {value}"))):
        lines = refusal(tmp_path, text)
        assert len(lines) == 1
        assert "YAML tags that build objects are not allowed (could not determine a constructor for the tag" \
            in lines[0]
        assert not marker.exists()


def test_the_marker_tag_is_refused_at_its_line(tmp_path):
    marker = tmp_path / "marker"
    lines = refusal(tmp_path, edit(("  lr: 0.01", f"  lr: !!python/object/apply:os.system ['touch {marker}']")))
    assert lines == [f"SPEC:{L_LR}: YAML tags that build objects are not allowed (could not determine a "
                     "constructor for the tag 'tag:yaml.org,2002:python/object/apply:os.system')"]
    assert not marker.exists()


# --- size and shape bombs ---
# Each bomb is refused in milliseconds; read or expanded, it would take minutes (or all memory): a bound this
# far from both holds on a shared, loaded machine and still fails the bomb
SLOW = 10.0


def test_a_spec_over_the_size_limit_is_refused_at_once(tmp_path):
    text = VALID + "description: |\n" + ("  " + "a" * 78 + "\n") * (MAX_SPEC_BYTES // 80 + 1)
    assert len(text.encode()) > MAX_SPEC_BYTES
    start = time.perf_counter()
    lines = refusal(tmp_path, text, with_line=False)
    assert time.perf_counter() - start < SLOW  # refused by its size, before YAML reads it
    assert lines == ["SPEC: the spec is larger than 256 KB"]
    with pytest.raises(SpecError, match=r"^<spec>: the spec is larger than 256 KB$"):
        parse_spec(text)


def test_a_spec_just_under_the_size_limit_is_read(tmp_path):
    padding = MAX_SPEC_BYTES - len(VALID.encode()) - len("description: |\n") - 1000
    text = VALID + "description: |\n" + ("  " + "a" * 77 + "\n") * (padding // 80)
    assert load_spec(write(tmp_path, text)).description.startswith("a" * 77)


def test_a_huge_file_is_refused_without_being_read_into_memory(tmp_path):
    path = tmp_path / "demo" / "assignment.yaml"
    path.parent.mkdir()
    with path.open("wb") as file:
        file.write(VALID.encode())
        file.truncate(1 << 30)  # a 1 GiB sparse file
    tracemalloc.start()
    try:
        start = time.perf_counter()
        with pytest.raises(SpecError) as caught:
            load_spec(path)
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.lines == [f"{path}: the spec is larger than 256 KB"]
    assert elapsed < SLOW
    assert peak < 8 * MAX_SPEC_BYTES


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    text = 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for i in range(1, levels):
        text += f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]\n"
    return text


def test_a_billion_laughs_alias_bomb_is_refused_quickly_and_small(tmp_path):
    tracemalloc.start()
    try:
        start = time.perf_counter()
        lines = refusal(tmp_path, billion_laughs())
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == [f"SPEC:6: the spec expands to more than {MAX_YAML_NODES} values (aliases included)"]
    assert elapsed < SLOW
    assert peak < 20 * 1024 * 1024


def test_an_alias_bomb_hidden_inside_a_valid_spec_is_refused(tmp_path):
    bomb = billion_laughs().replace("\n", "\n  ")
    text = edit(('title: "Demo"', 'title: "Demo"\ndescription:\n  ' + bomb.rstrip()))
    start = time.perf_counter()
    lines = refusal(tmp_path, text)
    assert time.perf_counter() - start < SLOW
    assert lines == [f"SPEC:9: the spec expands to more than {MAX_YAML_NODES} values (aliases included)"]


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path):
    lines = refusal(tmp_path, edit(('title: "Demo"', 'title: "Demo"\nloop: &a [1, *a]')))
    assert lines == [f"SPEC:{L_TITLE + 1}: the alias *a is used inside its own anchor"]


def test_an_undefined_alias_is_refused(tmp_path):
    assert refusal(tmp_path, edit(("lr: 0.01", "lr: *nope"))) == [f"SPEC:{L_LR}: found undefined alias 'nope'"]


@pytest.mark.parametrize("opening, closing", [("[", "]"), ("{a: ", "}")])
def test_deeply_nested_yaml_is_refused_without_a_recursion_error(tmp_path, opening, closing):
    depth = 20_000
    lines = refusal(tmp_path, f"id: {opening * depth}1{closing * depth}\n")
    assert lines == [f"SPEC:1: nested more than {MAX_YAML_DEPTH} levels deep"]


def test_nesting_within_the_limit_is_a_type_error_not_a_crash(tmp_path):
    lines = refusal(tmp_path, edit(('title: "Demo"', 'title: ' + "[" * 10 + "]" * 10)))
    assert lines == [f"SPEC:{L_TITLE}: title: expected text, got [[[[[[[[[[]]]]]]]]]]"]


# --- finding a spec by id ---


def test_find_spec_gives_the_path_of_a_known_assignment():
    assert find_spec(ASSIGNMENTS, "backprop-linear") == ASSIGNMENTS / "backprop-linear" / "assignment.yaml"


def test_find_spec_refuses_an_unknown_id_and_lists_the_known_ones():
    with pytest.raises(SpecError) as caught:
        find_spec(ASSIGNMENTS, "backprop-cubic")
    assert caught.value.lines == ["unknown assignment 'backprop-cubic' (known: backprop-linear, backprop-quadratic, "
                                  "gradient-descent, linear-regression-module, logistic-regression, "
                                  "multiple-dimension-input)"]


@pytest.mark.parametrize("unsafe", ["../etc", "../backprop-linear", "A B", "Backprop-Linear", "", "/etc/passwd",
                                    "backprop-linear/../backprop-linear", ".", "..", "backprop-linear\n"])
def test_find_spec_refuses_unsafe_ids_and_lists_the_known_ones(unsafe):
    with pytest.raises(SpecError) as caught:
        find_spec(ASSIGNMENTS, unsafe)
    assert caught.value.lines == [f"{unsafe!r} is not a valid assignment id (known: backprop-linear, backprop-quadratic, "
                                  "gradient-descent, linear-regression-module, logistic-regression, "
                                  "multiple-dimension-input)"]


def test_find_spec_says_when_there_are_no_assignments(tmp_path):
    with pytest.raises(SpecError) as caught:
        find_spec(tmp_path, "demo")
    assert caught.value.lines == [f"unknown assignment 'demo' (no assignments under {tmp_path})"]


def test_find_spec_ignores_a_folder_without_a_spec(tmp_path):
    (tmp_path / "draft").mkdir()
    write(tmp_path, VALID)
    with pytest.raises(SpecError) as caught:
        find_spec(tmp_path, "draft")
    assert caught.value.lines == ["unknown assignment 'draft' (known: demo)"]
    assert find_spec(tmp_path, "demo") == tmp_path / "demo" / "assignment.yaml"


def test_a_missing_file_is_a_spec_error(tmp_path):
    with pytest.raises(SpecError) as caught:
        load_spec(tmp_path / "nope" / "assignment.yaml")
    assert caught.value.lines == [f"{tmp_path / 'nope' / 'assignment.yaml'}: cannot read: No such file or directory"]
