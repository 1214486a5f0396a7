"""Experience: what the customer gets when buying.

    q̃_i = q_j + σ_q ε₁,    s̃_i = s_j · f_j + σ_s ε₂                (ε ~ N(0, 1))
    P_i = w_i q̃_i + (1 − w_i) s̃_i − κ_w · w_j

P_i is the customer's perceived performance on the 0–1 scale (w_i: the customer's
weight of quality against service; f_j and w_j from :mod:`sim.capacity`).
"""

from __future__ import annotations

from .stages import PeriodState, Stage

__all__ = ["ExperienceStage", "perceived_performance", "composite"]


def composite(w_quality, quality, service):
    """The customer's composite of quality and service levels."""
    return w_quality * quality + (1.0 - w_quality) * service


def perceived_performance(
    w_quality,
    quality,
    service,
    factor,
    wait,
    wait_weight,
    z_quality,
    z_service,
    quality_noise,
    service_noise,
):
    """P_i for buyers; all firm quantities already indexed by each buyer's firm."""
    q = quality + quality_noise * z_quality
    s = service * factor + service_noise * z_service
    return composite(w_quality, q, s) - wait_weight * wait


class ExperienceStage(Stage):
    """Experience: buyers perceive quality and service with noise and the overload effect."""

    name = "experience"
    stream = "experience"

    def __call__(self, s: PeriodState) -> None:
        z = s.rng.standard_normal((2, s.n))
        P, L, buyers, bf = s.params, s.L, s.buyers, s.buyer_firm
        s.perf = perceived_performance(
            s.pop.w_quality[buyers],
            L["quality"][bf],
            L["service"][bf],
            s.service_factor[bf],
            s.wait[bf],
            P.capacity.wait_weight if P.capacity.enabled else 0.0,
            z[0, buyers],
            z[1, buyers],
            P.experience.quality_noise,
            P.experience.service_noise,
        )
