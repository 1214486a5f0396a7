"""Synthetic "observed" targets: the model run at hidden parameters, plus noise.

Used for the shipped example (``calibrations/example_observed.csv``), the recovery tests
and the notebook: a calibration should find the hidden parameters again, within its
stated uncertainty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .core import Calibration, Simulator
from .targets import Extraction, check_targets

__all__ = ["synthetic_targets"]


def synthetic_targets(
    scenario,
    truth: Mapping[str, float],
    series: Sequence[tuple[str, str]],
    *,
    monthly: bool = True,
    seed: int = 12345,
    replications: int = 8,
    noise: float = 0.5,
    overrides: Sequence[str] = (),
) -> pd.DataFrame:
    """Observed targets made by the model at hidden parameters, plus noise.

    One run at ``truth`` with ``seed`` gives the "observed" values; ``replications``
    further runs (other seeds) give each value's run-to-run standard deviation ``sd``.
    The observed value gets Gaussian measurement noise of sd ``noise · sd`` (from a
    generator seeded with ``seed``), and the row's ``se`` is
    ``sd · sqrt(1 + noise²)``: the total error an analyst would attach to it.

    Args:
        scenario: the base scenario (file, Scenario or ModelParams).
        truth: the hidden parameters ``{key path: value}``.
        series: ``(kpi, firm)`` pairs (firm ``"market"`` for market KPIs).
        monthly: one row per month 1…T (else one row per pair: the mean over 1…T).
        seed: seed of the observed run and the noise.
        replications: runs used to estimate each value's standard deviation (≥ 2).
        noise: measurement noise, in units of the run-to-run standard deviation.
        overrides: ``key.path=value`` strings applied to the scenario first.

    Returns:
        a target table (``kpi, firm, period, value, se``).

    Examples:
        >>> t = synthetic_targets("scenarios/baseline.toml", {"firms.B.price": 1.1},
        ...                       [("share", "B")], monthly=False, replications=2,
        ...                       overrides=["market.n_customers=300", "market.periods=6"])
        >>> list(t.columns)
        ['kpi', 'firm', 'period', 'value', 'se']
    """
    frame = _target_frame(scenario, series, monthly, overrides)
    keys = list(truth)
    base, data, base_dir = Calibration(scenario, frame, {}, overrides=overrides)._base()
    firms = [f.name for f in base.params.firms]
    t = check_targets(frame, firms, int(base.params.market.periods), "synthetic targets")
    sim = Simulator(data, base_dir, "synthetic targets", tuple(keys), (), Extraction.of(t, firms))
    seeds = [seed] + [seed + 1 + r for r in range(replications)]
    stats = sim.each({k: truth[k] for k in keys}, seeds)
    sd = np.std(stats[1:], axis=0, ddof=1)
    sd = np.where(sd > 0, sd, np.maximum(1e-3 * np.abs(stats[0]), 1e-6))
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
    frame["value"] = stats[0] + noise * sd * rng.standard_normal(sd.size)
    frame["se"] = sd * np.sqrt(1 + noise**2)
    return frame


def _target_frame(
    scenario, series: Sequence[tuple[str, str]], monthly: bool, overrides: Sequence[str]
) -> pd.DataFrame:
    """The empty target table (``kpi, firm, period, value``) of ``series``: one row per
    month 1…T of the scenario when ``monthly``, else one row per pair (period blank)."""
    T = None
    rows = []
    for kpi, firm in series:
        if monthly:
            if T is None:
                T = _periods(scenario, overrides)
            rows += [{"kpi": kpi, "firm": firm, "period": t, "value": 0.0} for t in range(1, T + 1)]
        else:
            rows.append({"kpi": kpi, "firm": firm, "period": "", "value": 0.0})
    return pd.DataFrame(rows)


def _periods(scenario, overrides: Sequence[str]) -> int:
    from sim.scenario import load_scenario

    if isinstance(scenario, str) or hasattr(scenario, "__fspath__"):
        return int(load_scenario(scenario, list(overrides)).params.market.periods)
    p = scenario.params if hasattr(scenario, "params") else scenario
    return int(p.market.periods)
