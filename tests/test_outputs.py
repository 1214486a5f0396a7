"""docs/outputs.md documents every column of every output table, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.outputs import TABLES, _block, outputs_markdown

ROOT = Path(__file__).resolve().parents[1]


def documented(table: str) -> list[str]:
    return [c for c, _, _ in TABLES[table][1]]


def test_outputs_md_block_is_current():
    assert _block((ROOT / "docs" / "outputs.md").read_text()) == outputs_markdown().strip("\n")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    out = tmp_path_factory.mktemp("outputs")
    sc = str(ROOT / "scenarios" / "referral_programme.toml")
    small = ["--set", "market.n_customers=400", "--periods", "12", "--quiet", "--no-plots"]
    assert main(["run", sc, *small, "--replications", "2", "--out", str(out / "a")]) == 0
    assert (
        main(
            [
                "run",
                sc,
                *small,
                "--replications",
                "2",
                "--out",
                str(out / "b"),
                "--set",
                "firms.B.price=0.9",
            ]
        )
        == 0
    )
    a = next((out / "a" / "referral_programme").iterdir())
    b = next((out / "b" / "referral_programme").iterdir())
    assert main(["compare", str(a), str(b), "--out", str(out / "c")]) == 0
    assert main(["economics", str(a), "--out", str(out / "e.csv")]) == 0
    assert (
        main(
            [
                "explain",
                str(a),
                "--firm",
                "A",
                "--lost-between",
                "3",
                "12",
                "--out",
                str(out / "cohort.csv"),
            ]
        )
        == 0
    )
    return out, a


def test_every_column_is_documented(folders):
    out, a = folders
    for name in ("summary.csv", "kpis.csv", "summary_intervals.csv", "cascades.csv"):
        assert list(pd.read_csv(a / name).columns) == documented(name), name
    for name in ("comparison.csv", "deltas.csv"):
        assert list(pd.read_csv(out / "c" / name).columns) == documented(name), name
    diff = pd.read_csv(out / "c" / "differences.csv")
    assert diff.columns[0] == "input" and len(diff.columns) == 3  # one column per run
    assert list(pd.read_csv(out / "e.csv").columns) == documented("economics (sim economics --out)")
    cohort = pd.read_csv(out / "cohort.csv")
    assert set(cohort.columns) == set(documented("cohort (sim explain --lost-between --out)"))


def test_every_economics_measure_is_documented(folders):
    out, _ = folders
    doc = documented("economics measures")
    for m in pd.read_csv(out / "e.csv")["measure"].unique():
        generic = m
        if m.startswith("acquired_"):
            generic = "acquired_<channel>"
        for p in ("complaint_handling_", "referral_programme_"):
            if m.startswith(p):
                generic = "<programme>_" + m[len(p) :]
        assert generic in doc, m


def test_churn_driver_columns_are_documented():
    from sim.drivers import churn_drivers, trace_losses
    from sim.scenario import load_scenario

    sc = load_scenario(
        ROOT / "scenarios" / "baseline.toml", ["market.n_customers=300", "market.periods=6"]
    )
    d = churn_drivers(trace_losses(sc.params, sc.seed, "A", 1, 6))
    assert list(d.columns) == documented("churn drivers (sim explain --lost-between)")


def test_summary_counts_are_integers(folders):
    _, a = folders
    per = pd.read_csv(a / "kpis.csv")
    for c in ("final_customers", "complaints", "wom_pos", "wom_neg", "referrals"):
        assert per[c].dtype.kind == "i", c


def test_cascades_cover_every_replication(folders, capsys):
    _, a = folders
    capsys.readouterr()
    assert main(["cascades", str(a)]) == 0
    assert "means over 2 replications" in capsys.readouterr().out
    assert set(pd.read_csv(a / "cascades.csv")["replication"]) == {0, 1}
