"""What may reach a JSON column: every value is made storable here, and only here.

PostgreSQL's `json` type refuses the tokens NaN and Infinity that Python's json module writes for non-finite
floats (SQLite takes them), and a diverging homework's feedback is full of them ("w should be 2; yours is
nan"). On the way in, a non-finite float becomes the tagged value {"$float": "nan" | "inf" | "-inf"}; on the
way out it becomes the float again, so feedback renders it as before. `StorableJSON` is the column type that
does both; every JSON column of grader.models uses it.
"""
from __future__ import annotations

import math
from typing import Any

import sqlalchemy as sa

TAG = "$float"
_WORDS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _word(value: float) -> str:
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"


def to_storable(value: Any) -> Any:
    """A copy of `value` that any JSON column takes: non-finite floats tagged, tuples as lists, numpy scalars
    and arrays as Python numbers and lists (json refuses a float32 or an int64)."""
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):  # duck-typed: no numpy import here
        return to_storable(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else {TAG: _word(value)}
    if isinstance(value, dict):
        return {key: to_storable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_storable(item) for item in value]
    return value


def from_storable(value: Any) -> Any:
    """The inverse of to_storable: tagged values back into floats."""
    if isinstance(value, dict):
        if len(value) == 1 and TAG in value and value[TAG] in _WORDS:
            return _WORDS[value[TAG]]
        return {key: from_storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_storable(item) for item in value]
    return value


class StorableJSON(sa.types.TypeDecorator):
    """A JSON column that stores non-finite floats on every backend (see the module docstring)."""

    impl = sa.JSON
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else to_storable(value)

    def process_result_value(self, value, dialect):
        return None if value is None else from_storable(value)
