"""Peak memory of runs against the estimate of :mod:`sim.memory`.

Each configuration runs in a fresh Python process (so its peak resident memory is its
own) and is compared with ``sim.memory.estimate``:

    .venv/bin/python bench/memory.py                      # the default configurations
    .venv/bin/python bench/memory.py --write bench/results-memory.md

A configuration is ``customers:periods:network:degree:policy:events``, e.g.
``1000000:60:small_world:10:fixed:1``; events is 0 (the log off), 1 (on) or a share of
customers whose events the log keeps (``output.event_sample``, e.g. 0.1). The event log
is made a table at the end, as ``sim run`` does. Keep them to 1-2 GB on a shared machine: the
estimate's coefficients scale linearly, so the largest market is extrapolated from them
(see docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, resource, sys
from sim import MarketModel, ModelParams
from sim.memory import estimate
from sim.params import FirmParams
n, T, kind, degree, policy, events = sys.argv[1].split(":")
p = ModelParams()
p.market.n_customers, p.market.periods = int(n), int(T)
p.network.kind, p.network.degree = kind, int(degree)
p.record_events = float(events) > 0
p.event_sample = min(float(events), 1.0) if p.record_events else 1.0
if policy != "fixed":
    p.firms = [FirmParams(name="A", policy=policy), FirmParams(name="B")]
m = MarketModel(p, seed=1)
m.run(int(T))
ev = m.events()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"config": sys.argv[1], "peak": peak, "estimate": estimate(p).total,
                  "events": len(ev)}))
"""

DEFAULT = [
    "1000000:60:small_world:10:fixed:1",
    "1000000:60:small_world:10:fixed:0.1",
    "1000000:5:small_world:10:fixed:0",
    "20000:5:random:1000:fixed:0",
    "5000:5:complete:0:fixed:0",
    "100000:5:small_world:10:best_response_full:0",
    "20000:20:small_world:10:fixed:1",
]


def measure(config: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, config], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("configs", nargs="*", default=DEFAULT)
    ap.add_argument("--write", type=Path)
    a = ap.parse_args()
    rows = [
        "| customers:periods:network:degree:policy:events | peak (MB) | estimate (MB) | "
        "estimate / peak | events |",
        "|---|---:|---:|---:|---:|",
    ]
    for c in a.configs:
        r = measure(c)
        rows.append(
            f"| {c} | {r['peak'] / 2**20:,.0f} | {r['estimate'] / 2**20:,.0f} | "
            f"{r['estimate'] / r['peak']:.2f} | {r['events']:,} |"
        )
        print(rows[-1], flush=True)
    text = (
        f"Machine: {platform.machine()}, Python {platform.python_version()}; command: "
        f"`python bench/memory.py {' '.join(a.configs) if a.configs != DEFAULT else ''}`\n\n"
        + "\n".join(rows)
        + "\n"
    )
    if a.write:
        a.write.write_text(text)


if __name__ == "__main__":
    main()
