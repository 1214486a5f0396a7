"""Kernels of sim/satisfaction.py: bounds, monotonicity, asymmetry, no NaN."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.satisfaction import remember, revise, transaction_satisfaction

from .props import FAST, arrays, sat, unit

W = dict(
    performance_weight=1.0,
    neutral_performance=0.6,
    gain_weight=1.0,
    loss_weight=2.5,
    price_weight=1.0,
)


@FAST
@given(unit(), unit(), unit(0.1, 3.0), unit(0.0, 1.0))
def test_transaction_satisfaction_is_bounded_and_rises_with_performance(p, e, paid, dp):
    x, d, z, loss = transaction_satisfaction(
        np.array([p, min(p + dp, 2.0)]), np.array([e, e]), np.array([paid, paid]), 1.0, **W
    )
    assert np.all(np.abs(x) < 1) and np.all(np.isfinite(x))
    assert x[1] >= x[0]
    assert np.all(loss <= 0) and np.isclose(d[0], p - e)


@FAST
@given(unit(0.01, 0.3), unit(0.2, 0.8))
def test_a_shortfall_hurts_more_than_an_equal_surplus_pleases(gap, e):
    x, *_ = transaction_satisfaction(
        np.array([e - gap, e + gap]),
        np.array([e, e]),
        np.ones(2),
        1.0,
        **{**W, "performance_weight": 0.0},
    )
    assert -x[0] > x[1] > 0


@FAST
@given(unit(0.3, 3.0), unit(0.0, 1.0))
def test_satisfaction_falls_with_price(p1, dp):
    x, *_ = transaction_satisfaction(
        np.full(2, 0.7), np.full(2, 0.7), np.array([p1, p1 + dp]), 1.0, **W
    )
    assert x[1] <= x[0]


@FAST
@given(arrays(sat()), st.data(), st.sampled_from(["exponential", "peak_end"]), unit(0.01, 0.99))
def test_remember_stays_in_bounds_and_resets_fresh(S, data, rule, omega):
    n = S.size
    x = data.draw(arrays(sat(), n))
    peak = data.draw(arrays(sat(), n))
    fresh = np.asarray(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    new_S, new_peak, last = remember(S, peak, x.copy(), x, fresh, rule, omega)
    assert np.all(np.abs(new_S) <= 1) and np.all(np.isfinite(new_S))
    assert np.array_equal(new_S[fresh], x[fresh]) and np.array_equal(last, x)
    assert np.all(np.abs(new_peak) >= np.minimum(np.abs(peak), np.abs(x)) - 1e-12)


@FAST
@given(sat(), sat(), unit(0.0, 0.5), unit(0.01, 0.99))
def test_revising_upwards_never_lowers_satisfaction(S, x_old, up, omega):
    x_new = min(x_old + up, 1.0)
    for rule in ("exponential", "peak_end"):
        new_S, *_ = revise(
            np.array([S]),
            np.array([x_old]),
            np.array([x_old]),
            np.array([x_old]),
            np.array([x_new]),
            rule,
            omega,
        )
        if rule == "exponential":
            assert new_S[0] >= min(S, 1.0) - 1e-12
        assert -1 <= new_S[0] <= 1


@pytest.mark.parametrize("memory", ["exponential", "peak_end"])
@pytest.mark.parametrize("seed", range(5))
def test_compiled_transaction_and_memory_equal_the_numpy_reference(seed, memory) -> None:
    from sim import accel
    from sim.experience import ExperienceStage
    from sim.satisfaction import MemoryStage, TransactionStage

    from .buyer_state import POP_COLUMNS, buyer_state

    got = {}
    for on in (True, False):
        s = buyer_state(seed, memory)
        with accel.use(on):
            ExperienceStage()(s)
            TransactionStage()(s)
            out = {a: getattr(s, a) for a in ("expect_before", "x", "z", "loss", "fresh")}
            out |= {a: getattr(s, a) for a in ("problem", "omega")}
            MemoryStage()(s)
        out |= {c: getattr(s.pop, c).copy() for c in POP_COLUMNS} | {"problems": s.fl["problems"]}
        got[on] = out
    assert got[True].keys() == got[False].keys()
    for name, a in got[True].items():
        b = got[False][name]
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    assert got[False]["fresh"].any() and got[False]["problem"].any()
