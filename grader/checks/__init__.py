"""The check kinds: one module per kind (`runs`, `gradients`, ...), each with the same `grade` function; the
registry of kinds (kinds.py), what a check finds (result.py) and the comparisons they share (compare.py)."""
