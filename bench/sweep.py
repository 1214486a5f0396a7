"""Sweep benchmark: wall time of a 200-run sweep (2,000 customers × 100 periods) with 1
and with 2 local worker processes.

    .venv/bin/python bench/sweep.py                    # workers 1 and 2
    .venv/bin/python bench/sweep.py --workers 0 1 2    # 0 = sequential in the main process
    .venv/bin/python bench/sweep.py --write bench/out/sweep.md

Each measurement runs the real command, ``sim sweep sweeps/bench_200.toml --workers N``,
in a fresh process with a fresh store, and reports the command's wall time (Python
start, imports, pool start, 200 runs written to the store, the analysis tables) and the
sweep's own time as the command prints it (``done: 200 runs in … s``). The machine's
load average is printed before and after, because other processes sharing the cores
change the figures: on a machine whose cores are busy with other work, a second worker
process only splits the share of CPU the sweep gets.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SWEEP = ROOT / "sweeps" / "bench_200.toml"


def measure(workers: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="sim-bench-sweep-") as tmp:
        cmd = [
            sys.executable,
            "-m",
            "sim.experiments",
            str(SWEEP),
            "--workers",
            str(workers),
            "--out",
            str(Path(tmp) / "store"),
            "--quiet",
            "--no-plots",
        ]
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - t0
        if out.returncode != 0:
            raise SystemExit(out.stderr)
        m = re.search(r"done: (\d+) runs in ([0-9.]+) s", out.stderr)
        runs = len(list((Path(tmp) / "store" / "runs").glob("*.parquet")))
    return {
        "workers": workers,
        "wall_s": wall,
        "sweep_s": float(m.group(2)) if m else float("nan"),
        "runs": runs,
        "load_before": load0,
        "load_after": os.getloadavg()[0],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--write", help="also write the table as Markdown to this file")
    a = ap.parse_args()
    rows = []
    print(
        f"sweeps/bench_200.toml: 200 runs of 2,000 customers × 100 periods; {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        flush=True,
    )
    for w in a.workers:
        r = measure(w)
        rows.append(r)
        print(
            f"workers {w}: {r['wall_s']:.1f} s wall ({r['sweep_s']:.1f} s sweep, {r['runs']} runs, "
            f"{r['runs'] / r['sweep_s']:.2f} runs/s); "
            f"load average {r['load_before']:.2f} → {r['load_after']:.2f}",
            flush=True,
        )
    base = next((r for r in rows if r["workers"] == 1), rows[0])["wall_s"]
    lines = [
        "| workers | wall time (s) | sweep time (s) | runs/s | speed-up vs 1 worker (wall) | load average before → after |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['workers']} | {r['wall_s']:.1f} | {r['sweep_s']:.1f} | {r['runs'] / r['sweep_s']:.2f} | "
            f"{base / r['wall_s']:.2f}× | {r['load_before']:.2f} → {r['load_after']:.2f} |"
        )
    table = "\n".join(lines)
    print()
    print(table)
    if a.write:
        Path(a.write).parent.mkdir(parents=True, exist_ok=True)
        Path(a.write).write_text(table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
