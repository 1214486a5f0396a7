"""Headline indicators, intervals, paired comparisons and the inputs that differ."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.cli import main
from sim.compare import compare, flatten, input_differences, load_compared
from sim.kpis import KPIS, interval, kpi_table, paired_deltas, summarise

ROOT = Path(__file__).resolve().parents[1]
ENTRANT = ROOT / "scenarios" / "new_entrant.toml"
BASE = ROOT / "scenarios" / "baseline.toml"
SMALL = ["market.n_customers=600"]


@pytest.fixture(scope="module")
def entrant():
    return load_compared(ENTRANT, replications=3, periods=24, overrides=SMALL)


def test_interval_is_the_student_t_interval():
    mean, lo, hi = interval([1.0, 2.0, 3.0, np.nan])
    half = stats.t.ppf(0.975, 2) * 1.0 / np.sqrt(3)
    assert mean == 2.0 and lo == pytest.approx(2 - half) and hi == pytest.approx(2 + half)
    assert np.isnan(interval([5.0])[1])


def test_late_entrant_churn_counts_only_its_active_months(entrant):
    per = kpi_table(entrant.firms)
    f = entrant.firms
    for rep in range(3):
        c = f[(f.replication == rep) & (f.firm == "C") & (f.period > 0)]
        active = c[c.active]
        assert len(active) < len(c)  # C enters at month 12: some inactive months
        expect = 1 - (1 - active.churn_rate.mean()) ** 12
        diluted = 1 - (1 - c.churn_rate.mean()) ** 12
        got = per[(per.replication == rep) & (per.firm == "C")]["annual_churn"].iloc[0]
        assert got == pytest.approx(expect) and got > diluted


def test_counts_are_integers_and_values_rounded(entrant):
    per = kpi_table(entrant.firms)
    for k in KPIS:
        if k.count:
            assert per[k.name].dtype.kind == "i", k.name
    one = summarise(entrant.firms[entrant.firms.replication == 0])
    assert str(one["complaints"].dtype) == "Int64"
    assert (one["final_share"] == one["final_share"].round(3)).all()
    assert list(one["firm"]) == ["A", "B", "C"]


def test_same_inputs_same_seeds_give_zero_deltas(entrant):
    again = load_compared(ENTRANT, replications=3, periods=24, overrides=SMALL)
    res = compare([entrant, again])
    d = res["deltas"]
    assert res["paired"] and (d["delta"].fillna(0) == 0).all()
    assert not d["distinguishable"].any()
    assert res["differences"].empty
    assert res["kpis"]["run"].nunique() == 2  # equal names made unique


def test_price_rise_is_distinguishable_and_pairing_narrows_intervals(entrant):
    dear = load_compared(
        ENTRANT, replications=3, periods=24, overrides=[*SMALL, "firms.A.price=1.4"]
    )
    res = compare([entrant, dear])
    d = res["deltas"].set_index(["firm", "kpi"])
    share = d.loc[("A", "final_share")]
    assert share["delta"] < 0 and share["distinguishable"]  # a dearer A loses share
    assert d.loc[("B", "final_share"), "delta"] > 0
    diffs = res["differences"]
    assert list(diffs["input"]) == ["firms.A.price"]
    # other seeds: not paired, the comparison falls back to unpaired intervals
    other = load_compared(ENTRANT, replications=3, periods=24, overrides=SMALL, seed=7)
    res2 = compare([entrant, other])
    assert not res2["paired"] and "scenario.seed" in set(res2["differences"]["input"])
    u = paired_deltas(kpi_table(other.firms), kpi_table(entrant.firms), paired=False)
    assert u["low"].notna().any()


def test_flatten_and_differences():
    a = {"firms": [{"name": "A", "price": 1.0}], "events": [], "scenario": {"name": "x"}}
    b = {
        "firms": [{"name": "A", "price": 0.9}],
        "events": [{"period": 3, "firm": "A", "set": {"price": 0.8}}],
        "scenario": {"name": "y"},
    }
    assert flatten(b)["events.3.A"] == "price=0.8"
    d = input_differences({"a": a, "b": b}).set_index("input")
    assert set(d.index) == {"firms.A.price", "events.3.A"}  # names are not inputs
    assert d.loc["events.3.A", "a"] == "—"


def test_cli_run_names_intervals_formats_and_compare(tmp_path, capsys):
    small = ["--set", "market.n_customers=400", "--periods", "12", "--quiet", "--no-plots"]
    args = ["run", str(BASE), *small, "--replications", "3"]
    assert main([*args, "--out", str(tmp_path / "a"), "--name", "status quo"]) == 0
    out = capsys.readouterr().out
    assert "status quo" in out and "95% interval over 3 replications" in out
    a = next((tmp_path / "a" / "baseline").iterdir())
    assert json.loads((a / "manifest.json").read_text())["name"] == "status quo"
    assert not list(a.glob("*.csv")) or not (a / "firms.csv").exists()  # parquet by default
    iv = pd.read_csv(a / "summary_intervals.csv")
    ok = iv.dropna(subset=["low"])
    assert len(ok) and ((ok["low"] <= ok["mean"]) & (ok["mean"] <= ok["high"])).all()
    assert set(pd.read_csv(a / "cascades.csv").get("replication", [])) <= {0, 1, 2}
    cheap = [*args, "--out", str(tmp_path / "b"), "--set", "firms.B.price=0.8"]
    assert main([*cheap, "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert "written for the scenario as published" in out
    b = next((tmp_path / "b" / "baseline").iterdir())
    assert (b / "firms.csv").exists() and not (b / "firms.parquet").exists()
    assert json.loads((b / "manifest.json").read_text())["name"] == (
        "baseline (market.n_customers=400, firms.B.price=0.8)"
    )
    assert main(["compare", str(a), str(b), "--out", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "Baseline: status quo" in out and "paired" in out and "firms.B.price" in out
    assert "Difference baseline (market.n_customers=400, firms.B.price=0.8) − status quo" in out
    deltas = pd.read_csv(tmp_path / "c" / "deltas.csv")
    share_b = deltas[(deltas.firm == "B") & (deltas.kpi == "final_share")].iloc[0]
    assert share_b["delta"] > 0 and share_b["distinguishable"]
    assert main(["run", str(BASE), "--format", "xml", "--out", str(tmp_path / "d")]) == 2
    assert "--format xml" in capsys.readouterr().err
    assert main(["compare", str(a), str(b), "--baseline", "nope"]) == 2
    assert "--baseline nope" in capsys.readouterr().err
