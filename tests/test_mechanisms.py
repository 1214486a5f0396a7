"""Each mechanism moves outcomes in the direction the literature reports, and a
mechanism switched off has no effect. Comparisons use the same seed (common random
numbers) and pool a few seeds, so they test the mechanism, not the noise."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from sim import complaints as cmp
from sim.satisfaction import remember

from .conftest import run, small_params

SEEDS = (1, 2, 3)


def firm_mean(params, col, firm="A", periods=30, since=1, seeds=SEEDS, n=None):
    vals = []
    for s in seeds:
        f = run(params, seed=s, periods=periods).firm_frame()
        vals.append(f[(f.firm == firm) & (f.period >= since)][col].mean())
    return float(np.mean(vals))


def with_firm(params, firm=0, **levers):
    p = copy.deepcopy(params)
    for k, v in levers.items():
        setattr(p.firms[firm], k, v)
    return p


# ---------------------------------------------------------------- choice
def test_raising_price_lowers_share():
    p = small_params(n=1500)
    shares = [firm_mean(with_firm(p, price=x), "share", periods=20) for x in (0.9, 1.0, 1.2)]
    assert shares[0] > shares[1] > shares[2]
    assert shares[2] < 0.45


def test_raising_quality_raises_share_and_satisfaction():
    p = small_params(n=1500)
    lo, hi = with_firm(p, quality=0.6), with_firm(p, quality=0.85)
    assert firm_mean(hi, "share", periods=25) > firm_mean(lo, "share", periods=25)
    assert firm_mean(hi, "mean_satisfaction", periods=25) > firm_mean(
        lo, "mean_satisfaction", periods=25
    )


# ---------------------------------------------------------------- capacity
def test_capacity_overload_lowers_satisfaction_and_adds_waiting():
    p = small_params(n=1500)
    tight = with_firm(p, capacity=200.0)  # well under half of A's demand
    assert firm_mean(tight, "load", periods=20) > 1.05  # customers leave, so load self-limits
    assert firm_mean(tight, "wait", periods=20) > 0
    assert (
        firm_mean(tight, "mean_satisfaction", periods=20)
        < firm_mean(p, "mean_satisfaction", periods=20) - 0.05
    )


# ---------------------------------------------------------------- satisfaction
def test_shortfall_hurts_more_than_equal_surplus_pleases():
    from sim.satisfaction import transaction_satisfaction

    kw = dict(
        performance_weight=0.0,
        neutral_performance=0.5,
        gain_weight=2.0,
        loss_weight=4.0,
        price_weight=0.0,
    )
    up, *_ = transaction_satisfaction(np.array([0.6]), np.array([0.5]), np.array([1.0]), 1.0, **kw)
    down, *_ = transaction_satisfaction(
        np.array([0.4]), np.array([0.5]), np.array([1.0]), 1.0, **kw
    )
    assert -down[0] > up[0] > 0


def test_peak_end_remembers_the_peak_and_exponential_forgets():
    S = np.array([0.5, 0.5])
    peak = np.array([0.5, 0.5])
    last = np.array([0.5, 0.5])
    fresh = np.array([False, False])
    # a terrible moment then two fine ones
    for x in (-0.9, 0.5, 0.5):
        S_pe, peak, last = remember(S, peak, last, np.full(2, x), fresh, "peak_end", 0.4)
        S = S_pe
    assert np.isclose(S_pe[0], 0.6 * -0.9 + 0.4 * 0.5)
    S_ex = np.array([0.5])
    for x in (-0.9, 0.5, 0.5):
        S_ex, _, _ = remember(
            S_ex, np.zeros(1), np.zeros(1), np.array([x]), np.array([False]), "exponential", 0.4
        )
    assert S_ex[0] > S_pe[0]


# ---------------------------------------------------------------- expectations
def test_over_promising_raises_expectations_and_complaints():
    p = small_params(n=1500)
    over = with_firm(p, promise=0.95, complaint_ease=0.6)
    honest = with_firm(p, complaint_ease=0.6)
    assert (
        firm_mean(over, "mean_expectation", periods=20)
        > firm_mean(honest, "mean_expectation", periods=20) + 0.02
    )
    assert firm_mean(over, "complaints", periods=20) > firm_mean(honest, "complaints", periods=20)
    assert firm_mean(over, "mean_satisfaction", periods=20) < firm_mean(
        honest, "mean_satisfaction", periods=20
    )


# ---------------------------------------------------------------- complaints
def test_recovery_outcomes_are_ordered():
    z = np.full(4, 0.5)  # argument of tanh, including the loss
    loss = np.full(4, -1.2)  # λ⁻ d for a shortfall d = -0.3
    outcome = np.array([cmp.SILENT, cmp.UNRESOLVED, cmp.LATE, cmp.QUICK])
    kw = dict(r_unresolved=0.15, r_late=0.6, r_quick=1.0)
    after = cmp.recover(z, loss, outcome, np.zeros(4, bool), paradox=0.0, **kw)
    late_final = np.tanh(z[2] - 0.6 * loss[2])  # what the late resolution brings when it arrives
    assert after[0] < after[1] < late_final < after[3]
    assert after[0] == pytest.approx(np.tanh(0.5))  # silent: nothing undone
    assert after[3] == pytest.approx(np.tanh(0.5 + 1.2))  # quick: as if expectation met
    first = cmp.recover(z[3:], loss[3:], outcome[3:], np.array([True]), paradox=0.3, **kw)
    again = cmp.recover(z[3:], loss[3:], outcome[3:], np.array([False]), paradox=0.3, **kw)
    assert first[0] > again[0] == pytest.approx(after[3])  # the paradox: first failure only


def test_complaint_outcomes_order_repurchase_in_a_run():
    """Complained unresolved < resolved late < resolved quickly, measured as the share
    still with the firm 5 periods after the complaint (pooled over seeds)."""
    p = small_params(n=5000, periods=40)
    for f in p.firms:
        f.complaint_ease, f.resolve_share, f.resolve_speed = 1.0, 0.6, 0.5
    kept = {k: [0, 0] for k in ("unresolved", "resolved_late", "resolved_quick")}
    for s in SEEDS:
        ev = run(p, seed=s).events()
        comp = ev[(ev.event == "complaint") & (ev.period <= 34)]
        losses = ev[ev.event.isin(["switch", "churn"])]
        for outcome in kept:
            c = comp[comp.detail == outcome]
            lost = c.merge(losses, on=["customer", "firm"], suffixes=("", "_l"))
            lost = lost[(lost.period_l >= lost.period) & (lost.period_l <= lost.period + 5)]
            kept[outcome][0] += len(c) - lost[["customer", "period"]].drop_duplicates().shape[0]
            kept[outcome][1] += len(c)
    r = {k: a / b for k, (a, b) in kept.items()}
    assert min(b for _, b in kept.values()) > 300
    assert r["unresolved"] + 0.05 < r["resolved_late"] < r["resolved_quick"] - 0.05


def test_better_complaint_handling_keeps_complainers_and_earns_praise():
    p = small_params(n=3000, periods=30)
    for f in p.firms:
        f.complaint_ease = 0.8
    good = with_firm(p, resolve_share=0.95, resolve_speed=0.9)
    bad = with_firm(p, resolve_share=0.05, resolve_speed=0.1)

    def complainers_lost(params):
        out = []
        for s in SEEDS:
            ev = run(params, seed=s).events()
            comp = ev[(ev.event == "complaint") & (ev.firm == "A")]
            loss = ev[ev.event.isin(["switch", "churn"]) & (ev.firm == "A")]
            out.append(comp.customer.isin(loss.customer).mean())
        return np.mean(out)

    assert complainers_lost(good) < complainers_lost(bad)
    assert firm_mean(good, "wom_pos") > firm_mean(bad, "wom_pos")
    assert firm_mean(good, "wom_neg") < firm_mean(bad, "wom_neg")


# ---------------------------------------------------------------- word of mouth
def test_negative_wom_weight_speeds_decline_after_quality_drop():
    p = small_params(n=3000, periods=30)
    p.events = [{"period": 5, "firm": "A", "set": {"quality": 0.45, "service": 0.45}}]

    def share_end(weight):
        q = copy.deepcopy(p)
        q.wom.negative_weight = weight
        q.wom.negative_reach = 6
        return firm_mean(q, "share", since=20, periods=30)

    assert share_end(4.0) < share_end(0.5)


def test_dissatisfied_talk_more():
    m = run(small_params(n=2000, periods=20), seed=4)
    ev = m.events()
    heard = ev[ev.event == "heard"]
    talkers = heard.groupby("other")["value"].first()
    S = m.pop.satisfaction
    neg_rate = (talkers < 0).sum() / max((S < -0.1).sum(), 1)
    pos_rate = (talkers > 0).sum() / max((S > 0.3).sum(), 1)
    assert neg_rate > 0 and pos_rate > 0


# ---------------------------------------------------------------- referrals
def test_referral_reward_brings_more_referrals():
    p = small_params(n=2000, periods=25)
    assert firm_mean(with_firm(p, referral_reward=0.5), "referrals") > 1.3 * firm_mean(
        p, "referrals"
    )


# ---------------------------------------------------------------- churn and loyalty
def test_higher_switching_cost_means_less_churn():
    p = small_params(n=2000, periods=25)
    assert firm_mean(with_firm(p, switching_cost=1.5), "churn_rate") < firm_mean(p, "churn_rate")


def test_loyalty_programme_lowers_churn_at_a_cost():
    p = small_params(n=2000, periods=30)
    loyal = with_firm(p, loyalty=True, loyalty_discount=0.05)
    assert firm_mean(loyal, "churn_rate", since=10) < firm_mean(p, "churn_rate", since=10)
    assert firm_mean(loyal, "cost_programme", since=10) > 0


def test_satisfied_customers_still_leave_at_the_base_rate():
    p = small_params(n=2000, periods=20)
    p.choice.inertia = 50.0  # nobody switches by choice: only the churn hazard acts
    for f in p.firms:
        f.quality = f.service = 1.0
    m = run(p)
    f = m.firm_frame()
    f = f[f.period >= 5]
    rate, s_mean = f["churn_rate"].mean(), f["mean_satisfaction"].mean()
    c = p.churn
    # the hazard is concave in (1 − S)/2 (η < 1), so the mean hazard is at most the
    # hazard at the mean satisfaction (Jensen)
    top = c.base_rate + c.dissatisfaction_rate * ((1 - s_mean) / 2) ** c.curvature
    assert c.base_rate <= rate <= top + 0.005
    p.churn.base_rate = p.churn.dissatisfaction_rate = 0.0
    assert firm_mean(p, "churn_rate", since=5) < 0.005


def test_win_back_brings_lapsed_customers_back():
    p = small_params(n=2000, periods=30)
    assert firm_mean(with_firm(p, winback=0.5), "acq_winback") > 0
    assert firm_mean(p, "acq_winback") == 0


# ---------------------------------------------------------------- switched off → no effect
def frames(params, seed=3, periods=15):
    m = run(params, seed=seed, periods=periods)
    return m.firm_frame(), m.market_frame()


OFF_CASES = {
    "complaints": (
        "complaints",
        {"max_prob": 0.9, "recovery_quick": 0.2},
        {"complaint_ease": 1.0, "resolve_share": 0.0},
    ),
    "wom": ("wom", {"negative_weight": 5.0, "positive_talk": 1.0}, {}),
    "capacity": ("capacity", {"service_elasticity": 3.0}, {"capacity": 100.0}),
    "churn": ("churn", {"base_rate": 0.5}, {"winback": 0.9}),
    "referrals": ("referrals", {"prob": 0.9}, {"referral_reward": 2.0}),
    "loyalty": (
        "loyalty",
        {"points_switching_cost": 5.0},
        {"loyalty": True, "loyalty_discount": 0.3},
    ),
    "expectations": (
        "expectations",
        {"experience_weight": 0.9, "promise_weight": 0.9, "wom_weight": 0.9},
        {},
    ),
}


@pytest.mark.parametrize("name", sorted(OFF_CASES))
def test_switched_off_mechanism_has_no_effect(name):
    section, knobs, levers = OFF_CASES[name]
    p = small_params(n=800)
    getattr(p, section).enabled = False
    q = copy.deepcopy(p)
    for k, v in knobs.items():
        setattr(getattr(q, section), k, v)
    for k, v in levers.items():
        setattr(q.firms[0], k, v)
    fa, ma = frames(p)
    fb, mb = frames(q)
    lever_cols = set(levers) | {"loyalty"}
    keep = [c for c in fa.columns if c not in lever_cols]
    pd.testing.assert_frame_equal(fa[keep], fb[keep])
    pd.testing.assert_frame_equal(ma, mb)


def test_switched_off_mechanisms_report_zero_flows():
    p = small_params(n=800)
    p.complaints.enabled = p.wom.enabled = p.referrals.enabled = p.churn.enabled = False
    f, _ = frames(p)
    for col in ("complaints", "wom_pos", "wom_neg", "referrals", "lost_out", "acq_winback"):
        assert (f[col] == 0).all(), col


def test_wom_switch_changes_outcomes_when_on():
    # the converse: with the mechanism on, its parameters matter
    p = small_params(n=800)
    q = copy.deepcopy(p)
    q.wom.negative_weight = 5.0
    q.wom.positive_talk = 1.0
    assert not frames(p)[0].equals(frames(q)[0])


# ---------------------------------------------------------------- Bass reduction
def bass_params(n, p_ext, q_int, periods):
    from sim import FirmParams, SegmentParams

    p = small_params(n=n, periods=periods, initial_customers=0.0, initial_awareness=0.0, warmup=0)
    p.market.segments = [SegmentParams(name="all", purchase_prob=1.0)]
    p.firms = [FirmParams(name="A", marketing=p_ext)]
    p.network.kind = "complete"
    p.choice.outside_option = False
    p.acquisition.imitation = q_int
    for section in ("churn", "complaints", "wom", "referrals", "expectations", "capacity"):
        getattr(p, section).enabled = False
    return p


def test_bass_reduction():
    n, pe, qi, T = 1000, 0.03, 0.38, 25
    p = bass_params(n, pe, qi, T)
    runs = [run(p, seed=s).market_frame()["customers"].to_numpy() / n for s in range(6)]
    sim_F = np.mean(runs, axis=0)
    # exact discrete hazard of the model on a complete graph
    F_exact = [0.0]
    F_bass = [0.0]
    for _ in range(T):
        A = F_exact[-1] * n
        a = 1 - (1 - pe) * (1 - qi / (n - 1)) ** A
        F_exact.append(F_exact[-1] + (1 - F_exact[-1]) * a)
        F_bass.append(F_bass[-1] + (pe + qi * F_bass[-1]) * (1 - F_bass[-1]))
    assert np.max(np.abs(sim_F - np.array(F_exact))) < 0.03
    assert np.max(np.abs(sim_F - np.array(F_bass))) < 0.06  # Bass, up to O(pq) terms
    # S-shaped: adoption speeds up, then slows
    inc = np.diff(sim_F)
    peak = int(np.argmax(inc))
    assert 2 < peak < T - 3


def test_bass_without_imitation_is_pure_innovation():
    n, pe, T = 1000, 0.05, 20
    p = bass_params(n, pe, 0.0, T)
    F = np.mean(
        [run(p, seed=s).market_frame()["customers"].to_numpy() / n for s in range(4)], axis=0
    )
    expected = 1 - (1 - pe) ** np.arange(T + 1)
    assert np.max(np.abs(F - expected)) < 0.02
