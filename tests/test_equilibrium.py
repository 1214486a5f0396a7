"""Bertrand–Nash prices of the static logit market, and convergence of full-information
best responses in the dynamic model to them (two and three asymmetric firms)."""

from __future__ import annotations

import copy
import math
import subprocess
import sys
from functools import cache

import numpy as np
import pytest
from scipy import optimize

from sim import MarketModel, ModelParams
from sim.choice import logit_probabilities
from sim.equilibrium import LogitMarket, bertrand_nash, nash_prices
from sim.params import FirmParams, SegmentParams


def homogeneous(
    k: int, delta: float = 2.0, alpha: float = 3.0, cost: float = 0.5, u0: float | None = 0.0
):
    return LogitMarket(
        base=np.full((4, k), delta),
        alpha=alpha,
        weight=1.0,
        quantity=1.0,
        unit_cost=np.full(k, cost),
        purchase_cost=np.zeros(k),
        outside_utility=u0,
    )


@pytest.mark.parametrize("k", [1, 2, 3])
def test_symmetric_homogeneous_market_matches_the_closed_form(k):
    # p = c + 1 / (α (1 − s)),  s = e^(δ − α p) / (1 + k e^(δ − α p))
    def g(p):
        e = math.exp(2.0 - 3.0 * p)
        return p - 0.5 - 1.0 / (3.0 * (1.0 - e / (1.0 + k * e)))

    p_star = optimize.brentq(g, 0.5, 10.0, xtol=1e-14)
    res = nash_prices(homogeneous(k))
    assert res.converged
    assert res.prices == pytest.approx(np.full(k, p_star), abs=1e-9)
    assert res.max_gain < 1e-9


def test_without_an_outside_option_a_duopoly_charges_cost_plus_two_over_alpha():
    res = nash_prices(homogeneous(2, u0=None))
    assert res.prices == pytest.approx([0.5 + 2.0 / 3.0] * 2, abs=1e-9)  # s = 1/2
    assert res.outside_share == pytest.approx(0.0, abs=1e-12)


def asymmetric_firms(k: int, policy: str = "fixed") -> list[FirmParams]:
    firms = [
        FirmParams(name="A", quality=0.8, service=0.8, unit_cost=0.5, price=1.0, policy=policy),
        FirmParams(
            name="B",
            quality=0.6,
            service=0.6,
            unit_cost=0.35,
            service_cost=0.1,
            serve_cost=0.05,
            brand=0.2,
            price=1.0,
            policy=policy,
        ),
        FirmParams(
            name="C",
            quality=0.7,
            service=0.7,
            unit_cost=0.45,
            serve_cost=0.2,
            price=0.8,
            policy=policy,
        ),
    ]
    return firms[:k]


def static_params(k: int, policy: str = "best_response_full", n: int = 1000) -> ModelParams:
    """A market whose dynamic demand equals the static logit demand: no inertia, novelty
    risk or satisfaction in choice; expectations fixed at the true composite (quality =
    service for every firm, no initial noise); everyone aware; no WOM, referrals,
    complaints, churn, capacity, marketing, imitation or loyalty."""
    p = ModelParams()
    p.market.n_customers = n
    p.choice.inertia = p.choice.novelty_risk = p.choice.satisfaction_weight = 0.0
    p.expectations.enabled = False
    p.expectations.initial_noise = 0.0
    p.experience.fit_sd = 0.0  # every customer experiences the true composite
    p.market.initial_awareness = 1.0
    for sec in ("wom", "referrals", "complaints", "churn", "capacity", "loyalty"):
        getattr(p, sec).enabled = False
    p.acquisition.marketing_enabled = p.acquisition.imitation_enabled = False
    p.firms = asymmetric_firms(k, policy)
    return p


def test_equilibrium_of_a_heterogeneous_asymmetric_market_admits_no_profitable_deviation():
    p = static_params(3, "fixed", n=600)
    market = LogitMarket.from_params(p, seed=4)
    res = nash_prices(market)
    assert res.converged and res.foc_norm < 1e-6
    for j in range(3):
        grid = np.linspace(market.unit_cost[j], 3.0, 400)
        curve = market.own_profit_curve(j, res.prices, grid)
        assert curve.max() <= res.profits[j] * (1 + 1e-9)
    # A's better product sells at a higher price; margins are positive
    assert res.prices[0] > res.prices[2] > res.prices[1]
    assert np.all(
        res.prices > market.unit_cost + market.purchase_cost / market.quantity.mean() * 0.5
    )
    assert res.outside_share + res.share.sum() == pytest.approx(1.0)


