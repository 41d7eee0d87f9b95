"""The corpus's lecture 6 (logistic regression): see tests/test_corpus.py, which grades lectures 3, 4 and 7 and
holds every script to its case; lecture 5 is tests/test_corpus_lecture5.py. Each is a module of its own
so that make test (--dist loadfile) grades them in several processes."""
from __future__ import annotations

import pytest

from test_corpus import _cases, check_case


@pytest.mark.parametrize("lecture, name, case", _cases(("lecture6",)))
def test_corpus_case(sandbox, tmp_path, lecture, name, case):
    check_case(sandbox, tmp_path, lecture, name, case)
