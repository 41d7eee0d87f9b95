"""The outcome the sandboxed student process sends back: untrusted bytes, parsed into an Outcome or refused."""

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.messages import render
from grader.outcome import (
    MAX_OUTCOME_BYTES,
    OTHER_SIGNAL,
    SIGNAL_REASONS,
    NamedValue,
    Outcome,
    OutcomeError,
    Prediction,
    RunReport,
    TensorData,
    parse_outcome,
)

# What worker/harness.py writes for the quadratic homework (shortened: two backward() calls).
HARNESS_OUTCOME = {
    "version": 1, "status": "ok", "backward_calls": 2, "trace_truncated": False,
    "trace": [
        {"values": {"w1": {"shape": [1], "data": [1.0], "dtype": "float32"}},
         "grads": {"w1": {"shape": [1], "data": [2.0], "dtype": "float32"}, "b": None}, "loss": 1.0},
        {"values": {"w1": {"shape": [1], "data": [0.98], "dtype": "float32"}},
         "grads": {"w1": {"shape": [1], "data": [-8.5], "dtype": "float32"}}, "loss": "nan"},
    ],
    "final_params": {
        "w1": {"kind": "tensor", "shape": [1], "data": [2.0], "dtype": "float32", "is_leaf": True,
               "requires_grad": True},
        "b": {"kind": "number", "shape": [], "data": [0.5]},
        "w2": {"kind": "other", "type": "str"},
    },
    "predictions": [{"x": 4.0, "value": {"shape": [1], "data": [8.544171333312988], "dtype": "float32"}},
                    {"x": 5.0, "error": "ValueError: no"}],
    "probes": {"results": [{"grads": {"w1": {"shape": [1], "data": [1.5]}}, "loss": 0.25},
                           {"error": "RuntimeError: boom"}]},
}


def encode(value) -> bytes:
    return json.dumps(value).encode()


def refused(raw: bytes) -> str:
    """Why the outcome is refused, in English (the reason is stored as a message code)."""
    with pytest.raises(OutcomeError) as caught:
        parse_outcome(raw)
    return render(caught.value.reason["code"], caught.value.reason["params"], strict=True)


def tensor_of(data_json: str) -> TensorData:
    outcome = parse_outcome(b'{"status": "ok", "final_params": {"w": {"data": ' + data_json.encode() + b"}}}")
    return outcome.final_params["w"]


# --- what comes back ---


@pytest.mark.parametrize("raw", [b"", None])
def test_nothing_sent_is_none(raw):
    assert parse_outcome(raw) is None


def test_the_smallest_outcome_gets_every_default():
    outcome = parse_outcome(b'{"status": "exception"}')
    assert isinstance(outcome, Outcome)
    assert outcome.status == "exception"
    assert outcome.version == 1 and outcome.backward_calls == 0 and outcome.error is None
    assert outcome.trace == [] and outcome.final_params == {} and outcome.predictions == []
    assert outcome.probes.results == [] and outcome.probes.error is None


def test_what_the_harness_writes_is_read_back():
    outcome = parse_outcome(encode(HARNESS_OUTCOME))
    assert outcome.status == "ok" and outcome.backward_calls == 2
    assert outcome.trace[0].grads["b"] is None
    np.testing.assert_array_equal(outcome.trace[1].grads["w1"].array(), [-8.5])
    assert outcome.trace[1].loss == "nan"
    w1 = outcome.final_params["w1"]
    assert isinstance(w1, NamedValue) and w1.kind == "tensor" and w1.is_leaf and w1.dtype == "float32"
    assert outcome.final_params["w2"].kind == "other" and outcome.final_params["w2"].array() is None
    assert outcome.predictions[0].x == 4.0
    assert outcome.predictions[0].value.array().tolist() == [8.544171333312988]
    assert outcome.predictions[1].error == "ValueError: no" and outcome.predictions[1].value is None
    assert outcome.probes.results[0].grads["w1"].array().tolist() == [1.5]
    assert outcome.probes.results[1].error == "RuntimeError: boom"