def test_prices_are_strategic_complements():
    p = static_params(2, "fixed", n=400)
    base = nash_prices(LogitMarket.from_params(p, seed=1)).prices
    p.firms[1].unit_cost = 0.6
    dearer = nash_prices(LogitMarket.from_params(p, seed=1)).prices
    assert dearer[1] > base[1] and dearer[0] > base[0]  # B's cost rise lifts A's price too


def test_from_model_reproduces_the_choice_stage_probabilities():
    p = ModelParams()
    p.market.n_customers = 400
    p.firms[1].price = 0.9
    m = MarketModel(p, seed=3).run(8)  # a market with history: inertia, attitudes, expectations
    market = LogitMarket.from_model(m)
    L = m._lever_arrays()
    rows = np.arange(m.pop.n)
    v, _ = m._utilities(rows, L, m._switching_cost(L))
    known = m.pop.aware & L["active"][None, :]
    expected = logit_probabilities(v, known, p.choice.outside_utility)[:, :2]
    assert market.shares(L["price"]) == pytest.approx(expected, abs=1e-12)


def test_from_params_builds_the_model_customers_with_their_true_composites():
    p = static_params(2, "fixed", n=300)
    a = LogitMarket.from_params(p, seed=5)
    m = MarketModel(p, seed=5)
    b = LogitMarket.from_model(m)  # expectations = true composite (quality = service)
    assert a.base == pytest.approx(b.base, abs=1e-12)
    assert a.weight == pytest.approx(b.weight)
    # costs per purchase: service_cost · service + serve_cost
    assert a.purchase_cost == pytest.approx([0.2 * 0.8 + 0.1, 0.1 * 0.6 + 0.05])


@cache
def converge(k: int, seed: int = 3):
    p = static_params(k)
    eq = nash_prices(LogitMarket.from_params(p, seed=seed))
    f = MarketModel(p, seed=seed).run(30).firm_frame()
    return eq, f


@pytest.mark.parametrize("k", [2, 3])
def test_full_information_best_responses_converge_to_the_bertrand_nash_prices(k):
    eq, f = converge(k)
    prices = f.pivot(index="period", columns="firm", values="price")
    assert eq.converged
    assert prices.loc[10].to_numpy() == pytest.approx(eq.prices, abs=1e-6)
    assert prices.loc[30].to_numpy() == pytest.approx(eq.prices, abs=1e-6)
    # the firms started far from it: they really moved there
    assert np.max(np.abs(np.array([fp.price for fp in asymmetric_firms(k)]) - eq.prices)) > 0.3


@pytest.mark.parametrize("k", [2, 3])
def test_realised_sales_and_profits_match_the_static_market(k):
    eq, f = converge(k)
    late = f[f.period >= 10].groupby("firm", sort=False)[["buyers", "units", "profit"]].mean()
    assert late["buyers"].to_numpy() == pytest.approx(eq.purchases, rel=0.06)
    assert late["units"].to_numpy() == pytest.approx(eq.units, rel=0.08)
    assert late["profit"].to_numpy() == pytest.approx(eq.profits, rel=0.1)


def test_bertrand_nash_reads_scenarios_and_the_module_prints_it(tmp_path):
    p = static_params(2, "fixed", n=300)
    res = bertrand_nash(copy.deepcopy(p), seed=2)
    assert res.converged and res.table()["firm"].tolist() == ["A", "B"]
    root = __import__("pathlib").Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-m", "sim.equilibrium", str(root / "scenarios" / "bertrand_nash.toml")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Bertrand–Nash equilibrium (converged" in out and " A " in out
    bad = subprocess.run(
        [sys.executable, "-m", "sim.equilibrium", str(tmp_path / "missing.toml")],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "missing.toml: file not found" in bad.stderr


def test_quantity_weighting_and_segments_change_the_equilibrium():
    p = static_params(2, "fixed", n=500)
    p.market.segments = [SegmentParams(name="all", quantity_sigma=0.0)]
    flat = nash_prices(LogitMarket.from_params(p, seed=1))
    p.market.segments = [SegmentParams(name="all", quantity_sigma=1.0)]
    spread = nash_prices(LogitMarket.from_params(p, seed=1))
    assert flat.converged and spread.converged
    assert not np.allclose(flat.prices, spread.prices, atol=1e-3)
