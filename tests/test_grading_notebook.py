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
from notebook_files import STYLES, colab_notebook, jupyter_notebook, jupyterlab_notebook, learner_notebook, script_cells
from service_helpers import grader_in_process
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


def test_the_first_difference_names_the_cell_and_line_of_its_backward_call(sandbox, quadratic):
    source = SCRIPTS["no_zero_grad"].read_text()
    cells = script_cells(source)
    loop = next(i for i, c in enumerate(cells) if "l.backward()" in c)
    for style, write in STYLES.items():
        result, _ = grade_notebook_text(quadratic, write(cells), sandbox)
        [trace] = [c for c in result.checks if c.kind == "trace"]
        first = trace.details["first"]
        cell = loop + {"jupyter": 2, "jupyterlab": 3, "colab": 2}[style]
        assert (first["cell"], first["line"]) == (cell, cells[loop].splitlines().index("        l.backward()") + 1)
        expected, _ = grade_source(quadratic, source, sandbox, "hw.py")
        assert expected.checks[[c.kind for c in expected.checks].index("trace")].details["first"]["line"] == (
            source.splitlines().index("        l.backward()") + 1)  # a script's names its line alone


def test_a_runtime_error_names_the_cell_and_the_line_in_it_with_the_traceback(sandbox, quadratic):
    cells = script_cells(SCRIPTS["solution"].read_text())
    forward = next(i for i, c in enumerate(cells) if c.startswith("def forward"))
    cells[forward] = cells[forward].replace("return w1", "return undefined_name + w1")
    result, report = grade_notebook_text(quadratic, jupyterlab_notebook(cells), sandbox)
    cell = forward + 3  # JupyterLab's notebook starts with a markdown and a raw cell
    caller = next(i for i, c in enumerate(cells) if c.startswith("print('Predict (befortraining)'")) + 3
    runs = result.checks[0].message
    assert runs.code == "runs.exception_traced_in_cell"
    assert runs.render("en") == (f"Your notebook raised NameError in cell {cell}, line 2, in forward() (called from "
                                 f"cell {caller}, line 1): name 'undefined_name' is not defined")
    assert f"第 {cell} 个单元格第 2 行（forward() 中）" in runs.render("zh")
    assert f"由第 {caller} 个单元格第 1 行调用" in runs.render("zh")
    assert f'File "hw.ipynb", cell {cell}, line 2, in forward' in report.outcome.error.traceback


def test_a_syntax_error_names_the_cell(sandbox, quadratic):
    cells = ["%matplotlib inline\nimport torch", "w1 = torch.tensor([1.0], requires_grad=True)\nw2 = (1,"]
    result, _ = grade_notebook_text(quadratic, colab_notebook(cells), sandbox)
    runs = result.checks[0].message
    assert runs.code == "runs.syntax_error_in_cell"
    assert runs.params["cell"] == 3 and runs.params["line"] == 2
    assert runs.render("en").startswith("Syntax error in cell 3, line 2: ")
    assert runs.render("zh").startswith("第 3 个单元格第 2 行有语法错误")


def test_a_cell_left_open_is_named_not_the_program_line_after_it(sandbox, quadratic):
    cells = ["import torch", "for epoch in range(100):", "print('done')"]
    result, _ = grade_notebook_text(quadratic, colab_notebook(cells), sandbox)
    runs = result.checks[0].message
    assert runs.render("en") == ("Syntax error in cell 3, line 1: expected an indented block after 'for' statement "
                                 "on line 1")
    assert runs.render("zh").startswith("第 3 个单元格第 1 行有语法错误")


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


