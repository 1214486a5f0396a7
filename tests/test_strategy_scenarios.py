"""The scenarios with deciding firms produce what their headers claim (pooled over three
seeds, as tests/test_scenarios.py does), and their plots show the levers moving."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd
import pytest

from sim.equilibrium import bertrand_nash
from sim.plots import levers_move, plot_levers, save_run_plots
from sim.runner import run_scenario
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SEEDS = (42, 43, 44)


@cache
def result(name: str):
    sc = load_scenario(ROOT / "scenarios" / f"{name}.toml", [f"scenario.replications={len(SEEDS)}"])
    return run_scenario(sc)


def mean(name, col, firm, a=1, b=None):
    f = result(name).firms
    b = b if b is not None else f.period.max()
    return f[(f.firm == firm) & f.period.between(a, b)][col].mean()


def test_learning_firms_climb_out_of_the_price_war():
    name = "learning_price_war"
    for firm in ("A", "B"):
        assert mean(name, "price", firm, 1, 3) == pytest.approx(0.70)
        assert mean(name, "price", firm, 49) > 1.0  # well above the war price
        assert mean(name, "profit", firm, 1, 6) < 0  # losses at first
        assert mean(name, "profit", firm, 49) > 150  # healthy profits at the end
    f = result(name).firms
    # the two styles: A walks in steps of at most 0.05; B jumps between its price points
    a = f[(f.firm == "A") & (f.replication == 0)].sort_values("period")["price"].diff().abs()
    b = f[(f.firm == "B") & (f.replication == 0)].sort_values("period")["price"].diff().abs()
    assert a.max() <= 0.05 + 1e-9 and b.max() >= 0.15 - 1e-9
    assert set(f[f.firm == "B"]["price"].round(2)) <= {0.70, 0.85, 1.00, 1.15, 1.30, 1.45}


def test_complaint_investor_invests_in_the_crisis_keeps_customers_and_it_pays():
    name = "complaint_investment"
    f = result(name).firms
    a = f[f.firm == "A"]
    assert a[a.period <= 12]["resolve_share"].mean() < 0.2
    assert a[a.period == 60]["resolve_share"].mean() > 0.6  # invested
    assert a[a.period == 60]["complaint_ease"].mean() > 0.3  # ... and invites complaints
    assert mean(name, "resolve_share", "B", 1) == pytest.approx(0.1)
    assert mean(name, "complaints", "A", 31) > 3 * mean(name, "complaints", "B", 31)  # A hears more
    assert mean(name, "mean_satisfaction", "A", 31) > mean(name, "mean_satisfaction", "B", 31)
    assert mean(name, "churn_rate", "A", 31) < mean(name, "churn_rate", "B", 31)
    assert mean(name, "share", "A", 49) > mean(name, "share", "B", 49) + 0.03
    # the remedies cost A much more, and the customers they keep bring in more still
    assert mean(name, "cost_complaints", "A", 31) > 5 * mean(name, "cost_complaints", "B", 31)
    assert mean(name, "profit", "A", 31) > mean(name, "profit", "B", 31)
    # the crisis is what moved it: churn rose while service was down
    assert mean(name, "churn_rate", "B", 13, 24) > mean(name, "churn_rate", "B", 1, 12)


def test_best_responses_settle_at_the_computed_bertrand_nash_prices():
    name = "bertrand_nash"
    sc = load_scenario(ROOT / "scenarios" / f"{name}.toml")
    f = result(name).firms
    for r, seed in enumerate(sc.replication_seeds() if sc.replications > 1 else SEEDS):
        eq = bertrand_nash(sc, seed=int(f[f.replication == r]["seed"].iloc[0]))
        last = f[(f.replication == r) & (f.period == f.period.max())].set_index("firm")["price"]
        assert last[["A", "B"]].to_numpy() == pytest.approx(eq.prices, abs=1e-5)
        del seed
    assert mean(name, "price", "A", 12) > mean(
        name, "price", "B", 12
    )  # the better product is dearer
    assert mean(name, "buyers", "A", 12) < mean(name, "buyers", "B", 12)  # and sells less
    eq = bertrand_nash(sc)
    assert eq.prices == pytest.approx([1.45, 1.05], abs=0.01)  # the numbers in the header


@pytest.mark.parametrize(
    "name, movers",
    [
        ("learning_price_war", {"price"}),
        ("complaint_investment", {"resolve_share", "resolve_speed", "complaint_ease", "service"}),
        ("bertrand_nash", {"price"}),
    ],
)
def test_lever_plots_show_the_levers_moving(name, movers, tmp_path):
    import matplotlib.pyplot as plt

    res = result(name)
    assert set(levers_move(res.firms)) == movers
    fig = plot_levers(res.firms, name)
    assert "moving: " in fig._suptitle.get_text()
    fig.savefig(tmp_path / "levers.png", dpi=50)
    plt.close(fig)
    ev = res.events
    assert ev[(ev["event"] == "lever") & ev["detail"].str.contains("policy")].shape[0] > 0


def test_run_folders_include_the_lever_plot(tmp_path):
    res = result("learning_price_war")
    firms = res.firms[res.firms["replication"] == 0]
    market = res.market[res.market["replication"] == 0]
    written = save_run_plots(
        tmp_path, firms, market, pd.DataFrame(columns=["firm", "size"]), title="x"
    )
    assert "levers.png" in written and "overview.png" in written
    assert (tmp_path / "levers.png").stat().st_size > 10_000
