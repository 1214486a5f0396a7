"""Firm strategies: each rule on crafted inputs, parameter checks, and learning in a
test market (learning firms end with more profit than their bad starting levers)."""

from __future__ import annotations

import dataclasses
import math
from functools import cache
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import optimize

from sim import MarketModel, ModelParams
from sim.params import FirmParams
from sim.scenario import ScenarioError, parse_scenario
from sim.strategies import (
    OBSERVABLES,
    REGISTRY,
    UCB,
    BestResponse,
    ComplaintInvestor,
    CostPlus,
    EpsilonGreedy,
    Fixed,
    FullInformationBestResponse,
    HillClimb,
    ImitateLeader,
    MatchCheapest,
    Policy,
    PolicyParameterError,
    Satisficing,
    Scheduled,
    Undercut,
    make_policy,
    strategies,
)
from sim.strategies.best_response import logit_best_response

FIRM = SimpleNamespace(active=True, index=0, name="A")


def levers(**kw) -> dict:
    return {**dataclasses.asdict(FirmParams(name="A")), **kw}


def row(period: int, **kw) -> dict:
    base = {
        "period": period,
        "active": True,
        "price": 1.0,
        "customers": 500,
        "share": 0.5,
        "buyers": 400,
        "units": 400.0,
        "sales_share": 0.5,
        "revenue": 400.0,
        "cost_variable": 200.0,
        "cost_service": 96.0,
        "cost_complaints": 0.0,
        "cost_total": 300.0,
        "profit": 100.0,
        "complaints": 10,
        "churn_rate": 0.05,
        "lost": 25,
        "acquired": 25,
    }
    return {**base, **kw}


def obs(
    period: int, own: dict | None = None, lv: dict | None = None, rivals: dict | None = None
) -> dict:
    return {
        "period": period,
        "own": own if own is not None else row(period - 1),
        "levers": lv or levers(),
        "survey": 0.3,
        "rivals": rivals if rivals is not None else {"B": {"price": 1.0, "active": True}},
    }


def feed(
    policy: Policy,
    rows: list[dict],
    lv: dict | None = None,
    rivals: dict | None = None,
    seed: int = 0,
) -> list[dict]:
    """Feed one row per period (periods 1, 2, …), applying the decisions to the levers."""
    policy.bind(np.random.default_rng(seed), FIRM)
    lv = dict(lv or levers())
    out = []
    for t, r in enumerate(rows, start=2):
        r = {**r, "period": t - 1, "price": lv["price"]}
        d = policy.decide(FIRM, obs(t, r, dict(lv), rivals))
        lv.update(d)
        out.append(d)
    return out


# ---------------------------------------------------------------- registry and parameters
def test_registry_has_every_strategy_documented_and_classified():
    expected = {
        "fixed",
        "scheduled",
        "cost_plus",
        "undercut",
        "match",
        "satisficing",
        "hill_climb",
        "epsilon_greedy",
        "ucb",
        "best_response",
        "best_response_full",
        "complaint_investor",
        "imitate_leader",
    }
    assert expected <= set(REGISTRY)
    for name, cls in REGISTRY.items():
        assert cls.name == name
        doc = cls.__doc__ or ""
        assert "Rule" in doc and "Parameters" in doc and "Literature" in doc, name
        c = cls.classifier
        assert set(c["observes"]) <= set(OBSERVABLES)
        assert isinstance(c["stochastic"], bool)
        assert c["observes_rival_shares"] == ("rival_shares" in c["observes"])
        assert c["full_information"] == ("full_information" in c["observes"])
        pol = cls()  # defaults are valid
        assert make_policy(pol.spec()).get_params() == pol.get_params()


def test_strategies_filter_by_classifier():
    assert "best_response_full" in strategies(full_information=True)
    assert "best_response_full" not in strategies(full_information=False)
    assert "imitate_leader" in strategies(observes="rival_shares")
    assert set(strategies(stochastic=True)) == {"satisficing", "epsilon_greedy", "best_response"}
    assert "complaint_investor" in strategies(levers="resolve_share")


