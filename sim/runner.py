"""Running a scenario and writing its run folder.

A run folder ``results/<scenario>/<run-id>/`` holds:

- ``scenario.toml``: the resolved scenario (every parameter, defaults filled in);
- ``manifest.json``: seed(s), package versions, scenario hash, start/end time, wall time;
- ``firms``, ``market``, ``events``, ``panel`` and ``customers`` (final state of every
  customer, first replication) tables as Parquet (``--format csv`` or ``both`` for CSV);
- ``summary.csv``: one row per firm, the headline indicators (means over replications);
  ``summary_intervals.csv``: every indicator with its 95% interval; ``kpis.csv``: the
  indicators of every replication; ``cascades.csv``: referral cascades per replication;
- ``plots/``: PNG plots.

The folder is written under a temporary name and renamed when complete, so an
interrupted or failed run leaves no partial run folder.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import platform
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from .analysis import cascade_summary
from .kpis import kpi_table, with_intervals
from .kpis import summarise as _kpi_summarise
from .model import MarketModel
from .scenario import Scenario, scenario_to_dict

__all__ = [
    "RunResult",
    "run_scenario",
    "write_run",
    "read_run",
    "summarise",
    "RunFolderError",
    "atomic_folder",
    "remove_stale_temp",
    "signals_as_interrupt",
    "Terminated",
    "check_out_folder",
    "iter_replications",
    "run_to_folder",
    "OutFolderError",
    "cascades_per_replication",
    "FORMATS",
]

PACKAGES = ("sim", "mesa", "numpy", "pandas", "pyarrow", "scipy", "networkx", "matplotlib")


class RunFolderError(ValueError):
    """A path is not a run folder (or lacks a table)."""


@dataclass
class RunResult:
    """The tables of a run (all replications stacked, with ``replication`` and ``seed``)."""

    scenario: Scenario
    firms: pd.DataFrame
    market: pd.DataFrame
    events: pd.DataFrame
    panel: pd.DataFrame
    customers: pd.DataFrame
    started: str
    finished: str
    wall_seconds: float


def iter_replications(
    sc: Scenario, *, progress: bool = False, periods: int | None = None
) -> Iterator[tuple[int, dict[str, pd.DataFrame], pd.DataFrame | None]]:
    """Run the replications one after the other; yield ``(replication, tables,
    customers)`` for each as it finishes (``customers`` only for the first), so a caller
    can write them out and keep memory flat.

    The tables are ``firms``, ``market``, ``events`` and ``panel``, each with
    ``replication`` and ``seed`` columns first.
    """
    seeds = sc.replication_seeds()
    T = int(periods if periods is not None else sc.params.market.periods)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=T * len(seeds), desc=sc.name, unit="period", file=sys.stderr)
    try:
        for r, seed in enumerate(seeds):
            m = MarketModel(sc.params, seed=seed)
            for _ in range(T):
                m.step()
                if bar is not None:
                    bar.update(1)
            tables = {
                "firms": m.firm_frame(),
                "market": m.market_frame(),
                "events": m.events(),
                "panel": m.panel_frame(),
            }
            for df in tables.values():
                df.insert(0, "seed", seed)
                df.insert(0, "replication", r)
            customers = m.customer_frame() if r == 0 else None
            del m
            yield r, tables, customers
    finally:
        if bar is not None:
            bar.close()


def run_scenario(sc: Scenario, *, progress: bool = False, periods: int | None = None) -> RunResult:
    """Run every replication of a scenario and stack the tables (all in memory; ``sim
    run`` streams them to the run folder instead, see :func:`run_to_folder`).

    Raises:
        MemoryRefused: the replications' tables would not fit in the available memory
            (checked before anything runs; see :mod:`sim.memory`).
    """
    from .memory import check_memory

    check_memory(sc.params, sc.replications, source=sc.source, streamed=False)
    t0 = time.perf_counter()
    started = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    frames: dict[str, list[pd.DataFrame]] = {k: [] for k in ("firms", "market", "events", "panel")}
    customers = pd.DataFrame()
    for r, tables, cust in iter_replications(sc, progress=progress, periods=periods):
        for key, df in tables.items():
            frames[key].append(df)
        if r == 0:
            customers = cust
    out = {k: pd.concat(v, ignore_index=True) for k, v in frames.items()}
    finished = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    return RunResult(
        sc,
        out["firms"],
        out["market"],
        out["events"],
        out["panel"],
        customers,
        started,
        finished,
        time.perf_counter() - t0,
    )


def summarise(firms: pd.DataFrame, events: pd.DataFrame | None = None) -> pd.DataFrame:
    """Headline indicators per firm (means over replications); see :mod:`sim.kpis`."""
    del events
    return _kpi_summarise(firms)


def _headline_plots(folder: Path, result: RunResult, per_rep: pd.DataFrame, name: str) -> list[str]:
    """The headline claims as figures: KPIs with their intervals, profit concentration."""
    import matplotlib.pyplot as plt

    from .plots import plot_kpi_intervals, plot_lorenz

    table = with_intervals(per_rep).assign(run=name)
    written = []
    fig = plot_kpi_intervals(
        table, ["final_share", "annual_churn", "satisfaction_last12", "profit_total"]
    )
    fig.savefig(folder / "headline.png", dpi=90)
    plt.close(fig)
    written.append("plots/headline.png")
    if not result.customers.empty:
        fig = plot_lorenz(result.customers, [f.name for f in result.scenario.params.firms])
        fig.savefig(folder / "profit_concentration.png", dpi=90)
        plt.close(fig)
        written.append("plots/profit_concentration.png")
    return written


def cascades_per_replication(events: pd.DataFrame) -> pd.DataFrame:
    """:func:`~sim.analysis.cascade_summary` of every replication, stacked with a
    ``replication`` column first."""
    parts = []
    reps = events["replication"].unique() if "replication" in events else [0]
    for r in sorted(reps):
        ev = events[events["replication"] == r] if "replication" in events else events
        c = cascade_summary(ev)
        c.insert(0, "replication", int(r))
        parts.append(c)
    return pd.concat(parts, ignore_index=True) if parts else cascade_summary(events)


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


#: table formats of a run folder (``sim run --format``)
FORMATS = ("parquet", "csv", "both")


def _write_table(df: pd.DataFrame, folder: Path, name: str, fmt: str = "parquet") -> list[str]:
    df = df.copy()
    for c in df.columns:
        if isinstance(df[c].dtype, pd.CategoricalDtype):
            df[c] = df[c].astype(str)
    written = []
    if fmt in ("parquet", "both"):
        df.to_parquet(folder / f"{name}.parquet", index=False, engine="pyarrow")
        written.append(f"{name}.parquet")
    if fmt in ("csv", "both"):
        df.to_csv(folder / f"{name}.csv", index=False)
        written.append(f"{name}.csv")
    return written


class OutFolderError(ValueError):
    """An output folder cannot be used (``str(err)`` is the one-line reason)."""


#: room, below an output folder, for ``<scenario>/.tmp-<run-id>-<pid>/plots/<file>``
_BELOW_OUT = 100 + 90 + 60


def check_out_folder(path: str | Path, flag: str = "--out", below: int = _BELOW_OUT) -> Path:
    """Check, before any work, that ``path`` is (or can become) a writable folder in which
    files ``below`` characters deeper can be created.

    Raises:
        OutFolderError: the path or one of its parts is too long, it exists and is not a
            folder, it or a parent is a dangling symbolic link, or the nearest existing
            parent is not a writable folder.

    Examples:
        >>> check_out_folder("results").name
        'results'
    """
    shown = path if len(str(path)) <= 120 else f"{str(path)[:57]}…{str(path)[-57:]}"
    out = Path(path)
    _check_lengths(out, f"{flag} {shown}", below)
    try:
        p = out
        while not p.exists():
            if p.is_symlink():
                raise OutFolderError(f"{flag} {shown}: {p} is a symbolic link to a missing target")
            if p == p.parent:
                break
            p = p.parent
        if out.exists() and not out.is_dir():
            raise OutFolderError(f"{flag} {shown}: exists and is not a folder")
        if not p.is_dir():
            raise OutFolderError(f"{flag} {shown}: {p} is a file, not a folder")
        if not os.access(p, os.W_OK | os.X_OK):
            raise OutFolderError(f"{flag} {shown}: {p} is not writable")
    except OSError as exc:
        raise OutFolderError(f"{flag} {shown}: unusable ({exc.strerror or exc})") from None
    return out


def _check_lengths(out: Path, what: str, below: int) -> None:
    """No part of ``out`` longer than the file system allows, and room below it."""
    try:
        name_max = os.pathconf(".", "PC_NAME_MAX")
        path_max = os.pathconf(".", "PC_PATH_MAX")
    except (OSError, ValueError):
        name_max, path_max = 255, 4096
    long_part = next((p for p in out.parts if len(os.fsencode(p)) > name_max), None)
    if long_part is not None:
        raise OutFolderError(
            f"{what}: a folder name has {len(os.fsencode(long_part))} bytes; "
            f"at most {name_max} allowed"
        )
    full = len(os.fsencode(os.path.abspath(out)))
    if full + below >= path_max:
        raise OutFolderError(
            f"{what}: path too long ({full} bytes; the run folder needs it under "
            f"{path_max - below})"
        )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def remove_stale_temp(base: Path) -> list[Path]:
    """Remove the temporary folders (``.tmp-<run-id>-<pid>``) that runs killed before they
    finished left in ``base``, with the empty run folder each had reserved; a folder
    whose process is alive is left alone. Returns the removed temporary folders."""
    removed = []
    try:
        entries = list(base.glob(".tmp-*-*"))
    except OSError:
        return removed
    for tmp in entries:
        run_id, _, pid = tmp.name[len(".tmp-") :].rpartition("-")
        if not pid.isdigit() or _pid_alive(int(pid)):
            continue
        shutil.rmtree(tmp, ignore_errors=True)
        with contextlib.suppress(OSError):
            (base / run_id).rmdir()  # only if empty: a reserved, never-filled name
        removed.append(tmp)
    return removed


def reserve_name(base: Path, run_id: str) -> Path:
    """Create and return the first free folder ``base/run_id``, ``run_id-2``, … (an
    atomic ``mkdir``: concurrent processes never get the same name)."""
    k = 1
    while True:
        final = base / (run_id if k == 1 else f"{run_id}-{k}")
        try:
            final.mkdir()
            return final
        except FileExistsError:
            k += 1


@contextlib.contextmanager
def atomic_folder(base: Path, run_id: str):
    """Yield ``(tmp, final)``: a temporary folder in ``base`` to fill, and the name
    ``base/run_id`` (or ``run_id-2`` …, reserved atomically as an empty folder) that it
    replaces when the block ends without an error. On any error, Ctrl-C, SIGTERM or
    SIGHUP (see :func:`signals_as_interrupt`) the temporary folder and the reservation
    are removed: no partial folder. Temporary folders left by killed runs are removed
    first."""
    base.mkdir(parents=True, exist_ok=True)
    remove_stale_temp(base)
    final = reserve_name(base, run_id)
    tmp = base / f".tmp-{final.name}-{os.getpid()}"
    try:
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        yield tmp, final
        os.replace(tmp, final)  # onto the empty reserved folder: atomic
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        with contextlib.suppress(OSError):
            final.rmdir()
        raise


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived; handled like Ctrl-C (``signum`` says which)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def signals_as_interrupt(signums: tuple[int, ...] = (signal.SIGTERM, signal.SIGHUP)):
    """Within the block, SIGTERM and SIGHUP raise :class:`Terminated` (a
    ``KeyboardInterrupt``), so every clean-up that Ctrl-C runs also runs for them. Only
    in the main thread; elsewhere the block runs unchanged."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, _frame):
        raise Terminated(signum)

    old = {s: signal.signal(s, handler) for s in signums}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def write_run(
    result: RunResult,
    out_root: str | Path = "results",
    *,
    run_id: str | None = None,
    plots: bool = True,
    command: list[str] | None = None,
    name: str | None = None,
    fmt: str = "parquet",
) -> Path:
    """Write a run folder atomically; return its path.

    Args:
        result: the run.
        out_root: results folder; the run goes to ``out_root/<scenario>/<run-id>``.
        run_id: folder name (default ``<time>-seed<seed>``).
        plots: write the PNG plots.
        command: the command line, kept in the manifest.
        name: the run's name, shown by compare and report (default: the scenario name).
        fmt: ``parquet`` (default), ``csv`` or ``both`` for the period and event tables;
            the summary tables are always CSV.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}: allowed {', '.join(FORMATS)}")
    sc = result.scenario
    with atomic_folder(Path(out_root) / sc.name, run_id or _run_id(sc)) as (tmp, final):
        _write_folder(tmp, result, plots=plots, command=command, name=name, fmt=fmt)
    return final


def _run_id(sc: Scenario) -> str:
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-seed{sc.seed}"


class _TableSink:
    """Appends a table's chunks (one per replication) to ``NAME.parquet`` and/or
    ``NAME.csv`` (``fmt``) as they come, so the whole table is never in memory."""

    def __init__(self, folder: Path, name: str, fmt: str = "parquet") -> None:
        self.folder, self.name, self.fmt = folder, name, fmt
        self.writer = None
        self.schema = None

    def append(self, df: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        df = df.copy()
        for c in df.columns:
            if isinstance(df[c].dtype, pd.CategoricalDtype):
                df[c] = df[c].astype(str)
        if self.fmt in ("parquet", "both"):
            table = pa.Table.from_pandas(df, schema=self.schema, preserve_index=False)
            if self.writer is None:
                self.schema = table.schema
                self.writer = pq.ParquetWriter(self.folder / f"{self.name}.parquet", self.schema)
            self.writer.write_table(table)
        if self.fmt in ("csv", "both"):
            csv = self.folder / f"{self.name}.csv"
            df.to_csv(csv, mode="a", header=not csv.exists(), index=False)

    def close(self) -> list[str]:
        if self.writer is not None:
            self.writer.close()
        return [
            f"{self.name}.{ext}"
            for ext in ("parquet", "csv")
            if self.fmt in (ext, "both") and (self.folder / f"{self.name}.{ext}").exists()
        ]


def run_to_folder(
    sc: Scenario,
    out_root: str | Path = "results",
    *,
    run_id: str | None = None,
    plots: bool = True,
    command: list[str] | None = None,
    progress: bool = False,
    name: str | None = None,
    fmt: str = "parquet",
) -> tuple[Path, RunResult]:
    """Run a scenario and write its run folder, streaming each replication's event log
    and panel to disk as it finishes (memory does not grow with the replications).

    Args:
        sc: the scenario.
        out_root: results folder; the run folder is ``out_root/<scenario>/<run-id>``.
        run_id: the run folder's name (default ``<UTC time>-seed<seed>``, made unique).
        plots: write the PNG plots.
        command: the command line, kept in the manifest.
        progress: show a progress bar on stderr.
        name: the run's name (default: the scenario name).
        fmt: table format, one of :data:`FORMATS`.

    Returns:
        ``(run folder, result)``; the result holds every replication's ``firms`` and
        ``market`` rows, but only the first replication's ``events`` and no ``panel``
        (those are in the folder).

    Raises:
        OSError: the folder cannot be written (nothing is left behind).
    """
    with atomic_folder(Path(out_root) / sc.name, run_id or _run_id(sc)) as (tmp, final):
        result, streamed, cascades = _stream_replications(sc, tmp, fmt, progress)
        _write_folder(
            tmp,
            result,
            plots=plots,
            command=command,
            streamed=streamed,
            name=name,
            fmt=fmt,
            cascades=cascades,
        )
    return final, result


def _stream_replications(
    sc: Scenario, tmp: Path, fmt: str, progress: bool
) -> tuple[RunResult, list[str], pd.DataFrame]:
    """Run every replication, appending its event log and panel to ``tmp`` as it
    finishes; return the result (firm and market rows of all replications, the first
    one's events and customers), the files streamed and the cascades of every
    replication."""
    t0 = time.perf_counter()
    started = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    sinks = {table: _TableSink(tmp, table, fmt) for table in ("events", "panel")}
    kept: dict[str, list[pd.DataFrame]] = {"firms": [], "market": []}
    events0, customers = pd.DataFrame(), pd.DataFrame()
    cascades = []
    for r, tables, cust in iter_replications(sc, progress=progress):
        for table, sink in sinks.items():
            sink.append(tables[table])
        for table in kept:
            kept[table].append(tables[table])
        cascades.append(cascades_per_replication(tables["events"]))
        if r == 0:
            events0, customers = tables["events"], cust
    streamed = [f for sink in sinks.values() for f in sink.close()]
    result = RunResult(
        sc,
        pd.concat(kept["firms"], ignore_index=True),
        pd.concat(kept["market"], ignore_index=True),
        events0,
        pd.DataFrame(),
        customers,
        started,
        _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        time.perf_counter() - t0,
    )
    return result, streamed, pd.concat(cascades, ignore_index=True)


def _write_folder(
    tmp: Path,
    result: RunResult,
    *,
    plots: bool,
    command: list[str] | None,
    streamed: list[str] = (),
    name: str | None = None,
    fmt: str = "parquet",
    cascades: pd.DataFrame | None = None,
) -> None:
    """Fill a run folder; ``streamed`` lists the table files already written and
    ``cascades`` the cascades of every replication (computed from ``result.events``
    when not given)."""
    import tomli_w

    sc = result.scenario
    files: list[str] = []
    (tmp / "scenario.toml").write_text(tomli_w.dumps(scenario_to_dict(sc)))
    files.append("scenario.toml")
    for table in ("firms", "market", "events", "panel"):
        if streamed and table in ("events", "panel"):
            files += [f for f in streamed if f.startswith(f"{table}.")]
        else:
            files += _write_table(getattr(result, table), tmp, table, fmt)
    files += _write_table(result.customers, tmp, "customers", fmt)
    per_rep, casc_all, written = _write_summaries(tmp, result, cascades)
    files += written
    if plots:
        files += _write_plots(tmp, result, per_rep, name, casc_all)
    manifest = _run_manifest(result, name=name, fmt=fmt, command=command)
    manifest["files"] = files + ["manifest.json"]
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def _write_summaries(
    tmp: Path, result: RunResult, cascades: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """summary.csv, kpis.csv, summary_intervals.csv and cascades.csv; returns the
    indicators and the cascades of every replication, and the files written."""
    summary = summarise(result.firms, result.events)
    summary.to_csv(tmp / "summary.csv", index=False)
    per_rep = kpi_table(result.firms)
    per_rep.to_csv(tmp / "kpis.csv", index=False)
    with_intervals(per_rep).to_csv(tmp / "summary_intervals.csv", index=False)
    casc_all = cascades if cascades is not None else cascades_per_replication(result.events)
    casc_all.to_csv(tmp / "cascades.csv", index=False)
    return per_rep, casc_all, ["summary.csv", "kpis.csv", "summary_intervals.csv", "cascades.csv"]


def _write_plots(
    tmp: Path,
    result: RunResult,
    per_rep: pd.DataFrame,
    name: str | None,
    casc_all: pd.DataFrame,
) -> list[str]:
    """The run folder's PNG plots (first replication; headline plots over all)."""
    from .plots import save_run_plots

    sc = result.scenario
    casc = casc_all[casc_all["replication"] == 0].drop(columns="replication")
    written = save_run_plots(
        tmp / "plots",
        result.firms,
        result.market[result.market["replication"] == 0],
        casc,
        title=sc.title or sc.name,
    )
    files = [f"plots/{w}" for w in written]
    return files + _headline_plots(tmp / "plots", result, per_rep, name or sc.name)


def _run_manifest(
    result: RunResult, *, name: str | None, fmt: str, command: list[str] | None
) -> dict:
    """The run folder's manifest.json (without its file list)."""
    sc = result.scenario
    return {
        "scenario": sc.name,
        "name": name or sc.name,
        "title": sc.title,
        "source": sc.source,
        "scenario_sha256": sc.digest(),
        "seed": sc.seed,
        "replications": sc.replications,
        "replication_seeds": sc.replication_seeds(),
        "periods": int(result.firms["period"].max()),
        "customers": int(sc.params.market.n_customers),
        "firms": [f.name for f in sc.params.firms],
        "format": fmt,
        "started_utc": result.started,
        "finished_utc": result.finished,
        "wall_seconds": round(result.wall_seconds, 3),
        "versions": _versions(),
        "command": command or [],
    }


def read_run(folder: str | Path) -> dict:
    """Read a run folder back: manifest and tables (DataFrames)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RunFolderError(f"{folder}: run folder not found")
    mf = folder / "manifest.json"
    if not mf.exists():
        raise RunFolderError(
            f"{folder}: not a run folder (no manifest.json); run folders are made by 'sim run'"
        )
    try:
        manifest = json.loads(mf.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunFolderError(f"{mf}: not a valid manifest ({exc})") from None
    missing = (
        [k for k in ("scenario", "firms") if k not in manifest]
        if isinstance(manifest, dict)
        else ["scenario", "firms"]
    )
    if missing:
        raise RunFolderError(
            f"{mf}: manifest lacks {', '.join(missing)}; run folders are made by 'sim run'"
        )
    _check_manifest(mf, manifest)
    out: dict = {"path": folder, "manifest": manifest}
    for name in ("firms", "market", "events", "panel", "customers"):
        p = folder / f"{name}.parquet"
        if not p.exists() and (folder / f"{name}.csv").exists():
            p = folder / f"{name}.csv"
        if not p.exists():
            if name in ("firms", "events", "customers"):
                raise RunFolderError(f"{folder}: incomplete run folder ({p.name} is missing)")
            out[name] = pd.DataFrame()
            continue
        try:
            out[name] = pd.read_parquet(p) if p.suffix == ".parquet" else pd.read_csv(p)
        except Exception as exc:  # a damaged file: say which
            raise RunFolderError(f"{p}: cannot be read ({type(exc).__name__})") from None
        out[name] = firm_names_on_read(out[name], name, manifest["firms"])
        _check_table(p, out[name], name, manifest["firms"])
    return out


#: per table: the firm columns (name, index) of run folders written before the firm was
#: named ``firm`` (its name) and ``firm_index`` in every table
_OLD_FIRM_COLUMNS = {
    "firms": {"firm": "firm_index", "name": "firm"},
    "events": {"firm": "firm_index", "other_firm": "other_firm_index", "firm_name": "firm"},
    "panel": {"firm": "firm_index", "last_firm": "last_firm_index"},
    "customers": {"firm": "firm_index", "last_firm": "last_firm_index"},
}
#: the firm-name columns of each table (text; "" where there is no firm)
NAME_COLUMNS = {
    "firms": ("firm",),
    "events": ("firm", "other_firm"),
    "panel": ("firm", "last_firm"),
    "customers": ("firm", "last_firm"),
}


def firm_names_on_read(df: pd.DataFrame, table: str, firms: list[str]) -> pd.DataFrame:
    """A run folder's table with the firm named ``firm`` (its name) and ``firm_index``.

    Folders written before this naming (``name`` and ``firm`` = index in the firm table,
    ``firm_name`` in events, indices in ``firm``/``last_firm`` of panel and customers) are
    renamed on read; firm names missing from old tables are filled in from the manifest's
    firm list. Empty names read back from CSV (NaN) become "".

    Args:
        df: the table as read.
        table: its name (``firms``, ``events``, ``panel``, ``customers``, ...).
        firms: the manifest's firm names, in scenario order.

    Returns:
        The table with the current column names.

    Examples:
        >>> old = pd.DataFrame({"period": [1], "firm": [1], "name": ["B"]})
        >>> firm_names_on_read(old, "firms", ["A", "B"]).columns.tolist()
        ['period', 'firm_index', 'firm']
    """
    old = _OLD_FIRM_COLUMNS.get(table)
    if old is None or df.empty:
        return df
    if "firm" in df.columns and "firm_index" not in df.columns:
        df = df.rename(columns=old)
    names = np.array([*firms, ""], dtype=object)
    for c in NAME_COLUMNS[table]:
        idx = f"{c}_index"
        if c not in df and idx in df:
            i = pd.to_numeric(df[idx], errors="coerce").fillna(-1).astype(int).to_numpy()
            ok = (i >= -1) & (i < len(firms))
            df.insert(df.columns.get_loc(idx), c, np.where(ok, names[np.where(ok, i, -1)], ""))
    for c in NAME_COLUMNS[table]:
        if c in df and df[c].isna().any():
            df[c] = df[c].where(df[c].notna(), "").astype(object)
    return df


#: columns every run folder's tables have (what the readers rely on)
KEY_COLUMNS = {
    "firms": ("replication", "period", "firm", "firm_index"),
    "events": (
        "replication",
        "period",
        "event",
        "customer",
        "firm",
        "firm_index",
        "other",
        "other_firm_index",
    ),
    "market": ("replication", "period"),
    "panel": ("replication", "period", "customer"),
    "customers": ("segment",),
}


def _check_manifest(mf: Path, manifest: dict) -> None:
    firms = manifest["firms"]
    if not isinstance(manifest["scenario"], str):
        raise RunFolderError(f"{mf}: scenario = {manifest['scenario']!r:.60}: must be a name")
    if not isinstance(firms, list) or not firms or not all(isinstance(f, str) and f for f in firms):
        raise RunFolderError(f"{mf}: firms = {firms!r:.60}: must be a list of firm names")


def _check_table(p: Path, df: pd.DataFrame, name: str, firms: list[str]) -> None:
    """A table read back has its key columns, numbers where numbers belong, and only the
    manifest's firms (a tampered or mixed-up folder is refused with one line)."""
    if df.empty and name in ("market", "panel"):
        return
    missing = [c for c in KEY_COLUMNS[name] if c not in df.columns]
    if missing:
        raise RunFolderError(f"{p}: damaged table (no column {', '.join(missing)})")
    for c in df.columns:
        text = c in ("event", "detail", *NAME_COLUMNS.get(name, ()))
        if not text and not (
            pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])
        ):
            raise RunFolderError(f"{p}: damaged table (column {c} holds text, not numbers)")
    if name == "firms":
        if not pd.api.types.is_numeric_dtype(df["period"]) or df.empty:
            raise RunFolderError(f"{p}: damaged table (no numeric periods)")
        extra = sorted(set(df["firm"].astype(str)) - set(firms))
        if extra:
            raise RunFolderError(
                f"{p}: firms {', '.join(extra)[:80]} are not in manifest.json (firms: "
                f"{', '.join(firms)[:80]})"
            )