def test_grader_grade_takes_notebooks_and_names_cells_in_its_report(sandbox, tmp_path):
    cells = script_cells(SCRIPTS["solution"].read_text())
    (tmp_path / "good.ipynb").write_text(colab_notebook(cells))
    broken = [c.replace("return w1", "return nothing + w1") for c in cells]
    (tmp_path / "broken.ipynb").write_text(jupyter_notebook(broken))
    mistake = script_cells(SCRIPTS["no_zero_grad"].read_text())
    (tmp_path / "mistake.ipynb").write_text(colab_notebook(mistake))
    loop = next(i for i, c in enumerate(mistake) if "l.backward()" in c)
    place = {"cell": loop + 2, "line": mistake[loop].splitlines().index("        l.backward()") + 1}
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "good-checkpoint.ipynb").write_text("{not a notebook")
    args = ["grade", str(tmp_path), "--assignment", "backprop-quadratic", "--assignments-dir", str(ROOT / "assignments")]
    text = grader_in_process(*args, "--lang", "en", sandbox=sandbox)
    assert text.returncode == 0, text.stderr
    assert "Your notebook raised NameError in cell" in text.stdout and ", line 2, in forward() (called from cell" in (
        text.stdout)
    assert "The first step that differs was made in cell {cell}, line {line}.".format(**place) in text.stdout
    lines = grader_in_process(*args, "--json", "--lang", "zh", sandbox=sandbox).stdout.strip().splitlines()
    results = {Path(r["path"]).name: r for r in map(json.loads, lines)}
    assert sorted(results) == ["broken.ipynb", "good.ipynb", "mistake.ipynb"]
    [trace] = [c for c in results["mistake.ipynb"]["checks"] if c["kind"] == "trace"]
    assert trace["first_difference_at"] == place
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


# ---- learners' notebooks for lectures 3-7, as they write them: each right, so each gets full marks

def _cells(assignment: str) -> list[str]:
    return script_cells((ROOT / "assignments" / assignment / "solution.py").read_text())


def _with_png(text: str, lines: int, png_bytes: int) -> str:
    """The notebook with the outputs of a long run saved in it: its training cell's prints, its last cell's plot."""
    notebook = json.loads(text)
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    code[-2]["outputs"] = [{"output_type": "stream", "name": "stdout",
                            "text": [f"epoch: {i} w= 1.99 loss= 0.01\n" for i in range(lines)]}]
    code[-1]["outputs"] = [{"output_type": "display_data", "metadata": {},
                            "data": {"image/png": "iVBOR" + "A" * png_bytes, "text/plain": ["<Figure>"]}}]
    code[-1]["execution_count"] = code[-2]["execution_count"] = 7
    return json.dumps(notebook)


def _gd_plot_last():
    cells = _cells("gradient-descent")
    return learner_notebook([("markdown", "# 第3讲 梯度下降"), "%matplotlib inline"] + cells[:-1]
                            + [("markdown", "## 画图")] + [cells[-1] + "\nplt.savefig('cost.png')"])


def _quadratic_colab():
    cells = _cells("backprop-quadratic")
    return learner_notebook(["!pip install torch -q 2>/dev/null",
                             "from google.colab import drive\ndrive.mount('/content/drive')"] + cells)


def _quadratic_timed():
    cells = _cells("backprop-quadratic")
    predict = cells[-1].replace("print('Predict(after training)',4,forward(4).item())",
                                "%time y = forward(4)\nprint('Predict(after training)', 4, y.item())")
    assert predict != cells[-1]
    return learner_notebook(cells[:-2] + ["%time l = loss(1.0, 2.0)\nprint(l)", cells[-2], predict])


def _quadratic_help():
    cells = _cells("backprop-quadratic")
    return learner_notebook(cells[:3] + ["torch.Tensor?", "?torch.Tensor.backward", "torch.Tensor.zero_??\nhelp?"]
                            + cells[3:])


def _linear_cell_time():
    lines = (ROOT / "assignments" / "backprop-linear" / "solution.py").read_text().splitlines()
    loop = next(i for i, line in enumerate(lines) if line.startswith("for epoch"))
    end = next(i for i, line in enumerate(lines) if line.startswith("print(\"predict (after"))
    return learner_notebook(["\n".join(lines[:loop]), "%%time\n" + "\n".join(lines[loop:end]), lines[end]])


