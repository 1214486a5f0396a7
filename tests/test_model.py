"""Invariants, determinism, recording and the customer views of MarketModel."""

import numpy as np
import pandas as pd
import pytest

from sim import MarketModel, ModelParams
from sim.analysis import cascade_summary, profit_concentration, referral_cascades
from sim.population import CUSTOMER, LAPSED, PROSPECT

from .conftest import run, small_params


def test_customers_are_conserved_and_shares_are_valid(baseline_model):
    m = baseline_model
    f, mk = m.firm_frame(), m.market_frame()
    n = m.pop.n
    # every customer is in exactly one state, and firms' customers add up to the served total
    assert (mk["customers"] + mk["prospects"] + mk["lapsed"] == n).all()
    per = f.groupby("period")
    assert (per["customers"].sum().to_numpy() == mk["customers"].to_numpy()).all()
    assert f["share"].between(0, 1).all() and f["penetration"].between(0, 1).all()
    assert np.allclose(per["share"].sum().to_numpy(), 1.0)
    assert np.allclose(per["penetration"].sum().to_numpy(), mk["customers"] / n)
    # the customer columns agree with the tables
    st = m.pop.status
    assert ((st == CUSTOMER) == (m.pop.firm >= 0)).all()
    assert (st == PROSPECT).sum() == mk["prospects"].iloc[-1]
    assert (st == LAPSED).sum() == mk["lapsed"].iloc[-1]


def test_flows_balance_stocks(baseline_model):
    f = baseline_model.firm_frame().sort_values(["firm", "period"])
    for _, g in f.groupby("firm"):
        change = g["customers"].diff().iloc[1:].to_numpy()
        flows = (g["acquired"] - g["lost"]).iloc[1:].to_numpy()
        assert (change == flows).all()


def test_no_nan_and_satisfaction_in_bounds(baseline_model):
    m = baseline_model
    f = m.firm_frame()
    num = f.select_dtypes("number")
    assert not num.isna().any().any()
    assert not m.market_frame().select_dtypes("number").isna().any().any()
    for col in ("satisfaction", "peak", "last_x"):
        v = getattr(m.pop, col)
        assert np.isfinite(v).all() and (np.abs(v) <= 1).all()
    assert np.isfinite(m.pop.expect).all() and np.isfinite(m.pop.attitude).all()


def test_accounts_add_up(baseline_model):
    f = baseline_model.firm_frame()
    costs = f[[c for c in f.columns if c.startswith("cost_") and c != "cost_total"]].sum(axis=1)
    assert np.allclose(costs, f["cost_total"])
    assert np.allclose(f["revenue"] - f["cost_total"], f["profit"])
    assert (f.loc[f.period > 0, "revenue"] > 0).all()


def test_event_log_matches_the_tables(baseline_model):
    m = baseline_model
    f, ev = m.firm_frame(), m.events()
    counts = ev["event"].value_counts()
    assert counts.get("complaint", 0) == f["complaints"].sum()
    assert counts.get("referral", 0) == f["referrals"].sum()
    assert counts.get("churn", 0) == f["lost_out"].sum()
    assert counts.get("switch", 0) == f["lost_to_rival"].sum()
    assert counts.get("acquire", 0) == f["acquired"].sum()
    assert counts.get("resolved_late", 0) == f["resolved_late"].sum()
    assert counts.get("heard", 0) == f["wom_pos"].sum() + f["wom_neg"].sum()
    ref = ev[ev.event == "referral"]
    assert (ref["other"] >= 0).all()  # every referral names its referrer


def test_same_seed_same_frames_and_different_seed_differs():
    p = small_params(n=800, periods=15)
    a, b, c = run(p, seed=5), run(p, seed=5), run(p, seed=6)
    pd.testing.assert_frame_equal(a.firm_frame(), b.firm_frame())
    pd.testing.assert_frame_equal(a.market_frame(), b.market_frame())
    pd.testing.assert_frame_equal(a.events(), b.events())
    assert not a.firm_frame().equals(c.firm_frame())


def test_customer_view_reads_and_writes_its_row(baseline_model):
    m = baseline_model
    c = m.customers[42]
    assert c.row == 42
    assert c.satisfaction == m.pop.satisfaction[42]
    assert np.array_equal(c.expect, m.pop.expect[42])
    assert m.customers[42] is c  # one view per customer
    d = c.as_dict()
    assert set(d["expect"]) == {f.name for f in m.firms}
    old = m.pop.beta_price[42]
    c.beta_price = 9.0
    assert m.pop.beta_price[42] == 9.0
    c.beta_price = old
    with pytest.raises(IndexError):
        m.customers[m.pop.n]


def test_customer_history_comes_from_the_event_log(baseline_model):
    m = baseline_model
    ev = m.events()
    who = int(ev.loc[ev.event == "complaint", "customer"].iloc[0])
    h = m.customers[who].history()
    assert (h.event == "complaint").any()
    assert ((h.customer == who) | (h.other == who)).all()


def test_lever_changes_take_effect_next_period_and_are_logged():
    p = small_params(n=600, periods=10)
    p.events = [{"period": 5, "firm": "A", "set": {"price": 1.3}}]
    m = run(p, seed=1)
    f = m.firm_frame()
    a = f[f.firm == "A"].set_index("period")["price"]
    assert a.loc[4] == 1.0 and a.loc[5] == 1.3
    ev = m.events()
    lev = ev[ev.event == "lever"]
    assert len(lev) == 1 and lev.iloc[0]["period"] == 5 and "price" in lev.iloc[0]["detail"]


def test_firm_set_lever_rejects_unknown_levers():
    m = MarketModel(small_params(n=50), seed=0)
    with pytest.raises(ValueError, match="allowed: price"):
        m.firms[0].set_lever("colour", 1)


def test_referral_cascades_and_profit_concentration(baseline_model):
    ev = baseline_model.events()
    c = referral_cascades(ev)
    assert len(c) == (ev.event == "referral").sum() > 0
    assert (c["depth"] >= 1).all()
    s = cascade_summary(ev)
    assert s["size"].sum() == len(c)
    # 80/20: most profit comes from a minority of customers (seed 000)
    pr = baseline_model.pop.profit.sum(axis=1)
    pr = pr[pr != 0]
    share = profit_concentration(pr, 0.2)
    assert 0.6 < share < 1.2


def test_default_market_is_plausible():
    m = run(small_params(n=3000, periods=60), seed=11)
    f = m.firm_frame()
    late = f[f.period > 12]
    share = late.groupby("firm")["share"].mean()
    assert share.between(0.35, 0.65).all()  # symmetric duopoly: no firm wiped out
    monthly = late["churn_rate"].mean()
    annual = 1 - (1 - monthly) ** 12
    assert 0.2 < annual < 0.6  # seed 000: about 40% a year
    s = late["mean_satisfaction"]
    assert s.between(0.2, 0.9).all()  # not pinned at a bound


def test_bad_firm_count():
    p = ModelParams()
    p.firms = []
    with pytest.raises(ValueError, match="at least one firm"):
        MarketModel(p)
