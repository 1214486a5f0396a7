"""Kernel of sim/capacity.py: no effect below capacity; above it the service factor
falls and waiting rises with the load; unlimited capacity means no effect."""

from __future__ import annotations

import numpy as np
from hypothesis import given

from sim.capacity import load_effects

from .props import FAST, arrays, positive, unit


@FAST
@given(arrays(unit(0.0, 5000.0)), positive(2000.0), unit(0.0, 3.0))
def test_load_effects_are_bounded_and_monotone(demand, cap, theta):
    load, factor, wait = load_effects(demand, np.full(demand.size, cap), theta)
    assert np.all((factor > 0) & (factor <= 1)) and np.all(wait >= 0)
    assert np.all(np.isfinite(load)) and np.all(np.isfinite(wait))
    under = demand <= cap
    assert np.all(factor[under] == 1) and np.all(wait[under] == 0)
    order = np.argsort(demand)
    assert np.all(np.diff(factor[order]) <= 1e-12) and np.all(np.diff(wait[order]) >= -1e-12)


@FAST
@given(arrays(unit(0.0, 1e6)), unit(0.0, 3.0))
def test_unlimited_capacity_has_no_effect(demand, theta):
    load, factor, wait = load_effects(demand, np.full(demand.size, np.inf), theta)
    assert np.all(load == 0) and np.all(factor == 1) and np.all(wait == 0)
