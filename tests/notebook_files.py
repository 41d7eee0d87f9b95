"""Notebooks as Jupyter Notebook 6, JupyterLab 4 and Colab save them, written from a script's cells.

Each keeps what its tool writes beside the code: kernel and language metadata, outputs (streams, results, a PNG
plot, a traceback with ANSI colours), widget state, a markdown cell with an attachment, Colab's per-cell ids.
"""
from __future__ import annotations

import json
import re

PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
WIDGET_STATE = {"application/vnd.jupyter.widget-state+json": {
    "state": {"5f0c1d": {"model_module": "@jupyter-widgets/controls", "model_name": "FloatProgressModel",
                         "model_module_version": "1.5.0", "state": {"value": 100, "max": 100}}},
    "version_major": 2, "version_minor": 0}}


def script_cells(script: str) -> list[str]:
    """A script cut into cells where a top-level statement follows a blank line (as a student pastes it)."""
    return [part.strip("\n") for part in re.split(r"\n\s*\n(?=\S)", script) if part.strip()]


def _lines(text: str) -> list[str]:
    """A cell's source as Jupyter saves it: a list of lines, each but the last ending in a newline."""
    return text.splitlines(keepends=True)


def _outputs(number: int, source: str) -> list[dict]:
    outputs: list[dict] = []
    if "print(" in source:
        outputs.append({"name": "stdout", "output_type": "stream", "text": ["what the student saw\n"]})
    if number % 3 == 0:
        outputs.append({"data": {"image/png": PNG, "text/plain": ["<Figure size 640x480 with 1 Axes>"]},
                        "metadata": {"needs_background": "light"}, "output_type": "display_data"})
    if number % 4 == 0:
        outputs.append({"data": {"text/plain": ["tensor([8.5442])"]}, "execution_count": number, "metadata": {},
                        "output_type": "execute_result"})
    if number % 5 == 0:
        outputs.append({"ename": "KeyboardInterrupt", "evalue": "", "output_type": "error",
                        "traceback": ["\u001b[0;31m----------------------------------------------------------\u001b[0m",
                                      "\u001b[0;31mKeyboardInterrupt\u001b[0m: "]})
    return outputs


def _markdown(text: str, attachment: bool) -> dict:
    cell: dict = {"cell_type": "markdown", "metadata": {}, "source": _lines(text)}
    if attachment:
        cell["source"] = _lines(text + "\n\n![plot.png](attachment:plot.png)")
        cell["attachments"] = {"plot.png": {"image/png": PNG}}
    return cell


def jupyter_notebook(cells: list[str], counts: list[int | None] | None = None) -> str:
    """Classic Jupyter Notebook 6: format 4.4, no cell ids, one space of indent, outputs and counts."""
    counts = counts or list(range(1, len(cells) + 1))
    body = [_markdown("# Homework: back propagation\nRun every cell in order.", attachment=False)]
    for number, (source, count) in enumerate(zip(cells, counts), 1):
        body.append({"cell_type": "code", "execution_count": count, "metadata": {"scrolled": True},
                     "outputs": _outputs(number, source) if count is not None else [], "source": _lines(source)})
    notebook = {"cells": body, "metadata": {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                          "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                          "pygments_lexer": "ipython3", "version": "3.8.10"}},
        "nbformat": 4, "nbformat_minor": 4}
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def jupyterlab_notebook(cells: list[str], counts: list[int | None] | None = None) -> str:
    """JupyterLab 4: format 4.5 with cell ids, tags and collapsed state, widget state saved, a raw cell."""
    counts = counts or list(range(1, len(cells) + 1))
    body = [_markdown("## 作业：反向传播", attachment=True),
            {"cell_type": "raw", "id": "raw-0", "metadata": {}, "source": ["not code: the grader skips it"]}]
    body[0]["id"] = "md-0"
    for number, (source, count) in enumerate(zip(cells, counts), 1):
        body.append({"cell_type": "code", "execution_count": count, "id": f"c{number:04x}-lab",
                     "metadata": {"tags": ["solution"], "jupyter": {"source_hidden": False},
                                  "collapsed": False},
                     "outputs": _outputs(number, source) if count is not None else [], "source": _lines(source)})
    notebook = {"cells": body, "metadata": {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                          "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                          "pygments_lexer": "ipython3", "version": "3.11.5"},
        "widgets": WIDGET_STATE},
        "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def colab_notebook(cells: list[str], counts: list[int | None] | None = None) -> str:
    """Google Colab: format 4.0, ids and output ids in each cell's metadata, source lists, GPU accelerator,
    widget state, two-space indent."""
    counts = counts or [None] * len(cells)
    body = []
    for number, (source, count) in enumerate(zip(cells, counts), 1):
        cell = {"cell_type": "code", "execution_count": count,
                "metadata": {"id": f"xYz{number}AbC", "colab": {"base_uri": "https://localhost:8080/"},
                             "outputId": f"0a1b2c3d-{number:04d}"},
                "outputs": _outputs(number, source) if count is not None else [], "source": _lines(source)}
        body.append(cell)
    body.insert(0, {"cell_type": "markdown", "metadata": {"id": "intro"}, "source": ["Homework (Colab)"]})
    notebook = {"nbformat": 4, "nbformat_minor": 0, "metadata": {
        "colab": {"provenance": [], "name": "hw.ipynb", "gpuType": "T4"},
        "kernelspec": {"name": "python3", "display_name": "Python 3"},
        "language_info": {"name": "python"}, "accelerator": "GPU", "widgets": WIDGET_STATE},
        "cells": body}
    return json.dumps(notebook, indent=2, ensure_ascii=False)


STYLES = {"jupyter": jupyter_notebook, "jupyterlab": jupyterlab_notebook, "colab": colab_notebook}


def learner_notebook(cells: list, counts: list[int | None] | None = None) -> str:
    """A learner's Colab notebook: cells as code (a string) or ("markdown", text), each code cell with the
    execution count given (None where never run) and the outputs of notebook_files' tools."""
    counts = counts or [None] * len(cells)
    body, number = [], 0
    for cell, count in zip(cells, counts):
        kind, source = cell if isinstance(cell, tuple) else ("code", cell)
        number += 1
        entry = {"cell_type": kind, "metadata": {"id": f"learner{number}"}, "source": _lines(source)}
        if kind == "code":
            entry.update(execution_count=count, outputs=_outputs(number, source) if count is not None else [])
        body.append(entry)
    notebook = {"nbformat": 4, "nbformat_minor": 0, "metadata": {
        "colab": {"provenance": [], "toc_visible": True}, "kernelspec": {"name": "python3", "display_name": "Python 3"},
        "language_info": {"name": "python"}}, "cells": body}
    return json.dumps(notebook, indent=2, ensure_ascii=False)
