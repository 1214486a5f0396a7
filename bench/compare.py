"""Side-by-side speed benchmark: the package's ``MarketModel`` against the idiomatic Mesa reference.

One command::

    .venv/bin/python bench/compare.py                      # 1k, 10k, 100k customers; writes bench/results.md
    .venv/bin/python bench/compare.py --sizes 1000 10000 --ref-periods 100 20 --out /tmp/r.md

Both models run the same market: the default ``ModelParams`` (two identical firms, all
mechanisms on, a degree-10 small-world network; the same network for the same seed) with
``market.n_customers`` set and ``market.warmup = 0`` (warm-up periods are ordinary
periods run before period 0; setting them to 0 keeps the build time to building the
network and the customers, and the per-period cost is measured on the recorded periods).
The package side is ``MarketModel`` with ``record_events = True`` (its default: the
event log is kept; "heard" events only up to 20k customers); the reference
(``bench/reference_model.py``: one ``CellAgent`` per customer on a Mesa ``Network``,
per-agent stage methods, a ``DataCollector``) keeps no event log.

The package's compiled kernels (:mod:`sim.accel`) are loaded from their disk cache
(compiled on the very first run) before the build, timed apart as *kernel load*, so
that neither build nor run time includes them.

Each configuration runs in a fresh Python subprocess (so its peak memory,
``resource.getrusage(RUSAGE_SELF).ru_maxrss``, is its own and includes the import of
Mesa, numpy and pandas). Reported per configuration: build time, run time, µs per
customer-period (run time / customers / periods) and peak memory; the speed ratio is
reference µs per customer-period / package µs per customer-period. The package runs
100 periods at every size; the reference runs fewer at 10k and 100k (defaults 50 and 10):
its µs per customer-period is measured on those periods, and the "time for 100 periods"
column scales it to 100 periods (per-period cost is flat after the first periods, but
it is an extrapolation: the table says which rows are scaled).

The table is printed and written to ``bench/results.md`` (``--out``) with the command,
the machine (CPU, cores, memory, Python, Mesa, numpy) and the load average before and
after the run: other work on the machine slows both sides.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[5])
kind, n, T, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
t0 = time.perf_counter()
from sim import MarketModel, ModelParams
if kind == "reference":
    from bench.reference_model import ReferenceModel as Model
else:
    Model = MarketModel
t_import = time.perf_counter() - t0
t0 = time.perf_counter()
if kind != "reference":  # load the compiled kernels from their disk cache (or compile them)
    from sim.experiments.sweep import warm_kernels
    warm_kernels()
t_kernels = time.perf_counter() - t0
p = ModelParams()
p.market.n_customers = n
if hasattr(p.market, "warmup"):
    p.market.warmup = 0
p.record_events = True
t0 = time.perf_counter()
m = Model(p, seed=seed)
t_build = time.perf_counter() - t0
t0 = time.perf_counter()
m.run(T)
t_run = time.perf_counter() - t0
f = m.firm_frame()
last = f[f.period == T]
print(json.dumps({"kind": kind, "n": n, "periods": T, "import_s": t_import, "kernels_s": t_kernels, "build_s": t_build,
                  "run_s": t_run, "us_per_cp": t_run / n / T * 1e6,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "share_A": float(last.share.iloc[0]),
                  "mean_satisfaction": float(last.mean_satisfaction.mean())}))
"""


