"""Sweep benchmark: 1,000 runs of 2,000 customers × 100 periods through ``sim sweep
--workers 2`` (results stored), and where the time of one run goes.

    .venv/bin/python bench/sweep.py                  # the target: sweeps/bench_1000.toml, 2 workers
    .venv/bin/python bench/sweep.py --sweep sweeps/bench_200.toml --workers 1 2
    .venv/bin/python bench/sweep.py --breakdown-only # the per-run breakdown alone (~1 min)
    .venv/bin/python bench/sweep.py --write bench/results-sweep.md

Two parts:

1. **Breakdown** (in this process, the sweep's own code, ``--sample`` runs of the sweep's
   first design point, minimum and median): per run, *build* (``MarketModel(...)``
   without its warm-up: checks, network, population, firms, initial market),
   *warm-up* (the ``market.warmup`` unrecorded periods), *periods* (``model.run()``),
   *rows* (the run's rows as Parquet bytes, ``encode_rows``) and
   *store* (writing the bytes atomically with fsync); per sweep, once: *process start
   and import* (``python -c "import sim.experiments.sweep"`` in a fresh process),
   *plan* (reading and validating the sweep file) and *pool start* (a fresh process
   starting the sweep's worker pool and getting an answer from every worker). The
   per-run overhead is everything but the periods, with the per-sweep costs spread
   over the sweep's runs; the target is ≤ 25% of a run.
2. **The command** (skipped by ``--breakdown-only``): ``python -m sim.experiments
   SWEEP --workers N --out <fresh folder> --quiet --no-plots`` in a fresh process, its
   wall time, the sweep's own ``done: … runs in … s``, and the CPU seconds of the
   command and its worker processes (sampled with psutil every 0.2 s). Wall time on a
   shared machine depends on the other jobs: the load average is printed before and
   after; CPU seconds / workers is what the wall time would be with the cores to itself.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SWEEP = ROOT / "sweeps" / "bench_1000.toml"
POOL_START = """
import time
from sim.experiments.sweep import _executor
t0 = time.perf_counter()
with _executor({workers}) as (ex, _):
    list(ex.map(abs, range({workers})))
    print(time.perf_counter() - t0)
"""


def _fresh(code: str, repeats: int = 3) -> float:
    """Minimum wall time (s) of ``python -c code`` in a fresh process."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)
        best = min(best, time.perf_counter() - t0)
    return best


