"""Cross-check against an independent implementation: ``bench/reference_model.py``.

The reference is the same market written the usual Mesa way (one agent per customer,
per-agent rules, its own random numbers). Run on the same scenarios, its outcome
distributions must match the package's within replication noise: for each outcome,
the means over replications differ by less than 4 standard errors (from the two
models' replication variances) plus a small absolute slack. A mechanism implemented
differently in either model (an equation, a default, the period schedule) moves some
of these means by more than that.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import MarketModel, ModelParams

ROOT = Path(__file__).resolve().parent.parent


def _load_reference():
    name = "bench.reference_model"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / "reference_model.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


reference = _load_reference()
ReferenceModel = reference.ReferenceModel

N_CUSTOMERS = 400
PERIODS = 24
REPLICATIONS = 14
SEEDS = range(500, 500 + REPLICATIONS)

#: outcome -> absolute slack added to 4 standard errors
SLACK = {
    "share": 0.01,
    "mean_satisfaction": 0.003,
    "churn_rate": 0.002,
    "complaints_per_customer": 0.001,
    "wom_pos_per_customer": 0.005,
    "wom_neg_per_customer": 0.005,
    "referrals_per_customer": 0.0005,
    "profit_per_customer": 0.005,
}


def scenario(name: str) -> ModelParams:
    p = ModelParams()
    p.market.n_customers = N_CUSTOMERS
    p.market.periods = PERIODS
    if name == "asymmetric":  # B is cheaper and handles complaints better
        b = p.firms[1]
        b.price = 0.9
        b.complaint_ease = 0.8
        b.resolve_share = 0.9
        b.resolve_speed = 0.8
    return p


def outcomes(model) -> pd.DataFrame:
    """Per firm, one replication's outcomes over periods 1..T (ratios of sums for the
    per-customer rates)."""
    f = model.firm_frame()
    f = f[f.period > 0]
    g = f.groupby("firm")
    cust = g["customers"].sum()
    return pd.DataFrame(
        {
            "share": g["share"].mean(),
            "mean_satisfaction": g["mean_satisfaction"].mean(),
            "churn_rate": g["churn_rate"].mean(),
            "complaints_per_customer": g["complaints"].sum() / cust,
            "wom_pos_per_customer": g["wom_pos"].sum() / cust,
            "wom_neg_per_customer": g["wom_neg"].sum() / cust,
            "referrals_per_customer": g["referrals"].sum() / cust,
            "profit_per_customer": g["profit"].sum() / cust,
        }
    )


def replicate(model_cls, params: ModelParams) -> pd.DataFrame:
    """Outcomes of every replication: one row per (seed, firm)."""
    rows = []
    for seed in SEEDS:
        m = model_cls(copy.deepcopy(params), seed=seed)
        m.run(PERIODS)
        rows.append(outcomes(m).assign(seed=seed))
    return pd.concat(rows).rename_axis("firm").reset_index()


def compare(pkg: pd.DataFrame, ref: pd.DataFrame) -> pd.DataFrame:
    """Per firm and outcome: both means, the standard error of their difference and
    whether the difference is within 4 SE + slack."""
    rows = []
    for firm in sorted(pkg.firm.unique()):
        a, b = pkg[pkg.firm == firm], ref[ref.firm == firm]
        for col, slack in SLACK.items():
            x, y = a[col].to_numpy(float), b[col].to_numpy(float)
            se = float(np.sqrt(x.var(ddof=1) / x.size + y.var(ddof=1) / y.size))
            diff = float(y.mean() - x.mean())
            rows.append(
                {
                    "firm": firm,
                    "outcome": col,
                    "package": x.mean(),
                    "reference": y.mean(),
                    "diff": diff,
                    "se": se,
                    "ok": abs(diff) < 4 * se + slack,
                }
            )
    return pd.DataFrame(rows)


@functools.cache
def comparison(name: str) -> pd.DataFrame:
    """The comparison table of a scenario (computed once per test session)."""
    p = scenario(name)
    return compare(replicate(MarketModel, p), replicate(ReferenceModel, p))


@pytest.mark.parametrize("name", ["default", "asymmetric"])
def test_reference_matches_package_within_replication_noise(name):
    table = comparison(name)
    bad = table[~table.ok]
    assert bad.empty, (
        f"{name}: reference and package differ beyond 4 SE + slack:\n{bad.to_string()}"
    )


def test_asymmetric_scenario_favours_b_in_both_models():
    """The asymmetry must show in both models (so the comparison is not vacuous)."""
    share = comparison("asymmetric").query("outcome == 'share'").set_index("firm")
    assert share.loc["B", "package"] > share.loc["A", "package"] + 0.05
    assert share.loc["B", "reference"] > share.loc["A", "reference"] + 0.05


def test_reference_uses_the_package_network_and_firm_table_columns():
    p = scenario("default")
    pkg = MarketModel(p, seed=3)
    ref = ReferenceModel(p, seed=3)
    g = ref.grid.G
    pkg_edges = {
        (int(u), int(v)) for u in range(pkg.network.n) for v in pkg.network.neighbors(u) if u < v
    }
    ref_edges = {(min(u, v), max(u, v)) for u, v in g.edges()}
    assert ref_edges == pkg_edges
    assert g.number_of_nodes() == N_CUSTOMERS
    assert len(ref.agents_by_type[reference.CustomerAgent]) == N_CUSTOMERS
    # every customer sits on its own network cell, neighbours through the cell
    c = ref.agents_by_type[reference.CustomerAgent].to_list()[0]
    assert {a.index for a in c.cell.neighborhood.agents} == {
        int(v) for v in pkg.network.neighbors(c.index)
    }
    pkg.run(2)
    ref.run(2)
    assert set(pkg.firm_frame().columns) <= set(ref.firm_frame().columns)
    assert list(ref.firm_frame().period.unique()) == [0, 1, 2]
    # the same seed reproduces the reference run exactly
    again = ReferenceModel(p, seed=3).run(2)
    pd.testing.assert_frame_equal(again.firm_frame(), ref.firm_frame())