def test_a_step_with_the_inputs_of_the_one_before_gets_them_and_a_forged_one_gets_none():
    """The harness writes a step's own inputs once while they stay the same (`own_same` after); a step that
    claims the same inputs with none before it in its run gets none, and runs never share them."""
    data = {"shape": [3], "data": [3.0, 5.0, 7.0], "dtype": "float32"}
    other = {"shape": [3], "data": [1.0, 1.0, 1.0], "dtype": "float32"}
    steps = [{"run": 0, "own_same": True}, {"run": 0, "own": [data]}, {"run": 0, "own_same": True},
             {"run": 1, "own_same": True}, {"run": 1, "own": [other]}, {"run": 0, "own_same": True},
             {"run": 1, "own_same": True}, {"run": 1}]
    for trace in ("trace", "hand_trace"):
        outcome = parse_outcome(encode({"status": "ok", trace: steps}))
        owns = [[t.array().tolist() for t in step.own] for step in getattr(outcome, trace)]
        assert owns == [[], [[3, 5, 7]], [[3, 5, 7]], [], [[1, 1, 1]], [[3, 5, 7]], [[1, 1, 1]], []]


@pytest.mark.parametrize("runs, reaching, recorded, graded", [
    ([3, 3], {0, 1}, {0, 1}, 1),       # two runs of the assignment's model: the last
    ([3, 3], {0}, {0, 1}, 0),          # a second network of the student's own after it: the assignment's run
    ([3, 3, 3], {0, 1}, {0, 1, 2}, 1),
    ([3, 3], {0}, {0}, 1),             # the second run past the recording budget: not known to be another model
    ([3, 3], set(), {0, 1}, 1),        # none reaches the assignment's parameters: the last, as before
    ([], set(), set(), None),
])
def test_the_graded_run_is_the_last_that_trains_the_assignment_s_parameters(runs, reaching, recorded, graded):
    value = {"shape": [1], "data": [1.0], "dtype": "float32"}
    trace = [{"run": run, "grads": {"w" if run in reaching else "w_own": value}}
             for run, calls in enumerate(runs) if run in recorded for _ in range(calls)]
    outcome = parse_outcome(encode({"status": "ok", "runs": runs, "backward_calls": sum(runs), "trace": trace}))
    assert outcome.graded_run(["w"]) == graded


def test_unknown_fields_are_ignored():
    outcome = parse_outcome(b'{"status": "ok", "score": 100, "final_params": {"w": {"data": [1], "grade": "A"}}}')
    assert not hasattr(outcome, "score")
    assert outcome.final_params["w"].array().tolist() == [1.0]


def test_an_outcome_of_exactly_the_size_limit_is_read():
    raw = b'{"status": "ok"}'
    raw += b" " * (MAX_OUTCOME_BYTES - len(raw))
    assert len(raw) == MAX_OUTCOME_BYTES
    assert parse_outcome(raw).status == "ok"


def test_a_large_honest_trace_is_read():
    step = {"values": {"w": {"shape": [1], "data": [1.0]}}, "grads": {"w": {"shape": [1], "data": [2.0]}}, "loss": 0.5}
    outcome = parse_outcome(encode({"status": "ok", "trace": [step] * 20_000}))
    assert len(outcome.trace) == 20_000
    assert outcome.trace[-1].grads["w"].array().tolist() == [2.0]


# --- NaN and friends ---


def test_nan_and_infinity_tokens_and_strings_become_floats():
    values = tensor_of('[NaN, Infinity, -Infinity, "nan", "inf", "-inf", 1, 2.5, -0.0]').array()
    assert values.dtype == np.float64
    assert math.isnan(values[0]) and math.isnan(values[3])
    assert values[1] == math.inf and values[4] == math.inf
    assert values[2] == -math.inf and values[5] == -math.inf
    assert values[6:].tolist() == [1.0, 2.5, -0.0]


