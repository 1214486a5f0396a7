"""Kernels of sim/complaints.py: probabilities in [0, 1], monotone in the shortfall and
the ease, recovery ordered, and the pending late resolutions queue."""

from __future__ import annotations

import numpy as np
from hypothesis import given

from sim import complaints as cmp
from sim.complaints import PendingResolutions, complaint_probability, recover

from .props import FAST, arrays, positive, unit

R = dict(r_unresolved=0.2, r_late=0.6, r_quick=1.0)


@FAST
@given(arrays(unit(-1.0, 1.0)), unit(), unit(), positive(2.0))
def test_complaint_probability_is_a_probability_and_zero_without_shortfall(d, ease, cmax, d0):
    p = complaint_probability(d, ease, cmax, d0)
    assert np.all((p >= 0) & (p <= 1)) and np.all(np.isfinite(p))
    assert np.all(p[d <= 0] == 0)


@FAST
@given(unit(0.0, 1.0), unit(0.0, 1.0), unit(0.01, 1.0), positive(2.0))
def test_complaint_probability_rises_with_shortfall_and_ease(d, more, ease, d0):
    lo = complaint_probability(np.array([d]), ease, 0.5, d0)[0]
    hi = complaint_probability(np.array([d + more]), ease, 0.5, d0)[0]
    assert hi >= lo
    assert complaint_probability(np.array([d]), ease * 0.5, 0.5, d0)[0] <= lo


@FAST
@given(unit(-3.0, 3.0), unit(-3.0, 0.0))
def test_recovery_outcomes_are_ordered(z, loss):
    outcomes = np.array([cmp.SILENT, cmp.UNRESOLVED, cmp.LATE, cmp.QUICK])
    x = recover(np.full(4, z), np.full(4, loss), outcomes, np.zeros(4, bool), paradox=0.0, **R)
    assert np.all(np.abs(x) <= 1)
    # silent ≤ unresolved; late acts as unresolved until resolved; quick best
    assert x[0] <= x[1] + 1e-12 and np.isclose(x[2], x[1]) and x[3] >= x[1] - 1e-12


@FAST
@given(unit(-3.0, 3.0), unit(-3.0, 0.0), unit(0.0, 1.0))
def test_the_paradox_only_lifts_quick_first_failures(z, loss, paradox):
    o = np.array([cmp.QUICK, cmp.QUICK])
    x = recover(np.full(2, z), np.full(2, loss), o, np.array([True, False]), paradox=paradox, **R)
    assert x[0] >= x[1]


def test_pending_resolutions_pop_only_what_is_due() -> None:
    q = PendingResolutions()
    q.add(
        customer=np.array([1, 2, 3]),
        firm=np.array([0, 1, 0]),
        due=np.array([2, 3, 2]),
        z=np.zeros(3),
        loss=np.full(3, -0.5),
        w=np.full(3, 0.3),
    )
    assert q.pop_due(1) is None
    due = q.pop_due(2)
    assert due["customer"].tolist() == [1, 3] and q.customer.tolist() == [2]
    assert q.pop_due(3)["firm"].tolist() == [1] and q.customer.size == 0
