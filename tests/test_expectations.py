"""Kernel of sim/expectations.py: every pull moves the expectation towards its target
without overshooting; pulls of zero weight change nothing."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sim.expectations import _update_compiled, update_expectations

from .props import FAST, unit


def _run(E, perf, promise, alpha_e, alpha_p, psi=0.0, heard=None):
    E = E.copy()
    update_expectations(
        E,
        np.ones(E.shape, bool),
        buyers=np.array([0]),
        buyer_firm=np.array([0]),
        perf=np.array([perf]),
        alpha_e=alpha_e,
        wom_weight_sum=None if heard is None else heard[0],
        wom_content_sum=None if heard is None else heard[1],
        psi=psi,
        promise=promise,
        alpha_p=alpha_p,
    )
    return E


@FAST
@given(unit(), unit(), unit(), unit())
def test_experience_pull_moves_towards_performance(e, perf, alpha, _):
    E = _run(np.array([[e, 0.5]]), perf, np.array([0.5, 0.5]), alpha, 0.0)
    lo, hi = min(e, perf), max(e, perf)
    assert lo - 1e-12 <= E[0, 0] <= hi + 1e-12
    assert E[0, 1] == 0.5


@FAST
@given(unit(), unit(), unit())
def test_promise_pull_moves_everyone_towards_the_promise(e, promise, alpha):
    E = _run(np.array([[e, e], [e, e]]), e, np.array([promise, promise]), 0.0, alpha)
    assert np.all(np.abs(E - promise) <= abs(e - promise) + 1e-12)


@FAST
@given(unit(), unit(), unit(0.0, 5.0), unit())
def test_word_of_mouth_pull_is_bounded_by_the_content(e, content, weight, psi):
    W = np.array([[weight, 0.0]])
    C = W * content
    E = _run(np.array([[e, e]]), e, np.zeros(2), 0.0, 0.0, psi=psi, heard=(W, C))
    assert min(e, content) - 1e-12 <= E[0, 0] <= max(e, content) + 1e-12
    assert E[0, 1] == e


def test_zero_weights_change_nothing() -> None:
    E0 = np.array([[0.3, 0.7]])
    assert np.array_equal(_run(E0, 0.9, np.array([0.1, 0.1]), 0.0, 0.0), E0)


@FAST
@given(
    st.integers(0, 2**32 - 1),
    st.integers(0, 30),
    st.integers(1, 4),
    st.sampled_from([0.0, 0.3]),
    st.sampled_from([0.0, 0.2]),
    st.sampled_from([0.0, 0.5]),
    st.booleans(),
)
def test_compiled_pulls_equal_the_numpy_reference(seed, n, k, alpha_e, alpha_p, psi, wom) -> None:
    """Random markets, with each pull on or off and nobody or somebody heard."""
    rng = np.random.default_rng(seed)
    nb = int(rng.integers(0, n + 1))
    wsum = np.where(rng.random((n, k)) < 0.3, rng.uniform(1e-3, 3, (n, k)), 0.0) if wom else None
    kw = {
        "buyers": rng.permutation(n)[:nb],
        "buyer_firm": rng.integers(0, k, nb),
        "perf": rng.normal(0.5, 0.2, nb),
        "alpha_e": alpha_e,
        "wom_weight_sum": wsum,
        "wom_content_sum": None if wsum is None else wsum * rng.uniform(0, 1, (n, k)),
        "psi": psi,
        "promise": rng.uniform(0.3, 0.9, k),
        "alpha_p": alpha_p,
    }
    E = np.where(rng.random((n, k)) < 0.1, -0.0, rng.normal(0.5, 0.3, (n, k)))
    aware, active = rng.random((n, k)) < 0.6, rng.random(k) < 0.7
    want, got = E.copy(), E.copy()
    update_expectations(want, aware & active, **kw)
    _update_compiled(got, aware, active, **kw)
    assert np.array_equal(want.view(np.int64), got.view(np.int64))  # bit for bit, -0.0 too
    if wsum is not None:  # the sparse pairs heard, in any order, give the same result
        keys = rng.permutation(np.flatnonzero(wsum > 0))
        c = kw["wom_content_sum"].reshape(-1)[keys]
        sparse = E.copy()
        _update_compiled(sparse, aware, active, wom_heard=(keys, wsum.reshape(-1)[keys], c), **kw)
        assert np.array_equal(want.view(np.int64), sparse.view(np.int64))
    unaware = ~(aware & active)
    if alpha_e == 0 and not wom:
        assert np.array_equal(
            want[unaware], E[unaware]
        )  # only the promise pulls, and only the aware
