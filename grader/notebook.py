"""A Jupyter notebook (nbformat 4) as the grader runs it: its code cells, top to bottom, as one Python program.

Rules, each written only here:
- A notebook is read with `nbformat` (JSON first, so that a broken file gets a sentence naming where; then
  nbformat 4 and its schema, extra keys allowed as Colab writes them). Cells are numbered 1, 2, ... over all cells,
  markdown and raw included, top to bottom, as the source view shows them; only code cells run.
- The size cap counts the code cells' text (UTF-8); outputs, attachments and widget state are never run (nor
  validated: they leave the notebook first, with the metadata), and a stored notebook is cut down to its cells'
  sources and counts when the file as uploaded is over the cap, its markdown and raw cells emptied when that is
  still over (stored_text). A notebook has at most MAX_CELLS cells.
- The program is the code cells in order, each preceded by one line of ours that prints a marker carrying a token
  drawn for this run; a few lines of ours come first (an IPython stand-in when IPython is not installed, so that
  `from IPython.display import display` works). A line map turns every program line back into (cell, line).
- IPython syntax: % and ! lines and `name?` help lines are left as they are, and worker/harness.py makes them Python
  when the program does not compile otherwise (`%time statement` runs the statement, the others do nothing; its note
  is located here, by cell); a %%writefile cell writes its file into the working directory, which the program may
  import from, as a kernel's; a cell that starts with a cell magic whose body is not Python (%%bash, %%html, ...)
  is left out; pip and conda installs are never run, and a note says so. `google.colab` is a stand-in that does
  nothing (drive.mount mounts no Drive), and a note says so. A bare expression at the end of a cell prints nothing,
  as in any program.
- A syntax error that Python finds on a line of ours (a cell left a `for` line without its body) is the last line of
  the cell above it; the line numbers in Python's own words name cells too.
- The student's output is untrusted: a marker counts only when it carries this run's token and a cell number after
  the last one counted; anything else is output. A forged marker can only move the student's own output between
  their own cells.
"""
from __future__ import annotations

import json
import re
import secrets
import warnings
from dataclasses import dataclass, field

import nbformat
from nbformat import validator

from grader.messages import Message
from grader.notebook_prologue import PROLOGUE
from grader.i18n import N_, gettext

NOTEBOOK_SUFFIX = ".ipynb"
NOTEBOOK_MAX_BYTES = 20 * 1024 * 1024  # a notebook as uploaded, outputs and images included
MAX_CELLS = 1000  # each costs schema checks; a homework notebook has a few dozen
CELL_MAGICS_NOT_PYTHON = ("bash", "sh", "script", "html", "javascript", "js", "latex", "markdown", "svg", "perl",
                          "ruby", "sql", "system", "sx")
CELL_MAGICS_WRITING = ("writefile", "file")  # the body is written to the file named, as IPython does
_INSTALL = re.compile(r"^\s*[!%]\s*(?:pip3?|conda|mamba|python3?\s+-m\s+pip|uv\s+pip)\s+install\b(?P<what>.*)$")
_CELL_MAGIC = re.compile(r"^\s*%%\s*(?P<name>\w+)")
_COLAB = re.compile(r"^[ \t]*(?:from[ \t]+google\.colab\b|import[ \t]+google\.colab\b)", re.MULTILINE)



class NotebookError(ValueError):
    """A notebook we refuse: an English sentence (a gettext id) and its parameters, put into words when shown."""

    def __init__(self, text: str, too_large: bool = False, **params):
        self.text, self.params, self.too_large = text, params, too_large
        super().__init__(text % params if params else text)

    def render(self, lang: str) -> str:
        return gettext(lang, self.text, **self.params)


@dataclass(frozen=True)
class Cell:
    """One cell: its number over all cells (from 1), its type, its source and the count Jupyter showed."""

    number: int
    kind: str
    source: str
    execution_count: int | None = None


@dataclass(frozen=True)
class Notebook:
    cells: list[Cell]

    @property
    def code_cells(self) -> list[Cell]:
        return [c for c in self.cells if c.kind == "code"]


def is_notebook_name(name: str | None) -> bool:
    return (name or "").lower().endswith(NOTEBOOK_SUFFIX)


def is_notebook_text(text: str) -> bool:
    """Whether a file's text is a notebook's JSON (an object with its format and cells), whatever the file's name."""
    if not text.lstrip().startswith("{"):
        return False
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(data, dict) and "nbformat" in data and ("cells" in data or "worksheets" in data)