def _quadratic_comments_and_empty_cells():
    cells = _cells("backprop-quadratic")
    return learner_notebook([("markdown", "# 第4讲 反向传播"), "# 作业：y = w1 x^2 + w2 x + b\n# 先导入 torch", ""]
                            + cells[:2] + ["   \n", "# 训练\n# (见下一个单元格)"] + cells[2:] + ["", "\n\n"])


def _linear_module_colab():
    cells = _cells("linear-regression-module")
    return learner_notebook(["!nvidia-smi\n!pip install -q torch torchvision",
                             "import torch\ndevice = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\n"
                             "print(device)"] + cells[1:3] + ["model = LinearModel()\nmodel"] + [cells[4]]
                            + ["%%time\n" + cells[5]] + cells[6:] + ["model.linear.weight.item()"])


def _logistic_lab():
    cells = _cells("logistic-regression")
    return jupyterlab_notebook(["%matplotlib inline\n%config InlineBackend.figure_format = 'svg'"] + cells[:2]
                               + ["display(x_data, y_data)"] + cells[2:4]
                               + ["model.linear.weight?", "print(model)\nmodel.linear"] + cells[4:])


def _diabetes_drive():
    return learner_notebook(["from google.colab import drive\ndrive.mount('/content/drive')\n"
                             "%cd /content/drive/MyDrive/pytorch\n!ls"] + _cells("multiple-dimension-input"))


def _quadratic_shell_assigned():
    return learner_notebook(["files = !ls\nprint(files)\nhere = %pwd"] + _cells("backprop-quadratic"))


def _quadratic_line_separator():
    cells = _cells("backprop-quadratic")
    return learner_notebook(["title = '第4讲\u2028反向传播'  # pasted from the slides\nprint(title)\x0c"] + cells)


def _linear_module_written_to_a_file():
    cells = _cells("linear-regression-module")
    return learner_notebook(cells[:2] + ["%%writefile linear_model.py\nimport torch\n\n" + cells[2],
                                         "from linear_model import LinearModel"] + cells[3:])


def _quadratic_percent_formatting():
    cells = _cells("backprop-quadratic")
    loop = next(i for i, c in enumerate(cells) if c.startswith("for epoch"))
    printed = cells[loop].replace("    print('Epoch:',epoch,l.item())", "    print('Epoch: %d, loss %.4f'\n"
                                  "          % (epoch, l.item()))")
    assert printed != cells[loop]
    return learner_notebook(["%matplotlib inline"] + cells[:loop] + [printed] + cells[loop + 1:])


def _gd_out_of_order():
    cells = _cells("gradient-descent")
    return learner_notebook(cells, counts=[5, 6, 1, 2, 3, 4, 9, 8])


