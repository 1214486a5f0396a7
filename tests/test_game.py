"""The market game's rules without a browser: validation, rounds, timer, pause, events,
leaderboard, save and replay (identical tables), the [game] section and `sim game`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sim.cli import main as sim_main
from sim.game import ENTRANT, Game, GameError, GameRegistry, replay
from sim.game.__init__ import replay_report
from sim.scenario import ScenarioError, parse_scenario


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def scenario(game: dict | None = None, n: int = 400):
    data = {"market": {"n_customers": n}, "game": {"rounds": 2, "round_months": 2, **(game or {})}}
    return parse_scenario(data, source="game.toml")


def new_game(teams: int = 3, game: dict | None = None, **kw) -> Game:
    return Game(scenario(game), teams, game_id="t", **kw)


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("decision", "text"),
    [
        ({"price": 3.0}, "team A, round 1: price = 3: must lie in [0.5, 2] (game.levers.price)"),
        ({"prize": 1.0}, "'prize' is not a lever of the game; allowed: price, quality"),
        ({"loyalty": "yes"}, "loyalty = 'yes': must be on or off"),
        ({"service": "lots"}, "service = 'lots': must be a number in [0.3, 1]"),
        (
            {"complaint_ease": 1.5},
            "complaint_ease = 1.5: must lie in [0, 1] (firms[].complaint_ease)",
        ),
        ({"marketing": float("nan")}, "marketing = nan: must be a number in [0, 0.2]"),
    ],
)
def test_a_bad_decision_gets_one_line_naming_team_lever_value_and_limit(decision, text):
    g = new_game()
    with pytest.raises(GameError) as err:
        g.submit("A", decision)
    msg = str(err.value)
    assert text in msg and "\n" not in msg
    assert g.submitted == {} and g.round == 0  # nothing recorded


def test_max_change_budget_and_unlimited_capacity_limits():
    g = new_game(game={"max_change": {"price": 0.1}, "budget": 50.0, "capacity_unlimited": False})
    with pytest.raises(
        GameError, match=r"may change by at most 0.1 a round \(game.max_change.price\)"
    ):
        g.validate("A", {"price": 1.3})
    assert g.validate("A", {"price": 1.1})["price"] == 1.1
    # 2 months × 0.2 reach × 400 customers × 0.02 cu = 3.2 cu; 2 × 600 × 0.05 = 60 cu
    with pytest.raises(GameError, match=r"committed spending 63.2 cu a round .* budget of 50.0"):
        g.validate("A", {"marketing": 0.2, "capacity": 600})
    assert g.spending(g.validate("A", {"capacity": 400}))["capacity"] == pytest.approx(40.0)
    with pytest.raises(GameError, match="capacity = unlimited: not allowed"):
        g.validate("A", {"capacity": "unlimited"})


def test_join_codes_and_unknown_team():
    g = new_game(codes={"A": "1111", "B": "2222", "C": "3333"})
    assert g.team_of(" 2222 ") == "B"
    with pytest.raises(GameError, match="code '9999': no team of game t"):
        g.team_of("9999")
    with pytest.raises(GameError, match="team 'D' unknown"):
        g.submit("D", {})
    with pytest.raises(GameError, match=r"--teams 13: must be an integer in \[1, 12\]"):
        new_game(teams=13)
    with pytest.raises(GameError, match=r"--rounds 0: must lie in \[1, 200\] \(game.rounds\)"):
        new_game(rounds=0)


# ---------------------------------------------------------------- rounds
def test_round_is_played_when_all_submit_and_decisions_act_from_its_first_month():
    g = new_game()
    g.submit("A", {"price": 1.5})
    g.submit("B", {"price": 0.8})
    assert g.round == 0 and g.model.period == 0  # C still deciding
    g.submit("C", {})
    assert g.round == 1 and g.model.period == 2
    f = g.firm_frame()
    price = f.pivot(index="period", columns="firm", values="price")
    assert price.loc[0].tolist() == [1.0, 1.0, 1.0]
    assert price.loc[1].tolist() == [1.5, 0.8, 1.0] == price.loc[2].tolist()
    # direction: the dearest team loses share against the cheapest
    share = f.pivot(index="period", columns="firm", values="share")
    assert share.loc[2, "A"] < share.loc[0, "A"] and share.loc[2, "B"] > share.loc[0, "B"]
    assert share.loc[2, "A"] < share.loc[2, "B"]
    ev = g.model.events()
    lev = ev[(ev["event"] == "lever")]
    assert "price: 1.0 -> 1.5 (team A)" in lev["detail"].tolist()


def test_timer_plays_the_round_and_missing_teams_keep_their_levers():
    clock = Clock()
    g = new_game(timer=60, clock=clock)
    g.submit("A", {"price": 1.2})
    assert g.seconds_left() == 60 and not g.tick()
    clock.now += 59
    assert not g.tick() and g.round == 0
    clock.now += 1
    assert g.tick() and g.round == 1
    assert g.history[0]["reason"] == "timer" and g.history[0]["submitted"] == ["A"]
    assert [g.model.firm_by_name(t).levers.price for t in "ABC"] == [1.2, 1.0, 1.0]
    assert g.seconds_left() == 60  # a new round, a new timer


def test_pause_stops_the_clock_and_the_round_until_resumed():
    clock = Clock()
    g = new_game(timer=30, clock=clock)
    clock.now += 10
    g.pause()
    clock.now += 1000
    assert not g.tick() and g.seconds_left() == 20
    for t in "ABC":
        g.submit(t, {})
    assert g.round == 0  # all in, but paused
    g.resume()
    assert g.round == 1


def test_the_game_ends_after_its_rounds():
    g = new_game()
    for _ in range(2):
        g.advance()
    assert g.finished and g.model.period == 4 and "Game over" in g.status()
    with pytest.raises(GameError, match="is over"):
        g.submit("A", {})


# ---------------------------------------------------------------- instructor events
def test_outage_cuts_service_for_its_months_then_the_team_levers_return():
    g = Game(scenario({"round_months": 3}), 2, game_id="o")
    g.inject("outage", "A")
    g.advance()
    f = g.firm_frame().pivot(index="period", columns="firm", values="service")
    assert f.loc[1, "A"] == 0.0 and f.loc[2, "A"] == 0.7 and f.loc[3, "A"] == 0.7
    assert (f["B"] == 0.7).all()
    sat = g.firm_frame().pivot(index="period", columns="firm", values="mean_satisfaction")
    assert sat.loc[1, "A"] < sat.loc[1, "B"] - 0.1
    with pytest.raises(GameError, match="outage: team 'Z' unknown"):
        g.inject("outage", "Z")
    with pytest.raises(
        GameError, match="event 'flood' unknown; allowed: outage, entrant, recession"
    ):
        g.inject("flood")


def test_recession_raises_price_weights_and_entrant_comes_in_once():
    g = new_game()
    before = g.model.pop.beta_price.copy()
    g.inject("recession")
    g.inject("entrant")
    with pytest.raises(GameError, match="already in the market"):
        g.inject("entrant")
    assert ENTRANT not in set(g.firm_frame()["firm"])
    g.advance()
    np.testing.assert_allclose(g.model.pop.beta_price, before * 1.3)
    f = g.firm_frame()
    assert f[f["firm"] == ENTRANT]["period"].tolist() == [1, 2]
    assert f[f["firm"] == ENTRANT]["customers"].iloc[-1] > 0  # it wins customers
    assert ENTRANT in g.leaderboard()["firm"].tolist()
    with pytest.raises(GameError, match="game.entrant = false"):
        new_game(game={"entrant": False}).inject("entrant")


def test_leaderboard_ranks_by_total_profit():
    g = new_game()
    g.submit("A", {"price": 2.0})
    g.submit("B", {"price": 0.5})
    g.submit("C", {"price": 1.2})
    board = g.leaderboard()
    assert list(board.columns) == ["rank", "firm", "profit", "share", "satisfaction", "clv"]
    assert board["profit"].is_monotonic_decreasing and board["rank"].tolist() == [1, 2, 3]
    f = g.firm_frame()
    a = f[(f["firm"] == "A") & (f["period"] > 0)]["profit"].sum()
    assert board.set_index("firm").loc["A", "profit"] == pytest.approx(a)
    acc = g.accounts("A")
    assert acc["profit"].sum() == pytest.approx(a) and acc["round"].tolist() == [1]
    assert not g.leaderboard_shown
    g.show_leaderboard()
    assert g.leaderboard_shown
    r = g.research("A")
    assert [x["price"] for x in r["firms"]] == [2.0, 0.5, 1.2] and -1 <= r["survey"] <= 1


# ---------------------------------------------------------------- save and replay
def _play(g: Game) -> Game:
    g.submit("A", {"price": 1.3, "loyalty": True})
    g.submit("B", {"service": 0.9, "marketing": 0.1})
    g.inject("outage", "C")
    g.inject("recession")
    g.advance("timer")  # C missed the round
    g.inject("entrant")
    g.submit("C", {"capacity": 150.0})
    g.submit("A", {"price": 1.1})
    g.submit("B", {})
    return g


def test_a_saved_game_replays_to_identical_tables(tmp_path):
    g = _play(new_game())
    assert g.finished
    folder = g.save(tmp_path)
    assert folder == tmp_path / "game" / "t"
    rec = json.loads((folder / "game.json").read_text())
    assert rec["seed"] == 0 and len(rec["history"]) == 2
    assert rec["history"][0]["submitted"] == ["A", "B"]
    h = replay(folder)
    for a, b in (
        (g.model.firm_frame(), h.model.firm_frame()),
        (g.model.events(), h.model.events()),
    ):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    same, report = replay_report(folder)
    assert same, report
    assert sim_main(["game", "--replay", str(folder)]) == 0
    log = g.decision_log()
    assert "price 1 → 1.3, loyalty off → on" in log["what"].tolist()
    assert log[log["who"] == "team C"]["what"].tolist() == [
        "kept its levers",
        "capacity unlimited → 150",
    ]
    # a changed table is noticed
    (folder / "firms.csv").write_text((folder / "firms.csv").read_text().replace("1.3", "1.4"))
    assert sim_main(["game", "--replay", str(folder)]) == 1


def test_a_different_decision_gives_a_different_game(tmp_path):
    g = _play(new_game())
    h = new_game()
    h.submit("A", {"price": 1.31, "loyalty": True})
    assert not g.firm_frame().equals(h.firm_frame())


def test_replay_of_a_folder_that_is_not_a_game(tmp_path, capsys):
    assert sim_main(["game", "--replay", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("sim game: error: --replay") and "game.json is missing" in err
    assert len(err.splitlines()) == 1


# ---------------------------------------------------------------- the [game] section and the command
@pytest.mark.parametrize(
    ("game", "text"),
    [
        ({"rounds": 0}, "game.rounds = 0: must lie in [1, 200]"),
        (
            {"levers": {"price": [2.0, 1.0]}},
            "game.levers.price = [2.0, 1.0]: lo must not exceed hi",
        ),
        ({"levers": {"quality": [0.0, 1.5]}}, "game.levers.quality = 1.5: must lie in [0.0, 1.0]"),
        ({"levers": {"loyalty": [0, 1]}}, "game.levers.loyalty = [0, 1]: unknown lever"),
        ({"max_change": {"price": -1}}, "game.max_change.price = -1: must be a number ≥ 0"),
        ({"colour": "red"}, "game.colour = 'red': unknown key"),
    ],
)
def test_bad_game_section_names_file_key_and_allowed(game, text):
    with pytest.raises(ScenarioError) as err:
        parse_scenario({"game": game}, source="g.toml")
    assert str(err.value).startswith("g.toml: ") and text in str(err.value)


def test_game_section_keeps_default_bounds_for_levers_not_listed():
    g = scenario({"levers": {"price": [0.8, 1.4]}}).game
    assert g.levers["price"] == [0.8, 1.4] and g.levers["quality"] == [0.3, 1.0]


def test_sim_game_command_checks_its_input(capsys):
    assert (
        sim_main(["game", "baseline", "--teams", "3", "--check", "--set", "market.n_customers=300"])
        == 0
    )
    out = capsys.readouterr().out
    assert "instructor: http://127.0.0.1:8766/?game=" in out and "codes:" in out and "C=" in out
    for argv, text in (
        (["game", "baseline"], "--teams N is required"),
        (["game", "baseline", "--teams", "20"], "--teams 20: must be an integer in [1, 12]"),
        (["game", "baseline", "--teams", "2", "--round-months", "0"], "--round-months 0"),
        (["game", "nowhere", "--teams", "2"], "scenario 'nowhere' not found"),
        (
            ["game", "baseline", "--teams", "2", "--set", "market.n_customers=-5"],
            "market.n_customers = -5",
        ),
    ):
        assert sim_main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert text in err and len(err.splitlines()) == 1, err


def test_several_games_at_once_are_kept_apart():
    reg = GameRegistry()
    a, b = reg.add(new_game()), reg.add(Game(scenario(), 2, game_id="u"))
    assert reg.ids() == ["t", "u"] and reg.get("u") is b and reg.get("x") is None
    with pytest.raises(GameError, match="exists already"):
        reg.add(new_game())
    a.submit("A", {"price": 1.9})
    assert b.submitted == {} and b.model is not a.model


def test_market_game_scenario_claims():
    """scenarios/market_game.toml: a dearer team loses share; a team short of capacity
    loses satisfaction (its header's claims), within its [game] rules."""
    from pathlib import Path

    from sim.scenario import load_scenario

    path = Path(__file__).resolve().parents[1] / "scenarios" / "market_game.toml"
    g = Game(load_scenario(path), 3, game_id="m", rounds=2)
    assert g.bounds("capacity") == (100.0, 1500.0) and g.config.budget == 250.0
    with pytest.raises(GameError, match="may change by at most 0.3"):
        g.validate("A", {"price": 1.4})
    g.submit("A", {"price": 1.3})
    g.submit("B", {"capacity": 150.0})
    g.submit("C", {})
    for team in "ABC":  # second round: everyone keeps their levers
        g.submit(team, {})
    f = g.firm_frame()
    # satisfaction drives retention, so share moves over months, not within one round
    end = f[f["period"] == 6].set_index("firm")
    assert end.loc["A", "share"] < end.loc["C", "share"] - 0.05
    assert end.loc["B", "mean_satisfaction"] < end.loc["C", "mean_satisfaction"] - 0.05


def test_market_game_scenario_run_as_it_is_shares_stay_near_a_third():
    from pathlib import Path

    from sim.runner import run_scenario
    from sim.scenario import load_scenario

    path = Path(__file__).resolve().parents[1] / "scenarios" / "market_game.toml"
    f = run_scenario(load_scenario(path, ["scenario.replications=3"])).firms
    share = f[f["period"] > 12].groupby("firm")["share"].mean()
    assert (share - 1 / 3).abs().max() < 0.05, share


def test_a_game_that_cannot_be_saved_says_so(tmp_path):
    from sim.game import saver

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    g = new_game(rounds=1)
    g.on_finish = saver(blocker)
    g.advance()
    assert g.finished and g.saved is None
    assert g.save_error.startswith(f"the game could not be saved in {blocker}")


@pytest.mark.parametrize(
    "game",
    [{"rounds": 0}, {"levers": {"loyalty": [0, 1]}}, {"levers": {"price": [1]}}, {"timer": -1}],
)
def test_scenario_schema_refuses_what_the_loader_refuses_in_the_game_section(game):
    import jsonschema

    from sim.schema import scenario_schema

    assert list(jsonschema.Draft202012Validator(scenario_schema()).iter_errors({"game": game}))
    with pytest.raises(ScenarioError):
        parse_scenario({"game": game}, source="x.toml")


def test_recession_makes_the_dearer_team_lose_more_share():
    """Same seed, same decisions (common random numbers): only the shock differs. The
    dearer team's share of the month's sales falls (its customers buy less often from it;
    with satisfaction driving retention, few leave within one round)."""

    def share_of_a(recession: bool) -> float:
        g = Game(scenario({"shock": 2.0, "round_months": 3}, n=1500), 2, game_id="r")
        if recession:
            g.inject("recession")
        g.submit("A", {"price": 1.4})
        g.submit("B", {})
        f = g.firm_frame()
        return f[(f["firm"] == "A") & (f["period"] == 3)]["sales_share"].item()

    assert share_of_a(True) < share_of_a(False) - 0.03
