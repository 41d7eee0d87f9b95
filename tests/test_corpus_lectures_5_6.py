"""The corpus's lectures 5 and 6 (nn.Module's linear regression, logistic regression): see tests/test_corpus.py,
which grades the others and holds every script to its case; this module is its own so that make test grades the
two halves in two processes."""
from __future__ import annotations

import pytest

from test_corpus import _cases, check_case


@pytest.mark.parametrize("lecture, name, case", _cases(("lecture5", "lecture6")))
def test_corpus_case(sandbox, tmp_path, lecture, name, case):
    check_case(sandbox, tmp_path, lecture, name, case)
