"""Kernels of sim/complaints.py: probabilities in [0, 1], monotone in the shortfall and
the ease, recovery ordered, and the pending late resolutions queue."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sim import ModelParams
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


def _buyers_state(seed: int, n: int, k: int, paradox: float) -> SimpleNamespace:
    rng = np.random.default_rng(seed)
    nb = int(rng.integers(0, n + 1))
    P = ModelParams()
    P.complaints.recovery_paradox = paradox
    L = {key: rng.choice([0.0, 1.0, *rng.uniform(0, 1, 2)], k) for key in cmp._LEVERS}
    return SimpleNamespace(
        params=P,
        pop=SimpleNamespace(n_complaints=rng.integers(0, 2, n).astype(np.int32)),
        L=L,
        k=k,
        buyers=rng.permutation(n)[:nb],
        buyer_firm=rng.integers(0, k, nb),
        z=rng.normal(0, 1, nb),
        loss=np.minimum(rng.normal(0, 0.5, nb), 0.0),
    )


@FAST
@given(st.integers(0, 2**31), st.integers(0, 40), st.integers(1, 3), st.sampled_from([0.0, 0.3]))
def test_compiled_handling_equals_the_numpy_reference(seed, n, k, paradox):
    """Outcomes, recovered satisfaction, costs, counts and complaint tallies, bit for bit."""
    a, b = _buyers_state(seed, n, k, paradox), _buyers_state(seed, n, k, paradox)
    rng = np.random.default_rng(seed + 1)
    u = rng.random((3, n))
    shortfall = rng.choice([0.0, 0.15, -0.2, *rng.uniform(-0.5, 0.8, 4)], a.buyers.size)
    want = cmp.handle_complaints(a, u, shortfall)
    got = cmp._handle_compiled(b, u, shortfall)
    for w, g in zip(want, got, strict=True):
        assert np.array_equal(w, g) and w.dtype == g.dtype
    assert np.array_equal(a.pop.n_complaints, b.pop.n_complaints)
    outcome, _, _, counts = want
    no_problem = shortfall <= a.params.satisfaction.problem_threshold
    assert np.all(outcome[no_problem] == cmp.SILENT)  # only problems are complained about
    assert counts[2].sum() == np.count_nonzero(outcome)
