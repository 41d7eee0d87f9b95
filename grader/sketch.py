"""A tensor too large to record, as the harness records it: its norm and fixed random ±1 projections.

The signs are a hash of (element index, projection index), the same formula as worker.harness._signs, so a
sketch computed here from an array equals the harness's sketch of the same tensor (up to float rounding).
"""
from __future__ import annotations

import numpy as np

SKETCH_SIZE = 8  # worker.harness.SKETCH_SIZE


def signs(n: int, j: int) -> np.ndarray:
    """The j-th projection's ±1.0 signs for a flat tensor of n elements."""
    index = np.arange(n, dtype=np.int64)
    h = (index * 2654435761 + (j + 1) * 40503) % 4294967296
    return ((h >> 16) & 1).astype(np.float64) * 2.0 - 1.0


def sketch(values: np.ndarray) -> np.ndarray:
    """The SKETCH_SIZE projections of `values` (flattened in C order, as torch's reshape(-1))."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    return np.array([float(flat @ signs(flat.size, j)) for j in range(SKETCH_SIZE)])