@pytest.mark.parametrize(
    "spec, words",
    [
        ({"name": "cost_plus", "markup": -0.1}, ["cost_plus", "markup", "-0.1", "[0.0, 10.0]"]),
        ({"name": "undercut", "undercut": 0.9}, ["undercut", "0.9", "[0.0, 0.5]"]),
        ({"name": "hill_climb", "lever": "colour"}, ["hill_climb", "colour", "allowed"]),
        ({"name": "hill_climb", "step": 0.01, "min_step": 0.05}, ["min_step", "0.05"]),
        ({"name": "ucb", "grid": {"price": []}}, ["ucb", "grid.price", "non-empty"]),
        ({"name": "epsilon_greedy", "epsilon": 2}, ["epsilon", "[0.0, 1.0]"]),
        (
            {"name": "complaint_investor", "levers": ["price"]},
            ["complaint_investor", "price", "allowed"],
        ),
        ({"name": "scheduled", "plan": [{"period": 0, "price": 1.0}]}, ["plan[0].period", "≥ 1"]),
        (
            {"name": "scheduled", "plan": [{"period": 3, "quality": 1.5}]},
            ["plan[0].quality", "1.5"],
        ),
        ({"name": "best_response", "learn": "yes"}, ["learn", "true or false"]),
        ({"name": "fixed", "decide_every": 0}, ["decide_every", "[1, 10000]"]),
        ({"name": "cost_plus", "marup": 0.3}, ["cost_plus", "no parameter 'marup'", "markup"]),
    ],
)
def test_bad_parameters_name_the_parameter_value_and_range(spec, words):
    with pytest.raises(PolicyParameterError) as err:
        make_policy(spec)
    assert isinstance(err.value, ValueError)
    for w in words:
        assert w in str(err.value), (w, str(err.value))


def test_scenario_files_accept_strategies_and_report_bad_parameters():
    sc = parse_scenario(
        {
            "firms": [
                {"name": "A", "policy": {"name": "undercut", "undercut": 0.1}},
                {"name": "B", "policy": "hill_climb"},
            ]
        },
        source="x.toml",
    )
    assert sc.params.firms[0].policy == {"name": "undercut", "undercut": 0.1}
    with pytest.raises(ScenarioError) as err:
        parse_scenario(
            {"firms": [{"name": "A", "policy": {"name": "undercut", "undercut": 0.9}}]},
            source="x.toml",
        )
    msg = str(err.value)
    assert (
        "x.toml" in msg and "firms[0].policy" in msg and "undercut" in msg and "[0.0, 0.5]" in msg
    )


def test_stochastic_policy_needs_a_random_stream():
    p = Satisficing(aspiration=1e9, decide_every=1)
    with pytest.raises(RuntimeError, match="bind"):
        p.decide(FIRM, obs(2))


# ---------------------------------------------------------------- the base class
def test_decide_every_collects_a_window_and_skips_the_initial_state():
    calls = []

    class Probe(Policy):
        name = "probe"
        classifier = {"observes": ("own",), "levers": (), "stochastic": False}

        def rule(self, firm, observation):
            calls.append([r["period"] for r in observation["window"]])
            return {}

    p = Probe(decide_every=3)
    p.reset()
    assert p.decide(FIRM, obs(1, row(0))) == {}  # period 0 is the initial state: no flows
    for t in range(2, 9):
        p.decide(FIRM, obs(t, row(t - 1)))
    assert calls == [[1, 2, 3], [4, 5, 6]]
    # an entrant's rows before it is active are ignored
    p.reset()
    calls.clear()
    p.decide(FIRM, obs(2, row(1, active=False)))
    assert p.window_ == []


def test_fixed_never_changes_anything():
    assert feed(Fixed(), [row(0, profit=-1e6)] * 5) == [{}] * 5


