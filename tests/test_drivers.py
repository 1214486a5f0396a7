"""Churn drivers: the cohort replay, loss rates by factor, and customer stories."""

from __future__ import annotations

import numpy as np
import pytest

from sim.cli import main
from sim.drivers import FACTORS, churn_drivers, customer_story, loss_stories, trace_losses
from sim.model import MarketModel
from sim.scenario import load_scenario

from .test_kpis import ROOT

ENTRANT = ROOT / "scenarios" / "new_entrant.toml"
BASE = ROOT / "scenarios" / "baseline.toml"


def params(path=BASE, *extra, n=2000, periods=24):
    sc = load_scenario(path, [f"market.n_customers={n}", f"market.periods={periods}", *extra])
    return sc.params, sc.seed


@pytest.fixture(scope="module")
def base_trace():
    p, seed = params()
    return p, seed, trace_losses(p, seed, "B", 1, 24)


def test_cohort_and_losses_match_the_run(base_trace):
    p, seed, tr = base_trace
    m = MarketModel(p, seed=seed).run(24)
    f = m.firm_frame()
    b = f[f.firm == "B"].set_index("period")
    t = tr.table
    assert len(t) == b.loc[0, "customers"]  # the cohort: customers at the start of month 1
    assert t["customer"].is_unique
    # those who stayed are B's customers at the end
    assert set(t[~t.lost].customer) <= set(np.nonzero(m.pop.firm == 1)[0])
    # losses of the cohort cannot exceed the firm's recorded losses
    assert t.lost.sum() <= b.loc[1:24, "lost"].sum()
    assert (t.loc[t.lost, "lost_period"].between(1, 24)).all()
    assert (t.loc[~t.lost, "lost_period"] == -1).all()


def test_driver_table_invariants(base_trace):
    _, _, tr = base_trace
    d = churn_drivers(tr)
    t = tr.table
    assert set(d["factor"]) == set(FACTORS)
    months = (np.where(t.lost, t.lost_period, 24) - 1 + 1).sum()
    for f, g in d.groupby("factor"):
        assert g["lost"].sum() == t.lost.sum(), f
        assert g["share_of_lost"].sum() == pytest.approx(1, abs=0.01)
        if f not in ("destination", "how"):
            assert g["stayed"].sum() == (~t.lost).sum()
            assert g["customer_months"].sum() == months
    seg = d[d.factor == "segment"]["level"]
    assert set(seg) <= {"price-driven", "quality-driven", "opinion-driven", "mainstream"}
    assert set(d[d.factor == "destination"]["level"]) <= {"A", "out of market"}


def test_detractors_leave_faster_than_promoters(base_trace):
    """The churn hazard falls with satisfaction (docs/model.md, churn)."""
    d = churn_drivers(base_trace[2]).set_index(["factor", "level"])["monthly_loss_rate"]
    assert d[("satisfaction_band", "detractor")] > 1.3 * d[("satisfaction_band", "promoter")]


def test_mechanism_off_means_no_level():
    p, seed = params(BASE, "complaints.enabled=false", "wom.enabled=false", n=800, periods=12)
    t = trace_losses(p, seed, "A", 1, 12).table
    assert set(t["complaint_outcome"]) == {"none"} and set(t["heard_negative"]) == {"no"}


def test_entrant_takes_nobody_before_it_enters():
    p, seed = params(ENTRANT, n=1500, periods=24)
    before = trace_losses(p, seed, "A", 1, 11).table
    after = trace_losses(p, seed, "A", 12, 20).table
    assert "C" not in set(before.destination)
    assert (after.destination == "C").sum() > 0
    lost = after[after.lost]
    assert lost["value_firm_at_leaving"].notna().all()
    assert (lost["how"] != "").all()
    assert trace_losses(p, seed, "A", 12, 20).table.equals(after)  # deterministic
    s = loss_stories(trace_losses(p, seed, "A", 12, 20), limit=3)
    assert len(s) == 3 and all("expectation" in x and "value of A" in x for x in s)


def test_story_of_a_customer_outside_the_panel():
    p, seed = params(n=600, periods=12)
    p.panel_size = 0
    m = MarketModel(p, seed=seed).run(12)
    story = customer_story(p, seed, 77)
    assert len(story) == 12
    assert story["satisfaction"].iloc[-1] == m.pop.satisfaction[77]
    bought = story[story.bought]
    assert bought["performance"].between(0, 2).all() and bought["expectation"].notna().all()
    with pytest.raises(ValueError, match="--customer 600"):
        customer_story(p, seed, 600)


def test_cli_explain_lost_between(tmp_path, capsys):
    small = ["--set", "market.n_customers=800", "--periods", "24", "--quiet", "--no-plots"]
    assert main(["run", str(ENTRANT), *small, "--out", str(tmp_path)]) == 0
    run = next((tmp_path / "new_entrant").iterdir())
    capsys.readouterr()
    out_csv = tmp_path / "lost.csv"
    assert (
        main(["explain", str(run), "--firm", "A", "--lost-between", "12", "18"])
        + main(
            [
                "explain",
                str(run),
                "--firm",
                "A",
                "--lost-between",
                "12",
                "18",
                "--out",
                str(out_csv),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    for word in ("segment", "value_tier", "tenure", "satisfaction_band", "complaint_outcome"):
        assert word in out
    assert "heard_negative" in out and "destination" in out and "Customer " in out
    assert out_csv.exists()
    assert main(["explain", str(run), "--firm", "Z", "--lost-between", "12", "18"]) == 2
    assert "--firm Z" in capsys.readouterr().err
    assert main(["explain", str(run), "--firm", "A", "--lost-between", "12", "99"]) == 2
    assert "--lost-between 12 99" in capsys.readouterr().err
    assert main(["explain", str(run), "--customer", "5"]) == 0
    out = capsys.readouterr().out
    assert "Own experiences" in out and "segment 0" not in out
