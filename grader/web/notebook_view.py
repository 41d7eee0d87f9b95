"""A notebook submission as the pages show it: every cell with its number, its code's lines, and what it printed.

The numbers are grader.notebook's (all cells, top to bottom), the ones every message names; a script has none."""
from __future__ import annotations

from dataclasses import dataclass

from grader.models import Submission
from grader.notebook import NotebookError, cell_outputs, read_notebook, source_lines


@dataclass(frozen=True)
class ShownCell:
    number: int
    kind: str  # code, markdown, raw
    lines: list[str]
    output: str  # what the cell printed in the grader's run (code cells; empty when nothing, or not kept)


def outputs_by_cell(s: Submission) -> dict[int, str] | None:
    """What each cell printed, from the stored excerpt; None for a script (or a run that kept no cells)."""
    if s.stdout_cells is None:
        return None
    return cell_outputs(s.stdout_excerpt or "", [(int(cell), int(offset)) for cell, offset in s.stdout_cells])


def shown_cells(s: Submission) -> list[ShownCell] | None:
    """The notebook's cells for the source views; None for a script."""
    if s.notebook is None:
        return None
    try:  # accepted when uploaded; the cap was checked then
        notebook = read_notebook(s.notebook, len(s.notebook.encode("utf-8")))
    except NotebookError:
        return None
    outputs = outputs_by_cell(s) or {}
    return [ShownCell(c.number, c.kind, source_lines(c.source), outputs.get(c.number, "")) for c in notebook.cells]