def read_notebook(text: str, max_code_bytes: int) -> Notebook:
    """The notebook in `text`, or NotebookError with a sentence for the student (module rules)."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        line, column = (exc.lineno, exc.colno) if isinstance(exc, json.JSONDecodeError) else ("?", "?")
        raise NotebookError(N_("This .ipynb file is not a Jupyter notebook: its text is not JSON (the problem is at "
                               "line %(line)s, column %(column)s). Download the notebook again from Jupyter or "
                               "Colab (File → Download → .ipynb)."), line=line, column=column) from None
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        raise NotebookError(N_("This .ipynb file is JSON but not a Jupyter notebook: it has no cells."))
    version = data.get("nbformat")
    if version != 4:
        raise NotebookError(N_("This notebook is in notebook format %(version)s; the grader reads format 4, which "
                               "every current Jupyter, JupyterLab and Colab saves. Open it there and save it again."),
                            version=version if isinstance(version, int) else "?")
    cells = data.get("cells")
    if isinstance(cells, list) and len(cells) > MAX_CELLS:
        raise NotebookError(N_("The notebook has %(cells)s cells; the grader takes at most %(max)s (a homework "
                               "notebook has a few dozen)."), True, cells=len(cells), max=MAX_CELLS)
    _drop_unused(data)
    try:
        with warnings.catch_warnings():  # nbformat warns about what normalize() just repaired
            warnings.simplefilter("ignore")
            # normalize() adds the cell ids that a notebook of format 4.5 saved by an older tool lacks
            notebook = nbformat.from_dict(validator.normalize(data, relax_add_props=True)[1])
            nbformat.validate(notebook, relax_add_props=True)
    except (nbformat.ValidationError, AttributeError, KeyError, TypeError, ValueError) as exc:
        detail = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        raise NotebookError(N_("This .ipynb file is not a valid Jupyter notebook (%(detail)s). Download the notebook "
                               "again from Jupyter or Colab."), detail=str(detail)[:200]) from None
    cells = [Cell(i, c.cell_type, _text(c.get("source", "")), c.get("execution_count"))
             for i, c in enumerate(notebook.cells, 1)]
    found = Notebook(cells)
    if not any(c.source.strip() for c in found.code_cells):
        raise NotebookError(N_("The notebook has no code cells (or only empty ones), so there is nothing to run."))
    total = sum(len(c.source.encode("utf-8")) for c in found.code_cells)
    if total > max_code_bytes:
        largest = max(found.code_cells, key=lambda c: len(c.source.encode("utf-8")))
        raise NotebookError(N_("The notebook's code is larger than %(kb)s KB (cell %(cell)s alone holds %(cell_kb)s "
                               "KB); a homework notebook holds a few KB of code."), True, kb=max_code_bytes // 1024,
                            cell=largest.number, cell_kb=len(largest.source.encode("utf-8")) // 1024)
    if "\x00" in "".join(c.source for c in found.code_cells):
        raise NotebookError(N_("The notebook's code contains a NUL character, so it is not Python."))
    return found


def _drop_unused(data: dict) -> None:
    """What is never run leaves the notebook before it is validated (module rules): outputs, attachments, widget
    state and metadata (but a small kernelspec and language_info), which may be most of 20 MB and cost seconds of
    schema checks."""
    metadata = data.get("metadata")
    data["metadata"] = {k: v for k, v in metadata.items() if k in ("kernelspec", "language_info")
                        and len(json.dumps(v)) < 1024} if isinstance(metadata, dict) else metadata
    for cell in data.get("cells") if isinstance(data.get("cells"), list) else ():
        if isinstance(cell, dict):
            cell.pop("attachments", None)
            if "metadata" in cell:
                cell["metadata"] = {}
            if "outputs" in cell:
                cell["outputs"] = []


def _text(source) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


def stored_text(text: str, max_bytes: int) -> str:
    """The notebook as stored: as uploaded when it fits `max_bytes`, else only its cells' sources and execution
    counts (outputs, attachments, widget state and metadata dropped; the counts stay for the note on a session run
    out of order), and when that is still over `max_bytes`, its markdown and raw cells emptied too: what is left is
    the code cells' text, which the cap bounds, and the JSON of at most MAX_CELLS cells. Only for a notebook
    read_notebook() accepted."""
    if len(text.encode("utf-8")) <= max_bytes:
        return text
    data = json.loads(text)
    _drop_unused(data)
    cut = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    if len(cut.encode("utf-8")) <= max_bytes:
        return cut
    for cell in data["cells"]:  # text cells over the cap too (images pasted into markdown): the cells stay numbered
        if cell["cell_type"] != "code":
            cell["source"] = ""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def extracted_code(notebook: Notebook) -> str:
    """The code cells as one Python file in the "percent" format editors read (`# %% cell 3`), for staff to
    download and for every view that shows the code as a script."""
    parts = [f"# %% cell {c.number}\n{c.source.rstrip()}\n" for c in notebook.code_cells]
    return "\n".join(parts)


@dataclass(frozen=True)
class Program:
    """What the sandbox runs for a notebook, and where each of its lines came from."""

    source: str
    token: str
    places: list[tuple[int, int] | None]  # program line - 1 → (cell, line in cell); None for the grader's lines
    skipped: list[int] = field(default_factory=list)  # cells left out: a cell magic whose body is not Python

    def place(self, line: int | None) -> tuple[int, int] | None:
        """(cell, line in cell) of a program line; None for a line of ours or out of range."""
        if not isinstance(line, int) or not 1 <= line <= len(self.places):
            return None
        return self.places[line - 1]

    def place_before(self, line: int | None) -> tuple[int, int] | None:
        """place(), and for a line of ours between cells (where Python puts a syntax error that a cell left open,
        such as a `for` line with no body) the last line of the cell above it."""
        if not isinstance(line, int) or not 1 <= line <= len(self.places):
            return None
        return next((p for p in reversed(self.places[:line]) if p is not None), None)


def program(notebook: Notebook, token: str | None = None) -> Program:
    """The code cells as one program with a marker before each (module rules)."""
    token = token or "\x1e" + secrets.token_hex(16)
    lines = PROLOGUE.replace("TOKEN", repr(token)).splitlines()
    places: list[tuple[int, int] | None] = [None] * len(lines)
    skipped = []
    for cell in notebook.code_cells:
        lines.append(f"__grader_cell__({cell.number})")
        places.append(None)
        magic = _CELL_MAGIC.match(cell.source)
        if magic and magic.group("name") in CELL_MAGICS_WRITING:
            head, _, body = cell.source.partition("\n")
            lines.append(f"__grader_writefile__({head[magic.end():].strip()!r}, {body!r})")  # one line: repr escapes
            places.append((cell.number, 1))
            continue
        if magic and magic.group("name") in CELL_MAGICS_NOT_PYTHON:
            skipped.append(cell.number)
            continue
        for number, line in enumerate(source_lines(cell.source), 1):
            lines.append(line)
            places.append((cell.number, number))
    return Program("\n".join(lines) + "\n", token, places, skipped)


def source_lines(source: str) -> list[str]:
    """A cell's lines as Python counts them: \\n, \\r\\n and \\r end a line; U+2028, a form feed or a vertical tab
    (str.splitlines() ends lines there too) may sit inside a string or a comment."""
    lines = re.split(r"\r\n|\r|\n", source)
    return lines[:-1] if len(lines) > 1 and lines[-1] == "" else lines


def split_output(stdout: str, where: Program) -> tuple[str, list[tuple[int, int]]]:
    """The output without our markers, and where each cell's output starts in it: [(cell, offset)], cells in
    increasing order (module rules: a marker out of order, of no code cell or without the token stays output)."""
    token, cells = where.token, {place[0] for place in where.places if place is not None} | set(where.skipped)
    marker = re.compile("\n" + re.escape(token) + r":(\d+)\n")
    clean, starts, last, at = [], [], 0, 0
    length = 0
    for found in marker.finditer(stdout):
        cell = int(found.group(1))
        if cell <= last or cell not in cells:
            continue
        clean.append(stdout[at:found.start()])
        length += found.start() - at
        starts.append((cell, length))
        last, at = cell, found.end()
    clean.append(stdout[at:])
    return "".join(clean), starts


def cell_outputs(stdout: str, starts: list[tuple[int, int]]) -> dict[int, str]:
    """Each cell's own output, from split_output's starts; what came before the first cell is left out."""
    bounds = [offset for _, offset in starts[1:]] + [len(stdout)]
    return {cell: stdout[offset:end] for (cell, offset), end in zip(starts, bounds) if stdout[offset:end]}


# Messages that name a program line, and the code that names the cell instead (its parameters: cell and line).
IN_CELL = {
    "runs.syntax_error": "runs.syntax_error_in_cell",
    "runs.exception": "runs.exception_in_cell",
    "runs.exception_traced": "runs.exception_in_cell",  # ... or runs.exception_traced_in_cell (locate)
    "runs.missing_module": "runs.missing_module_in_cell",
    "check.stopped_before_defined": "check.stopped_before_defined_in_cell",
    "check.stopped_before_training": "check.stopped_before_training_in_cell",
    "check.stopped_during_training": "check.stopped_during_training_in_cell",
    "note.replaced_after_training_at": "note.replaced_after_training_at_in_cell",
}
LINES_IN_CELLS = {"note.notebook_magics_ignored": "note.notebook_magics_ignored_in_cells"}


# where CPython's syntax errors name a line: "after 'for' statement on line 30", "(detected at line 32)"
_PYTHON_LINE = re.compile(r"(?P<words>(?:statement|definition) on line |detected at line |parenthesis '[(\[{]' on "
                          r"line )(?P<line>\d+)")


def locate(message: Message, where: Program) -> Message:
    """The message with its program line turned into a cell and a line in it, under its in-cell code; a syntax
    error's own words name cells too (Python's "after 'for' statement on line 30")."""
    if message.code in IN_CELL:
        syntax = message.code == "runs.syntax_error"
        place = (where.place_before if syntax else where.place)(message.params.get("line"))
        if place is not None:
            params = {**message.params, "cell": place[0], "line": place[1]}
            if syntax and isinstance(params.get("message"), str):
                params["message"] = _PYTHON_LINE.sub(lambda found: _line_words(found, place[0], where),
                                                     params["message"])
            if message.code == "runs.exception_traced":
                return _traced(params, where)
            return Message(IN_CELL[message.code], params)
    if message.code in LINES_IN_CELLS:
        cells = sorted({p[0] for p in map(where.place, message.params.get("lines") or []) if p is not None})
        return Message(LINES_IN_CELLS[message.code], {"cells": cell_list(cells)})
    return message


def locate_details(details: dict, where: Program) -> dict:
    """A check's details with the first difference's program line (the call that made the step) as a cell and a
    line in it; a line of ours is left out."""
    first = details.get("first") if isinstance(details, dict) else None
    if not isinstance(first, dict) or "line" not in first:
        return details
    place = where.place(first["line"])
    located = {k: v for k, v in first.items() if k != "line"}
    if place is not None:
        located.update(cell=place[0], line=place[1])
    return {**details, "first": located}


def _traced(params: dict, where: Program) -> Message:
    """An exception raised in a function: in the cell and line where it was raised, called from the line of a cell
    that started the calls (the program lines between mean nothing in cells; the traceback names each)."""
    params.pop("lines", None)
    start = where.place(params.pop("called_from", None))
    if start is None:
        params.pop("function", None)
        return Message("runs.exception_in_cell", params)
    return Message("runs.exception_traced_in_cell", {**params, "from_cell": start[0], "from_line": start[1]})


def _line_words(found: re.Match, cell: int, where: Program) -> str:
    """A program line in Python's words as the cell's line ("on line 2"), or another cell's ("at line 1 of cell 4")."""
    place = where.place_before(int(found.group("line")))
    if place is None:
        return found.group(0)
    return found.group("words") + (str(place[1]) if place[0] == cell else f"{place[1]} of cell {place[0]}")


