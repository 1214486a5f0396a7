"""Churn, returns and win-back.

A customer of firm j leaves in a period with hazard

    h_i = min(1, [h₀ + h₁ u^η + h_d · σ((S_d − S_i) / w)] · exp(−ζ γ_i)),   u = (1 − S_i)/2

where S_i is remembered satisfaction, σ the logistic function, and γ_i the switching cost
the firm has built above everyone's baseline inertia (its structural switching cost +
loyalty points). Three parts:

- h₀: even fully satisfied customers leave (life changes, variety seeking, a rival's
  offer; seed 000: about 40% a year with choice switching in a competitive market);
- h₁ u^η with η < 1: the hazard falls fastest at the top of the scale, so retention
  shows increasing returns to satisfaction at the top (completely satisfied customers
  are far more loyal than merely satisfied ones: Jones & Sasser 1995; Mittal & Kamakura
  2001);
- h_d σ((S_d − S)/w): a dissatisfied customer (S below S_d, e.g. after a problem that
  was not put right) defects quickly; this is what makes repurchase after a problem
  depend on the complaint outcome as in TARP's studies (37% silent, 46% unresolved,
  70% resolved, 95% resolved quickly).

A customer waiting for a late resolution of its complaint does not leave before the
answer arrives. A leaver picks, by logit, among the other firms it knows and buying
nothing (always possible here, even when choice.outside_option is off): a rival (a
switch) or nothing (it lapses, out of the market).

A lapsed customer returns to the market by itself with probability ``return_rate`` a
period; the firm it left contacts it with probability ``winback`` a period, and a
contacted customer comes back with probability b · (1 + S_i)/2 (b = ``winback_response``).
"""

from __future__ import annotations

import numpy as np

from . import accel
from .acquisition import negative_source, start_relationships
from .choice import choose
from .population import CUSTOMER, LAPSED, PROSPECT
from .stages import PeriodState, Stage

__all__ = ["ChurnStage", "at_risk", "churn_hazard", "lapsed_moves", "winback_success"]


def churn_hazard(
    S,
    switching_cost,
    *,
    base_rate,
    dissatisfaction_rate,
    curvature,
    switching_cost_effect,
    defection_rate=0.0,
    defection_midpoint=0.0,
    defection_width=0.1,
):
    """Monthly hazard of leaving (see the module docstring).

    Args:
        S: remembered satisfaction per customer, in [-1, 1].
        switching_cost: γ above baseline inertia per customer (utility units).
        base_rate: h₀, hazard at S = 1.
        dissatisfaction_rate: h₁, weight of the top-of-scale term u^η.
        curvature: η (η < 1: increasing returns to satisfaction at the top).
        switching_cost_effect: ζ.
        defection_rate: h_d, hazard of quick defection of a dissatisfied customer.
        defection_midpoint: S_d, satisfaction at which half of h_d applies.
        defection_width: w, width of the logistic step.

    Returns:
        The hazard per customer, in [0, 1].

    Examples:
        >>> import numpy as np
        >>> h = churn_hazard(np.array([1.0, 0.5, -0.5]), np.zeros(3), base_rate=0.01,
        ...     dissatisfaction_rate=0.05, curvature=0.5, switching_cost_effect=0.5,
        ...     defection_rate=0.8, defection_midpoint=0.0, defection_width=0.1)
        >>> bool(h[0] < h[1] < h[2])
        True
    """
    u = np.clip((1.0 - S) / 2.0, 0.0, 1.0)
    h = base_rate + dissatisfaction_rate * np.power(u, curvature)
    if defection_rate:
        arg = np.clip((defection_midpoint - S) / max(defection_width, 1e-9), -50.0, 50.0)
        h = h + defection_rate / (1.0 + np.exp(-arg))
    return np.minimum(1.0, h * np.exp(-switching_cost_effect * switching_cost))


def winback_success(S, winback_response):
    """b · (1 + S) / 2: the chance a contacted lapsed customer comes back."""
    return winback_response * (1.0 + S) / 2.0


def at_risk(s: PeriodState, u0: np.ndarray) -> np.ndarray:
    """Ids of the customers who leave this period: those whose relationship began before
    it and who wait for no late resolution, with a draw ``u0`` below their hazard h_i
    (the numpy reference of :func:`_at_risk_compiled`)."""
    P, pop = s.params, s.pop
    cpar = P.churn
    cust = (pop.status == CUSTOMER) & (pop.since < s.t)
    S_eff = np.where(pop.last_firm == pop.firm, pop.satisfaction, 0.0)
    extra = np.maximum(s.gamma - P.choice.inertia, 0.0)  # structural + loyalty cost
    h = churn_hazard(
        S_eff,
        extra,
        base_rate=cpar.base_rate,
        dissatisfaction_rate=cpar.dissatisfaction_rate,
        curvature=cpar.curvature,
        switching_cost_effect=cpar.switching_cost_effect,
        defection_rate=cpar.defection_rate,
        defection_midpoint=cpar.defection_midpoint,
        defection_width=cpar.defection_width,
    )
    cust[s.model.pending.customer] = False  # waiting for a late resolution: stays
    return np.nonzero(cust & (u0 < h))[0]


