"""Kernels of sim/churn.py: the hazard is a probability, falls with satisfaction and
switching cost; win-back success rises with satisfaction."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sim import ModelParams
from sim.churn import (
    _at_risk_compiled,
    _lapsed_jit,
    at_risk,
    churn_hazard,
    lapsed_moves,
    winback_success,
)

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


def _customers(rng: np.random.Generator, n: int, k: int, t: int) -> SimpleNamespace:
    """Random customer columns: every status, new and old relationships, S on the edges."""
    firm = rng.integers(-1, k, n).astype(np.int16)
    return SimpleNamespace(
        status=rng.integers(0, 3, n).astype(np.int8),
        since=rng.integers(t - 3, t + 1, n).astype(np.int32),
        firm=firm,
        last_firm=np.where(rng.random(n) < 0.8, firm, -1).astype(np.int16),
        lapsed_from=rng.integers(-1, k, n).astype(np.int16),
        satisfaction=rng.choice([-1.0, -0.2, 0.0, 1.0, *rng.uniform(-1, 1, 4)], n),
    )


@FAST
@given(st.integers(0, 2**32 - 1), st.integers(0, 40), st.integers(1, 3), st.booleans())
def test_compiled_leavers_equal_the_numpy_reference(seed, n, k, defection) -> None:
    rng = np.random.default_rng(seed)
    P = ModelParams()
    P.churn.defection_rate = 0.7 if defection else 0.0
    P.churn.base_rate = float(rng.choice([0.008, 0.3]))
    s = SimpleNamespace(
        params=P,
        pop=_customers(rng, n, k, t=5),
        t=5,
        gamma=P.choice.inertia + rng.choice([0.0, -0.1, 0.5], n),
        model=SimpleNamespace(pending=SimpleNamespace(customer=rng.integers(0, max(n, 1), 3)[:n])),
    )
    u0 = rng.random(n)
    want, got = at_risk(s, u0), _at_risk_compiled(s, u0)
    assert np.array_equal(want, got) and got.dtype == np.int64
    if n:  # with a draw of 1 nobody leaves; the newly related and the waiting never do
        assert at_risk(s, np.ones(n)).size == 0
        assert not np.isin(want, s.model.pending.customer).any()
        assert np.all(s.pop.since[want] < s.t)


@FAST
@given(st.integers(0, 2**32 - 1), st.integers(0, 40), st.integers(1, 3))
def test_compiled_lapsed_moves_equal_the_numpy_reference(seed, n, k) -> None:
    rng = np.random.default_rng(seed)
    c = _customers(rng, n, k, t=5)
    args = (
        c.status,
        c.since,
        5,
        c.lapsed_from,
        c.satisfaction,
        rng.random(k) < 0.7,
        rng.choice([0.0, 0.3, 1.0], k),
        rng.random((3, n)),
        np.array([rng.uniform(0, 1), rng.choice([0.0, 0.05, 1.0])]),
    )
    want, got = lapsed_moves(*args), _lapsed_jit(*args)
    for w, g in zip(want, got, strict=True):
        assert np.array_equal(w, g) and w.dtype == g.dtype
    lapsed, lf0, contacted, back, ret = want
    assert not (back & ~contacted).any() and not (back & ret).any()