@pytest.mark.parametrize("item", ["true", "false", "null", '"1.5"', '"banana"', '"Infinity "', "1" + "0" * 400])
def test_booleans_nulls_odd_strings_and_huge_integers_become_nan(item):
    values = tensor_of(f"[1.0, {item}]").array()
    assert values[0] == 1.0
    assert math.isnan(values[1])


def test_nan_never_equals_anything_so_it_never_matches():
    values = tensor_of("[true, null]").array()
    assert not np.isclose(values, 1.0).any() and not np.isclose(values, 0.0).any()


def test_a_tensor_without_data_has_no_array():
    assert tensor_of("null").array() is None
    assert parse_outcome(b'{"status": "ok", "final_params": {"w": {"too_large": true}}}').final_params["w"].array() is None


def test_a_nan_token_in_a_number_field_is_refused():
    assert "schema" in refused(b'{"status": "ok", "backward_calls": NaN}')


# --- refused ---


@pytest.mark.parametrize("raw, why", [
    (b"\xff\xfe{}", "UnicodeDecodeError"),
    (b'{"status": "ok", "error": {"message": "caf\xe9"}}', "UnicodeDecodeError"),
    (b'{"status": ', "JSONDecodeError"),
    (b'{"status": "ok"} trailing', "JSONDecodeError"),
    (b"\xef\xbb\xbf{}", "JSONDecodeError"),
    (b"\x00", "JSONDecodeError"),
    (b'{"status": "ok", "backward_calls": ' + b"9" * 5000 + b"}", "ValueError"),
])
def test_bytes_that_are_not_json_are_refused(raw, why):
    assert refused(raw) == f"the outcome is not JSON ({why})"


@pytest.mark.parametrize("raw", [b"[1, 2]", b"[]", b"3", b"-1.5", b'"ok"', b"null", b"true", b"NaN"])
def test_json_that_is_not_an_object_is_refused(raw):
    assert refused(raw) == "the outcome is not a JSON object"