def _at_risk_compiled(s: PeriodState, u0: np.ndarray) -> np.ndarray:
    """:func:`at_risk` in two compiled passes; the power and exponentials of
    :func:`churn_hazard` stay in numpy (same values).

    The first pass skips every eligible customer whose draw is above an upper bound of
    its hazard computed without transcendental functions (u^η ≤ 1, e^x ≥ 1 + x + x²/2 +
    x³/6 + x⁴/24, e^(−ζγ) ≤ 1, with a margin far above rounding): such a customer stays
    whatever the exact hazard, so only the few others need it. The leavers are the same."""
    P, pop = s.params, s.pop
    c = P.churn
    coef = np.array(
        [
            c.defection_midpoint,
            max(c.defection_width, 1e-9),
            c.base_rate,
            c.dissatisfaction_rate,
            c.defection_rate,
            # the bound holds (skipping allowed) when no rate, η or ζ is negative
            min(c.base_rate, c.dissatisfaction_rate, c.defection_rate, c.curvature) >= 0.0
            and c.switching_cost_effect >= 0.0,
        ]
    )
    idx, u, arg, extra = _eligible_jit(
        pop.status,
        pop.since,
        s.t,
        pop.last_firm,
        pop.firm,
        pop.satisfaction,
        s.gamma,
        P.choice.inertia,
        s.model.pending.customer,
        u0,
        coef,
    )
    pw = np.power(u, c.curvature)
    ex = np.exp(-arg) if c.defection_rate else arg
    cost = np.exp(-c.switching_cost_effect * extra)
    return _leave_jit(idx, u0, pw, ex, cost, coef[2:5])


@accel.jit
def _eligible_jit(
    status, since, t, last_firm, firm, satisfaction, gamma, inertia, pending, u0, coef
):  # pragma: no cover - compiled; the reference is at_risk
    n = status.size
    waiting = np.zeros(n, np.bool_)
    for m in range(pending.size):
        waiting[pending[m]] = True
    idx = np.empty(n, np.int64)
    u, arg, extra = np.empty(n), np.empty(n), np.empty(n)
    m = 0
    for i in range(n):
        if status[i] != CUSTOMER or since[i] >= t or waiting[i]:
            continue
        S = satisfaction[i] if last_firm[i] == firm[i] else 0.0
        a = min(max((coef[0] - S) / coef[1], -50.0), 50.0)
        if coef[5]:  # upper bound of the hazard: h0 + h1 + h_d σ(a)
            sigma = 1.0  # σ(a) ≤ 1; for a < 0, σ(a) = 1 / (1 + e^x) ≤ 1 / (1 + P(x)), x = −a
            if a < 0.0:
                x = -a
                sigma = 1.0 / (2.0 + x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x / 24.0))))
            bound = (coef[2] + coef[3] + coef[4] * sigma) * (1.0 + 1e-6) + 1e-12
            if u0[i] >= bound:
                continue
        idx[m] = i
        u[m] = min(max((1.0 - S) / 2.0, 0.0), 1.0)
        arg[m] = a
        g = gamma[i] - inertia
        extra[m] = g if g > 0.0 else 0.0
        m += 1
    return idx[:m], u[:m], arg[:m], extra[:m]


@accel.jit
def _leave_jit(idx, u0, pw, ex, cost, rates):  # pragma: no cover - reference: at_risk
    out = np.empty(idx.size, np.int64)
    m = 0
    for q in range(idx.size):
        h = rates[0] + rates[1] * pw[q]
        if rates[2]:
            h = h + rates[2] / (1.0 + ex[q])
        if u0[idx[q]] < min(1.0, h * cost[q]):
            out[m] = idx[q]
            m += 1
    return out[:m]