def measure(kind: str, n: int, periods: int, seed: int) -> dict:
    """Run one configuration in a fresh subprocess and return its measurements."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(n), str(periods), str(seed), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine() -> dict:
    """CPU, cores, memory and library versions of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = float("nan")
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = int(line.split()[1]) / 1024**2
                break
    except OSError:
        pass
    vers = subprocess.run(
        [
            sys.executable,
            "-c",
            "import mesa, numpy, networkx; print(mesa.__version__, numpy.__version__, networkx.__version__)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "mem_gb": mem_gb,
        "python": platform.python_version(),
        "mesa": vers[0],
        "numpy": vers[1],
        "networkx": vers[2],
        "os": platform.platform(),
    }


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def fmt_load(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{x:.2f}" for x in load)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    ap.add_argument(
        "--pkg-periods",
        type=int,
        nargs="+",
        default=[100],
        help="package periods per size (one value: the same at every size; default 100)",
    )
    ap.add_argument(
        "--ref-periods",
        type=int,
        nargs="+",
        default=None,
        help="reference periods per size (default: 100 at 1k and below, 50 up to 10k, 10 above)",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--out",
        default=str(ROOT / "bench" / "results.md"),
        help="Markdown file to write ('' to skip)",
    )
    a = ap.parse_args()

    def per_size(values, default):
        if values is None:
            return [default(n) for n in a.sizes]
        return values * len(a.sizes) if len(values) == 1 else values

    pkg_T = per_size(a.pkg_periods, lambda n: 100)
    ref_T = per_size(a.ref_periods, lambda n: 100 if n <= 1_000 else (50 if n <= 10_000 else 10))
    if not (len(pkg_T) == len(ref_T) == len(a.sizes)):
        ap.error("give one period count, or one per size")

    mach = machine()
    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M %Z")
    print(
        f"machine: {mach['cpu']}, {mach['cores']} cores, {mach['mem_gb']:.0f} GB; Python {mach['python']}, "
        f"Mesa {mach['mesa']}, numpy {mach['numpy']}; load average {fmt_load(load_before)}",
        flush=True,
    )
    head = (
        f"{'customers':>10} | {'pkg T':>5} {'pkg µs/cp':>10} {'pkg MB':>7} | "
        f"{'ref T':>5} {'ref µs/cp':>10} {'ref MB':>7} | {'ratio':>6}"
    )
    print(head, flush=True)
    rows = []
    for n, tp, tr in zip(a.sizes, pkg_T, ref_T, strict=True):
        pk = measure("package", n, tp, a.seed)
        rf = measure("reference", n, tr, a.seed)
        ratio = rf["us_per_cp"] / pk["us_per_cp"]
        rows.append((pk, rf, ratio))
        print(
            f"{n:>10} | {tp:>5} {pk['us_per_cp']:>10.3f} {pk['peak_mb']:>7.0f} | "
            f"{tr:>5} {rf['us_per_cp']:>10.2f} {rf['peak_mb']:>7.0f} | {ratio:>5.0f}×",
            flush=True,
        )
    load_after = os.getloadavg()
    print(f"load average after: {fmt_load(load_after)}")

    if a.out:
        cmd = "python bench/compare.py" + (
            "" if len(sys.argv) == 1 else " " + " ".join(sys.argv[1:])
        )
        lines = [
            "# Speed: the package against idiomatic Mesa",
            "",
            f"Command: `{cmd}` (from the repository root, with `.venv/bin/python`), run {started}.",
            "",
            f"Machine: {mach['cpu']}, {mach['cores']} cores, {mach['mem_gb']:.0f} GB memory; {mach['os']}; "
            f"Python {mach['python']}, Mesa {mach['mesa']}, numpy {mach['numpy']}, networkx {mach['networkx']}.",
            f"Load average (1 / 5 / 15 min) before the run: {fmt_load(load_before)}; after: {fmt_load(load_after)} "
            "(other work was running on this machine: both sides are slowed).",
            "",
            "Both models: default parameters (two identical firms, every mechanism on, degree-10 small-world "
            "network, the same network for the same seed), seed "
            f"{a.seed}, `market.warmup = 0`. Package: `sim.MarketModel`, `record_events = True` (the default; "
            "the event log is kept). Reference: `bench/reference_model.py` (one `CellAgent` per customer on a "
            "Mesa `Network`, per-agent stage methods, `DataCollector`), no event log. Package kernel load: loading the "
            "compiled kernels from their disk cache before the build (a first run after an install also compiles "
            "them: about 20 s once); it is reported, not counted in build or run. Each configuration runs "
            "in a fresh process; peak memory is that process's `ru_maxrss` (including the imports).",
            "",
            "| customers | package: periods | package: kernel load (s) | package: build (s) | package: run (s) | package: µs per customer-period "
            "| package: peak memory (MB) | reference: periods | reference: build (s) | reference: run (s) "
            "| reference: µs per customer-period | reference: peak memory (MB) | reference: time for 100 periods (s) "
            "| speed ratio (reference / package) |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for pk, rf, ratio in rows:
            scaled = rf["periods"] != 100
            t100 = rf["run_s"] * 100 / rf["periods"]
            lines.append(
                f"| {pk['n']:,} | {pk['periods']} | {pk['kernels_s']:.2f} | {pk['build_s']:.2f} | {pk['run_s']:.2f} | {pk['us_per_cp']:.3f} "
                f"| {pk['peak_mb']:.0f} | {rf['periods']}{' (scaled)' if scaled else ''} | {rf['build_s']:.2f} "
                f"| {rf['run_s']:.2f} | {rf['us_per_cp']:.2f} | {rf['peak_mb']:.0f} "
                f"| {t100:.0f}{' (scaled from ' + str(rf['periods']) + ' periods)' if scaled else ''} | {ratio:.0f}× |"
            )
        ratios = ", ".join(f"{r:.0f}× at {pk['n']:,}" for pk, _, r in rows)
        big_pk, big_rf, _ = rows[-1]
        lines += [
            "",
            f"Speed ratio (reference µs per customer-period / package µs per customer-period): {ratios} customers. "
            f"At {big_pk['n']:,} customers, 100 periods take the package {_duration(big_pk['run_s'] * 100 / big_pk['periods'])} "
            f"and the reference about {_duration(big_rf['run_s'] * 100 / big_rf['periods'])}"
            f"{' (scaled)' if big_rf['periods'] != 100 else ''}; peak memory {big_pk['peak_mb']:.0f} MB against "
            f"{big_rf['peak_mb']:.0f} MB. The two models are statistical twins: `tests/test_reference.py` checks that "
            "their outcome distributions agree within replication noise.",
            "",
            "µs per customer-period = run time / customers / periods (build excluded). Rows marked *scaled* "
            "ran the reference for fewer periods; its µs per customer-period is measured on those periods and "
            "the time for 100 periods is that rate × 100 periods (an extrapolation).",
            "",
        ]
        Path(a.out).write_text("\n".join(lines))
        print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
