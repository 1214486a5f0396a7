"""Experience: what the customer gets when buying.

    q̃_i = q_j + σ_q ε₁,    s̃_i = s_j · f_j + σ_s ε₂                (ε ~ N(0, 1))
    P_i = w_i q̃_i + (1 − w_i) s̃_i − κ_w · w_j + φ_ij

P_i is the customer's perceived performance on the 0–1 scale (w_i: the customer's
weight of quality against service; f_j and w_j from :mod:`sim.capacity`). φ_ij ~ N(0, σ_φ)
is the customer's persistent fit with firm j, drawn once: how well the firm's offer
suits this customer's needs (seed 004: value is fit for purpose). It makes satisfaction
differ persistently between customers of one firm, so satisfaction today predicts
loyalty tomorrow.
"""

from __future__ import annotations

import numpy as np

from . import accel
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
    fit=0.0,
):
    """P_i for buyers; all firm quantities already indexed by each buyer's firm
    (``fit``: φ_ij of each buyer with its firm)."""
    q = quality + quality_noise * z_quality
    s = service * factor + service_noise * z_service
    return composite(w_quality, q, s) - wait_weight * wait + fit


@accel.jit
def _experience_nb(
    buyers, bf, z, w_quality, quality, service, factor, wait, fit, consts
):  # pragma: no cover - compiled
    """P_i of every buyer in one pass (numba; :func:`perceived_performance` with the
    stage's gathers is the reference). ``consts``: κ_w, σ_q, σ_s."""
    wait_weight, quality_noise, service_noise = consts[0], consts[1], consts[2]
    out = np.empty(buyers.size)
    for i in range(buyers.size):
        b, j = buyers[i], bf[i]
        q = quality[j] + quality_noise * z[0, b]
        s = service[j] * factor[j] + service_noise * z[1, b]
        w = w_quality[b]
        out[i] = (w * q + (1.0 - w) * s) - wait_weight * wait[j] + fit[b, j]
    return out


class ExperienceStage(Stage):
    """Experience: buyers perceive quality and service with noise and the overload effect."""

    name = "experience"
    stream = "experience"

    def __call__(self, s: PeriodState) -> None:
        z = s.rng.standard_normal((2, s.n))
        P, L, buyers, bf = s.params, s.L, s.buyers, s.buyer_firm
        ww = P.capacity.wait_weight if P.capacity.enabled else 0.0
        if accel.enabled():
            s.perf = _experience_nb(
                buyers, bf, z, s.pop.w_quality, L["quality"], L["service"],
                s.service_factor, s.wait, s.pop.fit,
                np.array([ww, P.experience.quality_noise, P.experience.service_noise]),
            )  # fmt: skip
            return
        s.perf = perceived_performance(
            s.pop.w_quality[buyers],
            L["quality"][bf],
            L["service"][bf],
            s.service_factor[bf],
            s.wait[bf],
            ww,
            z[0, buyers],
            z[1, buyers],
            P.experience.quality_noise,
            P.experience.service_noise,
            s.pop.fit[buyers, bf],
        )