# ---------------------------------------------------------------- scheduled
def test_scheduled_applies_the_plan_at_its_periods_in_the_model():
    p = ModelParams()
    p.market.n_customers = 200
    p.firms[0].policy = {
        "name": "scheduled",
        "plan": [{"period": 3, "price": 0.9}, {"period": 5, "service": 0.8, "price": 1.1}],
    }
    f = MarketModel(p, seed=1).run(6).firm_frame()
    a = f[f.firm == "A"].set_index("period")
    assert list(a.loc[1:6, "price"]) == [1.0, 1.0, 0.9, 0.9, 1.1, 1.1]
    assert a.loc[4, "service"] == 0.7 and a.loc[5, "service"] == 0.8
    assert Scheduled().decide(FIRM, obs(3)) == {}


# ---------------------------------------------------------------- cost-plus
def test_cost_plus_marks_up_the_cost_per_unit_the_accounts_show():
    # goods 200 + service 96 over 400 units = 0.74 per unit
    d = feed(CostPlus(markup=0.5, decide_every=1), [row(0)])
    assert d[0]["price"] == pytest.approx(1.5 * 0.74)
    d = feed(CostPlus(markup=0.5, basis="unit", decide_every=1), [row(0)])
    assert d[0]["price"] == pytest.approx(1.5 * 0.5)
    d = feed(CostPlus(markup=0.5, basis="full", decide_every=1), [row(0)])
    assert d[0]["price"] == pytest.approx(1.5 * 300 / 400)
    # before any sale: from the levers (0.5 + 0.2 × 0.7 + 0.1 per unit)
    d = feed(CostPlus(markup=0.0, decide_every=1), [row(0, units=0.0, buyers=0)])
    assert d[0]["price"] == pytest.approx(0.74)
    # the review waits for decide_every periods of data
    assert feed(CostPlus(decide_every=3), [row(0)] * 3)[:2] == [{}, {}]


# ---------------------------------------------------------------- undercut and match
def test_undercut_goes_below_the_cheapest_active_rival_within_floor_and_ceiling():
    rivals = {
        "B": {"price": 0.9, "active": True},
        "C": {"price": 1.1, "active": True},
        "D": {"price": 0.5, "active": False},
    }
    assert feed(Undercut(undercut=0.05), [row(0)], rivals=rivals)[0]["price"] == pytest.approx(
        0.855
    )
    assert feed(MatchCheapest(), [row(0)], rivals=rivals)[0]["price"] == pytest.approx(0.9)
    # never below (1 + floor_markup) × variable cost per unit (0.74)
    cheap = {"B": {"price": 0.6, "active": True}}
    assert feed(Undercut(floor_markup=0.1), [row(0)], rivals=cheap)[0]["price"] == pytest.approx(
        0.814
    )
    # follows the rival back up, but not above its starting price (or max_price)
    dear = {"B": {"price": 1.5, "active": True}}
    assert feed(MatchCheapest(), [row(0)], rivals=dear)[0]["price"] == pytest.approx(1.0)
    assert feed(MatchCheapest(max_price=1.3), [row(0)], rivals=dear)[0]["price"] == pytest.approx(
        1.3
    )
    assert feed(Undercut(), [row(0)], rivals={})[0] == {}


# ---------------------------------------------------------------- satisficing
def test_satisficing_keeps_levers_while_profit_meets_the_aspiration():
    d = feed(Satisficing(aspiration=50.0, adapt=0.0, decide_every=1), [row(0, profit=80.0)] * 6)
    assert d == [{}] * 6


