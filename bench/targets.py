"""Every speed and memory target in one command, each against its required figure.

    .venv/bin/python bench/targets.py                        # all targets (≈ 20 min quiet)
    .venv/bin/python bench/targets.py --skip-10m --skip-sweep  # the quick ones (≈ 3 min)
    .venv/bin/python bench/targets.py --write bench/results-targets.md

Measured (each configuration in a fresh process unless said; minimum of ``--repeats``, the
median beside it; the target is judged on the minimum, the least disturbed run):

- **ratio at 10k / 100k**: the package (``bench/compare.py``'s child: full default model,
  event log on, ``market.warmup = 0``, 100 periods at 10k, 50 at 100k) and the idiomatic
  Mesa reference (``bench/reference_model.py``: 20 periods at 10k, 5 at 100k), run
  alternately; ratio = reference µs per customer-period / package µs per customer-period.
- **µs per customer-period at 100k**: the package figure above.
- **fixed cost per period**: ``bench/stages.py``'s measure at 200 customers, 300 periods,
  compiled kernels on, in this process; the whole period's time at this size is almost
  all fixed cost (Python calls), so it bounds the fixed cost from above.
- **1,000 small runs**: ``bench/sweep.py``'s measure (``sim sweep`` of
  ``sweeps/bench_1000.toml`` with 2 workers, results stored) and its per-run breakdown.
- **10M × 50**: ``bench/scale.py``'s measure (fresh process, event log held), refused
  when the memory estimate exceeds 14 GB.

The load average is printed beside every figure: on this shared 2-core machine other
work slows every side; the ratios are measured side by side and suffer least.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import compare, scale, stages, sweep  # noqa: E402


def _load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def ratios(repeats: int) -> list[tuple[str, str, str, bool, str]]:
    """Package against the reference at 10k and 100k customers."""
    rows = []
    for n, pkg_t, ref_t, need in ((10_000, 100, 20, 80.0), (100_000, 50, 5, 120.0)):
        pkg, ref = [], []
        for i in range(repeats):
            pkg.append(compare.measure("package", n, pkg_t, 1)["us_per_cp"])
            if i < max(1, repeats - 1):
                ref.append(compare.measure("reference", n, ref_t, 1)["us_per_cp"])
        r = min(ref) / min(pkg)
        med = statistics.median(ref) / statistics.median(pkg)
        what = f"{min(ref):.1f} / {min(pkg):.3f} µs = {r:.0f}× (medians: {med:.0f}×)"
        rows.append(
            (f"speed vs idiomatic Mesa at {n:,}", f"≥ {need:.0f}×", what, r >= need, _load())
        )
        if n == 100_000:
            rows.append(
                (
                    "µs per customer-period at 100,000",
                    "≤ 0.25",
                    f"{min(pkg):.3f} (median {statistics.median(pkg):.3f})",
                    min(pkg) <= 0.25,
                    _load(),
                )
            )
    return rows


def fixed_cost(repeats: int) -> tuple[str, str, str, bool, str]:
    runs = [stages.measure(200, 300, True)["period"] * 1e3 for _ in range(repeats)]
    ms = min(runs)
    got = f"{ms:.2f} ms (median {statistics.median(runs):.2f})"
    return ("fixed cost per period (200 customers)", "≤ 0.3 ms", got, ms <= 0.3, _load())


def small_runs() -> list[tuple[str, str, str, bool, str]]:
    b = sweep.breakdown(sweep.SWEEP, 10, 2)
    runs = b.pop("_runs")[0]
    per_run = ("build", "warm-up", "rows", "store")
    once = [k for k in b if k not in (*per_run, "periods", "python start alone")]
    overhead = sum(min(b[k]) for k in per_run) + sum(min(b[k]) for k in once) / runs
    share = overhead / (overhead + min(b["periods"]))  # as bench/sweep.py's breakdown table
    m = sweep.measure(sweep.SWEEP, 2)
    return [
        (
            "1,000 runs of 2,000 × 100 (`sim sweep --workers 2`)",
            "≤ 180 s",
            f"{m['wall_s']:.0f} s ({m['runs']} runs stored; CPU / 2 = {m['cpu_s'] / 2:.0f} s)",
            m["wall_s"] <= 180 and m["runs"] == 1000,
            _load(),
        ),
        ("overhead per run outside the periods", "≤ 25%", f"{share:.0%}", share <= 0.25, _load()),
    ]


def national(max_gb: float) -> list[tuple[str, str, str, bool, str]]:
    n, t = 10_000_000, 50
    est = scale.estimate_gb(n, t, True, 1.0)
    if est > max_gb:
        return [("10M × 50", "≤ 600 s, ≤ 12 GB", f"refused: estimate {est:.1f} GB", False, _load())]
    r = scale.measure(n, t)
    wall = r["build_s"] + r["run_s"]
    gb = r["peak_mb"] / 1024
    return [
        (
            "10M customers × 50 periods: time",
            "≤ 600 s",
            f"{wall:.0f} s (build {r['build_s']:.0f} + run {r['run_s']:.0f})",
            wall <= 600,
            _load(),
        ),
        ("10M customers × 50 periods: peak memory", "≤ 12 GB", f"{gb:.1f} GB", gb <= 12, _load()),
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-10m", action="store_true")
    ap.add_argument("--skip-sweep", action="store_true")
    ap.add_argument("--skip-ratios", action="store_true")
    ap.add_argument("--max-gb", type=float, default=14.0)
    ap.add_argument("--write", help="also write the table as Markdown to this file")
    a = ap.parse_args(argv)
    lines = [f"load average before: {_load()}", ""]
    lines += [
        "| target | required | measured | met | load after (1/5/15 min) |",
        "|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    steps = [lambda: [fixed_cost(a.repeats)]]
    if not a.skip_ratios:
        steps.append(lambda: ratios(a.repeats))
    if not a.skip_sweep:
        steps.append(small_runs)
    if not a.skip_10m:
        steps.append(lambda: national(a.max_gb))
    for step in steps:  # print each row as soon as it is measured
        for name, need, got, ok, load in step():
            lines.append(f"| {name} | {need} | {got} | {'yes' if ok else '**no**'} | {load} |")
            print(lines[-1], flush=True)
    text = "\n".join(lines)
    if a.write:
        cmd = "python bench/targets.py " + " ".join(argv if argv is not None else sys.argv[1:])
        Path(a.write).write_text(f"# Speed and memory targets\n\nCommand: `{cmd}`\n\n{text}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
