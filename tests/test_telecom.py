"""The telecom scenario's three questions, answered by the documented commands on a small
version: complaint handling for the challenger, the entrant's referral programme, and
whom the incumbent lost after the outage and why. Also: outages in days with a severity,
and switching one timeline event off from the command line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.model import MarketModel
from sim.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[1]
TELECOM = str(ROOT / "scenarios" / "telecom.toml")
SMALL = ["--set", "market.n_customers=800", "--replications", "3", "--quiet", "--no-plots"]


def run(out: Path, *extra: str) -> Path:
    assert main(["run", TELECOM, *SMALL, "--out", str(out), *extra]) == 0
    return next((out / "telecom").iterdir())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("telecom")
    return {
        "base": run(base / "a"),
        "handling": run(base / "b", "--set", "firms.Challenger.resolve_share=0.8"),
        "no_outage": run(base / "c", "--set", "events.1.enabled=false", "--name", "no outage"),
        "dir": base,
    }


def test_q1_complaint_handling_for_the_challenger(runs, capsys):
    out = runs["dir"] / "cmp"
    capsys.readouterr()
    assert main(["compare", str(runs["base"]), str(runs["handling"]), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "firms.Challenger.resolve_share" in text and "paired" in text
    d = pd.read_csv(out / "deltas.csv").set_index(["firm", "kpi"])
    rs = d.loc[("Challenger", "resolved_share")]
    assert rs["delta"] > 0.4 and rs["distinguishable"]
    # the iceberg: the challenger hears of few problems (complaints from a few percent of
    # its problems), so handling them better changes few of its customers' outcomes
    comp = d.loc[("Challenger", "complaints")]
    assert comp["baseline"] < 0.15 * d.loc[("Challenger", "final_customers"), "baseline"]
    for kpi in ("final_customers", "annual_churn", "profit_total", "clv_last12"):
        assert ("Challenger", kpi) in d.index


def test_q2_the_entrants_referral_programme(runs, capsys):
    out = runs["dir"] / "econ.csv"
    capsys.readouterr()
    assert main(["economics", str(runs["base"]), "--out", str(out)]) == 0
    e = pd.read_csv(out).set_index(["firm", "measure"])
    paid = e.loc[("Entrant", "referral_rewards"), "mean"]
    assert paid > 0 and e.loc[("Entrant", "acquired_referral"), "mean"] > 0
    assert e.loc[("Entrant", "cost_per_referral_acquisition"), "mean"] == pytest.approx(
        0.5, rel=0.01
    )  # the reward per referred customer
    assert e.loc[("Entrant", "referral_programme_extra_cost"), "mean"] == pytest.approx(paid)
    for m in ("customers_saved", "profit_gain", "roi"):
        assert ("Entrant", f"referral_programme_{m}") in e.index
    assert ("Premium", "referral_programme_roi") not in e.index  # no programme there


def test_q3_whom_premium_lost_after_the_outage(runs, capsys):
    capsys.readouterr()
    lost = {}
    for key in ("base", "no_outage"):
        csv = runs["dir"] / f"lost-{key}.csv"
        args = ["explain", str(runs[key]), "--firm", "Premium", "--lost-between", "24", "27"]
        assert main([*args, "--out", str(csv)]) == 0
        lost[key] = pd.read_csv(csv)
    text = capsys.readouterr().out
    for factor in ("segment", "value_tier", "tenure", "satisfaction_band"):
        assert factor in text
    assert "complaint_outcome" in text and "heard_negative" in text and "destination" in text
    # same customers at the start (same seeds, nothing differs before month 24) …
    assert set(lost["base"].customer) == set(lost["no_outage"].customer)
    # … and the outage makes Premium lose more of them
    assert lost["base"].lost.sum() > 1.2 * lost["no_outage"].lost.sum()
    assert set(lost["base"].destination.dropna()) <= {"Challenger", "Entrant", "out of market"}


def test_outage_in_days_with_severity():
    sc = load_scenario(TELECOM, ["market.n_customers=300", "market.periods=26"])
    m = MarketModel(sc.params, seed=1).run(26)
    f = m.firm_frame()
    p = f[f.firm == "Premium"].set_index("period")
    # ten days of a full outage: a third of the month without service
    assert p.loc[24, "service"] == pytest.approx(0.85 * (1 - 10 / 30))
    assert p.loc[24, "quality"] == pytest.approx(0.85 - (10 / 30) * (0.85 - 0.3))
    assert p.loc[23, "service"] == p.loc[25, "service"] == 0.85  # restored next month
    half = load_scenario(TELECOM, ["market.periods=26", "events.1.severity=0.5"])
    changes = [e for e in half.params.events if e["firm"] == "Premium"][0]["set"]
    assert changes["service"] == pytest.approx(0.85 * (1 - 0.5 * 10 / 30))
    full = load_scenario(TELECOM, ["market.periods=26", "events.1.days=30"])
    assert [e for e in full.params.events if e["firm"] == "Premium"][0]["set"]["service"] == 0


def test_switching_an_event_off():
    off = load_scenario(TELECOM, ["events.1.enabled=false"])
    assert not [e for e in off.params.events if e["firm"] == "Premium"]
    assert [e for e in off.params.events if e["firm"] == "Entrant"]
    with pytest.raises(ScenarioError, match=r"events\[1\]\.enabled"):
        load_scenario(TELECOM, ["events.1.enabled=maybe"])
    with pytest.raises(ScenarioError, match="either duration"):  # both given
        load_scenario(TELECOM, ["events.1.duration=1"])