def test_satisficing_searches_when_short_keeps_what_pays_and_undoes_what_does_not():
    pol = Satisficing(
        aspiration=1000.0, adapt=0.0, levers=["price", "service"], step=0.05, decide_every=1
    )
    pol.bind(np.random.default_rng(3), FIRM)
    lv = levers()
    d = pol.decide(FIRM, obs(2, row(1, profit=10.0), lv))
    ((lever, new),) = d.items()
    assert lever in ("price", "service") and abs(new - lv[lever]) == pytest.approx(0.05)
    delta = new - lv[lever]
    lv[lever] = new
    # the trial paid off: repeat the same change
    d2 = pol.decide(FIRM, obs(3, row(2, profit=20.0), lv))
    assert d2 == {lever: pytest.approx(new + delta)}
    lv[lever] = d2[lever]
    # the next one did not: go back to the better setting
    d3 = pol.decide(FIRM, obs(4, row(3, profit=5.0), lv))
    assert d3 == {lever: pytest.approx(new)}


def test_satisficing_aspiration_adapts_to_experience():
    pol = Satisficing(adapt=0.5, decide_every=1)
    feed(pol, [row(0, profit=100.0), row(0, profit=100.0)])
    assert pol.aspiration_ == pytest.approx(100.0)  # first window sets it, then it stays
    feed(pol, [row(0, profit=100.0), row(0, profit=200.0)])
    assert 100.0 < pol.aspiration_ < 200.0


# ---------------------------------------------------------------- hill climbing
def test_hill_climb_keeps_direction_while_profit_rises_then_reverses_and_shrinks():
    pol = HillClimb(step=0.1, min_step=0.02, shrink=0.5, decide_every=1)
    profits = [10.0, 20.0, 30.0, 25.0, 28.0]
    d = feed(pol, [row(0, profit=x) for x in profits])
    prices = [x["price"] for x in d]
    assert prices[:3] == pytest.approx([1.1, 1.2, 1.3])  # profit rising: keep going up
    assert prices[3] == pytest.approx(1.25)  # fell: turn back, half the step
    assert prices[4] == pytest.approx(1.2)  # rose again: keep going down
    assert pol.step_ == pytest.approx(0.05)


def test_hill_climb_respects_bounds_and_turns_back_there():
    pol = HillClimb(step=0.1, upper=1.05, decide_every=1)
    d = feed(pol, [row(0, profit=x) for x in (1.0, 2.0, 3.0)])
    assert d[0]["price"] == pytest.approx(1.05)
    assert d[1]["price"] == pytest.approx(0.95)  # at the bound: back down


# ---------------------------------------------------------------- bandits
def test_epsilon_greedy_tries_every_arm_then_exploits_the_best():
    grid = {"price": [0.8, 1.0, 1.2]}
    profit_of = {0.8: 50.0, 1.0: 90.0, 1.2: 70.0}
    pol = EpsilonGreedy(grid=grid, epsilon=0.0, decide_every=1)
    pol.bind(np.random.default_rng(0), FIRM)
    lv = levers()
    played = []
    for t in range(2, 10):
        d = pol.decide(
            FIRM,
            obs(
                t,
                row(t - 1, profit=profit_of.get(round(lv["price"], 2), 0.0), price=lv["price"]),
                dict(lv),
            ),
        )
        lv.update(d)
        played.append(lv["price"])
    assert played[:3] == [0.8, 1.0, 1.2]
    assert played[3:] == [1.0] * 5
    assert pol.best_arm() == {"price": 1.0}
    assert pol.counts_.tolist() == [1, 5, 1]  # the last play is credited at the next decision


def test_epsilon_greedy_explores_with_probability_epsilon():
    prices = [0.9, 1.0, 1.1, 1.2]
    pol = EpsilonGreedy(grid={"price": prices}, epsilon=0.5, decide_every=1)
    pol.bind(np.random.default_rng(5), FIRM)
    lv = levers()
    played = []
    for t in range(2, 400):
        profit = 100.0 if round(lv["price"], 2) == 1.0 else 0.0
        lv.update(pol.decide(FIRM, obs(t, row(t - 1, profit=profit), dict(lv))))
        played.append(lv["price"])
    share_best = np.mean([p == 1.0 for p in played[10:]])
    assert 0.55 < share_best < 0.70  # 1 − ε + ε/4 = 0.625 of plays after learning