@pytest.mark.parametrize("raw", [
    b"[" * 100_000 + b"]" * 100_000,
    b'{"status": "ok", "trace": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    b'{"status": "ok", "extra": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_000 + b"}",
])
def test_very_deep_nesting_is_refused_not_a_recursion_error(raw):
    assert refused(raw) == "the outcome is not JSON (RecursionError)"


@pytest.mark.parametrize("depth", [50, 200, 500, 900, 950, 980, 990, 1000, 2000])
@pytest.mark.parametrize("where", ["predictions.x", "data", "dtype", "error.type", "extra", "loss"])
def test_nesting_near_the_recursion_limit_is_an_outcome_or_an_outcome_error(depth, where):
    nested = b"[" * depth + b"]" * depth
    raw = {
        "predictions.x": b'{"status": "ok", "predictions": [{"x": %s}]}',
        "data": b'{"status": "ok", "final_params": {"w": {"data": [%s]}}}',
        "dtype": b'{"status": "ok", "final_params": {"w": {"dtype": %s}}}',
        "error.type": b'{"status": "exception", "error": {"type": %s}}',
        "extra": b'{"status": "ok", "junk": %s}',
        "loss": b'{"status": "ok", "trace": [{"loss": %s}]}',
    }[where] % nested
    try:
        outcome = parse_outcome(raw)
    except OutcomeError:
        return
    assert isinstance(outcome, Outcome)
    assert where in ("predictions.x", "extra")
    if where == "predictions.x":
        assert outcome.predictions[0].x is None  # nothing deep is kept in the Outcome
    repr(outcome)  # printing or logging it must not blow the stack


@pytest.mark.parametrize("fields", [
    {"status": "weird"},
    {"status": None},
    {"status": 1},
    {},
    {"status": "ok", "backward_calls": "many"},
    {"status": "ok", "backward_calls": 1.5},
    {"status": "ok", "exit_code": "0x"},
    {"status": "ok", "trace": 5},
    {"status": "ok", "trace": [5]},
    {"status": "ok", "trace": [{"grads": []}]},
    {"status": "ok", "final_params": []},
    {"status": "ok", "final_params": {"w": {"data": [[1, 2]]}}},
    {"status": "ok", "final_params": {"w": {"data": [{"a": 1}]}}},
    {"status": "ok", "final_params": {"w": {"data": "1,2"}}},
    {"status": "ok", "final_params": {"w": {"shape": "1"}}},
    {"status": "ok", "final_params": {"w": {"kind": "tensorish"}}},
    {"status": "ok", "predictions": {"x": 4}},
    {"status": "ok", "probes": []},
    {"status": "ok", "probes": {"results": [{"grads": [1]}]}},
    {"status": "ok", "error": "boom"},
    {"status": "ok", "error": {"line": "three"}},
    # an optimizer's settings reach the report's words: no longer than the harness writes them
    {"status": "ok", "optimizers": [{"name": "NAdam", "settings": {"lr": "x" * 100000}}]},
    {"status": "ok", "optimizers": [{"name": "NAdam", "settings": {"l" * 100000: 0.01}}]},
])
def test_wrong_types_in_fields_are_refused(fields):
    assert refused(encode(fields)).startswith("the outcome does not match its schema: ")


@pytest.mark.parametrize("status", ["ok", "exception", "syntax_error", "exit", "os_exit", "harness_error"])
def test_every_known_status_is_read(status):
    assert parse_outcome(encode({"status": status})).status == status


def test_an_oversized_outcome_is_refused_before_it_is_parsed():
    raw = b'{"status": "ok"}' + b" " * MAX_OUTCOME_BYTES
    assert refused(raw) == f"the outcome is larger than {MAX_OUTCOME_BYTES} bytes"
    assert refused(b"\xff" * (MAX_OUTCOME_BYTES + 1)) == f"the outcome is larger than {MAX_OUTCOME_BYTES} bytes"


@pytest.mark.parametrize("fields", [
    {"status": "ok", "trace": [{}] * 100_001},
    {"status": "ok", "predictions": [{}] * 1001},
    {"status": "ok", "probes": {"results": [{}] * 1001}},
    {"status": "ok", "final_params": {f"p{i}": {} for i in range(257)}},
    {"status": "ok", "trace": [{"grads": {f"p{i}": None for i in range(257)}}]},
    {"status": "ok", "final_params": {"w": {"shape": [1] * 9}}},
    {"status": "ok", "final_params": {"w": {"data": [0] * ((1 << 20) + 1)}}},
    {"status": "ok", "recreated": [{"name": "model", "line": 3, "text": "x" * 201}]},
    {"status": "ok", "recreated": [{"name": "model", "line": 3}] * 65},
])
def test_oversized_lists_are_refused(fields):
    raw = json.dumps(fields, separators=(",", ":")).encode()
    assert len(raw) <= MAX_OUTCOME_BYTES
    message = refused(raw)
    assert message.startswith("the outcome does not match its schema: ")
    assert "at most" in message


def test_a_refusal_message_stays_short():
    assert len(refused(encode({"status": "ok", "trace": [{"grads": {"w": {"data": [[1]] * 5000}}}] * 3}))) < 400


# --- strings and inputs a student can forge ---


def test_a_lone_surrogate_in_a_message_is_replaced_so_it_can_be_stored():
    # json.dumps (as the harness uses it) escapes a lone surrogate from the student's exception message
    raw = json.dumps({"status": "exception", "error": {"type": "ValueError", "message": "bad \ud800 value"},
                      "final_params": {"w\udfff": {"type": "x\ud83d"}}}).encode()
    outcome = parse_outcome(raw)
    assert outcome.error.message == "bad ? value"
    assert outcome.error.message.encode("utf-8")
    assert list(outcome.final_params) == ["w?"] and outcome.final_params["w?"].type == "x?"


def test_a_proper_surrogate_pair_is_kept():
    outcome = parse_outcome(json.dumps({"status": "exception", "error": {"message": "loss \U0001F600"}}).encode())
    assert outcome.error.message == "loss \U0001F600"


@pytest.mark.parametrize("x, expected", [(4, 4.0), (4.5, 4.5), ("4.0", 4.0), (None, None), (True, None), ([4.0], None),
                                         ({"x": 4}, None), (10**400, None), ("four", None)])
def test_a_prediction_input_is_a_float_or_none(x, expected):
    outcome = parse_outcome(encode({"status": "ok", "predictions": [{"x": x}]}))
    assert outcome.predictions[0].x == expected
    assert Prediction(x=x).x == expected


# --- the signal that ended a run ---


@pytest.mark.parametrize("signal, reason", [
    (9, "killed: usually the memory or process limit"),
    (24, "CPU time limit reached"),
    (11, "segmentation fault"),
    (6, "aborted"),
    (25, "file size limit reached"),
    (15, "stopped by the sandbox"),
    (0, "stopped by the sandbox"),
    (None, "stopped by the sandbox"),
])
def test_signal_reason_names_the_limit_behind_a_signal(signal, reason):
    said = RunReport(outcome=None, signal=signal).signal_reason()
    assert render(said["code"], said["params"], strict=True) == reason


def test_every_known_signal_has_its_own_reason():
    reasons = {RunReport(outcome=None, signal=s).signal_reason()["code"] for s in SIGNAL_REASONS}
    assert len(reasons) == len(SIGNAL_REASONS)
    assert OTHER_SIGNAL not in reasons


# --- fuzzing: only None, an Outcome or an OutcomeError ever comes out ---

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-(10**500), max_value=10**500)
                | st.floats() | st.text(max_size=20) | st.sampled_from(["nan", "inf", "-inf", "\ud800", "ok"]))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=5)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=5), max_leaves=30)