def _pool_start(workers: int, repeats: int = 2) -> float:
    """Minimum time (s) for a fresh process (sim imported) to start a pool of
    ``workers`` and hear from each."""
    code = POOL_START.format(workers=workers)
    return min(
        float(
            subprocess.run(
                [sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True, text=True
            ).stdout
        )
        for _ in range(repeats)
    )


def breakdown(sweep: Path, sample: int, workers: int) -> dict[str, list[float]]:
    """Seconds per phase: per-run phases (one value per sampled run) and per-sweep ones."""
    from sim.experiments import Store, load_sweep
    from sim.experiments.sweep import encode_rows
    from sim.model import MarketModel

    t0 = time.perf_counter()
    with redirect_stdout(io.StringIO()):
        plan = load_sweep(sweep).sweep.plan()
    out: dict[str, list[float]] = {"plan": [time.perf_counter() - t0]}
    out["process start and import"] = [_fresh("import sim.experiments.sweep")]
    out["python start alone"] = [_fresh("pass")]
    out[f"pool start ({workers} workers)"] = [_pool_start(workers)] if workers else [0.0]
    warm = MarketModel._warm_up
    spent = {"warm-up": 0.0}

    def timed_warm_up(self: MarketModel) -> None:
        t = time.perf_counter()
        warm(self)
        spent["warm-up"] = time.perf_counter() - t

    tasks = list(plan.tasks([(0, r % plan.replications) for r in range(sample)]))
    MarketModel._warm_up = timed_warm_up
    try:
        with tempfile.TemporaryDirectory(prefix="sim-bench-sweep-") as tmp:
            store = Store(tmp)
            store.open(plan.manifest())
            for i, task in enumerate(tasks):
                t = [time.perf_counter()]
                m = MarketModel(task.params, seed=task.seed)
                t.append(time.perf_counter())
                m.run()
                t.append(time.perf_counter())
                blob = encode_rows(m, task)
                t.append(time.perf_counter())
                store.write_run(0, i, blob)
                t.append(time.perf_counter())
                for k, v in (
                    ("build", t[1] - t[0] - spent["warm-up"]),
                    ("warm-up", spent["warm-up"]),
                    ("periods", t[2] - t[1]),
                    ("rows", t[3] - t[2]),
                    ("store", t[4] - t[3]),
                ):
                    out.setdefault(k, []).append(v)
    finally:
        MarketModel._warm_up = warm
    out["_runs"] = [float(plan.n_runs)]
    return out


def _cpu_seconds(proc) -> float:
    """CPU seconds (user + system) of a psutil process and its living children."""
    import psutil

    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            c = p.cpu_times()
            total += c.user + c.system
        except psutil.Error:
            pass
    return total


def measure(sweep: Path, workers: int) -> dict:
    """Run the real command once in a fresh process with a fresh store."""
    with tempfile.TemporaryDirectory(prefix="sim-bench-sweep-") as tmp:
        cmd = [sys.executable, "-m", "sim.experiments", str(sweep), "--workers", str(workers)]
        cmd += ["--out", str(Path(tmp) / "store"), "--quiet", "--no-plots"]
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
        seen: dict[int, float] = {}
        try:
            import psutil

            root = psutil.Process(proc.pid)
            while proc.poll() is None:
                for p in [root, *root.children(recursive=True)]:
                    try:
                        c = p.cpu_times()
                        seen[p.pid] = max(seen.get(p.pid, 0.0), c.user + c.system)
                    except psutil.Error:
                        pass
                time.sleep(0.2)
        except ImportError:  # no CPU figure without psutil
            seen = {}
        _, err = proc.communicate()
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(err.decode())
        m = re.search(r"done: (\d+) runs in ([0-9.]+) s", err.decode())
        runs = len(list((Path(tmp) / "store" / "runs").glob("*.parquet")))
    return {
        "workers": workers,
        "wall_s": wall,
        "sweep_s": float(m.group(2)) if m else float("nan"),
        "cpu_s": sum(seen.values()) if seen else float("nan"),
        "runs": runs,
        "load_before": load0,
        "load_after": os.getloadavg()[0],
    }


def _breakdown_table(b: dict[str, list[float]]) -> list[str]:
    runs = b.pop("_runs")[0]
    per_run = ("build", "warm-up", "periods", "rows", "store")
    once = [k for k in b if k not in per_run]
    lines = ["| phase | min (ms) | median (ms) | share of a run (min) |", "|---|---|---|---|"]
    mins = {k: min(b[k]) for k in per_run}
    fixed = sum(min(b[k]) for k in once if k != "python start alone") / runs
    total = sum(mins.values()) + fixed
    for k in per_run:
        lines.append(
            f"| {k} (per run) | {1e3 * mins[k]:.1f} | {1e3 * statistics.median(b[k]):.1f} | "
            f"{mins[k] / total:.1%} |"
        )
    for k in once:
        what = "part of the import figure" if k == "python start alone" else "once per sweep"
        lines.append(f"| {k} ({what}) | {1e3 * min(b[k]):.0f} | | |")
    overhead = total - mins["periods"]
    lines.append(
        f"| **overhead per run** (all but periods; per-sweep costs spread over {runs:.0f} runs) "
        f"| {1e3 * overhead:.1f} | | **{overhead / total:.1%}** (target ≤ 25%) |"
    )
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sweep", type=Path, default=SWEEP, help="sweep file (default: bench_1000)")
    ap.add_argument("--workers", type=int, nargs="+", default=[2])
    ap.add_argument("--sample", type=int, default=10, help="runs timed in the breakdown")
    ap.add_argument("--breakdown-only", action="store_true")
    ap.add_argument("--write", help="also write the tables as Markdown to this file")
    a = ap.parse_args()
    sweep = a.sweep.resolve()
    head = (
        f"{sweep.relative_to(ROOT)}; {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"load average {os.getloadavg()[0]:.2f} at start"
    )
    print(head, flush=True)
    lines = [head, "", *_breakdown_table(breakdown(sweep, a.sample, max(a.workers)))]
    print("\n".join(lines[2:]), flush=True)
    if not a.breakdown_only:
        lines += [
            "",
            "| workers | wall (s) | sweep (s) | runs | runs/s | CPU (s) | CPU / workers (s) | load before → after |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for w in a.workers:
            r = measure(sweep, w)
            row = (
                f"| {w} | {r['wall_s']:.1f} | {r['sweep_s']:.1f} | {r['runs']} | "
                f"{r['runs'] / r['sweep_s']:.2f} | {r['cpu_s']:.1f} | {r['cpu_s'] / max(w, 1):.1f} | "
                f"{r['load_before']:.2f} → {r['load_after']:.2f} |"
            )
            lines.append(row)
            print(row, flush=True)
    if a.write:
        Path(a.write).parent.mkdir(parents=True, exist_ok=True)
        Path(a.write).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
