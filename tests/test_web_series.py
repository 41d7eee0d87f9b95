"""The per-step series stored for the plots (grader.series) and the plots drawn from them (grader.web.plots)."""
from __future__ import annotations

import json

from grader.outcome import Outcome, RunReport, TensorData, TraceStep
from grader.checks.result import CheckResult
from grader.scoring import GradeResult
from grader.messages import Message
from grader.series import MAX_POINTS, attach_series, step_series
from grader.web import plots
from web_helpers import series_for

from grader.reference.trainer import ReferenceRun, Step


def _run(n: int) -> ReferenceRun:
    steps = [Step(i, i // 3, i % 3, {}, {"w": float(i)}, float(n - i)) for i in range(n)]
    return ReferenceRun(steps, {"w": 0.0}, [])


def _report(values: list) -> RunReport:
    trace = [TraceStep(grads={"w": TensorData(shape=[], data=[v])}, loss=v) for v in values]
    return RunReport(outcome=Outcome(status="ok", backward_calls=len(trace), trace=trace))


def test_series_are_capped_json_safe_and_keep_both_lengths():
    series = step_series(_run(5000), _report([1.0, "nan", "inf", 2.0] * 1250), ["w"])
    assert series["stride"] == 3 and series["steps"] == {"student": 5000, "reference": 5000}
    assert len(series["loss"]["student"]) <= MAX_POINTS and len(series["grads"]["w"]["reference"]) <= MAX_POINTS
    text = json.dumps(series, allow_nan=False)  # PostgreSQL's JSON has no NaN
    assert None in series["grads"]["w"]["student"] and len(text) < 100_000


def test_no_trace_gives_empty_student_series():
    series = step_series(_run(10), RunReport(outcome=None), ["w"])
    assert series["loss"]["student"] == [] and series["steps"]["student"] == 0
    assert len(series["loss"]["reference"]) == 10


def test_the_series_go_on_the_trace_check():
    checks = [CheckResult("runs", "runs", True, 10, 10, Message("runs.ok")),
              CheckResult("trace", "trace", False, 0, 30, Message("trace.no_backward"), details={"first": {"step": 1}})]
    result = GradeResult("a", 10, 40, checks, [], "", "")
    attach_series(result, _run(3), _report([1.0, 2.0, 3.0]), ["w"])
    assert "series" not in checks[0].details
    assert checks[1].details["first"] == {"step": 1} and checks[1].details["series"]["loss"]["student"] == [1, 2, 3]


def test_plots_draw_the_loss_and_each_gradient_even_when_the_run_diverged():
    series = series_for("mistake.no_zero_grad")  # ends in inf and nan
    for name in ("loss", "grad-w1", "grad-w2", "grad-b"):
        svg = plots.render(series, name)
        assert svg is not None and b"<svg" in svg and b"reference" in svg and b"yours" in svg
    assert plots.render(series, "grad-missing") is None
    assert plots.render({"loss": "broken"}, "loss") is None


def test_a_plot_is_well_formed_svg_of_escaped_text_and_no_style_or_script():
    from xml.etree import ElementTree

    series = {"stride": 1, "loss": {"student": [3.0, 1.0, 0.5], "reference": [3.0, 1.2, 0.4]},
              "grads": {'<script>alert("x")</script>': {"student": [1.0, -2.0, float("nan"), 0.5],
                                                        "reference": [1.0, -1.0, 0.3, 0.2]}}}
    svg = plots.render(series, 'grad-<script>alert("x")</script>')
    root = ElementTree.fromstring(svg)  # well-formed: it can be inlined in a page or served alone
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert b"<script" not in svg and b"<style" not in svg and b"&lt;script&gt;" in svg
    assert b" on" not in svg.lower().replace(b" only", b"")  # no event handler attribute
    # the student's line breaks at the value that is not finite: two pieces, and one for the reference
    assert len(root.findall("{http://www.w3.org/2000/svg}polyline")) == 3


def test_a_positive_loss_is_drawn_on_decades_and_a_blown_up_gradient_on_a_symmetric_log_scale():
    loss = plots.y_scale([10.0, 1.0, 0.01, 0.001], [10.0, 2.0, 0.1, 0.01], log=True)
    assert loss.kind == "log" and [label for _, label in plots.y_ticks(loss)][:2] == ["10⁻³", "10⁻²"]
    wild = plots.y_scale([1.0, -10.0, 1e10, -1e38], [1.0, 0.5, -0.2, 0.1], log=False)
    assert wild.kind == "symlog" and 0 < wild(0.0) < 1 and wild(-1e38) == 0 and wild(1e10) == 1
    tame = plots.y_scale([1.0, 0.5], [1.0, 0.4], log=False)
    assert tame.kind == "linear" and all(0 <= tame(v) <= 1 for v in (1.0, 0.5, 0.4))
    assert plots.y_scale([float("nan")], [], log=True) is None