def test_ucb_prefers_the_least_tried_arm_when_estimates_are_close():
    pol = UCB(grid={"price": [0.9, 1.1]}, c=1.0, decide_every=1)
    pol.reset()
    pol.arms_ = [{"price": 0.9}, {"price": 1.1}]
    pol.values_ = np.array([100.0, 99.0])
    pol.counts_ = np.array([20, 2])
    pol.rewards_ = [90.0, 110.0]
    assert pol.select() == 1
    pol.c = 0.0
    assert pol.select() == 0


def test_ucb_settles_on_the_best_arm():
    grid = {"price": [0.8, 1.0, 1.2]}
    profit_of = {0.8: 50.0, 1.0: 90.0, 1.2: 70.0}
    pol = UCB(grid=grid, c=0.5, decide_every=1)
    pol.bind(np.random.default_rng(0), FIRM)
    lv = levers()
    for t in range(2, 60):
        d = pol.decide(
            FIRM, obs(t, row(t - 1, profit=profit_of.get(round(lv["price"], 2), 0.0)), dict(lv))
        )
        lv.update(d)
    assert pol.best_arm() == {"price": 1.0}
    assert pol.counts_[1] > pol.counts_[0] + pol.counts_[2]


def test_bandit_default_grid_is_relative_to_the_starting_price_and_recency_weighting():
    pol = EpsilonGreedy(epsilon=0.0, step_size=0.5, decide_every=1)
    d = feed(pol, [row(0)], lv=levers(price=2.0))
    assert [a["price"] for a in pol.arms_] == pytest.approx([1.6, 1.8, 2.0, 2.2, 2.4])
    assert d[0] == {"price": 1.6}
    pol.values_[:] = 0.0
    pol.counts_[:] = 2
    pol.current_ = 0
    pol.decide(FIRM, obs(3, row(2, profit=10.0)))
    assert pol.values_[0] == pytest.approx(5.0)  # half-way to the newest profit


# ---------------------------------------------------------------- best response (estimated)
def test_logit_best_response_solves_the_first_order_condition():
    alpha, c, q = 3.0, 0.8, 1.2
    p = logit_best_response(
        odds_now=1.0, price_now=1.0, alpha=alpha, cost_per_purchase=c, quantity=q
    )

    def profit(x):
        s = 1.0 / (1.0 + math.exp(alpha * (x - 1.0)))
        return s * (x * q - c)

    best = optimize.minimize_scalar(
        lambda x: -profit(x), bounds=(0.5, 5.0), method="bounded", options={"xatol": 1e-10}
    ).x
    assert p == pytest.approx(best, abs=1e-6)
    s = 1.0 / (1.0 + math.exp(alpha * (p - 1.0)))
    assert p == pytest.approx(c / q + 1.0 / (alpha * (1.0 - s)))


def test_best_response_without_learning_moves_to_the_logit_optimum():
    pol = BestResponse(
        price_coefficient=3.0,
        learn=False,
        outside_share=0.0,
        max_change=1.0,
        explore=0.0,
        decide_every=1,
    )
    d = feed(pol, [row(0, sales_share=0.5)])
    # s = 0.5, odds 1 at price 1.0; cost per purchase (200 + 96) / 400 = 0.74, 1 unit each
    assert d[0]["price"] == pytest.approx(logit_best_response(1.0, 1.0, 3.0, 0.74, 1.0))
    # the step is limited by max_change
    pol = BestResponse(learn=False, max_change=0.05, explore=0.0, decide_every=1)
    assert feed(pol, [row(0)])[0]["price"] == pytest.approx(1.05)


