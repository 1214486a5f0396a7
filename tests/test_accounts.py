"""sim/accounts.py: CLV and NPS kernels, and the accounts add up in a run."""

from __future__ import annotations

import numpy as np
from hypothesis import given

from sim import MarketModel, ModelParams
from sim.accounts import clv, nps

from .props import FAST, arrays, sat, unit


@FAST
@given(unit(0.0, 10.0), unit(0.0, 0.99), unit(0.0, 0.2), unit(0.0, 0.009))
def test_clv_rises_with_retention_and_margin(m, r, i, dr):
    v = clv(m, r, i)
    assert np.isfinite(v) and v >= 0
    assert clv(m, r + dr, i) >= v - 1e-9
    assert clv(m + 1.0, r, i) >= v


@FAST
@given(arrays(sat()))
def test_nps_is_a_difference_of_shares(S):
    prom, det, score = nps(S)
    assert 0 <= prom <= 1 and 0 <= det <= 1 and prom + det <= 1
    assert np.isclose(score, 100 * (prom - det)) and -100 <= score <= 100


def test_nps_of_nobody_is_nan() -> None:
    assert all(np.isnan(v) for v in nps(np.array([])))


def test_profit_is_revenue_minus_costs_and_customers_add_up() -> None:
    p = ModelParams()
    p.market.n_customers, p.market.warmup = 600, 0
    m = MarketModel(p, seed=3).run(6)
    f, mk = m.firm_frame(), m.market_frame()
    costs = f[[c for c in f.columns if c.startswith("cost_") and c != "cost_total"]].sum(axis=1)
    assert np.allclose(costs, f["cost_total"])
    assert np.allclose(f["revenue"] - f["cost_total"], f["profit"])
    per = f.groupby("period")[["customers", "profit"]].sum()
    assert (per["customers"].to_numpy() == mk["customers"].to_numpy()).all()
    assert np.allclose(per["profit"].to_numpy(), mk["profit"].to_numpy())
