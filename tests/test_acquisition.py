"""Kernels of sim/acquisition.py: awareness probabilities in [0, 1], zero for aware
customers and inactive firms, rising with marketing and with adopting neighbours."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

from sim.acquisition import adopter_counts, awareness_probability

from .props import FAST, unit


@FAST
@given(unit(), unit(), unit(), st.integers(0, 10), st.integers(1, 10))
def test_awareness_probability_is_bounded_and_monotone(p, dp, q, n_adopt, degree):
    n_adopt = min(n_adopt, degree)
    aware = np.array([[False, True]])
    active = np.array([True, True])

    def a(p_, counts):
        prob, _ = awareness_probability(
            aware,
            active,
            np.array([p_, p_]),
            np.array([[counts, counts]], float),
            np.array([float(degree)]),
            q,
        )
        return prob[0]

    base = a(p, n_adopt)
    assert 0 <= base[0] <= 1 and base[1] == 0  # already aware: nothing to learn
    assert a(min(p + dp, 1.0), n_adopt)[0] >= base[0] - 1e-12
    assert a(p, min(n_adopt + 1, degree))[0] >= base[0] - 1e-12


def test_inactive_firms_are_not_learnt_of_and_no_influence_is_none() -> None:
    prob, _ = awareness_probability(
        np.zeros((2, 2), bool), np.array([True, False]), np.array([0.5, 0.5]), None, np.ones(2), 0.4
    )
    assert np.all(prob[:, 1] == 0) and np.allclose(prob[:, 0], 0.5)
    none, _ = awareness_probability(
        np.zeros((1, 1), bool), np.array([True]), np.zeros(1), None, np.ones(1), 0.0
    )
    assert none[0, 0] == 0


def test_adopter_counts_count_customer_neighbours() -> None:
    # a path 0 - 1 - 2 - 3; customers: 1 of firm 0, 2 of firm 1
    adj = sp.csr_array(np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]], float))
    firm = np.array([-1, 0, 1, -1])
    c = adopter_counts(adj, firm, 2)
    assert c.tolist() == [[1, 0], [0, 1], [1, 0], [0, 1]]
    assert adopter_counts(adj, firm, 2, np.array([3])).tolist() == [[0, 1]]


@pytest.mark.parametrize("how", ["choice", "churn", "referral", "winback"])
@pytest.mark.parametrize("seed", range(3))
def test_compiled_relationship_booking_equals_the_numpy_reference(how, seed) -> None:
    """start_relationships: same flows, events and state with kernels on and off."""
    from sim import accel
    from sim.acquisition import start_relationships

    from .buyer_state import buyer_state

    got = {}
    for on in (True, False):
        s = buyer_state(seed)
        s.log = True
        rng = np.random.default_rng(seed)
        pop, n, k = s.pop, s.n, s.k
        pop.aware_via[:] = rng.integers(0, 5, (n, k))
        pop.aware_src[:] = rng.integers(-1, n, (n, k))
        pop.neg_firm[:] = rng.integers(-1, k, n)
        pop.neg_t[:] = rng.integers(-3, 1, n)
        pop.neg_src[:] = rng.integers(-1, n, n)
        who = np.sort(rng.choice(n, n // 3, replace=False))
        prev = rng.integers(-1, k, who.size)
        to = (np.maximum(prev, 0) + rng.integers(1, k + 1, who.size)) % k
        referrer = rng.integers(0, n, who.size) if how == "referral" else None
        with accel.use(on):
            start_relationships(s, who, to, prev, how=how, referrer=referrer)
        cols = ("firm", "status", "since", "points", "lapsed_from", "aware")
        got[on] = (
            {c: getattr(pop, c).copy() for c in cols},
            {f: a.copy() for f, a in s.fl.items()},
            s.recorder.events(["A", "B"]),
        )
    for part in (0, 1):
        a, b = got[True][part], got[False][part]
        assert a.keys() == b.keys()
        assert all(a[c].dtype == b[c].dtype and np.array_equal(a[c], b[c]) for c in a)
    assert got[True][2].equals(got[False][2]) and len(got[True][2]) > 0
    assert got[False][1]["lost_after_negative_wom"].sum() > 0  # the window was exercised
