"""The Bass limit at scale: the implicit complete graph keeps memory linear in customers.

Runs the Bass configuration (docs/model.md section 8, ``acquisition.hazard = "bass"``) on the
complete graph and reports the largest gap to the discrete Bass recursion, the time and the
peak memory (resident set size)::

    .venv/bin/python bench/bass_scale.py 1000000
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np

from sim import FirmParams, MarketModel, ModelParams, SegmentParams
from sim.acquisition import bass_curve


def bass_params(n: int, p: float = 0.03, q: float = 0.38) -> ModelParams:
    """The Bass configuration on the complete graph with the ``bass`` hazard."""
    m = ModelParams()
    m.market.n_customers, m.market.warmup = n, 0
    m.market.initial_customers = m.market.initial_awareness = 0.0
    m.market.segments = [SegmentParams(name="all", purchase_prob=1.0)]
    m.firms = [FirmParams(name="A", marketing=p)]
    m.network.kind = "complete"
    m.choice.outside_option = False
    m.acquisition.imitation, m.acquisition.hazard = q, "bass"
    for sec in ("churn", "complaints", "wom", "referrals", "expectations", "capacity"):
        getattr(m, sec).enabled = False
    m.record_events, m.panel_size = False, 0
    return m


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    periods = 25
    t0 = time.perf_counter()
    model = MarketModel(bass_params(n), seed=1).run(periods)
    dt = time.perf_counter() - t0
    F = model.market_frame()["customers"].to_numpy() / n
    gap = float(np.abs(F - bass_curve(0.03, 0.38, periods)).max())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"N = {n:,}: {periods} periods in {dt:.1f} s, peak RSS {rss:.0f} MB, max |F - Bass| = {gap:.4f}"
    )


if __name__ == "__main__":
    main()
