"""A notebook read, checked and turned into one program, outside any sandbox: sentences, line map, output by cell."""
from __future__ import annotations

import json

import pytest

from grader import notebook as nb
from grader.messages import Message
from grader.submissions import SubmissionError, accept
from notebook_files import STYLES, colab_notebook, jupyter_notebook, jupyterlab_notebook

CELLS = ["import torch\nx = 1", "def f(a):\n    return a + x", "print(f(2))"]


def test_each_tool_s_notebook_reads_to_its_code_cells_numbered_over_all_cells():
    first_code_cell = {"jupyter": 2, "jupyterlab": 3, "colab": 2}
    for style, write in STYLES.items():
        notebook = nb.read_notebook(write(CELLS), 1024)
        code = notebook.code_cells
        assert [c.source for c in code] == CELLS, style
        assert [c.number for c in code] == [first_code_cell[style] + i for i in range(3)], style


def test_the_line_map_names_the_cell_and_the_line_in_it():
    where = nb.program(nb.read_notebook(jupyter_notebook(CELLS), 1024))
    lines = where.source.splitlines()
    line = lines.index("    return a + x") + 1
    assert where.place(line) == (3, 2)
    assert where.place(lines.index("print(f(2))") + 1) == (4, 1)
    assert where.place(1) is None  # the grader's own first lines name no cell
    assert where.place(len(lines) + 5) is None


def test_the_extracted_code_is_a_percent_format_script_of_the_code_cells():
    code = nb.extracted_code(nb.read_notebook(jupyterlab_notebook(CELLS), 1024))
    assert code.startswith("# %% cell 3\nimport torch\nx = 1\n")
    assert "# %% cell 5\nprint(f(2))\n" in code
    assert "not code" not in code  # the raw cell


@pytest.mark.parametrize("text, expected", [
    ("{not json", "not JSON (the problem is at line 1, column 2)"),
    ("[1, 2]", "JSON but not a Jupyter notebook: it has no cells"),
    (json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": []}), "notebook format 3"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code"}]}),
     "not a valid Jupyter notebook"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": 5}), "not a valid Jupyter notebook"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "id": "a", "metadata": {}, "source": "# only words"}]}), "no code cells"),
])
def test_a_file_that_is_no_usable_notebook_gets_a_sentence_in_both_languages(text, expected):
    with pytest.raises(SubmissionError) as caught:
        accept(text.encode(), "hw.ipynb")
    assert expected in caught.value.render("en")
    zh = caught.value.render("zh")
    assert zh != caught.value.render("en") and any("\u4e00" <= ch <= "\u9fff" for ch in zh)


def test_the_code_cap_counts_code_cells_and_names_the_largest_cell():
    big = "x = 1\n" * 400
    with pytest.raises(SubmissionError) as caught:
        accept(colab_notebook(["import torch", big]).encode(), "hw.ipynb", max_bytes=1024)
    assert "cell 3 alone holds 2 KB" in caught.value.render("en")
    assert "第 3 个单元格" in caught.value.render("zh")


def test_outputs_and_attachments_do_not_count_and_are_dropped_when_the_file_is_over_the_cap():
    text = jupyterlab_notebook(CELLS)
    heavy = json.loads(text)
    heavy["cells"][2]["outputs"].append({"output_type": "display_data", "metadata": {},
                                         "data": {"image/png": nb_png(60_000)}})
    upload = accept(json.dumps(heavy).encode(), "hw.ipynb", max_bytes=8 * 1024)
    assert len(upload.notebook.encode()) < 8 * 1024
    assert [c.source for c in nb.read_notebook(upload.notebook, 1024).code_cells] == CELLS
    assert "image/png" not in upload.notebook and "widget-state" not in upload.notebook
    counts = [c.execution_count for c in nb.read_notebook(upload.notebook, 1024).code_cells]
    assert counts == [1, 2, 3]  # kept for the note on a session run out of order
    small = accept(text.encode(), "hw.ipynb")
    assert small.notebook == text and small.filename == "hw.ipynb"  # as uploaded when it fits
    assert small.source.startswith("# %% cell 3")


def nb_png(size: int) -> str:
    return "iVBOR" + "A" * size


