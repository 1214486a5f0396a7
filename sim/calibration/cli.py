"""Calibration files and the ``sim calibrate`` command.

    sim calibrate CALIBRATION.toml [--workers N | --scheduler ADDRESS] [--out DIR]
                                   [--set KEY=VALUE ...] [--plan] [--quiet] [--no-plots]

docs/calibration.md documents every key of a calibration file. Bad input (the file, its
targets, the base scenario, a flag) prints one line naming the file, the key, the value
and what is allowed, exits with code 2 and writes nothing. Killed or interrupted, the
same command resumes from the libraries' SQLite state.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.experiments.cli import UsageError, _flatten, _Parser
from sim.scenario import ScenarioError, read_toml

from .core import Calibration, FreeParameter
from .targets import CalibrationError

__all__ = ["load_calibration", "main"]

TABLES = {
    "calibration": {
        "name": str,
        "scenario": str,
        "set": list,
        "seed": int,
        "replications": int,
        "method": str,
        "out": str,
    },
    "targets": {"file": str, "holdout": list},
    "optimizer": {"trials": int, "sampler": str},
    "abc": {"particles": int, "populations": int, "min_epsilon": (int, float)},
    "predictive": {"draws": int},
}
PARAM_KEYS = {"min", "max", "prior"}


def _typed(src: str, table: str, data: Any) -> dict:
    if not isinstance(data, dict):
        raise CalibrationError(src, table, data, "must be a table")
    spec = TABLES[table]
    for k, v in data.items():
        if k not in spec:
            raise CalibrationError(
                src, f"{table}.{k}", v, "unknown key; allowed: " + ", ".join(spec)
            )
        t = spec[k]
        if not isinstance(v, t) or (t is int and isinstance(v, bool)):
            name = t.__name__ if isinstance(t, type) else "number"
            raise CalibrationError(src, f"{table}.{k}", v, f"must be a {name}")
    return data


def _file_in(src: str, path: Path, table: dict, key: str, what: str) -> Path:
    """The file named by ``table[key]`` (relative to the calibration file ``path``), which
    must exist; ``key`` is the dotted key path named in the error."""
    name = key.rsplit(".", 1)[-1]
    if name not in table:
        raise CalibrationError(src, key, None, f"missing; {what}")
    file = path.parent / table[name]
    if not file.is_file():
        raise CalibrationError(src, key, table[name], f"file not found ({file})")
    return file


def _free_parameters(src: str, ps: Any) -> list[FreeParameter]:
    """The ``[parameters]`` table as free parameters: each a range ``{min, max}`` (or a
    ``[min, max]`` pair) with an optional ``prior``."""
    if not isinstance(ps, dict) or not ps:
        raise CalibrationError(
            src,
            "parameters",
            ps,
            'a table of free parameters, e.g. "firms.B.price" = {min = 0.8, max = 1.2}',
        )
    free = []
    for k, v in _flatten(src, "", ps, lambda x: bool(x) and set(x) <= PARAM_KEYS).items():
        p = f"parameters.{k}"
        if isinstance(v, list) and len(v) == 2:
            v = {"min": v[0], "max": v[1]}
        if not isinstance(v, dict) or not {"min", "max"} <= set(v):
            raise CalibrationError(src, p, v, "a range {min = …, max = …} (optional prior = …)")
        extra = set(v) - PARAM_KEYS
        if extra:
            raise CalibrationError(src, p, v, "unknown keys; allowed: min, max, prior")
        free.append(FreeParameter(k, v["min"], v["max"], v.get("prior", "uniform")))
    return free


#: list keys of a calibration file: the test each item must pass, and what is allowed
LISTS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "calibration.set": (
        lambda s: isinstance(s, str) and "=" in s,
        'a list of "key.path=value" strings',
    ),
    "targets.holdout": (lambda h: isinstance(h, str), "a list of KPI names"),
}


def _list_of(src: str, key: str, value: Any) -> list:
    """``value`` (the TOML list at ``key``, one of :data:`LISTS`) when every item passes."""
    ok, allowed = LISTS[key]
    if not all(ok(x) for x in value):
        raise CalibrationError(src, key, value, allowed)
    return value


def _check_tables(src: str, data: dict) -> None:
    """Refuse a table that a calibration file does not have."""
    for k, v in data.items():
        if k not in (*TABLES, "parameters"):
            raise CalibrationError(
                src, k, v, "unknown table; allowed: " + ", ".join([*TABLES, "parameters"])
            )


def load_calibration(
    path: str | Path, overrides: list[str] | None = None
) -> tuple[Calibration, Path]:
    """Read a calibration file (docs/calibration.md). ``overrides`` (``key.path=value``)
    apply to the base scenario after the file's own ``set`` list. Paths in the file are
    relative to it. Returns the calibration and its output root.

    Raises:
        CalibrationError: the file's structure is invalid (:meth:`Calibration.plan`
            validates the rest).
    """
    path = Path(path)
    src = str(path)
    data = read_toml(path, CalibrationError, "calibration file")
    _check_tables(src, data)
    c = _typed(src, "calibration", data.get("calibration", {}))
    scen = _file_in(
        src, path, c, "calibration.scenario", "the base scenario file (relative to this file)"
    )
    sets = _list_of(src, "calibration.set", c.get("set", []))
    t = _typed(src, "targets", data.get("targets", {}))
    tfile = _file_in(src, path, t, "targets.file", "the observed targets CSV file")
    hold = _list_of(src, "targets.holdout", t.get("holdout", []))
    o = _typed(src, "optimizer", data.get("optimizer", {}))
    a = _typed(src, "abc", data.get("abc", {}))
    pr = _typed(src, "predictive", data.get("predictive", {}))
    cal = Calibration(
        scen,
        tfile,
        _free_parameters(src, data.get("parameters")),
        holdout=hold,
        method=c.get("method", "both"),
        replications=c.get("replications", 1),
        seed=c.get("seed"),
        trials=o.get("trials", 100),
        sampler=o.get("sampler", "tpe"),
        particles=a.get("particles", 100),
        populations=a.get("populations", 6),
        min_epsilon=a.get("min_epsilon", 0.0),
        draws=pr.get("draws", 20),
        overrides=[*sets, *(overrides or [])],
        name=c.get("name", path.stem),
        source=src,
        targets_source=str(tfile),
    )
    out = Path(c["out"]) if "out" in c else Path("results") / "calibrations"
    return cal, out


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(
        prog="sim calibrate",
        description="Fit scenario parameters to observed KPIs (docs/calibration.md).",
    )
    ap.add_argument("calibration", help="calibration TOML file")
    g = ap.add_mutually_exclusive_group()
    g.add_argument(
        "--workers",
        type=int,
        default=None,
        help=f"local worker processes (default: the number of CPUs, {os.cpu_count()}; 0 = in this process)",
    )
    g.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask cluster (tcp://host:8786)")
    ap.add_argument("--out", help="output root (default: calibration.out or results/calibrations)")
    ap.add_argument(
        "--set", action="append", metavar="KEY.PATH=VALUE", help="override the base scenario"
    )
    ap.add_argument("--plan", action="store_true", help="validate and describe; run nothing")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    ap.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    return ap


def _check_memory(source: str, params: Any, workers: int | None) -> None:
    """Refuse, before any candidate runs, a calibration whose candidates (``workers`` of
    them at a time) would not fit in memory.

    Raises:
        UsageError: one line from :func:`sim.memory.check_memory`.
    """
    from sim.memory import MemoryRefused, check_memory

    copies = (os.cpu_count() or 1) if workers is None else max(int(workers), 1)
    try:
        check_memory(params, source=source, copies=copies)
    except MemoryRefused as exc:
        raise UsageError(str(exc)) from None


def _describe(plan: Any) -> str:
    """One line saying what a calibration plan will do: free parameters, targets, market,
    replications and the fitting budget."""
    p0, t, o = plan.base.params, plan.targets, plan.options
    budget = []
    if plan.method in ("optimize", "both"):
        budget.append(f"{o['trials']} Optuna trials ({o['sampler']})")
    if plan.method in ("abc", "both"):
        budget.append(f"ABC-SMC {o['particles']} particles × ≤ {o['populations']} generations")
    return (
        f"{plan.name}: {len(plan.parameters)} free parameters ({', '.join(fp.key for fp in plan.parameters)}); "
        f"{int(t['used'].sum())} fitted targets, {int((~t['used']).sum())} held out; "
        f"{p0.market.n_customers} customers × {p0.market.periods} periods, {o['replications']} replication(s) "
        f"per candidate; {' then '.join(budget)}; {o['draws']} predictive draws"
    )


def _executor(a: argparse.Namespace) -> tuple[Any, Any, str]:
    """``(client, executor, how)`` from ``--scheduler``/``--workers``: a Dask client (to
    close after the run, else None), what :meth:`Calibration.run` runs on, and its words."""
    if not a.scheduler:
        workers = (os.cpu_count() or 1) if a.workers is None else a.workers
        return (
            None,
            workers or None,
            (f"{workers} worker process(es)" if workers else "in this process"),
        )
    try:
        from distributed import Client
    except ModuleNotFoundError:
        raise UsageError(
            "--scheduler needs dask.distributed (pip install 'sim[experiments]')"
        ) from None
    try:
        client = Client(a.scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(f"--scheduler {a.scheduler}: cannot connect ({exc})") from None
    return client, client, f"Dask cluster {a.scheduler}"


def _print_result(res: Any) -> None:
    """The calibrated parameters, the predictive check and the run folder, on stdout."""
    tab = res.parameters[["parameter", "point_estimate", "posterior_mean", "q05", "q95"]]
    print("\nparameters (point estimate, posterior mean and 90% interval):")
    print(tab.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    chk = res.predictive_check
    if len(chk):
        print(
            f"\nposterior-predictive check: {int(chk['inside'].sum())} of {len(chk)} held-out "
            "targets inside their 90% band"
        )
    for w in res.warnings:
        print(f"identifiability warning: {w}")
    print(f"\nrun folder: {res.folder}")
    print(f"  calibrated scenario: sim run {res.folder / 'calibrated.toml'}")


def _run(a: argparse.Namespace) -> int:
    """``sim calibrate`` with parsed arguments: check them, print the plan (``--plan``)
    or run the calibration and print its result. Returns the exit code."""
    from sim.cli import UsageError as CliUsageError
    from sim.cli import _check_out

    cal, out = load_calibration(a.calibration, list(a.set or []))
    plan = cal.plan()
    if a.workers is not None and a.workers < 0:
        raise UsageError(f"--workers {a.workers}: must be an integer ≥ 0 (0 = in this process)")
    try:
        out = _check_out("--out", a.out) if a.out else out
    except CliUsageError as exc:
        raise UsageError(str(exc)) from None
    desc = _describe(plan)
    if a.plan:
        print(desc)
        print(f"output root: {out / plan.name}")
        return 0
    client, executor, how = _executor(a)
    _check_memory(cal.source, plan.base.params, workers=a.workers if a.scheduler is None else 1)
    print(f"sim calibrate: {desc}; {how}", file=sys.stderr)
    t0 = time.perf_counter()
    try:
        res = cal.run(out, executor, progress=not a.quiet, plots=not a.no_plots, plan=plan)
    except KeyboardInterrupt:
        print(
            "sim calibrate: interrupted; finished trials and generations are kept; run the "
            "same command again to resume",
            file=sys.stderr,
        )
        return 130
    finally:
        if client is not None:
            client.close()
    wall = time.perf_counter() - t0
    print(f"done: {res.runs} runs in {wall:.1f} s", file=sys.stderr)
    _print_result(res)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``sim calibrate``: returns the exit code (0 ok, 2 bad input, 130 interrupted)."""
    try:
        a = build_parser().parse_args(argv)
        return _run(a)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except (ScenarioError, UsageError) as exc:
        print(f"sim calibrate: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sim calibrate: interrupted", file=sys.stderr)
        return 130
