"""Broken specs that used to load (or crash) and are now refused by file, line and field."""
from __future__ import annotations

import re

import pytest
import test_spec_tensors as tensors

from service_helpers import ASSIGNMENTS
from web_helpers import client_as
from test_spec import L_DEADLINE, L_EPOCHS, L_FORWARD, L_LOSS, L_LR, L_PARAMS, L_X, VALID, edit, refusal
from test_staff_manage import upload

GRADIENTS_CHECK = "points: 10\n  - id: g\n    kind: gradients\n    points: 1\n"
L_PROBES = 21  # the line of `probes:` in the gradients check added after `runs`


@pytest.mark.parametrize("spec, line, expected", [
    # YAML accepts the pattern of these timestamps, datetime does not: a ValueError without a line
    (edit(("+08:00", "+25:00")), L_DEADLINE, "'2026-12-10T23:59:00+25:00' is not a real date and time"),
    (edit(("2026-12-10T", "2026-02-30T")), L_DEADLINE, "is not a real date and time (day is out of range"),
    # in UTC, one is after year 9999 and the other before year 1: late days and storage overflow
    (edit(("2026-12-10T23:59:00+08:00", "9999-12-31T23:59:59-12:00")), L_DEADLINE,
     "deadline: expected a deadline between the years 2000 and 2999"),
    (edit(("2026-12-10T23:59:00+08:00", "0001-01-01T00:00:00+12:00")), L_DEADLINE,
     "deadline: expected a deadline between the years 2000 and 2999"),
    # characters YAML never allows: reported with their line, not a reader's "position 19"
    (VALID.replace("Demo", "De\x00mo"), 2, "the character U+0000 is not allowed in YAML"),
    (VALID.replace("0.01", "0.01\x07"), L_LR, "the character U+0007 is not allowed in YAML"),
    # numpy refuses a negative seed when the probes are drawn, at grading time
    (edit(("points: 10\n", GRADIENTS_CHECK + "    probes: {seed: -5}\n")), L_PROBES,
     "checks[1].probes.seed: must be at least 0, got -5"),
    # a parameter no expression uses: torch leaves its .grad None, the reference a zero
    (edit(("params: {w: 1.0}", "params: {w: 1.0, b: 0.0}")), L_PARAMS,
     "model.params.b: declared but used in neither model.forward nor model.loss"),
])
def test_a_broken_spec_is_refused_by_line_and_field(tmp_path, spec, line, expected):
    lines = refusal(tmp_path, spec)
    assert any(l.startswith(f"SPEC:{line}: ") and expected in l for l in lines), lines


@pytest.mark.parametrize("old, new, line, expected", [
    ('forward: "w * x"', 'forward: "w / (x - 1)"', L_FORWARD, "model.forward: is not a finite number on the first batch"),
    ('forward: "w * x"', 'forward: "log(x - 1) * w"', L_FORWARD, "model.forward: is not a finite number"),
    ('forward: "w * x"', 'forward: "exp(1000 * w * x)"', L_FORWARD, "model.forward: is not a finite number"),
    ('forward: "w * x"', 'forward: "w * x / 0"', L_FORWARD, "model.forward: is not a finite number"),
    ('forward: "w * x"', 'forward: "(w - 5) ** 0.5 * x"', L_FORWARD, "the first loss is nan"),
    ('forward: "w * x"', 'forward: "w * x * 1e300"', L_LOSS, "model.loss: is not a finite number"),
    ("lr: 0.01", "lr: 10", L_LR, "training.lr: the reference training diverges: at epoch 29"),
])
def test_a_reference_that_is_not_finite_is_refused(tmp_path, old, new, line, expected):
    lines = refusal(tmp_path, edit((old, new)))
    assert any(l.startswith(f"SPEC:{line}: ") and expected in l for l in lines), lines


def test_a_schedule_the_reference_cannot_train_in_time_is_refused_at_epochs(tmp_path):
    many = "[" + ", ".join(["1.0"] * 3000) + "]"
    spec = edit(("epochs: 100", "epochs: 100000"), ("x: [1.0, 2.0, 3.0]", f"x: {many}"),
                ("y: [2.0, 4.0, 6.0]", f"y: {many}"))
    assert refusal(tmp_path, spec) == [
        f"SPEC:{L_EPOCHS}: training.epochs: 100000 epochs of 3000 backward() calls make 300000000 steps; "
        f"the reference trains at most 100000 (fewer epochs or larger batches)"]


LINEAR = (ASSIGNMENTS / "backprop-linear" / "assignment.yaml").read_text()
NEW = LINEAR.replace("id: backprop-linear", "id: linear-copy")


@pytest.mark.parametrize("old, new, field", [
    ("lr: 0.01", "lr: 10", "training.lr"),
    ('forward: "w * x"', 'forward: "w / (x - 1)"', "model.forward"),
    ("+08:00", "+25:00", ""),
])
def test_the_upload_page_shows_these_refusals_not_a_500(app, old, new, field):
    c = client_as(app, "ivan")
    response = upload(c, file=NEW.replace(old, new).encode())
    assert response.status_code == 400
    assert f'data-field="{field}"' in response.get_data(as_text=True)


def test_a_data_file_that_is_a_symbolic_link_is_refused_without_reading_it(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("password,hunter2\n")
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "d.csv").symlink_to(secret)
    lines = refusal(tmp_path, tensors.SPEC)
    assert lines == [f"SPEC:{tensors.L_DATA}: data.csv: d.csv is a symbolic link: put the file itself next to the spec"]
    assert not any("hunter2" in line for line in lines)


def test_a_spec_with_several_problems_reports_all_of_them_in_one_pass(tmp_path, app):
    """A schema problem (the learning rate) used to hide the expressions' problems until it was fixed."""
    broken = edit(("lr: 0.01", "lr: -1"), ('"w * x"', '"w * q"'), ('"(y_pred - y)**2"', '"(y_pred - y)**2 +"'))
    lines = refusal(tmp_path, broken)
    assert any(f"SPEC:{L_LR}: training.lr: must be greater than 0" in line for line in lines), lines
    assert any(f"SPEC:{L_FORWARD}: model.forward: unknown name \"q\"" in line for line in lines), lines
    assert any(f"SPEC:{L_LOSS}: model.loss: not a valid expression" in line for line in lines), lines
    page = upload(client_as(app, "ivan"), file=broken.encode()).get_data(as_text=True)
    fields = set(re.findall(r'<tr class="problem" data-line="\d+" data-field="([^"]+)">', page))
    assert fields >= {"training.lr", "model.forward", "model.loss"}, fields
