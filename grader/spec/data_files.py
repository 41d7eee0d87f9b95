"""Data files of a spec: `data: {csv: diabetes.csv, x: [0, 8], y: 8}` read, size-capped and validated.

The CSV lies next to the spec (a plain file name, never a path); a name ending in `.gz` is gzip, as the
course ships `diabetes.csv.gz`. Its samples replace the block before the spec is validated; its name and
text stay with the data, so that the harness can write the same file into the job's working directory and
`np.loadtxt('diabetes.csv.gz', delimiter=',')` works there. `aliases` are the other paths learners load the
same data from (`../dataset/diabetes.csv.gz`, `./data/diabetes.csv`): relative, at most MAX_ALIAS_UP `..`
levels up and only at the start; each gets the same content, gzip where its name ends in `.gz`.
"""
from __future__ import annotations

import math
import posixpath
import re
import zlib
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator

from grader.messages import render, said
from grader.spec.schema import Strict, describe, refused

MAX_CSV_BYTES = 200 * 1024
MAX_ROWS = 100_000
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\Z")
MAX_ALIASES = 8
MAX_ALIAS_UP = 2  # `../../dataset/x.csv` at most: the harness nests the working directory this deep


class CsvProblem(ValueError):
    """A data block that cannot be loaded: where (field path), and why (a message, grader.messages.said)."""

    def __init__(self, path: tuple, field: str | None, message: dict | None = None,
                 validation: ValidationError | None = None):
        super().__init__(render(message["code"], message["params"]) if message else str(validation))
        self.path, self.field, self.message, self.validation = path, field, message, validation


class CsvSource(Strict):
    csv: str
    x: int | list[int] = Field(union_mode="left_to_right")  # a column, or [start, stop) like xy[:, 0:8]
    y: int | list[int] = Field(union_mode="left_to_right")
    delimiter: str = Field(",", min_length=1, max_length=1)
    skip_rows: int = Field(0, ge=0, le=100)  # header lines
    text: str | None = Field(None, max_length=MAX_CSV_BYTES)  # the file's content inline, instead of the file
    aliases: list[str] = Field(default_factory=list, max_length=MAX_ALIASES)  # more paths to the same data

    @field_validator("csv")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        if not FILE_NAME.match(name) or ".." in name:
            raise refused("spec.csv_name", got=describe(name))
        return name

    @field_validator("aliases")
    @classmethod
    def _relative_paths(cls, aliases: list[str]) -> list[str]:
        return [alias_path(a) for a in aliases]

    @field_validator("x", "y")
    @classmethod
    def _columns(cls, value: int | list[int]) -> int | list[int]:
        if isinstance(value, list) and (len(value) != 2 or not 0 <= value[0] < value[1]):
            raise refused("spec.csv_columns", got=str(value))
        if isinstance(value, int) and value < 0:
            raise refused("spec.csv_column_negative", got=value)
        return value

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, value: str) -> str:
        if value in "0123456789.-+eE\n\r\"'":
            raise refused("spec.csv_delimiter", delimiter=repr(value))
        return value


def alias_path(alias: str) -> str:
    """`alias` as the normalised relative path the harness writes (`./data/d.csv` → `data/d.csv`); a refusal
    for an absolute path, `..` past MAX_ALIAS_UP or anywhere but the start, or a part that is not a plain name."""
    path = posixpath.normpath(alias) if isinstance(alias, str) and alias else ""
    parts = path.split("/")
    up = next((i for i, part in enumerate(parts) if part != ".."), len(parts))
    if (alias.startswith("/") or up > MAX_ALIAS_UP or up == len(parts)
            or not all(FILE_NAME.match(part) and part != ".." for part in parts[up:])):
        raise refused("spec.alias_path", up=MAX_ALIAS_UP, got=describe(alias))
    return path


def resolve_data_files(spec: dict, base_dir: Path | None) -> dict:
    """`spec` with `data` and each accuracy check's `data` loaded from CSV where they name one."""
    out = dict(spec)
    if _is_csv(out.get("data")):
        out["data"] = load_csv(out["data"], base_dir, ("data",))
    checks = out.get("checks")
    if isinstance(checks, list):
        out["checks"] = list(checks)
        for i, check in enumerate(checks):
            if isinstance(check, dict) and _is_csv(check.get("data")):
                out["checks"][i] = {**check, "data": load_csv(check["data"], base_dir, ("checks", i, "data"))}
    return out