LEARNERS = {
    # name: (assignment, the notebook's bytes, the notes it gets)
    "lecture3_plot_in_last_cell": ("gradient-descent", lambda: _gd_plot_last().encode(),
                                   {"note.notebook_magics_ignored_in_cells"}),
    "lecture3_crlf": ("gradient-descent",
                      lambda: _gd_plot_last().replace("\\n", "\\r\\n").replace("\n", "\r\n").encode(),
                      {"note.notebook_magics_ignored_in_cells"}),
    "lecture3_bom": ("gradient-descent", lambda: b"\xef\xbb\xbf" + _gd_plot_last().encode(),
                     {"note.notebook_magics_ignored_in_cells"}),
    "lecture3_huge_outputs": ("gradient-descent", lambda: _with_png(_gd_plot_last(), 100_000, 3_000_000).encode(),
                              {"note.notebook_magics_ignored_in_cells", "note.notebook_run_out_of_order"}),
    "lecture3_out_of_order": ("gradient-descent", lambda: _gd_out_of_order().encode(),
                              {"note.notebook_run_out_of_order"}),
    "lecture4_colab_pip_and_drive": ("backprop-quadratic", lambda: _quadratic_colab().encode(),
                                     {"note.notebook_magics_ignored_in_cells", "note.notebook_install_not_run",
                                      "note.notebook_colab_stand_in"}),
    "lecture4_time_magic": ("backprop-quadratic", lambda: _quadratic_timed().encode(), set()),
    "lecture4_help_lines": ("backprop-quadratic", lambda: _quadratic_help().encode(),
                            {"note.notebook_magics_ignored_in_cells"}),
    "lecture4_cell_time": ("backprop-linear", lambda: _linear_cell_time().encode(),
                           {"note.notebook_magics_ignored_in_cells"}),
    "lecture4_comments_and_empty_cells": ("backprop-quadratic",
                                          lambda: _quadratic_comments_and_empty_cells().encode(), set()),
    "lecture4_shell_output_assigned": ("backprop-quadratic", lambda: _quadratic_shell_assigned().encode(),
                                       {"note.notebook_magics_ignored_in_cells"}),
    "lecture4_percent_formatting_continued": ("backprop-quadratic", lambda: _quadratic_percent_formatting().encode(),
                                              {"note.notebook_magics_ignored_in_cells"}),
    "lecture4_line_separator_in_a_string": ("backprop-quadratic", lambda: _quadratic_line_separator().encode(),
                                            set()),
    "lecture5_colab_gpu_and_bare_values": ("linear-regression-module", lambda: _linear_module_colab().encode(),
                                           {"note.notebook_magics_ignored_in_cells",
                                            "note.notebook_install_not_run"}),
    "lecture5_model_in_a_written_file": ("linear-regression-module",
                                         lambda: _linear_module_written_to_a_file().encode(), set()),
    "lecture6_jupyterlab_display_and_plot": ("logistic-regression", lambda: _logistic_lab().encode(),
                                             {"note.notebook_magics_ignored_in_cells"}),
    "lecture7_drive_and_cd": ("multiple-dimension-input", lambda: _diabetes_drive().encode(),
                              {"note.notebook_magics_ignored_in_cells", "note.notebook_colab_stand_in"}),
}


@pytest.mark.parametrize("name", sorted(LEARNERS))
def test_a_learner_s_right_notebook_gets_full_marks_with_the_notes_it_needs(sandbox, name):
    assignment, notebook, notes = LEARNERS[name]
    spec = load_spec(ROOT / "assignments" / assignment / "assignment.yaml")
    upload = accept(notebook(), "作业.ipynb")
    result, _ = grade_upload(spec, upload.source, sandbox, upload.filename, upload.notebook)
    assert result.score == result.max_score, [(c.id, c.message.render("en")) for c in result.checks if not c.passed]
    assert {d.code for d in result.diagnoses} == notes, [d.render("en") for d in result.diagnoses]
    for note in result.diagnoses:
        assert note.render("zh") != note.render("en") and "{" not in note.render("zh")


SHIPPED = sorted([*ROOT.glob("assignments/*/solution.py"), *ROOT.glob("assignments/*/mistakes/*.py")])


def _same_place_free(result, lang: str) -> tuple:
    """verdict() with the words that name a place left out where a notebook names a cell (its own code then)."""
    def check(c):
        code = c.message.code.replace("_in_cell", "").replace("runs.exception_traced", "runs.exception")
        placed = code != c.message.code or code.startswith(("runs.", "check.stopped"))
        return c.id, c.passed, c.points, code, None if placed else c.message.render(lang)
    return (result.score, [check(c) for c in result.checks],
            sorted(d.code for d in result.diagnoses if not d.code.startswith("note.")))


@pytest.mark.slow
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT / "assignments")))
def test_every_shipped_solution_and_mistake_gets_its_script_s_verdict_as_a_notebook(sandbox, path):
    folder = path.parent.parent if path.parent.name == "mistakes" else path.parent
    spec = load_spec(folder / "assignment.yaml")
    source = path.read_text()
    expected, _ = grade_source(spec, source, sandbox, "hw.py")
    style = sorted(STYLES)[SHIPPED.index(path) % len(STYLES)]
    result, _ = grade_notebook_text(spec, STYLES[style](script_cells(source)), sandbox)
    for lang in ("en", "zh"):
        assert _same_place_free(result, lang) == _same_place_free(expected, lang), (style, lang)
    if path.name == "solution.py":
        assert result.score == result.max_score