def test_output_splits_by_cell_and_a_forged_marker_moves_nothing_else():
    where = nb.program(nb.read_notebook(jupyter_notebook(CELLS), 1024))
    marker = lambda cell, token=where.token: f"\n{token}:{cell}\n"  # noqa: E731
    stdout = (marker(2) + "a\n" + marker(3) + marker(4) + "3\n"
              + marker(3) + "forged backwards\n" + marker(99) + "no such cell\n"
              + marker(4, "\x1eguessed") + "wrong token\n")
    clean, starts = nb.split_output(stdout, where)
    forged = (marker(3) + "forged backwards\n" + marker(99) + "no such cell\n" + marker(4, "\x1eguessed")
              + "wrong token\n")
    assert clean == "a\n3\n" + forged  # what the student printed stays, word for word
    assert starts == [(2, 0), (3, 2), (4, 2)]
    outputs = nb.cell_outputs(clean, starts)
    assert outputs[2] == "a\n"
    assert 3 not in outputs
    assert outputs[4].startswith("3\n") and "forged backwards" in outputs[4] and "wrong token" in outputs[4]


def test_a_truncated_output_keeps_what_came():
    where = nb.program(nb.read_notebook(jupyter_notebook(CELLS), 1024))
    clean, starts = nb.split_output(f"\n{where.token}:2\nhello\n{where.token[:5]}", where)
    assert starts == [(2, 0)] and clean.startswith("hello\n")


def test_messages_name_cells_and_unknown_codes_pass_through():
    where = nb.program(nb.read_notebook(jupyter_notebook(CELLS), 1024))
    line = where.source.splitlines().index("    return a + x") + 1
    located = nb.locate(Message("runs.exception", {"type": "NameError", "line": line, "message": "m"}), where)
    assert located == Message("runs.exception_in_cell", {"type": "NameError", "line": 2, "cell": 3, "message": "m"})
    assert located.render("en") == "Your notebook raised NameError in cell 3, line 2: m"
    assert "3" in located.render("zh") and located.render("zh") != located.render("en")
    assert nb.locate(Message("trace.ok", {"steps": 3}), where) == Message("trace.ok", {"steps": 3})
    call = where.source.splitlines().index("print(f(2))") + 1
    traced = nb.locate(Message("runs.exception_traced", {"type": "NameError", "line": line, "function": "f",
                                                         "message": "m", "lines": f"{call} → {line}",
                                                         "called_from": call}), where)
    assert traced.render("en") == ("Your notebook raised NameError in cell 3, line 2, in f() (called from cell 4, "
                                   "line 1): m")
    ours = nb.locate(Message("runs.exception_traced", {"type": "E", "line": line, "function": "f", "message": "m",
                                                       "lines": f"1 → {line}", "called_from": 1}), where)
    assert ours == Message("runs.exception_in_cell", {"type": "E", "line": 2, "cell": 3, "message": "m"})
    text = f'  File "hw.ipynb", line {line}, in f\n  File "other.py", line {line}\n'
    assert nb.locate_traceback(text, "hw.ipynb", where) == (
        f'  File "hw.ipynb", cell 3, line 2, in f\n  File "other.py", line {line}\n')


def test_installs_cell_magics_and_an_out_of_order_session_are_noted():
    cells = ["!pip install -q torch==2.1 tqdm > /dev/null", "%%bash\necho hi",
             "%pip install --upgrade seaborn\nimport torch", "x = 1"]
    notebook = nb.read_notebook(jupyter_notebook(cells, counts=[1, 2, 7, 3]), 1024)
    where = nb.program(notebook)
    assert "echo hi" not in where.source
    notes = {m.code: m for m in nb.notebook_notes(notebook, where, ["numpy", "torch"])}
    assert notes["note.notebook_install_not_run"].params == {
        "cells": "2, 4", "packages": "torch==2.1 tqdm seaborn", "available": "numpy, torch"}
    assert notes["note.notebook_cells_skipped"].params == {"cells": "3"}
    assert notes["note.notebook_run_out_of_order"].params == {"cells": "5"}
    for note in notes.values():
        assert note.render("zh") != note.render("en")


def test_a_notebook_run_top_to_bottom_or_never_run_gets_no_order_note():
    for counts in ([1, 2, 3], [None, None, None], [4, None, 9]):
        notebook = nb.read_notebook(jupyter_notebook(CELLS, counts=counts), 1024)
        codes = [m.code for m in nb.notebook_notes(notebook, nb.program(notebook), [])]
        assert "note.notebook_run_out_of_order" not in codes


