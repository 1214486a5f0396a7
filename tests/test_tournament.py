"""Tournaments: every match-up, common random numbers, rankings, determinism, the
command line and its bad-input handling."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import MarketModel
from sim.scenario import load_scenario
from sim.tournament import TournamentError, main, run_tournament, strategy_label

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "baseline.toml"
SMALL = {"customers": 300, "periods": 12, "replications": 2}
STRATS = ["fixed", "undercut", {"name": "cost_plus", "markup": 0.6}]


@cache
def small():
    return run_tournament(STRATS, [BASE], **SMALL)


def test_every_matchup_every_seat_every_replication():
    r = small()
    m = r.matches
    assert len(m) == 1 * 2 * 9 * 2  # scenarios × replications × ordered pairs × seats
    labels = ["fixed", "undercut", "cost_plus(markup=0.6)"]
    assert list(r.strategies) == labels
    assert set(m["lineup"]) == {f"{a} vs {b}" for a in labels for b in labels}
    seats = m.groupby(["strategy", "seat"]).size().unstack()
    assert (
        seats.to_numpy() == seats.to_numpy()[0, 0]
    ).all()  # each strategy plays each seat equally
    assert m.groupby(["scenario", "replication"])["seed"].nunique().eq(1).all()


def test_common_random_numbers_a_match_is_a_plain_run_with_the_scenario_seed():
    r = small()
    sc = load_scenario(
        BASE, ["market.n_customers=300", "market.periods=12", "scenario.replications=2"]
    )
    seed = sc.replication_seeds()[1]
    f = MarketModel(sc.params, seed=seed).run(12).firm_frame()
    direct = f[(f.period > 0) & (f.firm == "B")]["profit"].mean()
    row = r.matches.query("replication == 1 and lineup == 'fixed vs fixed' and seat == 1")
    assert row["profit"].item() == pytest.approx(direct, rel=1e-12)


def test_tournament_is_deterministic_for_a_seed():
    a = small()
    b = run_tournament(STRATS, [BASE], **SMALL)
    pd.testing.assert_frame_equal(a.matches, b.matches)
    pd.testing.assert_frame_equal(a.ranking, b.ranking)
    c = run_tournament(STRATS, [BASE], seed=7, **SMALL)
    assert not np.allclose(a.matches["profit"], c.matches["profit"])


def test_ranking_orders_by_profit_and_reports_share_and_satisfaction():
    r = small()
    rk = r.ranking
    assert list(rk["profit"]) == sorted(rk["profit"], reverse=True)
    assert list(rk["rank_profit"]) == [1, 2, 3]
    assert set(rk.columns) >= {
        "share",
        "satisfaction",
        "rank_share",
        "rank_satisfaction",
        "win_share",
    }
    means = r.matches.groupby("strategy")["profit"].mean()
    assert rk.set_index("strategy")["profit"].to_dict() == pytest.approx(means.to_dict())
    # undercutting a rival buys share: it out-shares the firm it undercuts
    pay = r.matches.query("lineup == 'undercut vs fixed' or lineup == 'fixed vs undercut'")
    sh = pay.groupby("strategy")["share"].mean()
    assert sh["undercut"] > sh["fixed"]
    assert r.payoff.shape == (3, 3)
    assert r.payoff.loc["fixed", "fixed"] == pytest.approx(
        r.matches.query("lineup == 'fixed vs fixed'")["profit"].mean()
    )


def test_options_self_play_and_seat_swap():
    r = run_tournament(
        ["fixed", "undercut", "match"],
        [BASE],
        customers=200,
        periods=4,
        replications=1,
        self_play=False,
        seat_swap=False,
    )
    assert sorted(set(r.matches["lineup"])) == [
        "fixed vs match",
        "fixed vs undercut",
        "undercut vs match",
    ]
    # a three-firm scenario: the strategies take A and B; the entrant C keeps its own policy
    r3 = run_tournament(
        ["fixed", "match"],
        [ROOT / "scenarios" / "new_entrant.toml"],
        customers=200,
        periods=24,
        replications=1,
    )
    assert r3.payoff.shape == (2, 2) and set(r3.matches["firm"]) == {"A", "B"}


def test_bad_tournament_input_raises_clear_errors():
    with pytest.raises(TournamentError, match="'psychic'"):
        run_tournament(["fixed", "psychic"], [BASE])
    with pytest.raises(TournamentError, match="needs at least 3"):
        run_tournament(["fixed"], [BASE], size=3)
    with pytest.raises(TournamentError, match="replications"):
        run_tournament(["fixed"], [BASE], replications=0)


def test_strategy_labels_show_non_default_parameters():
    assert strategy_label("ucb") == "ucb"
    assert strategy_label({"name": "ucb", "c": 2.0}) == "ucb(c=2.0)"
    assert strategy_label({"name": "ucb", "c": 1.0}) == "ucb"


# ---------------------------------------------------------------- command line
def test_cli_writes_tables_plot_and_manifest(tmp_path, capsys):
    code = main(
        [
            str(BASE),
            "--strategies",
            "fixed,match",
            "--strategy",
            '{ name = "undercut", undercut = 0.1 }',
            "--customers",
            "200",
            "--periods",
            "6",
            "--replications",
            "1",
            "--seed",
            "3",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert code == 0
    (folder,) = (tmp_path / "tournament").iterdir()
    names = {p.name for p in folder.iterdir()}
    assert {
        "matches.csv",
        "ranking.csv",
        "by_scenario.csv",
        "payoff.csv",
        "tournament.png",
        "manifest.json",
    } <= names
    rk = pd.read_csv(folder / "ranking.csv")
    assert set(rk["strategy"]) == {"fixed", "match", "undercut(undercut=0.1)"}
    man = json.loads((folder / "manifest.json").read_text())
    assert man["seeds"]["baseline"] == [3] and man["runs"] == 9
    out = capsys.readouterr().out
    assert "ranked by profit" in out and str(folder) in out


@pytest.mark.parametrize(
    "args, words",
    [
        (["--strategies", "fixed,psychic"], ["'psychic' unknown", "allowed"]),
        (["--strategies", "fixed", "--size", "3"], ["baseline.toml", "needs at least 3"]),
        (["--strategy", "{ name = 'ucb', c = -1 }"], ["ucb", "c", "-1"]),
        (["--strategy", "{ name = "], ["--strategy", "TOML"]),
        (["--strategies", "fixed", "--size", "two"], ["--size", "invalid int"]),
        ([], ["no strategies"]),
    ],
)
def test_cli_bad_input_one_line_exit_2_nothing_written(args, words, tmp_path, capsys):
    out = tmp_path / "results"
    assert main([str(BASE), *args, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    for w in words:
        assert w in err, (w, err)
    assert not out.exists() or not any(out.rglob("*"))


def test_cli_bad_scenario_file(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[market]\nn_customers = -5\n")
    assert main([str(bad), "--strategies", "fixed", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "market.n_customers" in err
    assert not (tmp_path / "r").exists()


def test_sim_command_routes_to_the_tournament(tmp_path):
    from sim.cli import main as sim_main

    assert (
        sim_main(
            [
                "tournament",
                str(BASE),
                "--strategies",
                "fixed",
                "--customers",
                "100",
                "--periods",
                "3",
                "--replications",
                "1",
                "--out",
                str(tmp_path),
                "--quiet",
                "--no-plots",
            ]
        )
        == 0
    )
    assert (next((tmp_path / "tournament").iterdir()) / "ranking.csv").exists()
