"""Economics per firm: acquisition by channel, costs, programme effects against
counterfactuals with the same random numbers, incremental CLV."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.cli import main
from sim.economics import (
    CHANNELS,
    counterfactual_effects,
    economics,
    economics_per_replication,
    no_complaint_handling,
    no_referral_programme,
)
from sim.runner import run_scenario
from sim.scenario import load_scenario

from .test_kpis import ROOT


def scenario(name, n=1000, periods=24, reps=3):
    return load_scenario(
        ROOT / "scenarios" / f"{name}.toml",
        [f"market.n_customers={n}", f"market.periods={periods}", f"scenario.replications={reps}"],
    )


@pytest.fixture(scope="module")
def complaints():
    sc = scenario("complaint_handling")
    res = run_scenario(sc)
    return sc, res, economics(res.firms, params=sc.params, seeds=sc.replication_seeds())


def test_counterfactual_parameters():
    sc = scenario("referral_programme")
    q = no_referral_programme(sc.params, "A")
    assert q.firms[0].referral_reward == 0
    assert all(e["set"].get("referral_reward", 0) == 0 for e in q.events if e["firm"] == "A")
    assert sc.params.events[0]["set"]["referral_reward"] == 0.5  # the original is untouched
    assert no_complaint_handling(sc.params, "B").firms[1].resolve_share == 0


def test_channels_add_up(complaints):
    _, res, _ = complaints
    per = economics_per_replication(res.firms)
    parts = per[[f"acquired_{c}" for c in CHANNELS]].sum(axis=1)
    assert (parts == per["acquired"]).all()
    assert (per["complaint_cost"] > 0).all()


def test_complaint_handling_keeps_customers(complaints):
    """A resolves 90% of complaints: without it, A ends with fewer customers."""
    _, _, e = complaints
    row = e[(e.firm == "A") & (e.measure == "complaint_handling_customers_saved")].iloc[0]
    assert row["mean"] > 0 and row["low"] > 0
    extra = e[(e.firm == "A") & (e.measure == "complaint_handling_extra_cost")].iloc[0]
    assert extra["mean"] > 0  # resolving costs remedies
    assert "referral_programme_roi" not in set(e[e.firm == "A"].measure)  # no programme


def test_no_programme_no_effect_and_referral_cost_is_the_rewards():
    sc = scenario("referral_programme", n=800)
    res = run_scenario(sc)
    per = economics_per_replication(res.firms)
    same = counterfactual_effects(per, per, "A", "referral_rewards", "x")
    assert all((v == 0).all() for k, v in same.items() if k != "x_roi")
    e = economics(
        res.firms,
        params=sc.params,
        seeds=sc.replication_seeds(),
        counterfactuals=("referral_programme",),
        baseline=res.firms,
    ).set_index(["firm", "measure"])
    paid = e.loc[("A", "referral_rewards"), "mean"]
    assert paid > 0 and e.loc[("A", "referral_programme_extra_cost"), "mean"] == pytest.approx(paid)
    assert ("B", "referral_programme_roi") not in e.index  # B pays no reward
    assert e.loc[("A", "incremental_clv"), "mean"] == 0  # a run against itself


def test_cli_economics(tmp_path, capsys):
    small = ["--set", "market.n_customers=500", "--periods", "12", "--quiet", "--no-plots"]
    sc = str(ROOT / "scenarios" / "complaint_handling.toml")
    assert main(["run", sc, *small, "--replications", "2", "--out", str(tmp_path / "a")]) == 0
    assert main(["run", sc, *small, "--out", str(tmp_path / "b")]) == 0
    a = next((tmp_path / "a" / "complaint_handling").iterdir())
    b = next((tmp_path / "b" / "complaint_handling").iterdir())
    capsys.readouterr()
    assert main(["economics", str(a), "--out", str(tmp_path / "e.csv")]) == 0
    out = capsys.readouterr().out
    assert "complaint_handling_roi" in out and "cost_per_marketing_acquisition" in out
    assert set(pd.read_csv(tmp_path / "e.csv").columns) >= {"firm", "measure", "mean", "low"}
    assert main(["economics", str(a), "--baseline", str(b), "--no-counterfactuals"]) == 2
    assert "--baseline" in capsys.readouterr().err