def _is_csv(block: Any) -> bool:
    return isinstance(block, dict) and "csv" in block


def load_csv(block: dict, base_dir: Path | None, where: tuple) -> dict:
    """A `{csv: ...}` block as `{x, y, csv, text}`; CsvProblem naming the field otherwise."""
    try:
        source = CsvSource.model_validate(block)
    except ValidationError as exc:
        raise CsvProblem(where, None, validation=exc) from None
    text = source.text if source.text is not None else _read(source.csv, base_dir, where)
    rows = _rows(text, source, where)
    width = len(rows[0])
    for field in ("x", "y"):
        columns = getattr(source, field)
        stop = columns[1] if isinstance(columns, list) else columns + 1
        if stop > width:
            raise CsvProblem(where, field, said("spec.csv_too_few_columns", csv=source.csv, width=width,
                                                last=width - 1, field=field, needed=stop - 1))

    def pick(row: list[float], columns: int | list[int]):
        return row[columns[0]:columns[1]] if isinstance(columns, list) else row[columns]

    return {"x": [pick(r, source.x) for r in rows], "y": [pick(r, source.y) for r in rows],
            "csv": source.csv, "text": text, "aliases": source.aliases}


def read_text(name: str, base_dir: Path) -> str:
    """A data file's text as a spec reads it (gunzipped when its name ends in .gz): what a bundle stores."""
    return _read(name, base_dir, ("data",))


def _read(name: str, base_dir: Path | None, where: tuple) -> str:
    if base_dir is None:
        raise CsvProblem(where, "csv", said("spec.csv_no_folder", csv=name))
    path = base_dir / name
    try:
        if path.is_symlink():  # it may point anywhere, and a refusal quotes the file's cells
            raise CsvProblem(where, "csv", said("spec.csv_symlink", csv=name))
        if not path.is_file():
            raise CsvProblem(where, "csv", said("spec.csv_missing", csv=name))
        with path.open("rb") as file:
            raw = file.read(MAX_CSV_BYTES + 1)
    except OSError as exc:
        raise CsvProblem(where, "csv", said("spec.csv_cannot_read", csv=name, error=str(exc.strerror or exc))) from None
    if name.endswith(".gz"):
        raw = _gunzipped(raw, name, where)
    if len(raw) > MAX_CSV_BYTES:
        raise CsvProblem(where, "csv", said("spec.csv_too_large", csv=name, kb=MAX_CSV_BYTES // 1024))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CsvProblem(where, "csv", said("spec.csv_not_text", csv=name, byte=exc.start)) from None


def _gunzipped(raw: bytes, name: str, where: tuple) -> bytes:
    """A .gz file's content, read no further than one byte past the cap (a small file may unpack to gigabytes)."""
    try:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip header and trailer
        return inflater.decompress(raw, MAX_CSV_BYTES + 1)
    except zlib.error:
        raise CsvProblem(where, "csv", said("spec.csv_not_gzip", csv=name)) from None


def _rows(text: str, source: CsvSource, where: tuple) -> list[list[float]]:
    rows: list[list[float]] = []
    for number, line in enumerate(text.splitlines()[source.skip_rows:], start=source.skip_rows + 1):
        if not line.strip():
            continue
        cells = line.split(source.delimiter)
        row = []
        for column, cell in enumerate(cells):
            try:
                value = float(cell.strip())
            except ValueError:
                raise CsvProblem(where, "csv", said("spec.csv_not_number", csv=source.csv, line=number,
                                                    column=column, cell=describe(cell.strip()))) from None
            if not math.isfinite(value):
                raise CsvProblem(where, "csv", said("spec.csv_not_finite", csv=source.csv, line=number,
                                                    column=column, cell=cell.strip()))
            row.append(value)
        if rows and len(row) != len(rows[0]):
            raise CsvProblem(where, "csv", said("spec.csv_ragged", csv=source.csv, line=number, columns=len(row),
                                                before=len(rows[0])))
        rows.append(row)
        if len(rows) > MAX_ROWS:
            raise CsvProblem(where, "csv", said("spec.csv_too_many_rows", csv=source.csv, rows=MAX_ROWS))
    if not rows:
        raise CsvProblem(where, "csv", said("spec.csv_no_rows", csv=source.csv))
    return rows
