"""One module per check kind, what they grade against (reference.py), what they find (result.py), and the comparisons they share (compare.py)."""
