"""Scale benchmark of the vectorised model: wall time and peak memory.

Each configuration runs in a fresh Python process (so peak RSS is its own):

    .venv/bin/python bench/scale.py                  # 10k, 100k × 100 periods; 1M × 50
    .venv/bin/python bench/scale.py --sizes 100000 --periods 100
    .venv/bin/python bench/scale.py --target         # 10M × 50: the national-market target
    .venv/bin/python bench/scale.py --write bench/results-scale.md

The model is the full default model: all mechanisms on, two firms, a degree-10
small-world network, the event log on (word of mouth heard is logged only up to 20k
customers; ``--event-sample`` keeps a share of customers' events). The event log is held
in memory but not made a table. Reported: build time (network, population and the
12-period warm-up), run time, µs per customer-period (run time / customers / periods) and
peak resident memory. A configuration whose memory estimate (:func:`sim.memory.estimate`)
exceeds ``--max-gb`` is refused before it starts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
n, T, events, sample = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1", float(sys.argv[4])
t0 = time.perf_counter()
from sim import MarketModel, ModelParams
t_import = time.perf_counter() - t0
p = ModelParams()
p.market.n_customers = n
p.record_events, p.event_sample = events, sample
t0 = time.perf_counter()
m = MarketModel(p, seed=1)
t_build = time.perf_counter() - t0
t0 = time.perf_counter()
m.run(T)
t_run = time.perf_counter() - t0
f = m.firm_frame()
print(json.dumps({"n": n, "periods": T, "events": events, "import_s": t_import, "build_s": t_build,
                  "run_s": t_run, "us_per_cp": t_run / n / T * 1e6, "n_events": m.recorder._n_events,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "final_share_A": float(f[f.period == T].share.iloc[0])}))
"""


def estimate_gb(n: int, periods: int, events: bool, sample: float) -> float:
    """The memory estimate of one configuration (the log held, not made a table)."""
    from sim import ModelParams
    from sim.memory import GB, estimate

    p = ModelParams()
    p.market.n_customers, p.market.periods = n, periods
    p.record_events, p.event_sample = events, sample
    return estimate(p, tables=False).total / GB


def measure(n: int, periods: int, events: bool = True, sample: float = 1.0) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(n), str(periods), "1" if events else "0", str(sample)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _table(rows: list[dict]) -> list[str]:
    lines = [
        "| customers | periods | build (s) | run (s) | µs per customer-period | peak memory (MB) | events logged |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    return lines + [
        f"| {r['n']:,} | {r['periods']} | {r['build_s']:.2f} | {r['run_s']:.2f} | {r['us_per_cp']:.3f} | {r['peak_mb']:.0f} | {r['n_events']:,} |"
        for r in rows
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument(
        "--periods",
        type=int,
        nargs="+",
        default=None,
        help="periods per size (default: 100, except 50 at 1M and above)",
    )
    ap.add_argument("--target", action="store_true", help="10M customers × 50 periods")
    ap.add_argument("--no-events", action="store_true", help="switch the event log off")
    ap.add_argument("--event-sample", type=float, default=1.0, help="output.event_sample")
    ap.add_argument("--max-gb", type=float, default=14.0, help="refuse larger estimates")
    ap.add_argument("--write", help="write the table as Markdown to this file")
    a = ap.parse_args()
    if a.target:
        a.sizes, a.periods = [10_000_000], [50]
    periods = a.periods or [50 if n >= 1_000_000 else 100 for n in a.sizes]
    if len(periods) == 1:
        periods = periods * len(a.sizes)
    rows = []
    print(
        f"{'customers':>10} {'periods':>7} {'build s':>8} {'run s':>8} {'µs/cust-period':>15} {'peak MB':>8}"
    )
    for n, T in zip(a.sizes, periods, strict=True):
        gb = estimate_gb(n, T, not a.no_events, a.event_sample)
        if gb > a.max_gb:
            print(f"bench/scale.py: {n} × {T} needs about {gb:.1f} GB (> --max-gb {a.max_gb})")
            return 2
        r = measure(n, T, not a.no_events, a.event_sample)
        rows.append(r)
        print(
            f"{r['n']:>10} {r['periods']:>7} {r['build_s']:>8.2f} {r['run_s']:>8.2f} {r['us_per_cp']:>15.3f} {r['peak_mb']:>8.0f}",
            flush=True,
        )
    if a.write:
        load = os.getloadavg()[0]
        lines = [
            f"Machine: {platform.machine()}, {platform.python_version()}, load average at the end "
            f"{load:.1f}; command: `python bench/scale.py {' '.join(sys.argv[1:])}`",
            "",
            *_table(rows),
        ]
        Path(a.write).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