def test_best_response_estimates_the_price_coefficient_from_its_own_data():
    true_alpha = 4.0
    pol = BestResponse(price_coefficient=2.0, prior_weight=1.0, decide_every=1)
    pol.reset()
    rng = np.random.default_rng(1)
    for _ in range(40):
        p, r = 1.0 + 0.1 * rng.standard_normal(), 1.0 + 0.05 * rng.standard_normal()
        y = 0.5 - true_alpha * p + 1.5 * r + 0.01 * rng.standard_normal()
        pol.history_.append((p, r, y))
    assert pol.estimate_alpha() == pytest.approx(true_alpha, rel=0.05)
    assert BestResponse(price_coefficient=2.0, learn=False).estimate_alpha() == 2.0


# ---------------------------------------------------------------- full-information best response
def test_full_information_best_response_sets_the_exact_best_response():
    from sim.equilibrium import LogitMarket

    p = ModelParams()
    p.market.n_customers = 300
    p.firms[0].policy = "best_response_full"
    m = MarketModel(p, seed=2).run(3)
    firm = m.firms[0]
    m.period += 1  # the model's step does this before asking its policies
    o = m.observe(firm)
    assert o["model"] is m
    expected = LogitMarket.from_model(m).best_response(0, np.array([f.price for f in m.firms]))
    assert firm.policy.decide(firm, o) == {"price": pytest.approx(expected)}
    half = FullInformationBestResponse(damping=0.5)
    half.reset()
    got = half.decide(firm, o)["price"]
    assert got == pytest.approx(firm.price + 0.5 * (expected - firm.price))


# ---------------------------------------------------------------- complaint investor
def test_complaint_investor_invests_when_churn_rises_and_fixes_handling_before_inviting():
    pol = ComplaintInvestor(step=0.2, tolerance=0.25, decide_every=1)
    lv = levers(complaint_ease=0.1, resolve_share=0.2, resolve_speed=0.2)
    d = feed(
        pol, [row(0, churn_rate=0.05), row(0, churn_rate=0.05), row(0, churn_rate=0.09)], lv=lv
    )
    assert d[0] == {} and d[1] == {}
    # resolve more and faster; ease waits until at least half is resolved (0.4 < 0.5)
    assert d[2] == {"resolve_share": pytest.approx(0.4), "resolve_speed": pytest.approx(0.4)}
    lv2 = levers(complaint_ease=0.1, resolve_share=0.4, resolve_speed=0.4)
    pol2 = ComplaintInvestor(step=0.2, decide_every=1)
    d2 = feed(pol2, [row(0, churn_rate=0.05), row(0, churn_rate=0.09)], lv=lv2)
    assert d2[1] == {
        "resolve_share": pytest.approx(0.6),
        "resolve_speed": pytest.approx(0.6),
        "complaint_ease": pytest.approx(0.3),
    }
    # a rise in complaints per purchase also triggers it
    pol3 = ComplaintInvestor(levers=["resolve_share"], decide_every=1)
    d3 = feed(pol3, [row(0, complaints=10), row(0, complaints=20)])
    assert d3[1] == {"resolve_share": pytest.approx(0.6)}


def test_complaint_investor_ignores_the_complaints_its_own_invitation_brings():
    pol = ComplaintInvestor(step=0.1, invite_above=0.0, decide_every=1)
    lv = levers(complaint_ease=0.2, resolve_share=0.5, resolve_speed=0.5)
    rows = [
        row(0, churn_rate=0.05, complaints=10),
        row(0, churn_rate=0.08, complaints=10),
        row(0, churn_rate=0.05, complaints=30),
        row(0, churn_rate=0.05, complaints=30),
    ]
    d = feed(pol, rows, lv=lv)
    assert "complaint_ease" in d[1]
    assert d[2] == {} and d[3] == {}