FIELDS = ["version", "status", "error", "exit_code", "backward_calls", "trace", "trace_truncated", "final_params",
          "predictions", "probes"]
tensors = st.fixed_dictionaries({}, optional={"shape": json_values, "data": st.lists(json_scalars, max_size=8)
                                              | json_values, "dtype": json_values, "kind": json_values,
                                              "too_large": json_values, "is_leaf": json_values})
shaped = st.fixed_dictionaries(
    {"status": st.sampled_from(["ok", "exception", "exit", "harness_error", "nope"]) | json_scalars},
    optional={
        "trace": st.lists(st.fixed_dictionaries({}, optional={
            "values": st.dictionaries(st.text(max_size=4), tensors, max_size=3),
            "grads": st.dictionaries(st.text(max_size=4), st.none() | tensors, max_size=3),
            "loss": json_values}), max_size=4) | json_values,
        "final_params": st.dictionaries(st.text(max_size=4), tensors, max_size=3) | json_values,
        "predictions": st.lists(st.fixed_dictionaries({}, optional={"x": json_values, "value": tensors | json_values,
                                                                    "error": json_values}), max_size=3),
        "probes": st.fixed_dictionaries({}, optional={"error": json_values, "results": st.lists(
            st.fixed_dictionaries({}, optional={"grads": st.dictionaries(st.text(max_size=4), tensors, max_size=2),
                                                "loss": json_values}), max_size=3)}),
        "error": st.fixed_dictionaries({}, optional={k: json_values for k in ("type", "message", "line", "text")}),
        "backward_calls": json_values, "exit_code": json_values, "version": json_values,
    })


