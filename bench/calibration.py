"""Calibration benchmark: a 6-parameter calibration of a 5,000-customer, 48-month market to
4 monthly KPI series, on this machine (figures in docs/performance.md).

Measures:

1. runs per second for that market: a run as ``sim run`` does it (event log, panel,
   DataFrames) against a calibration run (no event log, no panel, KPIs read from the
   recorder's rows), in this process and on the local process pool;
2. the point estimate (Optuna TPE) and the posterior (pyabc ABC-SMC) wall times, with
   the fit's quality against the hidden parameters.

Usage (from the repository root; nice it on a shared machine)::

    nice -n 5 .venv/bin/python bench/calibration.py [--workers 2] [--trials 200]
        [--particles 100] [--populations 6] [--out bench/results-calibration.md]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from sim import MarketModel
from sim.calibration import Calibration
from sim.calibration.synthetic import synthetic_targets

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "baseline.toml"
MARKET = ["market.n_customers=5000", "market.periods=48"]
TRUTH = {
    "firms.B.price": 1.08,
    "firms.A.quality": 0.78,
    "churn.base_rate": 0.018,
    "complaints.max_prob": 0.62,
    "choice.inertia": 2.5,
    "choice.satisfaction_weight": 2.5,
}
RANGES = {
    "firms.B.price": (0.8, 1.3),
    "firms.A.quality": (0.5, 0.95),
    "churn.base_rate": (0.005, 0.06, "loguniform"),
    "complaints.max_prob": (0.2, 0.9),
    "choice.inertia": (1.0, 5.0),
    "choice.satisfaction_weight": (0.5, 5.0),
}
SERIES = [("churn_rate", "A"), ("share", "B"), ("mean_satisfaction", "A"), ("complaints", "A")]


def throughput(plan, n: int, workers: int) -> dict[str, float]:
    """Runs per second: full runs (as ``sim run``) and calibration runs."""
    sim = plan.simulator
    p_fit = sim.params(TRUTH)
    p_full = sim.params(TRUTH)
    p_full.record_events, p_full.panel_size = True, 100
    MarketModel(p_fit, seed=0).run()  # warm caches and imports
    # alternate the two kinds, so that a changing load on a shared machine hits both alike
    spent = {"full": 0.0, "fit": 0.0}
    for s in range(n):
        t0 = time.perf_counter()
        m = MarketModel(p_full, seed=s).run()
        m.firm_frame(), m.market_frame(), m.events(), m.panel_frame()
        spent["full"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        sim.each(TRUTH, [s])
        spent["fit"] += time.perf_counter() - t0
    out = {
        "full run (event log, panel, tables), 1 process": n / spent["full"],
        "calibration run, 1 process": n / spent["fit"],
    }
    if workers > 1:
        from sim.calibration.core import simulate_each
        from sim.experiments.sweep import _executor

        with _executor(workers) as (ex, _):
            list(ex.map(simulate_each, [sim] * workers, [TRUTH] * workers, [[0]] * workers))
            t0 = time.perf_counter()
            m = 2 * n
            list(ex.map(simulate_each, [sim] * m, [TRUTH] * m, [[s] for s in range(m)]))
            out[f"calibration run, {workers} processes"] = m / (time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--particles", type=int, default=100)
    ap.add_argument("--populations", type=int, default=6)
    ap.add_argument("--runs", type=int, default=10, help="runs for the throughput figures")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results-calibration.md"))
    ap.add_argument(
        "--throughput-only", action="store_true", help="only the runs-per-second figures"
    )
    a = ap.parse_args()
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    obs = synthetic_targets(BASE, TRUTH, SERIES, seed=2024, replications=4, overrides=MARKET)
    t_obs = time.perf_counter() - t0
    common = {"overrides": MARKET, "seed": 11, "draws": 20, "min_epsilon": 1.0}
    cal = Calibration(BASE, obs, RANGES, method="optimize", trials=a.trials, **common)
    plan = cal.plan()
    tp = throughput(plan, a.runs, a.workers)
    if a.throughput_only:
        load1 = os.getloadavg()
        for k, v in tp.items():
            print(f"| {k} | {v:.2f} |")
        print(f"load average before {load0[0]:.1f}, after {load1[0]:.1f}")
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-calibration-"))
    try:
        t0 = time.perf_counter()
        res_opt = cal.run(tmp, a.workers, progress=True, plots=False, plan=plan)
        t_opt = time.perf_counter() - t0
        abc = Calibration(
            BASE,
            obs,
            RANGES,
            method="abc",
            particles=a.particles,
            populations=a.populations,
            **common,
        )
        t0 = time.perf_counter()
        res_abc = abc.run(tmp, a.workers, progress=True, plots=False)
        t_abc = time.perf_counter() - t0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load1 = os.getloadavg()
    lines = [
        "# Calibration benchmark (bench/calibration.py)",
        "",
        f"Market: baseline duopoly, 5,000 customers × 48 months; 6 free parameters; targets: "
        f"4 monthly KPI series ({', '.join(f'{k} {f}' for k, f in SERIES)}), {len(obs)} values, "
        f"synthetic (hidden parameters + noise). Workers: {a.workers}. Load average (1/5/15 min) "
        f"before: {load0[0]:.1f}/{load0[1]:.1f}/{load0[2]:.1f}, after: "
        f"{load1[0]:.1f}/{load1[1]:.1f}/{load1[2]:.1f} (2-core machine).",
        "",
        "| throughput | runs per second |",
        "|---|---|",
        *(f"| {k} | {v:.2f} |" for k, v in tp.items()),
        "",
        "| step | budget | simulations | wall time |",
        "|---|---|---|---|",
        f"| synthetic observed data | 5 runs | 5 | {t_obs:.0f} s |",
        f"| point estimate (Optuna TPE) | {a.trials} trials | {res_opt.runs} | {t_opt:.0f} s "
        f"({res_opt.wall_seconds.get('point_estimate', 0):.0f} s fitting) |",
        f"| posterior (pyabc ABC-SMC) | {a.particles} particles × ≤ {a.populations} generations "
        f"(stop at ε ≤ 1) | {res_abc.runs} | {t_abc:.0f} s "
        f"({res_abc.wall_seconds.get('posterior', 0):.0f} s sampling, {len(res_abc.generations)} "
        f"generations, final ε {res_abc.generations['epsilon'].iloc[-1]:.2f}) |",
        "",
        "| parameter | hidden | point estimate | posterior mean | 90% interval | inside |",
        "|---|---|---|---|---|---|",
    ]
    po = res_opt.parameters.set_index("parameter")
    pa = res_abc.parameters.set_index("parameter")
    for k, v in TRUTH.items():
        lo, hi = pa.loc[k, "q05"], pa.loc[k, "q95"]
        lines.append(
            f"| {k} | {v:g} | {po.loc[k, 'point_estimate']:.4g} | "
            f"{pa.loc[k, 'posterior_mean']:.4g} | [{lo:.4g}, {hi:.4g}] | "
            f"{'yes' if lo <= v <= hi else 'no'} |"
        )
    lines += ["", "Identifiability warnings:", *(f"- {w}" for w in res_abc.warnings or ["none"])]
    text = "\n".join(lines) + "\n"
    Path(a.out).write_text(text)
    print(text)
    print(f"written: {a.out}")


if __name__ == "__main__":
    main()