def test_complaint_investor_target_churn_and_relaxing():
    pol = ComplaintInvestor(levers=["resolve_share"], target_churn=0.04, decide_every=1)
    d = feed(pol, [row(0, churn_rate=0.05)] * 2)
    assert d[0] == {"resolve_share": pytest.approx(0.6)}  # above target: invest at once
    pol = ComplaintInvestor(levers=["resolve_share"], relax_after=2, min_level=0.3, decide_every=1)
    d = feed(pol, [row(0, churn_rate=0.05)] * 5, lv=levers(resolve_share=0.35))
    assert d[0] == {} and d[1] == {"resolve_share": pytest.approx(0.3)}  # two calm reviews
    assert d[2:] == [{}, {}, {}]  # at min_level


# ---------------------------------------------------------------- imitate the leader
def test_imitate_leader_moves_towards_the_biggest_rival_only_when_it_leads():
    rivals = {
        "B": {"price": 1.4, "active": True, "share": 0.5},
        "C": {"price": 0.8, "active": True, "share": 0.3},
    }
    d = feed(ImitateLeader(rate=0.5), [row(0, share=0.2)], rivals=rivals)
    assert d[0] == {"price": pytest.approx(1.2)}
    assert (
        feed(ImitateLeader(), [row(0, share=0.49)], rivals=rivals)[0] == {}
    )  # lead below min_lead
    assert (
        feed(ImitateLeader(), [row(0, share=0.2)], rivals={"B": {"price": 2.0, "active": True}})[0]
        == {}
    )


def test_the_model_shows_rival_shares_only_to_strategies_that_observe_them():
    p = ModelParams()
    p.market.n_customers = 200
    p.firms[0].policy = "imitate_leader"
    m = MarketModel(p, seed=1).run(2)
    assert "share" in m.observe(m.firms[0])["rivals"]["B"]
    assert "share" not in m.observe(m.firms[1])["rivals"]["A"]
    assert "model" not in m.observe(m.firms[0])


# ---------------------------------------------------------------- learning in a test market
GRID = {"price": [0.6, 0.8, 1.0, 1.2, 1.4]}
LEARNERS = {
    "hill_climb": "hill_climb",
    "satisficing": {"name": "satisficing", "aspiration": 50.0, "adapt": 0.0, "step": 0.1},
    "epsilon_greedy": {"name": "epsilon_greedy", "grid": GRID, "epsilon": 0.1},
    "ucb": {"name": "ucb", "grid": GRID, "c": 0.5},
    "best_response": "best_response",
}


@cache
def learning_run(policy_key: str, seed: int = 1):
    """A starts far too cheap (0.60, below its cost of 0.74 a purchase); B stays at 1.00."""
    p = ModelParams()
    p.market.n_customers = 1000
    p.firms[0].price = 0.6
    p.firms[0].policy = LEARNERS.get(policy_key, policy_key)
    f = MarketModel(p, seed=seed).run(60).firm_frame()
    return f[f.firm == "A"].set_index("period")


@pytest.mark.parametrize("key", sorted(LEARNERS))
def test_learning_strategies_beat_their_bad_starting_levers(key):
    fixed = learning_run("fixed")
    learnt = learning_run(key)
    assert learnt.loc[49:60, "profit"].mean() > fixed.loc[49:60, "profit"].mean() + 50
    assert learnt.loc[49:60, "profit"].mean() > learnt.loc[1:6, "profit"].mean()
    assert learnt.loc[49:60, "price"].mean() > 0.8  # it learnt to charge more
    assert learnt["price"].nunique() >= 3  # the lever moved


def test_stochastic_strategies_are_reproducible_and_draw_their_own_streams():
    a1, a2 = learning_run("epsilon_greedy"), learning_run("epsilon_greedy", 2)
    p = ModelParams()
    p.market.n_customers = 1000
    p.firms[0].price = 0.6
    p.firms[0].policy = LEARNERS["epsilon_greedy"]
    again = MarketModel(p, seed=1).run(60).firm_frame()
    assert again[again.firm == "A"].set_index("period")["price"].equals(a1["price"])
    assert not a1["price"].equals(a2["price"])
    m = MarketModel(p, seed=1)
    assert m.firms[0].policy.rng_ is not m.firms[1].policy.rng_
