"""Kernels of sim/acquisition.py: awareness probabilities in [0, 1], zero for aware
customers and inactive firms, rising with marketing and with adopting neighbours."""

from __future__ import annotations

import numpy as np
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