def locate_traceback(text: str, filename: str, where: Program) -> str:
    """A traceback with each `File "<filename>", line N` naming the cell and its line instead."""
    pattern = re.compile(r'File "' + re.escape(filename) + r'", line (\d+)')

    def in_cell(found: re.Match) -> str:
        place = where.place(int(found.group(1)))
        if place is None:
            return found.group(0)
        return f'File "{filename}", cell {place[0]}, line {place[1]}'

    return pattern.sub(in_cell, text)


def cell_list(cells) -> str:
    """Cell numbers as a message shows them: "3, 5"."""
    return ", ".join(str(c) for c in sorted(cells))


def notebook_notes(notebook: Notebook, where: Program, available: list[str]) -> list[Message]:
    """What the student should know about how their notebook was run: installs not run, cells left out, and a
    session that ran its cells in another order than top to bottom."""
    notes = []
    installs = [(c.number, _packages(found.group("what"))) for c in notebook.code_cells
                for found in map(_INSTALL.match, c.source.splitlines()) if found]
    if installs:
        notes.append(Message("note.notebook_install_not_run", {
            "cells": cell_list({cell for cell, _ in installs}),
            "packages": " ".join(what for _, what in installs if what)[:200] or "-",
            "available": ", ".join(available) or "-"}))
    colab = sorted({c.number for c in notebook.code_cells if _COLAB.search(c.source)})
    if colab:
        notes.append(Message("note.notebook_colab_stand_in", {"cells": cell_list(colab)}))
    if where.skipped:
        notes.append(Message("note.notebook_cells_skipped", {"cells": cell_list(where.skipped)}))
    counts = [(c.number, c.execution_count) for c in notebook.code_cells if isinstance(c.execution_count, int)]
    out_of_order = [cell for (_, before), (cell, count) in zip(counts, counts[1:]) if count <= before]
    if out_of_order:
        notes.append(Message("note.notebook_run_out_of_order", {"cells": cell_list(out_of_order[:20])}))
    return notes


def _packages(what: str) -> str:
    """What an install line names, without its options (`-q`, `--upgrade`) and shell tails (`> /dev/null`)."""
    cut = next((i for i, ch in enumerate(what) if ch in "|;&>"), len(what))
    words = what[:cut].split()
    if what[cut:cut + 1] == ">" and what[cut - 1:cut].isdigit():  # `2>/dev/null`: the 2 is the shell's
        words = words[:-1]
    return " ".join(w for w in words if not w.startswith("-"))