def check_parse(raw: bytes) -> None:
    """parse_outcome gives None, an Outcome whose tensors all read as float64, or an OutcomeError."""
    try:
        outcome = parse_outcome(raw)
    except OutcomeError as exc:
        assert str(exc)
        return
    if outcome is None:
        assert raw == b""
        return
    assert isinstance(outcome, Outcome)
    tensors = [*outcome.final_params.values(), *(p.value for p in outcome.predictions)]
    for step in outcome.trace:
        tensors += [*step.values.values(), *step.grads.values()]
    for result in outcome.probes.results:
        tensors += list((result.grads or {}).values())
    for tensor in tensors:
        if tensor is not None and (values := tensor.array()) is not None:
            assert values.dtype == np.float64 and len(values) == len(tensor.data)
    for prediction in outcome.predictions:
        assert prediction.x is None or isinstance(prediction.x, float)
    repr(outcome)
    json.dumps(outcome.model_dump(), default=str, ensure_ascii=False).encode("utf-8")  # storable, printable


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_random_bytes(raw):
    check_parse(raw)


@FUZZ
@given(json_values)
def test_fuzz_random_json_values(value):
    check_parse(json.dumps(value).encode())


@FUZZ
@given(st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6))
def test_fuzz_random_json_in_the_outcome_fields(fields):
    check_parse(json.dumps(fields).encode())


@FUZZ
@given(shaped)
def test_fuzz_outcomes_shaped_like_the_harness(fields):
    check_parse(json.dumps(fields).encode())


@FUZZ
@given(st.data())
def test_fuzz_a_damaged_harness_outcome(data):
    raw = bytearray(encode(HARNESS_OUTCOME))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["replace", "delete", "insert"]))
        byte = data.draw(st.integers(0, 255))
        if action == "replace":
            raw[at] = byte
        elif action == "delete":
            del raw[at]
        else:
            raw.insert(at, byte)
    check_parse(bytes(raw))


def test_a_trace_longer_than_the_harness_records_is_refused():
    from grader.outcome import MAX_TRACE_STEPS
    from grader.plan import MAX_TRACE_STEPS as PLANNED

    assert MAX_TRACE_STEPS == PLANNED  # the harness is told the limit the schema holds it to
    step = {"grads": {"w": {"data": [1.0]}}}
    most = json.dumps({"status": "ok", "trace": [step] * MAX_TRACE_STEPS}).encode()
    assert len(parse_outcome(most).trace) == MAX_TRACE_STEPS
    with pytest.raises(OutcomeError, match="schema"):
        parse_outcome(json.dumps({"status": "ok", "trace": [step] * (MAX_TRACE_STEPS + 1)}).encode())


def test_a_forged_re_creation_names_only_parameters_judged_as_trained_and_only_with_a_line():
    from grader.diagnosis import replaced_notes

    forged = parse_outcome(encode({"status": "ok", "replaced": ["w"], "recreated": [
        {"name": "model", "line": 9, "text": "model = Model()", "params": ["model.linear.weight"]},
        {"name": "w", "line": 0, "params": ["w"]}]}))
    assert [m.code for m in replaced_notes(forged)] == ["note.replaced_after_training"]
    assert "recreated" in refused(encode({"status": "ok", "recreated": [{"line": -1}]}))


def test_the_harness_records_what_the_outcome_holds_when_a_plan_does_not_say():
    """worker/harness.py cannot import grader.outcome: its own defaults for the plan's caps are the same numbers."""
    import ast
    from pathlib import Path

    from grader.outcome import MAX_TENSOR_ELEMENTS, MAX_TRACE_STEPS

    harness = Path(__file__).resolve().parent.parent / "worker" / "harness.py"
    constants = {node.targets[0].id: node.value.value for node in ast.parse(harness.read_text("utf-8")).body
                 if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                 and isinstance(node.value, ast.Constant)}
    assert constants["PLAN_MAX_TRACE_STEPS"] == MAX_TRACE_STEPS
    assert constants["PLAN_MAX_TENSOR_ELEMENTS"] == MAX_TENSOR_ELEMENTS
