"""Kernels of sim/loyalty.py: the switching cost grows with points up to the cap; only
members of a running programme get the discount."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sim.loyalty import member_price, switching_cost

from .props import FAST, unit


@FAST
@given(st.lists(st.integers(0, 40), min_size=1, max_size=20), unit(0.0, 3.0), unit(0.0, 2.0))
def test_switching_cost_rises_with_points_to_the_cap(points, gamma0, points_gamma):
    pts = np.array(sorted(points))
    firm = np.zeros(pts.size, np.int16)
    g = switching_cost(
        firm,
        pts,
        inertia=gamma0,
        firm_switching_cost=np.array([0.2]),
        loyalty_on=np.array([True]),
        points_gamma=points_gamma,
        points_cap=12,
    )
    assert np.all(np.diff(g) >= -1e-12)
    assert np.all(g <= gamma0 + 0.2 + points_gamma + 1e-12) and np.all(g >= gamma0 + 0.2 - 1e-12)


def test_no_firm_no_switching_cost() -> None:
    g = switching_cost(
        np.array([-1, 0]),
        np.array([5, 5]),
        inertia=0.5,
        firm_switching_cost=np.array([0.2]),
        loyalty_on=np.array([False]),
        points_gamma=1.0,
        points_cap=12,
    )
    assert g.tolist() == [0.0, 0.7]


@FAST
@given(unit(0.1, 3.0), unit(), st.integers(0, 5), st.booleans())
def test_only_members_of_a_running_programme_pay_less(price, disc, points, on):
    p = member_price(
        np.array([price, price]),
        np.array([disc, disc]),
        np.array([on, False]),
        np.array([0, 1]),
        np.array([points, points]),
    )
    assert p[1, 1] == price and p[0, 1] == price and p[1, 0] == price
    expect = price * (1 - disc) if on and points >= 1 else price
    assert np.isclose(p[0, 0], expect)


@FAST
@given(
    st.lists(st.tuples(st.integers(-1, 2), st.integers(0, 40)), min_size=0, max_size=40),
    unit(0.0, 3.0),
    unit(0.0, 2.0),
    st.lists(st.booleans(), min_size=3, max_size=3),
    st.sampled_from([1, 5, 12.0]),
)
def test_compiled_switching_cost_equals_the_numpy_reference(rows, gamma0, points_gamma, on, cap):
    from sim import accel

    firm = np.array([r[0] for r in rows], np.int16)
    points = np.array([r[1] for r in rows], np.int32)
    args = {
        "inertia": gamma0,
        "firm_switching_cost": np.array([0.2, 0.0, 1.3]),
        "loyalty_on": np.array(on),
        "points_gamma": points_gamma,
        "points_cap": cap,
    }
    with accel.use(True):
        fast = switching_cost(firm, points, **args)
    with accel.use(False):
        ref = switching_cost(firm, points, **args)
    assert fast.dtype == ref.dtype and np.array_equal(fast, ref)
