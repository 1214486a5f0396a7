"""Hypothesis strategies shared by the kernel property tests."""

from __future__ import annotations

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = ["arrays", "unit", "sat", "positive", "FAST"]

#: kernels are cheap: a modest number of examples keeps each module under a second or two
FAST = settings(max_examples=60, deadline=None)


def unit(lo: float = 0.0, hi: float = 1.0) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def sat() -> st.SearchStrategy[float]:
    """A satisfaction value in [-1, 1]."""
    return unit(-1.0, 1.0)


def positive(hi: float = 10.0) -> st.SearchStrategy[float]:
    return st.floats(1e-3, hi, allow_nan=False, allow_infinity=False)


def arrays(elements: st.SearchStrategy, n: int | st.SearchStrategy | None = None):
    """1-D float arrays of ``elements`` (1 to 30 of them unless ``n`` is given)."""
    return hnp.arrays(np.float64, st.integers(1, 30) if n is None else n, elements=elements)
