"""Where a period's time goes: seconds per stage, compiled kernels against the numpy path.

One command (from the repository root)::

    .venv/bin/python bench/stages.py                       # 200, 10k and 100k customers
    .venv/bin/python bench/stages.py --sizes 2000 --periods 100 --repeats 5

For every market size both paths run in the same process, alternating (numba, numpy,
numba, numpy, ...), on fresh models with the same seed, so machine load hits both
alike. Each repeat builds the default model (all mechanisms on, degree-10 small-world
network, event log on, ``market.warmup = 0``), runs two untimed periods (compilation,
caches), then times ``--periods`` periods stage by stage. The table gives the minimum
over repeats of the time per period of each stage (ms), the whole period, µs per
customer-period and the ratio numpy / numba. At 200 customers the period time is
mostly the fixed cost per period (Python calls), the figure issue targets call
"fixed cost per period".
"""

from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict

from sim import MarketModel, ModelParams, accel


def _timed(stage, acc: dict[str, float]) -> None:
    """Make ``stage`` add its run time to ``acc[stage.name]`` (a subclass per instance)."""
    cls = type(stage)
    call = cls.__call__

    def __call__(self, s):  # noqa: N807
        t0 = time.perf_counter()
        call(self, s)
        acc[self.name] += time.perf_counter() - t0

    stage.__class__ = type(cls.__name__, (cls,), {"__call__": __call__})


def measure(n: int, periods: int, compiled: bool, seed: int = 1) -> dict[str, float]:
    """Seconds per period of each stage and in all (key ``"period"``)."""
    p = ModelParams()
    p.market.n_customers = n
    p.market.warmup = 0
    with accel.use(compiled):
        m = MarketModel(p, seed=seed)
        m.run(2)
        acc: dict[str, float] = defaultdict(float)
        for stage in m.stages:
            _timed(stage, acc)
        t0 = time.perf_counter()
        m.run(periods)
        total = time.perf_counter() - t0
    out = {k: v / periods for k, v in acc.items()}
    out["period"] = total / periods
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[200, 10_000, 100_000])
    ap.add_argument("--periods", type=int, default=None, help="default: 300 / 100 / 20 by size")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args(argv)
    print(f"load average before: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for n in a.sizes:
        periods = a.periods or (300 if n <= 1000 else 100 if n <= 20_000 else 20)
        best: dict[bool, dict[str, float]] = {True: {}, False: {}}
        for _ in range(a.repeats):
            for compiled in (True, False):
                r = measure(n, periods, compiled)
                for k, v in r.items():
                    best[compiled][k] = min(v, best[compiled].get(k, float("inf")))
        names = [k for k in best[False] if k != "period"] + ["period"]
        print(f"\n{n:,} customers, {periods} periods, min of {a.repeats} repeats (ms per period)")
        print("| stage | numba | numpy | numpy / numba |\n|---|---:|---:|---:|")
        for k in names:
            c, p = best[True].get(k, float("nan")), best[False][k]
            print(f"| {k} | {c * 1e3:.3f} | {p * 1e3:.3f} | {p / c:.2f} |")
        for label, b in (("numba", best[True]), ("numpy", best[False])):
            print(f"{label}: {b['period'] / n * 1e6:.3f} µs per customer-period")
    print(f"load average after: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
