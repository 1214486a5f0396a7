"""Referrals: a positive message can bring the recipient to the talker's firm.

A positive message about firm j from a talker with S ≥ θ_ref, to a recipient who is not
j's customer (and j active), converts the recipient with probability

    ρ = ρ₀ (1 + κ_r · reward_j / p_ref) · exp(−ζ γ_r)

where γ_r is the recipient's full switching cost with a current firm, baseline inertia
included (0 if none): a friend's word must overcome the whole attachment to a rival. A
recipient referred by several talkers in one period follows the one with the lowest
random draw (:func:`sim.wom.pick_referrals`). The firm pays ``referral_reward`` per
referral (programme cost). Draws come from the ``referrals`` stream, one per candidate
message, so they are common across runs only until the messages differ.
"""

from __future__ import annotations

import numpy as np

from . import accel
from .acquisition import start_relationships
from .loyalty import switching_cost
from .population import VIA_REFERRAL
from .stages import PeriodState, Stage
from .wom import pick_referrals

__all__ = ["ReferralStage", "candidates", "referral_probability"]


def referral_probability(
    prob, reward_gain, referral_reward, reference_price, switching_cost_effect, gamma
):
    """ρ for each candidate message (see the module docstring).

    Examples:
        >>> float(referral_probability(0.05, 2.0, 0.0, 1.0, 0.5, 0.0))
        0.05
    """
    rho = prob * (1 + reward_gain * referral_reward / reference_price)
    return rho * np.exp(-switching_cost_effect * gamma)


def candidates(sender, recip, f, negative, satisfaction, firm, active, threshold):
    """Indices of the messages that may bring a referral (the numpy reference): positive,
    from a talker with S ≥ θ_ref, about an active firm the recipient is not a customer of.
    """
    return np.nonzero(
        ~negative & (satisfaction[sender] >= threshold) & (firm[recip] != f) & active[f]
    )[0]


@accel.jit
def _candidates_jit(
    sender, recip, f, negative, satisfaction, firm, active, threshold
):  # pragma: no cover - compiled; the reference is candidates
    out = np.empty(sender.size, np.int64)
    m = 0
    for q in range(sender.size):
        j = f[q]
        if not negative[q] and satisfaction[sender[q]] >= threshold and firm[recip[q]] != j:
            if active[j]:
                out[m] = q
                m += 1
    return out[:m]


class ReferralStage(Stage):
    """Referrals: positive messages from promoters may bring the recipient to the firm."""

    name = "referrals"
    stream = "referrals"
    section = "referrals"

    def enabled(self, model) -> bool:
        return bool(model.params.referrals.enabled and model.params.wom.enabled)

    def __call__(self, s: PeriodState) -> None:
        if s.messages is None:
            return
        P, pop, L = s.params, s.pop, s.L
        rp, lp = P.referrals, P.loyalty
        sender, recip, f = s.messages["sender"], s.messages["recipient"], s.messages["firm"]
        find = _candidates_jit if accel.enabled() else candidates
        cand = find(
            sender,
            recip,
            f,
            s.messages["negative"],
            pop.satisfaction,
            pop.firm,
            L["active"],
            rp.threshold,
        )
        ur = s.rng.random(cand.size)
        r_c, f_c = recip[cand], f[cand]
        gamma_now = switching_cost(
            pop.firm[r_c],
            pop.points[r_c],
            inertia=P.choice.inertia,
            firm_switching_cost=L["switching_cost"],
            loyalty_on=L["loyalty"],
            points_gamma=lp.points_switching_cost if lp.enabled else 0.0,
            points_cap=lp.points_cap,
        )
        prob = referral_probability(
            rp.prob,
            rp.reward_gain,
            L["referral_reward"][f_c],
            P.market.reference_price,
            P.churn.switching_cost_effect,
            gamma_now,
        )
        ok = ur < prob
        cand, ur = cand[ok], ur[ok]
        keep = cand[pick_referrals(recip[cand], ur)]
        if keep.size:
            r, ff, snd = recip[keep], f[keep], sender[keep]
            prev = pop.firm[r].astype(np.int64)
            s.count("referrals", ff)
            s.event("referral", r, ff, other_firm=prev, other=snd)
            pop.aware_via[r, ff] = VIA_REFERRAL
            start_relationships(s, r, ff, prev, how="referral", referrer=snd)
