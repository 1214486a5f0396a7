"""Kernels of sim/churn.py: the hazard is a probability, falls with satisfaction and
switching cost; win-back success rises with satisfaction."""

from __future__ import annotations

import numpy as np
from hypothesis import given

from sim.churn import churn_hazard, winback_success

from .props import FAST, arrays, sat, unit

H = dict(base_rate=0.02, dissatisfaction_rate=0.3, curvature=2.0)


@FAST
@given(arrays(sat()), unit(0.0, 5.0), unit(0.0, 3.0))
def test_hazard_is_a_probability_falling_in_satisfaction_and_switching_cost(S, g, zeta):
    h = churn_hazard(S, np.full(S.size, g), switching_cost_effect=zeta, **H)
    assert np.all((h >= 0) & (h <= 1)) and np.all(np.isfinite(h))
    order = np.argsort(S)
    assert np.all(np.diff(h[order]) <= 1e-12)
    more = churn_hazard(S, np.full(S.size, g + 1.0), switching_cost_effect=zeta, **H)
    assert np.all(more <= h + 1e-12)


@FAST
@given(unit(-1.0, 1.0))
def test_satisfied_customers_still_leave_at_the_base_rate(S):
    h = churn_hazard(np.array([1.0, S]), np.zeros(2), switching_cost_effect=0.0, **H)
    assert np.isclose(h[0], H["base_rate"]) and h[1] >= h[0]


@FAST
@given(arrays(sat()), unit())
def test_winback_success_is_a_probability_rising_with_satisfaction(S, b):
    p = winback_success(S, b)
    assert np.all((p >= 0) & (p <= b + 1e-12))
    order = np.argsort(S)
    assert np.all(np.diff(p[order]) >= -1e-12)
