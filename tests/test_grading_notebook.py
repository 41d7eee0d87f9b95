"""Notebooks graded end to end through the real fork-server sandbox: the same verdict as the equivalent script,
errors that name the cell, IPython's ways (magics, installs, display) and `grader grade` on a .ipynb."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.notebook import cell_outputs
from grader.spec import load_spec
from grader.submissions import accept
from notebook_files import STYLES, colab_notebook, jupyter_notebook, jupyterlab_notebook, script_cells
from worker.grading import grade_source, grade_upload

ROOT = Path(__file__).resolve().parent.parent
QUADRATIC = ROOT / "assignments" / "backprop-quadratic"
SCRIPTS = {
    "solution": QUADRATIC / "solution.py",
    "no_zero_grad": QUADRATIC / "mistakes" / "no_zero_grad.py",
    "gradient_ascent": QUADRATIC / "mistakes" / "gradient_ascent.py",
}


@pytest.fixture(scope="module")
def quadratic():
    return load_spec(QUADRATIC / "assignment.yaml")


def verdict(result, lang: str) -> tuple:
    """What a student is told, in one language, less the notes that only a notebook gets."""
    return (result.score, [(c.id, c.passed, c.points, c.message.render(lang)) for c in result.checks],
            [d.render(lang) for d in result.diagnoses if not d.code.startswith("note.")])


def grade_notebook_text(spec, text: str, sandbox, name: str = "hw.ipynb"):
    upload = accept(text.encode("utf-8"), name)
    return grade_upload(spec, upload.source, sandbox, upload.filename, upload.notebook)


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_each_tool_s_notebook_gets_the_script_s_verdict_in_both_languages(sandbox, quadratic, script):
    source = SCRIPTS[script].read_text()
    expected, _ = grade_source(quadratic, source, sandbox, "hw.py")
    for style, write in STYLES.items():
        result, _ = grade_notebook_text(quadratic, write(script_cells(source)), sandbox)
        for lang in ("en", "zh"):
            assert verdict(result, lang) == verdict(expected, lang), (style, lang)
        assert result.stdout == expected.stdout, style  # the markers between cells are gone


def test_a_runtime_error_names_the_cell_and_the_line_in_it_with_the_traceback(sandbox, quadratic):
    cells = script_cells(SCRIPTS["solution"].read_text())
    forward = next(i for i, c in enumerate(cells) if c.startswith("def forward"))
    cells[forward] = cells[forward].replace("return w1", "return undefined_name + w1")
    result, report = grade_notebook_text(quadratic, jupyterlab_notebook(cells), sandbox)
    cell = forward + 3  # JupyterLab's notebook starts with a markdown and a raw cell
    runs = result.checks[0].message
    assert runs.code == "runs.exception_in_cell"
    assert runs.render("en") == (f"Your notebook raised NameError in cell {cell}, line 2: "
                                 "name 'undefined_name' is not defined")
    assert f"第 {cell} 个单元格第 2 行" in runs.render("zh")
    assert f'File "hw.ipynb", cell {cell}, line 2, in forward' in report.outcome.error.traceback


def test_a_syntax_error_names_the_cell(sandbox, quadratic):
    cells = ["%matplotlib inline\nimport torch", "w1 = torch.tensor([1.0], requires_grad=True)\nw2 = (1,"]
    result, _ = grade_notebook_text(quadratic, colab_notebook(cells), sandbox)
    runs = result.checks[0].message
    assert runs.code == "runs.syntax_error_in_cell"
    assert runs.params["cell"] == 3 and runs.params["line"] == 2
    assert runs.render("en").startswith("Syntax error in cell 3, line 2: ")
    assert runs.render("zh").startswith("第 3 个单元格第 2 行有语法错误")


def test_magics_installs_display_and_ipython_imports_work_as_in_a_notebook(sandbox, quadratic):
    cells = script_cells(SCRIPTS["solution"].read_text())
    cells = (["%matplotlib inline\n!pip install torch tqdm", "from IPython.display import display, clear_output, HTML"]
             + cells[:-1] + ["display(HTML('<b>hi</b>'))\nclear_output()\ndisplay('shown')\nw1  # a bare value"]
             + cells[-1:])
    result, _ = grade_notebook_text(quadratic, jupyter_notebook(cells, counts=list(range(len(cells), 0, -1))),
                                    sandbox)
    assert result.score == result.max_score, [c.message.render() for c in result.checks]
    notes = {d.code: d for d in result.diagnoses}
    assert notes["note.notebook_magics_ignored_in_cells"].params == {"cells": "2"}
    install = notes["note.notebook_install_not_run"]
    assert install.params["packages"] == "torch tqdm" and "torch" in install.params["available"]
    assert "note.notebook_run_out_of_order" in notes
    outputs = cell_outputs(result.stdout, result.cell_starts)
    shown = outputs[len(cells)]  # the display cell, before the last
    assert shown == "<IPython.core.display.HTML object>\nshown\n"  # the bare `w1` printed nothing


def test_output_is_split_by_cell(sandbox, quadratic):
    cells = script_cells(SCRIPTS["solution"].read_text())
    result, _ = grade_notebook_text(quadratic, jupyter_notebook(cells), sandbox)
    outputs = cell_outputs(result.stdout, result.cell_starts)
    printing = [i + 2 for i, c in enumerate(cells) if "print(" in c]
    assert sorted(outputs) == printing
    assert outputs[printing[-1]].startswith("Predict(after training) 4 8.5441")


def test_grader_grade_takes_notebooks_and_names_cells_in_its_report(tmp_path):
    cells = script_cells(SCRIPTS["solution"].read_text())
    (tmp_path / "good.ipynb").write_text(colab_notebook(cells))
    broken = [c.replace("return w1", "return nothing + w1") for c in cells]
    (tmp_path / "broken.ipynb").write_text(jupyter_notebook(broken))
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "good-checkpoint.ipynb").write_text("{not a notebook")
    args = ["grade", str(tmp_path), "--assignment", "backprop-quadratic", "--assignments-dir", str(ROOT / "assignments")]
    text = CliRunner().invoke(main, args + ["--lang", "en"])
    assert text.exit_code == 0, text.output
    assert "Your notebook raised NameError in cell" in text.output and ", line 2: name 'nothing'" in text.output
    lines = CliRunner().invoke(main, args + ["--json", "--lang", "zh"]).output.strip().splitlines()
    results = {Path(r["path"]).name: r for r in map(json.loads, lines)}
    assert sorted(results) == ["broken.ipynb", "good.ipynb"]
    assert results["good.ipynb"]["score"] == results["good.ipynb"]["max_score"]
    assert "个单元格第 2 行" in results["broken.ipynb"]["checks"][0]["message"]


def test_grader_grade_says_why_a_notebook_is_refused(tmp_path):
    (tmp_path / "old.ipynb").write_text(json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {},
                                                    "worksheets": []}))
    out = CliRunner().invoke(main, ["grade", str(tmp_path / "old.ipynb"), "--assignment", "backprop-quadratic",
                                    "--assignments-dir", str(ROOT / "assignments"), "--lang", "en"])
    assert out.exit_code == 2
    assert "notebook format 3" in out.output


def test_a_model_re_created_in_a_later_cell_is_judged_as_trained_and_the_cell_named(sandbox):
    spec = load_spec(ROOT / "assignments" / "linear-regression-module" / "assignment.yaml")
    cells = script_cells((ROOT / "assignments" / "linear-regression-module" / "solution.py").read_text())
    cells.append("# a fresh model to compare with\nmodel = LinearModel()\nprint(model(x_data))")
    result, _ = grade_notebook_text(spec, jupyter_notebook(cells), sandbox)
    assert result.score == result.max_score
    notes = [d for d in result.diagnoses if d.code.startswith("note.replaced")]
    cell = len(cells) + 1  # the notebook starts with a markdown cell
    assert [d.render("en") for d in notes] == [
        f"You re-create model after training, in cell {cell}, line 2 (model = LinearModel()); we judged "
        "the model you trained."]
