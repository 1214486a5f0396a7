"""Churn, returns and win-back.

A customer of firm j leaves in a period with hazard

    h_i = min(1, [h₀ + h₁ ((1 − S_i)/2)^η] · exp(−ζ γ_i))

where S_i is remembered satisfaction, γ_i the switching cost the firm has built above
everyone's baseline inertia (its structural switching cost + loyalty points) and η > 1 makes loyalty rise steeply at the
top (Jones & Sasser 1995). Even fully satisfied customers leave at h₀ (seed 000: about
40% a year). A leaver picks, by logit, among the other firms it knows and buying nothing (always
possible here, even when choice.outside_option is off): a rival (a switch) or nothing
(it lapses, out of the market).

A lapsed customer returns to the market by itself with probability ``return_rate`` a
period; the firm it left contacts it with probability ``winback`` a period, and a
contacted customer comes back with probability b · (1 + S_i)/2 (b = ``winback_response``).
"""

from __future__ import annotations

import numpy as np

from .acquisition import negative_source, start_relationships
from .choice import logit_choice, market_utilities, take_rows
from .population import CUSTOMER, LAPSED, PROSPECT
from .stages import PeriodState, Stage

__all__ = ["ChurnStage", "churn_hazard", "winback_success"]


def churn_hazard(
    S, switching_cost, *, base_rate, dissatisfaction_rate, curvature, switching_cost_effect
):
    h = base_rate + dissatisfaction_rate * np.power(np.clip((1.0 - S) / 2.0, 0.0, 1.0), curvature)
    return np.minimum(1.0, h * np.exp(-switching_cost_effect * switching_cost))


def winback_success(S, winback_response):
    """b · (1 + S) / 2: the chance a contacted lapsed customer comes back."""
    return winback_response * (1.0 + S) / 2.0


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
        cpar = P.churn
        u = s.streams["churn"].random((2, s.n))
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
        )
        leave = np.nonzero(cust & (u[0] < h))[0]
        if not leave.size:
            return
        cur = pop.firm[leave].astype(np.int64)
        avail = take_rows(pop.aware, leave) & L["active"][None, :]
        avail[np.arange(leave.size), cur] = False
        v, _ = market_utilities(s.model, leave, L, s.gamma, inertia=False)
        dest = logit_choice(v, avail, P.choice.outside_utility, u[1, leave])
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
        pop, L = s.pop, s.L
        uw = s.streams["winback"].random((3, s.n))
        lapsed = np.nonzero((pop.status == LAPSED) & (pop.since < s.t))[0]
        if not lapsed.size:
            return
        lf = pop.lapsed_from[lapsed].astype(np.int64)
        has = lf >= 0
        lf0 = np.where(has, lf, 0)
        contacted = has & L["active"][lf0] & (uw[0, lapsed] < L["winback"][lf0])
        s.count("winback_contacts", lf0[contacted])
        p_back = winback_success(pop.satisfaction[lapsed], s.params.churn.winback_response)
        back = contacted & (uw[1, lapsed] < p_back)
        if back.any():
            s.event("winback", lapsed[back], lf0[back])
            none = np.full(int(back.sum()), -1)
            start_relationships(s, lapsed[back], lf0[back], none, how="winback")
        ret = ~back & (uw[2, lapsed] < s.params.churn.return_rate)
        if ret.any():
            r = lapsed[ret]
            pop.status[r] = PROSPECT
            pop.lapsed_from[r] = -1
            s.event("return", r, -1)
