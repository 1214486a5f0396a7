"""Sweep files and the ``sim sweep`` command.

    sim sweep SWEEP.toml [--workers N | --scheduler ADDRESS] [--out DIR] [--set KEY=VALUE ...]
                         [--plan] [--quiet] [--no-plots]

docs/experiments.md documents every key of a sweep file. Bad input (the sweep file, the
base scenario, a flag, a store holding another sweep) prints one line naming the file,
the key, the value and what is allowed, exits with code 2 and writes nothing. Ctrl-C
stops after the runs in progress (exit code 130); the same command resumes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.scenario import ScenarioError, read_toml

from .design import Design, Grid, LatinHypercube, Points, Range, Saltelli, SweepError
from .sweep import RunFailed, Sweep

__all__ = ["SweepFile", "load_sweep", "main"]

SWEEP_KEYS = {
    "name": "a string",
    "scenario": "a string (path of the base scenario, relative to the sweep file)",
    "set": 'a list of "key.path=value" strings',
    "replications": "an integer",
    "seed": "an integer",
    "common_random_numbers": "true or false",
    "indicators": "a list of indicator names",
    "window": "an integer",
    "record": "a string",
    "out": "a string (folder)",
}
DESIGN_KEYS = {
    "grid": ("method", "parameters"),
    "list": ("method", "points"),
    "lhs": ("method", "parameters", "samples", "seed"),
    "saltelli": ("method", "parameters", "samples", "seed", "second_order"),
}
ANALYSIS_KEYS = ("indicator", "firm", "parameter", "level")
RANGE_KEYS = {"min", "max", "num"}


@dataclass
class SweepFile:
    """A parsed sweep file: the sweep, where it writes, and what to report."""

    sweep: Sweep
    path: Path
    out: Path
    analysis: dict[str, Any] = field(default_factory=dict)


def _flatten(src: str, prefix: str, table: Any, leaf) -> dict[str, Any]:
    """``{firms = {B = {price = …}}}`` → ``{"firms.B.price": …}`` (quoted dotted keys too)."""
    out: dict[str, Any] = {}
    for k, v in table.items():
        key = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict) and not leaf(v):
            out.update(_flatten(src, key, v, leaf))
        else:
            out[key] = v
    return out


def _is_range(v: Any) -> bool:
    return isinstance(v, dict) and bool(v) and set(v) <= RANGE_KEYS


def _range(src: str, key: str, v: Any, *, grid: bool) -> Range | list:
    path = f"design.parameters.{key}"
    if isinstance(v, list):
        if grid:
            return v
        if len(v) == 2:
            return Range(v[0], v[1])
        raise SweepError(src, path, v, "a range {min = …, max = …} (or [min, max])")
    if not _is_range(v):
        raise SweepError(
            src,
            path,
            v,
            "a list of values or {min = …, max = …, num = …}"
            if grid
            else "a range {min = …, max = …}",
        )
    for k in ("min", "max"):
        if k not in v:
            raise SweepError(src, f"{path}.{k}", None, "missing; a range needs min and max")
    return Range(v["min"], v["max"], v.get("num"))


def _design(src: str, d: Any, default_seed: int | None) -> Design:
    if not isinstance(d, dict):
        raise SweepError(src, "design", d, "must be a table ([design])")
    method = d.get("method", "grid")
    if method not in DESIGN_KEYS:
        raise SweepError(src, "design.method", method, "allowed: " + ", ".join(DESIGN_KEYS))
    for k, v in d.items():
        if k not in DESIGN_KEYS[method]:
            raise SweepError(
                src,
                f"design.{k}",
                v,
                f"unknown key for method '{method}'; allowed: " + ", ".join(DESIGN_KEYS[method]),
            )
    if method == "list":
        pts = d.get("points")
        if not isinstance(pts, list) or not pts or not all(isinstance(p, dict) for p in pts):
            raise SweepError(
                src,
                "design.points",
                pts,
                'a non-empty array of tables, e.g. points = [{"firms.B.price" = 0.9}]',
            )
        return Points([_flatten(src, "", p, lambda _v: False) for p in pts])
    params = d.get("parameters")
    if not isinstance(params, dict) or not params:
        raise SweepError(
            src, "design.parameters", params, "a table of parameters to vary ([design.parameters])"
        )
    flat = _flatten(src, "", params, _is_range)
    if method == "grid":
        return Grid({k: _range(src, k, v, grid=True) for k, v in flat.items()})
    ranges = {k: _range(src, k, v, grid=False) for k, v in flat.items()}
    if "samples" not in d:
        raise SweepError(
            src, "design.samples", None, f"missing; method '{method}' needs the number of samples"
        )
    seed = d.get("seed", default_seed if default_seed is not None else 0)
    if method == "lhs":
        return LatinHypercube(ranges, d["samples"], seed=seed)
    return Saltelli(ranges, d["samples"], second_order=d.get("second_order", False), seed=seed)


#: keys of the [sweep] table and their types
_SWEEP_TYPES = {
    "name": str,
    "scenario": str,
    "set": list,
    "replications": int,
    "seed": int,
    "common_random_numbers": bool,
    "indicators": list,
    "window": int,
    "record": str,
    "out": str,
}


def _check_sweep_table(src: str, sw: dict) -> None:
    for k, v in sw.items():
        if k not in _SWEEP_TYPES:
            raise SweepError(
                src, f"sweep.{k}", v, "unknown key; allowed: " + ", ".join(_SWEEP_TYPES)
            )
        want = _SWEEP_TYPES[k]
        if not isinstance(v, want) or (want is int and isinstance(v, bool)):
            raise SweepError(src, f"sweep.{k}", v, f"must be {SWEEP_KEYS[k]}")


def _analysis_table(src: str, an: Any) -> dict:
    """The [analysis] table, checked."""
    if not isinstance(an, dict):
        raise SweepError(src, "analysis", an, "must be a table")
    for k, v in an.items():
        if k not in ANALYSIS_KEYS:
            raise SweepError(
                src, f"analysis.{k}", v, "unknown key; allowed: " + ", ".join(ANALYSIS_KEYS)
            )
        if k == "level":
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < 1:
                raise SweepError(src, "analysis.level", v, "must be a number in (0, 1), e.g. 0.95")
        elif not isinstance(v, str):
            raise SweepError(src, f"analysis.{k}", v, "must be a string")
    return an


def load_sweep(path: str | Path, overrides: list[str] | None = None) -> SweepFile:
    """Read a sweep file (see docs/experiments.md). ``overrides`` (``key.path=value``)
    apply to the base scenario after the file's own ``set`` list. Validates the file's
    structure; :meth:`Sweep.plan` validates the rest."""
    path = Path(path)
    src = str(path)
    data = read_toml(path, SweepError, "sweep file")
    for k, v in data.items():
        if k not in ("sweep", "design", "analysis"):
            raise SweepError(src, k, v, "unknown table; allowed: sweep, design, analysis")
    sw = data.get("sweep")
    if not isinstance(sw, dict):
        raise SweepError(
            src, "sweep", sw, 'a [sweep] table is required (with at least scenario = "…")'
        )
    _check_sweep_table(src, sw)
    if "scenario" not in sw:
        raise SweepError(
            src,
            "sweep.scenario",
            None,
            "missing; the base scenario file (relative to the sweep file)",
        )
    scen = Path(sw["scenario"])
    if not scen.is_absolute():
        scen = path.parent / scen
    if not scen.is_file():
        raise SweepError(
            src, "sweep.scenario", sw["scenario"], f"file not found (looked for {scen})"
        )
    sets = sw.get("set", [])
    if not all(isinstance(s, str) and "=" in s for s in sets):
        raise SweepError(src, "sweep.set", sets, 'must be a list of "key.path=value" strings')
    if "design" not in data:
        raise SweepError(src, "design", None, "a [design] table is required")
    design = _design(src, data["design"], sw.get("seed"))
    an = _analysis_table(src, data.get("analysis", {}))
    name = sw.get("name", path.stem)
    sweep = Sweep(
        scen,
        design,
        replications=sw.get("replications", 1),
        seed=sw.get("seed"),
        indicators=sw.get("indicators"),
        window=sw.get("window"),
        record=sw.get("record", "periods"),
        common_random_numbers=sw.get("common_random_numbers", True),
        overrides=[*sets, *(overrides or [])],
        name=name,
        source=src,
    )
    out = Path(sw.get("out", Path("results") / "sweeps" / name))
    return SweepFile(sweep=sweep, path=path, out=out, analysis=dict(an))


# ---------------------------------------------------------------------- command
class UsageError(Exception):
    """Bad command-line input (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit code 2 (not argparse's usage block)
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(
        prog="sim sweep",
        description="Run a parameter sweep from a sweep file (docs/experiments.md).",
    )
    ap.add_argument("sweep", help="sweep TOML file")
    g = ap.add_mutually_exclusive_group()
    g.add_argument(
        "--workers",
        type=int,
        default=None,
        help=f"local worker processes (default: the number of CPUs, {os.cpu_count()}; 0 = run in this process)",
    )
    g.add_argument(
        "--scheduler", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://10.0.0.5:8786"
    )
    ap.add_argument("--out", help="store folder (default: sweep.out, or results/sweeps/<name>)")
    ap.add_argument(
        "--set",
        action="append",
        metavar="KEY.PATH=VALUE",
        help="override a value of the base scenario (repeatable)",
    )
    ap.add_argument(
        "--plan",
        action="store_true",
        help="print the design and the run count; run and write nothing",
    )
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    ap.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    return ap


def _table(df: pd.DataFrame, max_rows: int = 30) -> str:
    shown = df.head(max_rows)
    text = shown.to_string(index=False, float_format=lambda v: f"{v:.4g}")
    if len(df) > max_rows:
        text += f"\n… {len(df) - max_rows} more rows"
    return text


def _analysis(sf: SweepFile, plan, rs, *, plots: bool) -> list[str]:
    """Write analysis/ci.csv (every indicator), analysis/sobol.csv and the plots; print
    the headline tables. Returns the files written."""
    an = sf.analysis
    indicator = an.get("indicator", plan.indicators[0])
    level = float(an.get("level", 0.95))
    firm = an.get("firm")
    params = [an["parameter"]] if "parameter" in an else plan.parameters
    folder = rs.path / "analysis"
    folder.mkdir(exist_ok=True)
    written = []
    ci = rs.ci(level=level)
    ci.to_csv(folder / "ci.csv", index=False)
    written.append("analysis/ci.csv")
    head = rs.ci(indicator, firm=firm, level=level)
    print(
        f"\n{indicator}: mean and {level:.0%} confidence interval over {plan.replications} replication(s) per design point"
    )
    print(_table(head))
    sob = None
    if plan.design.kind == "saltelli":
        sfirm = firm or (
            "market"
            if rs.summary.loc[rs.summary["firm"] == "market", indicator].notna().any()
            else rs.manifest["firms"][0]
        )
        try:
            sob = rs.sobol(indicator, sfirm, level=level)
        except ValueError as exc:
            print(f"\nSobol' indices not computed: {exc}")
        else:
            sob.to_csv(folder / "sobol.csv", index=False)
            written.append("analysis/sobol.csv")
            print(
                f"\nSobol' indices of {indicator} ({sfirm}); _conf = half-width of the {level:.0%} interval"
            )
            print(_table(sob))
    if plots:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from sim.plots import safe_filename

        (folder / "plots").mkdir(exist_ok=True)
        for p in params:
            ax = rs.plot(indicator, p, firm, level=level)
            name = f"plots/{safe_filename(f'{indicator}-{p}')}.png"
            ax.figure.tight_layout()
            ax.figure.savefig(folder / name, dpi=80)
            plt.close(ax.figure)
            written.append(f"analysis/{name}")
        if sob is not None:
            ax = rs.plot_sobol(indicator, sob.attrs["firm"], level=level)
            name = f"plots/sobol-{indicator}.png"
            ax.figure.tight_layout()
            ax.figure.savefig(folder / name, dpi=80)
            plt.close(ax.figure)
            written.append(f"analysis/{name}")
    return written


def _check_analysis(sf, plan) -> None:
    """The ``[analysis]`` table names an indicator, firm and parameter of the sweep."""
    an = sf.analysis
    src = str(sf.path)
    if "indicator" in an and an["indicator"] not in plan.indicators:
        raise SweepError(
            src,
            "analysis.indicator",
            an["indicator"],
            "not among sweep.indicators: " + ", ".join(plan.indicators),
        )
    firms = [f.name for f in plan.base.params.firms] + ["market"]
    if "firm" in an and an["firm"] not in firms:
        raise SweepError(src, "analysis.firm", an["firm"], "allowed: " + ", ".join(firms))
    if "parameter" in an and an["parameter"] not in plan.parameters:
        raise SweepError(
            src,
            "analysis.parameter",
            an["parameter"],
            "not a swept parameter; swept: " + ", ".join(plan.parameters),
        )


def _executor(a: argparse.Namespace) -> tuple[Any, Any, str]:
    """(Dask client or None, executor, description) from ``--scheduler``/``--workers``."""
    client = None
    if a.scheduler:
        try:
            from distributed import Client
        except ModuleNotFoundError:
            raise UsageError(
                "--scheduler needs dask.distributed, which is not installed "
                "(pip install 'sim[experiments]')"
            ) from None
        try:
            client = Client(a.scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(
                f"--scheduler {a.scheduler}: cannot connect ({type(exc).__name__}: {exc})"
            ) from None
        executor: Any = client
        how = f"Dask cluster {a.scheduler} ({sum(client.nthreads().values())} threads)"
    else:
        workers = (os.cpu_count() or 1) if a.workers is None else a.workers
        executor = workers or None
        how = f"{workers} worker process(es)" if workers else "in this process"
    return client, executor, how


def _check_memory(sf: SweepFile, plan: Any, executor: Any) -> None:
    """Refuse, before any run, a sweep whose largest runs (the first point and each
    parameter's largest value) would not fit in memory ``executor``'s workers at once."""
    from sim.memory import MemoryRefused, check_memory, estimate

    workers = executor if isinstance(executor, int) else 1
    design = plan.design_frame()
    points = {0}
    for col in design.columns.drop("point"):
        if pd.api.types.is_numeric_dtype(design[col]):
            points.add(int(design[col].idxmax()))
    params = {k: plan.params_of(k) for k in sorted(points)}
    point = max(params, key=lambda k: estimate(params[k]).total)
    try:
        check_memory(params[point], source=str(sf.path), copies=workers)
    except MemoryRefused as exc:
        raise UsageError(f"{exc} (design point {point})") from None


def _run(a: argparse.Namespace) -> int:
    sf = load_sweep(a.sweep, list(a.set or []))
    plan = sf.sweep.plan()
    _check_analysis(sf, plan)
    if a.workers is not None and a.workers < 0:
        raise UsageError(f"--workers {a.workers}: must be an integer ≥ 0 (0 = run in this process)")
    out = Path(a.out) if a.out else sf.out
    from .store import Store

    store = Store(out)
    existing = store.check_usable(plan.manifest())
    done = (
        len({k for k in store.done() if k[0] < plan.n_points and k[1] < plan.replications})
        if existing
        else 0
    )
    p0 = plan.base.params
    desc = (
        f"sim sweep: {plan.name} — {plan.n_points} design points ({plan.design.kind}) × "
        f"{plan.replications} replication(s) = {plan.n_runs} runs of {p0.market.n_customers} customers × "
        f"{p0.market.periods} periods; {done} stored, {plan.n_runs - done} to run"
    )
    if a.plan:
        print(desc.replace("sim sweep: ", ""))
        print(f"store: {out}")
        print(_table(plan.design_frame(), max_rows=50))
        return 0
    client, executor, how = _executor(a)
    _check_memory(sf, plan, executor)
    print(f"{desc}; {how} → {out}", file=sys.stderr)
    t0 = time.perf_counter()
    try:
        rs = sf.sweep.run(out, executor, progress=not a.quiet, plan=plan)
    except KeyboardInterrupt:
        left = len(
            [k for k in Store(out).done() if k[0] < plan.n_points and k[1] < plan.replications]
        )
        print(
            f"sim sweep: interrupted; {left} of {plan.n_runs} runs are stored in {out}; "
            "run the same command again to finish",
            file=sys.stderr,
        )
        return 130
    finally:
        if client is not None:
            client.close()
    wall = time.perf_counter() - t0
    print(
        f"done: {plan.n_runs - done} runs in {wall:.1f} s; {plan.n_runs}/{plan.n_runs} stored in {out}",
        file=sys.stderr,
    )
    written = _analysis(sf, plan, rs, plots=not a.no_plots)
    print(f"\nstore: {out} (runs/*.parquet: a Parquet dataset; manifest.json)")
    print("written: " + ", ".join(written))
    return 0


def main(argv: list[str] | None = None) -> int:
    """``sim sweep``: returns the exit code (0 ok, 1 a run failed, 2 bad input, 130 Ctrl-C)."""
    try:
        a = build_parser().parse_args(argv)
        return _run(a)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except (ScenarioError, UsageError) as exc:
        print(f"sim sweep: error: {exc}", file=sys.stderr)
        return 2
    except RunFailed as exc:
        print(
            f"sim sweep: error: {exc}; the runs finished before it are stored, and the same command resumes",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print("sim sweep: interrupted", file=sys.stderr)
        return 130