def test_a_syntax_error_python_puts_between_cells_names_the_cell_that_left_it_open():
    notebook = nb.read_notebook(jupyter_notebook(["import torch", "for i in range(3):", "x = 1\ny = (2,"]), 1024)
    where = nb.program(notebook)
    lines = where.source.splitlines()
    header, marker = lines.index("for i in range(3):") + 1, lines.index("__grader_cell__(4)") + 1
    unclosed = lines.index("y = (2,") + 1
    message = f"expected an indented block after 'for' statement on line {header}"
    located = nb.locate(Message("runs.syntax_error", {"line": marker, "message": message}), where)
    assert located.render("en") == ("Syntax error in cell 3, line 1: expected an indented block after 'for' "
                                    "statement on line 1")
    located = nb.locate(Message("runs.syntax_error", {"line": header, "message": f"(detected at line {unclosed})"}),
                        where)
    assert located.params["message"] == "(detected at line 2 of cell 4)"
    assert nb.locate(Message("runs.syntax_error", {"line": 1, "message": "m"}), where).code == "runs.syntax_error"
    # a runtime error never sits on a line of ours: its place is the line's own or none
    assert nb.locate(Message("runs.exception", {"type": "E", "line": marker, "message": "m"}), where).code == (
        "runs.exception")


def test_cell_lines_are_python_s_lines_not_str_splitlines():
    source = "title = '第4讲\u2028反向传播'\x0c\r\nprint(title)\rx = 1\n"
    assert nb.source_lines(source) == ["title = '第4讲\u2028反向传播'\x0c", "print(title)", "x = 1"]
    assert nb.source_lines("") == [""]
    where = nb.program(nb.read_notebook(colab_notebook([source]), 1024))
    compile(where.source, "hw.ipynb", "exec")
    assert where.place(nb.source_lines(where.source).index("x = 1") + 1) == (2, 3)  # Python's line, the cell's line


def test_a_notebook_renamed_py_is_taken_as_the_notebook_it_is():
    upload = accept(colab_notebook(CELLS).encode(), "作业.py")
    assert upload.filename == "作业.ipynb" and upload.notebook is not None and upload.source.startswith("# %% cell 2")
    old = json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": []}).encode()
    with pytest.raises(SubmissionError) as caught:
        accept(old, "hw.py")
    assert "notebook format 3" in caught.value.render("en")
    for script in ('{"nbformat": 4}\nprint(1)\n', '{"cells": [], "note": "a dict, not a notebook"}\n', "x = {}\n"):
        upload = accept(script.encode(), "hw.py")
        assert upload.notebook is None and upload.source == script and upload.filename == "hw.py"


def test_a_writefile_cell_is_one_line_that_writes_its_body():
    body = "import torch\n\ntitle = '第4讲\u2028反向传播'\n"
    where = nb.program(nb.read_notebook(colab_notebook(["%%writefile -a model.py\n" + body, "x = 1"]), 1024))
    [line] = [s for s in where.source.splitlines() if s.startswith("__grader_writefile__(")]
    assert line == f"__grader_writefile__('-a model.py', {body!r})"
    assert where.place(where.source.splitlines().index(line) + 1) == (2, 1) and where.skipped == []
    compile(where.source, "hw.ipynb", "exec")


KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}


def test_what_is_never_run_is_neither_validated_nor_stored_beyond_the_cap():
    import time

    code = {"cell_type": "code", "id": "c", "metadata": {}, "source": "x = 1", "execution_count": 1,
            "outputs": [{"output_type": "stream", "name": "stdout", "text": "x\n"}] * 200_000}
    pasted = {"cell_type": "markdown", "id": "m", "metadata": {"colab": {"base_uri": "x" * 100}},
              "source": "![plot](data:image/png;base64," + "A" * 3_000_000 + ")"}
    text = json.dumps({"nbformat": 4, "nbformat_minor": 5, "cells": [pasted, code],
                       "metadata": {"widgets": {"w": "x" * 1_000_000}, "kernelspec": KERNEL}})
    started = time.process_time()
    upload = accept(text.encode(), "hw.ipynb", max_bytes=8 * 1024)
    assert time.process_time() - started < 4  # the schema checks 200,000 outputs in about 6 s of CPU, none in 0.4
    assert len(upload.notebook.encode()) < 8 * 1024
    stored = nb.read_notebook(upload.notebook, 1024)
    assert [(c.number, c.kind, c.source) for c in stored.cells] == [(1, "markdown", ""), (2, "code", "x = 1")]
    assert stored.cells[1].execution_count == 1 and json.loads(upload.notebook)["metadata"] == {
        "kernelspec": KERNEL}