class ChurnStage(Stage):
    """Churn, win-back and returns: customers leave (to a rival or out); lapsed ones come back.

    Draws two uniforms per customer from the ``churn`` stream (leave?, where to?) and
    three from the ``winback`` stream (contacted?, won back?, returns?) every period.
    """

    name = "churn"
    stream = "churn"
    section = "churn"

    def __call__(self, s: PeriodState) -> None:
        self.leave(s)
        self.come_back(s)

    @staticmethod
    def leave(s: PeriodState) -> None:
        """Customers whose relationship began before this period leave with hazard h_i."""
        P, pop, L = s.params, s.pop, s.L
        u = s.streams["churn"].random((2, s.n))
        leave = (_at_risk_compiled if accel.enabled() else at_risk)(s, u[0])
        if not leave.size:
            return
        cur = pop.firm[leave].astype(np.int64)
        dest, _ = choose(
            s.model, leave, L, s.gamma, pop.aware, L["active"], P.choice.outside_utility,
            u[1, leave], inertia=False, exclude_current=True,
        )  # fmt: skip
        to_rival = dest >= 0
        start_relationships(s, leave[to_rival], dest[to_rival], cur[to_rival], how="churn")
        out, fout = leave[~to_rival], cur[~to_rival]
        if out.size:
            s.count("lost_out", fout)
            neg = negative_source(s, out, fout)
            s.count("lost_after_negative_wom", fout[neg >= 0])
            s.event("churn", out, fout, other=neg)
            pop.lapsed_from[out] = fout
            pop.firm[out] = -1
            pop.status[out] = LAPSED
            pop.since[out] = s.t
            pop.points[out] = 0

    @staticmethod
    def come_back(s: PeriodState) -> None:
        """Customers lapsed before this period: win-back contacts and own returns."""
        pop = s.pop
        uw = s.streams["winback"].random((3, s.n))
        lapsed, lf0, contacted, back, ret = (_lapsed_jit if accel.enabled() else lapsed_moves)(
            pop.status,
            pop.since,
            s.t,
            pop.lapsed_from,
            pop.satisfaction,
            s.L["active"],
            s.L["winback"],
            uw,
            np.array([s.params.churn.winback_response, s.params.churn.return_rate]),
        )
        if not lapsed.size:
            return
        s.count("winback_contacts", lf0[contacted])
        if back.any():
            s.event("winback", lapsed[back], lf0[back])
            none = np.full(int(back.sum()), -1)
            start_relationships(s, lapsed[back], lf0[back], none, how="winback")
        if ret.any():
            r = lapsed[ret]
            pop.status[r] = PROSPECT
            pop.lapsed_from[r] = -1
            s.event("return", r, -1)


def lapsed_moves(status, since, t, lapsed_from, satisfaction, active, winback, uw, rates):
    """Who among the lapsed is contacted, won back or returns (the numpy reference).

    Args:
        status, since, lapsed_from, satisfaction: population columns.
        t: the period.
        active, winback: per firm: in the market; contact probability a period.
        uw: (3, N) uniforms: contacted?, won back?, returns?
        rates: (b, return rate): ``winback_response`` and ``return_rate``.

    Returns:
        (lapsed, lf0, contacted, back, ret): ids of customers lapsed before ``t``, the
        firm each left (0 if none) and, per lapsed customer, whether that firm contacted
        it, won it back (probability b (1 + S) / 2 when contacted) or, if not won back,
        whether it returns to the market by itself.
    """
    lapsed = np.nonzero((status == LAPSED) & (since < t))[0]
    lf = lapsed_from[lapsed].astype(np.int64)
    has = lf >= 0
    lf0 = np.where(has, lf, 0)
    contacted = has & active[lf0] & (uw[0, lapsed] < winback[lf0])
    p_back = winback_success(satisfaction[lapsed], rates[0])
    back = contacted & (uw[1, lapsed] < p_back)
    ret = ~back & (uw[2, lapsed] < rates[1])
    return lapsed, lf0, contacted, back, ret


@accel.jit
def _lapsed_jit(
    status, since, t, lapsed_from, satisfaction, active, winback, uw, rates
):  # pragma: no cover - compiled; the reference is lapsed_moves
    n = status.size
    lapsed, lf0 = np.empty(n, np.int64), np.empty(n, np.int64)
    flags = np.empty((3, n), np.bool_)  # every entry below m is written
    m = 0
    for i in range(n):
        if status[i] != LAPSED or since[i] >= t:
            continue
        f = max(np.int64(lapsed_from[i]), 0)
        contacted = lapsed_from[i] >= 0 and active[f] and uw[0, i] < winback[f]
        back = contacted and uw[1, i] < rates[0] * (1.0 + satisfaction[i]) / 2.0
        lapsed[m], lf0[m] = i, f
        flags[0, m], flags[1, m] = contacted, back
        flags[2, m] = not back and uw[2, i] < rates[1]
        m += 1
    return lapsed[:m], lf0[:m], flags[0, :m], flags[1, :m], flags[2, :m]
