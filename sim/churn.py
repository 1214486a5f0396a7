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

__all__ = ["churn_hazard", "winback_success"]


def churn_hazard(
    S, switching_cost, *, base_rate, dissatisfaction_rate, curvature, switching_cost_effect
):
    h = base_rate + dissatisfaction_rate * np.power(np.clip((1.0 - S) / 2.0, 0.0, 1.0), curvature)
    return np.minimum(1.0, h * np.exp(-switching_cost_effect * switching_cost))


def winback_success(S, response):
    return response * (1.0 + S) / 2.0
