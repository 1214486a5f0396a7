"""Sweeps: a base scenario × a design × replications → runs → a store.

A :class:`Sweep` only stores its arguments. :meth:`Sweep.plan` resolves and validates
everything (base scenario, every design point through the scenario parser, indicators,
seeds) without running or writing anything; :meth:`Sweep.run` then runs what the store
does not hold yet, on the chosen executor, writing each run as it finishes.

Seeds (the same sweep always gets the same seeds): the seed of replication ``r`` of
design point ``p`` is ``SeedSequence(root, spawn_key=(r,)).generate_state(1, uint64)[0]
>> 1`` (63 bits) with common random numbers (the default: every design point's
replication ``r`` uses the same seed, so two points differ by their parameters, not by
their luck), or the same with ``spawn_key=(p, r)`` for independent streams. Inside a
run the model spawns one child stream per mechanism from that seed.
"""

from __future__ import annotations

import concurrent.futures as cf
import copy
import datetime as _dt
import hashlib
import json
import math
import multiprocessing as mp
import os
import signal
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.model import MarketModel
from sim.params import ModelParams
from sim.scenario import (
    Scenario,
    ScenarioError,
    apply_override,
    load_scenario,
    parse_scenario,
    scenario_to_dict,
)

from .design import Design, SweepError
from .indicators import (
    DEFAULT_INDICATORS,
    indicator_catalogue,
    recorded_columns,
    summarise_periods,
    tidy_columns,
    tidy_periods,
)
from .store import Store, arrow_schema, encode_table

if TYPE_CHECKING:
    from .results import ResultSet

__all__ = [
    "Plan",
    "RunFailed",
    "RunTask",
    "Sweep",
    "encode_rows",
    "encode_task",
    "execute",
    "replication_seed",
    "run_task",
    "task_rows",
]

RECORDS = ("periods", "summary")


def replication_seed(root: int, point: int, replication: int, common: bool = True) -> int:
    """The seed of one run (see the module docstring)."""
    key = (replication,) if common else (point, replication)
    return int(
        np.random.SeedSequence(int(root), spawn_key=key).generate_state(1, np.uint64)[0]
        >> np.uint64(1)
    )


# ---------------------------------------------------------------------- one run
@dataclass
class RunTask:
    """Everything a worker needs for one run (picklable; sent to other processes)."""

    point: int
    replication: int
    seed: int
    params: ModelParams
    values: dict[str, Any]
    indicators: tuple[str, ...]
    record: str
    window: int | None
    schema: pa.Schema | None = None  # the store's Arrow schema (for encode_task)

    @property
    def keys(self) -> dict[str, Any]:
        """The run's constant leading columns: point, replication, seed, parameters."""
        return {
            "point": self.point,
            "replication": self.replication,
            "seed": self.seed,
            **self.values,
        }


def run_task(task: RunTask) -> pd.DataFrame:
    """Run one (design point, replication) and return its tidy rows (module-level, so
    process pools and Dask workers can import it)."""
    return task_rows(MarketModel(task.params, seed=task.seed).run(), task)


def task_rows(model: MarketModel, task: RunTask) -> pd.DataFrame:
    """The tidy rows of a finished run of ``task`` (per period, or its summary)."""
    df = tidy_periods(model.firm_frame(), model.market_frame(), task.indicators, task.keys)
    if task.record == "summary":
        df = summarise_periods(df, task.indicators, task.window)
    return df


def encode_task(task: RunTask) -> bytes:
    """Run one (design point, replication) and return its rows as the bytes of its
    Parquet file in the store's schema (``task.schema``): the same rows as
    :func:`run_task`, encoded where the run happened, so the process that writes the
    store only writes bytes (module-level, for process pools and Dask workers)."""
    return encode_rows(MarketModel(task.params, seed=task.seed).run(), task)


def encode_rows(model: MarketModel, task: RunTask) -> bytes:
    """The Parquet bytes of a finished run's rows (:func:`encode_task` after the run).

    Per-period rows go from the recorder's rows to Arrow without a pandas frame between;
    NaN becomes null, as in ``pyarrow.Table.from_pandas``."""
    if task.record == "summary":
        df = task_rows(model, task)
        return encode_table(pa.Table.from_pandas(df, schema=task.schema, preserve_index=False))
    firms, market = recorded_columns(model, task.indicators)
    cols = tidy_columns(firms, market, task.indicators, task.keys)
    arrays = [pa.array(cols[f.name], f.type, from_pandas=True) for f in task.schema]
    return encode_table(pa.Table.from_arrays(arrays, schema=task.schema))


# ---------------------------------------------------------------------- plan
def _toml_column(values: list) -> tuple[str, list]:
    """Column type (bool, int, float, str) and the values as stored."""
    if all(isinstance(v, bool) for v in values):
        return "bool", list(values)
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "int", [int(v) for v in values]
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "float", [float(v) for v in values]

    def text(v: Any) -> str:
        if v is None:
            return "none"
        if isinstance(v, str):
            return v
        return json.dumps(v, sort_keys=True, default=str)

    return "str", [text(v) for v in values]


def _set_path(data: dict, key: str, value: Any, source: str) -> None:
    """Set a scenario key path (``firms.B.price``) to a Python value, creating tables the
    way ``--set`` does."""
    apply_override(data, f"{key}=0", source=source)
    node: Any = data
    parts = key.split(".")
    for part in parts[:-1]:
        if isinstance(node, list):
            node = (
                node[int(part)]
                if part.isdigit()
                else next(it for it in node if it.get("name") == part)
            )
        else:
            node = node[part]
    node[parts[-1]] = "none" if value is None else value


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


@dataclass
class Plan:
    """A resolved, validated sweep (what :meth:`Sweep.plan` returns)."""

    name: str
    source: str
    base: Scenario
    base_data: dict
    base_dir: Path | None
    parameters: list[str]
    types: dict[str, str]
    values: list[dict[str, Any]]  # as applied to the scenario
    columns: dict[str, list]  # as stored (one list per parameter)
    replications: int
    seed: int
    common_random_numbers: bool
    indicators: tuple[str, ...]
    window: int | None
    record: str
    design: Design

    @property
    def n_points(self) -> int:
        return len(self.values)

    @property
    def n_runs(self) -> int:
        return self.n_points * self.replications

    def seed_of(self, point: int, replication: int) -> int:
        return replication_seed(self.seed, point, replication, self.common_random_numbers)

    def design_frame(self) -> pd.DataFrame:
        """One row per design point: ``point`` and the parameter columns."""
        return pd.DataFrame({"point": np.arange(self.n_points), **self.columns})

    def params_of(self, point: int) -> ModelParams:
        """The validated model parameters of a design point (events and panel off)."""
        data = copy.deepcopy(self.base_data)
        src = f"{self.source} (design point {point})" if self.source else f"design point {point}"
        for k, v in self.values[point].items():
            _set_path(data, k, v, src)
        p = parse_scenario(data, source=src, base_dir=self.base_dir).params
        p.record_events, p.panel_size = False, 0
        return p

    def tasks(self, keys: Iterable[tuple[int, int]]) -> Iterator[RunTask]:
        """Run tasks for ``(point, replication)`` keys, built lazily (keys sorted by point)."""
        cached: tuple[int, ModelParams] | None = None
        schema = arrow_schema(
            {
                "types": self.types,
                "parameters": self.parameters,
                "record": self.record,
                "indicators": list(self.indicators),
            }
        )
        for p, r in keys:
            if cached is None or cached[0] != p:
                cached = (p, self.params_of(p))
            values = {k: self.columns[k][p] for k in self.parameters}
            yield RunTask(
                p,
                r,
                self.seed_of(p, r),
                cached[1],
                values,
                self.indicators,
                self.record,
                self.window,
                schema,
            )

    def manifest(self) -> dict:
        """The store's manifest (JSON-able). ``fingerprint`` covers everything that
        changes results except the number of replications (which may grow)."""
        ident = {
            "base_scenario_sha256": self.base.digest(),
            "parameters": self.parameters,
            "types": self.types,
            "points": [[self.columns[k][i] for k in self.parameters] for i in range(self.n_points)],
            "seed": self.seed,
            "common_random_numbers": self.common_random_numbers,
            "indicators": list(self.indicators),
            "window": self.window,
            "record": self.record,
        }
        fp = hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()
        versions = {}
        for pkg in ("sim", "mesa", "numpy", "pandas", "pyarrow"):
            try:
                versions[pkg] = metadata.version(pkg)
            except metadata.PackageNotFoundError:
                versions[pkg] = "not installed"
        return {
            "format": "sim-sweep/1",
            "name": self.name,
            "source": self.source,
            "fingerprint": fp,
            "base_scenario": self.base.name,
            "base_source": self.base.source,
            **ident,
            "design": json.loads(json.dumps(self.design.spec(), default=_plain)),
            "replications": self.replications,
            "replication_seeds": (
                [self.seed_of(0, r) for r in range(self.replications)]
                if self.common_random_numbers
                else None
            ),
            "firms": [f.name for f in self.base.params.firms],
            "periods": int(self.base.params.market.periods),
            "customers": int(self.base.params.market.n_customers),
            "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "versions": versions,
        }


# ---------------------------------------------------------------------- sweep
class Sweep:
    """A parameter sweep with replications.

    Args:
        scenario: the base scenario: a scenario file path, a
            :class:`~sim.scenario.Scenario` or a :class:`~sim.params.ModelParams`.
        design: a :class:`~sim.experiments.Design` (Grid, Points, LatinHypercube, Saltelli).
        replications: runs per design point (≥ 1).
        seed: root seed (default: the base scenario's seed).
        indicators: firm_frame / market_frame columns to record (default
            :data:`DEFAULT_INDICATORS`).
        window: summaries average the last ``window`` periods (default: all of 1…T).
        record: ``"periods"`` (every period) or ``"summary"`` (one row per run and firm).
        common_random_numbers: replication r gets the same seed at every design point.
        overrides: ``key.path=value`` strings applied to the base scenario first.
        name: the sweep's name (default: the scenario's name + "-sweep").
        source: where the sweep came from (a sweep file; used in error messages).

    Examples:
        >>> from sim.experiments import Grid, Sweep
        >>> sw = Sweep("scenarios/baseline.toml", Grid({"firms.B.price": [0.9, 1.0, 1.1]}),
        ...            replications=3, overrides=["market.n_customers=300", "market.periods=12"])
        >>> rs = sw.run(store="results/sweeps/demo")          # doctest: +SKIP
        >>> rs.ci("share", firm="B")                          # doctest: +SKIP
    """

    def __init__(
        self,
        scenario: str | Path | Scenario | ModelParams,
        design: Design,
        *,
        replications: int = 1,
        seed: int | None = None,
        indicators: Sequence[str] | None = None,
        window: int | None = None,
        record: str = "periods",
        common_random_numbers: bool = True,
        overrides: Sequence[str] = (),
        name: str | None = None,
        source: str = "",
    ) -> None:
        self.scenario = scenario
        self.design = design
        self.replications = replications
        self.seed = seed
        self.indicators = indicators
        self.window = window
        self.record = record
        self.common_random_numbers = common_random_numbers
        self.overrides = overrides
        self.name = name
        self.source = source

    # ------------------------------------------------------------------ resolve
    def _base(self) -> tuple[Scenario, dict, Path | None]:
        sc = self.scenario
        overrides = list(self.overrides or [])
        if isinstance(sc, (str, Path)):
            base = load_scenario(sc, overrides)
            return base, copy.deepcopy(base.raw), Path(sc).parent
        if isinstance(sc, ModelParams):
            sc = Scenario(name="params", params=sc)
        if not isinstance(sc, Scenario):
            raise SweepError(
                self.source,
                "scenario",
                type(sc).__name__,
                "a scenario file path, a Scenario or a ModelParams",
            )
        data = copy.deepcopy(sc.raw) if sc.raw else scenario_to_dict(sc)
        base_dir = Path(sc.source).parent if sc.source else None
        for ov in overrides:
            apply_override(data, ov, source=f"{self.source or sc.source or 'scenario'} (set)")
        base = parse_scenario(data, source=sc.source or "scenario", base_dir=base_dir)
        return base, data, base_dir

    def plan(self) -> Plan:
        """Resolve and validate the sweep; run and write nothing.

        Raises:
            SweepError / ScenarioError: one line naming the file, key, value and what is allowed.
        """
        src = self.source
        try:
            return self._plan()
        except SweepError as exc:
            raise (exc.with_source(src) if src and not exc.source else exc) from None

    def _plan(self) -> Plan:
        base, data, base_dir = self._base()
        R, seed, inds, w = self._check_settings(base)
        names = self.design.parameters
        src = self.source or base.source or "scenario"

        def parse_with(assign: dict[str, Any]) -> None:
            d = copy.deepcopy(data)
            for k, v in assign.items():
                _set_path(d, k, v, src)
            parse_scenario(d, source=src, base_dir=base_dir)

        integer = self._integer_parameters(data, src, parse_with)
        points = [{k: _plain(v) for k, v in p.items()} for p in self.design.points(integer=integer)]
        if not points:
            raise SweepError("", "design", self.design.spec(), "the design has no points")
        _check_points(points, parse_with)
        types, columns = {}, {}
        for k in names:
            types[k], columns[k] = _toml_column([p[k] for p in points])
        name = self.name or f"{base.name}-sweep"
        if not name.replace("-", "").replace("_", "").isalnum():
            raise SweepError("", "sweep.name", name, "letters, digits, '-' and '_' only")
        return Plan(
            name=name,
            source=self.source,
            base=base,
            base_data=data,
            base_dir=base_dir,
            parameters=names,
            types=types,
            values=points,
            columns=columns,
            replications=R,
            seed=seed,
            common_random_numbers=self.common_random_numbers,
            indicators=tuple(inds),
            window=w,
            record=self.record,
            design=self.design,
        )

    def _check_settings(self, base) -> tuple[int, int, Sequence[str], int | None]:
        """Replications, seed, indicators and window, each checked (and the other settings)."""
        R = self.replications
        if isinstance(R, bool) or not isinstance(R, int) or not 1 <= R <= 100_000:
            raise SweepError("", "sweep.replications", R, "must be an integer in [1, 100000]")
        seed = base.seed if self.seed is None else self.seed
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
            raise SweepError("", "sweep.seed", seed, "must be a non-negative integer")
        if not isinstance(self.common_random_numbers, bool):
            raise SweepError(
                "",
                "sweep.common_random_numbers",
                self.common_random_numbers,
                "must be true or false",
            )
        firm_ind, market_ind = indicator_catalogue()
        inds = DEFAULT_INDICATORS if self.indicators is None else self.indicators
        if isinstance(inds, str) or not isinstance(inds, Sequence) or not inds:
            raise SweepError("", "sweep.indicators", inds, "a non-empty list of indicator names")
        known = dict.fromkeys((*firm_ind, *market_ind))
        for k in inds:
            if k not in known:
                raise SweepError(
                    "", "sweep.indicators", k, "unknown indicator; allowed: " + ", ".join(known)
                )
        if len(set(inds)) != len(inds):
            raise SweepError("", "sweep.indicators", list(inds), "names an indicator twice")
        w = self.window
        if w is not None and (isinstance(w, bool) or not isinstance(w, int) or w < 1):
            raise SweepError("", "sweep.window", w, "must be an integer ≥ 1 (periods)")
        if self.record not in RECORDS:
            raise SweepError("", "sweep.record", self.record, "allowed: " + ", ".join(RECORDS))
        if not isinstance(self.design, Design):
            raise SweepError(
                "",
                "design",
                type(self.design).__name__,
                "a Grid, Points, LatinHypercube or Saltelli design",
            )

        return R, seed, inds, w

    def _integer_parameters(self, data: dict, src: str, parse_with) -> set[str]:
        """Check each design parameter's key path and range ends; return the integer ones."""
        names = self.design.parameters
        # each parameter: the key path exists; integer or not; range ends allowed
        integer: set[str] = set()
        for k in names:
            try:
                _set_path(copy.deepcopy(data), k, 0, src)
            except ScenarioError as exc:
                raise SweepError(
                    "", f"design.parameters.{k}", None, f"not a scenario key path: {exc.allowed}"
                ) from None
        for k, r in self.design.ranges().items():
            probe = r.low + (r.high - r.low) * 0.381966 if r.high > r.low else r.low + 0.5
            if float(probe).is_integer():
                probe += 0.25
            try:
                parse_with({k: float(probe)})
            except ScenarioError as exc:
                if "integer" in exc.allowed:
                    integer.add(k)
            for end, v in (("min", r.low), ("max", r.high)):
                v = (
                    math.ceil(v)
                    if k in integer and end == "min"
                    else math.floor(v)
                    if k in integer
                    else v
                )
                try:
                    parse_with({k: v})
                except ScenarioError as exc:
                    raise _blame(f"design.parameters.{k}.{end}", v, exc) from None
        return integer

    # ------------------------------------------------------------------ run
    def run(
        self,
        store: str | Path | None = None,
        executor: Any = None,
        *,
        progress: bool = True,
        max_in_flight: int | None = None,
        plan: Plan | None = None,
    ) -> ResultSet:
        """Run every (design point, replication) the store does not hold yet.

        Args:
            store: the store folder (default ``results/sweeps/<name>``). Created if
                needed; a folder of the same sweep is resumed; another sweep's folder is
                refused.
            executor: ``None`` (sequential, in this process: safe in notebooks); an
                integer N (a local pool of N processes; see :func:`pool_context`); any
                ``concurrent.futures.Executor``; or a ``dask.distributed.Client``.
            progress: a progress bar with ETA on stderr.
            max_in_flight: runs submitted but not yet written (default twice the workers);
                this bounds memory, whatever the number of runs.
            plan: a plan from :meth:`plan` (resolved again when omitted).

        Returns:
            the :class:`~sim.experiments.ResultSet` over the store.
        """
        from .results import ResultSet

        plan = plan or self.plan()
        st = Store(store if store is not None else Path("results") / "sweeps" / plan.name)
        manifest = plan.manifest()
        st.check_usable(manifest)
        with _executor(executor) as (ex, width):
            st.open(manifest)
            done = {(p, r) for p, r in st.done() if p < plan.n_points and r < plan.replications}
            todo = (
                (p, r)
                for p in range(plan.n_points)
                for r in range(plan.replications)
                if (p, r) not in done
            )
            bar = _progress_bar(plan, len(done)) if progress else None

            def store_result(key: tuple[int, int], blob: bytes) -> None:
                st.write_run(key[0], key[1], blob)
                if bar is not None:
                    bar.update(1)

            try:
                execute(plan.tasks(todo), ex, store_result, max_in_flight or width, encode_task)
            finally:
                if bar is not None:
                    bar.close()
        return ResultSet(st.path)


def _progress_bar(plan: Plan, done: int) -> Any:
    """A progress bar over the plan's runs on stderr (rate and time remaining)."""
    from tqdm.auto import tqdm

    return tqdm(
        total=plan.n_runs,
        initial=done,
        desc=plan.name,
        unit="run",
        file=sys.stderr,
        smoothing=0.1,
    )


# ---------------------------------------------------------------------- executors
def _ignore_sigint() -> None:
    """Pool workers leave Ctrl-C to the parent, which stops the sweep cleanly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _watch_parent(pid: int, poll: float = 1.0) -> None:
    """Exit this process as soon as process ``pid`` ends (however it ends, SIGKILL
    included). Waits on a pidfd where Linux has one, else polls every ``poll`` s."""
    import select

    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):
        fd = None
    while True:
        if fd is not None:
            select.select([fd], [], [])
            os._exit(1)
        time.sleep(poll)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            pass


def _worker_init(parent: int) -> None:
    """Pool worker set-up: leave Ctrl-C to the parent, and die with the parent (a
    watchdog thread; the worker's own parent is the fork server, so ``PR_SET_PDEATHSIG``
    would not see the sweep's process end)."""
    import threading

    _ignore_sigint()
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def pool_context() -> mp.context.BaseContext:
    """The start method of local pools: ``forkserver`` where the platform has it, with
    ``sim.experiments.preload`` preloaded in the server, so each worker is forked with sim
    imported and the compiled kernels loaded (:func:`warm_kernels`; pool start about
    twice as fast as ``spawn``, and no worker loads the kernels again); ``spawn`` elsewhere.
    Neither forks the calling process, so threads in it (a notebook kernel, a Dask
    client) are no hazard; both need the worker function importable, which
    :func:`run_task` is."""
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["__main__", "sim.experiments.preload"])
        return ctx
    return mp.get_context("spawn")


def warm_kernels() -> None:
    """Load the compiled kernels into this process by running a tiny model (200
    customers, 2 periods), so that processes forked from it have them. Does nothing when
    compiled kernels are off; never raises (a real problem shows in the runs)."""
    from sim import accel

    if not accel.enabled():
        return
    p = ModelParams()
    p.market.n_customers = 200
    p.record_events, p.panel_size = False, 0
    try:
        MarketModel(p, seed=0).run(2)
    except Exception:  # noqa: BLE001 - a fork server must not die here
        return


def _is_dask_client(obj: Any) -> bool:
    mod = type(obj).__module__ or ""
    return mod.startswith("distributed") and hasattr(obj, "get_executor")


@contextmanager
def _executor(executor: Any) -> Iterator[tuple[cf.Executor | None, int]]:
    """``(executor or None for in-process, default number of runs in flight)``."""
    if executor is None:
        yield None, 1
        return
    if isinstance(executor, int) and not isinstance(executor, bool):
        if executor < 0:
            raise SweepError(
                "", "workers", executor, "must be an integer ≥ 0 (0 = run in this process)"
            )
        if executor == 0:
            yield None, 1
            return
        pool = cf.ProcessPoolExecutor(
            executor,
            mp_context=pool_context(),
            initializer=_worker_init,
            initargs=(os.getpid(),),
        )
        try:
            yield pool, 2 * executor
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return
    if _is_dask_client(executor):
        threads = sum(executor.nthreads().values()) or 1
        yield executor.get_executor(pure=False), 2 * threads
        return
    if isinstance(executor, cf.Executor):
        yield executor, 2 * int(getattr(executor, "_max_workers", 4) or 4)
        return
    raise SweepError(
        "",
        "executor",
        type(executor).__name__,
        "None, a number of worker processes, a concurrent.futures.Executor or a dask.distributed Client",
    )


def execute(
    tasks: Iterable[RunTask],
    executor: cf.Executor | None,
    on_result,
    max_in_flight: int,
    fn=run_task,
) -> int:
    """Run tasks (in this process when ``executor`` is None), calling
    ``on_result((point, replication), fn(task))`` in this process as each finishes; at
    most ``max_in_flight`` tasks are submitted and not yet handled. ``fn`` is a
    module-level function of a task (:func:`run_task`: a frame; :func:`encode_task`:
    Parquet bytes). Returns the number run."""
    n = 0
    if executor is None:
        for t in tasks:
            on_result((t.point, t.replication), _checked(t, fn))
            n += 1
        return n
    it = iter(tasks)
    pending: dict[cf.Future, tuple[int, int]] = {}
    try:
        while True:
            while len(pending) < max(1, max_in_flight):
                t = next(it, None)
                if t is None:
                    break
                pending[executor.submit(fn, t)] = (t.point, t.replication)
            if not pending:
                return n
            done, _ = cf.wait(list(pending), return_when=cf.FIRST_COMPLETED)
            for f in done:
                key = pending.pop(f)
                try:
                    df = f.result()
                except Exception as exc:
                    raise RunFailed(key, exc) from exc
                on_result(key, df)
                n += 1
    finally:
        for f in pending:
            f.cancel()


class RunFailed(RuntimeError):
    """A run raised; the runs finished before it are stored."""

    def __init__(self, key: tuple[int, int], exc: BaseException) -> None:
        self.key = key
        super().__init__(
            f"run (design point {key[0]}, replication {key[1]}) failed: {type(exc).__name__}: {exc}"
        )


def _checked(t: RunTask, fn) -> pd.DataFrame:
    try:
        return fn(t)
    except Exception as exc:
        raise RunFailed((t.point, t.replication), exc) from exc


def _blame(key: str, value: Any, exc: ScenarioError, where: str = "") -> SweepError:
    what = f"{exc.allowed} ({exc.key}{where})" if exc.key else exc.allowed
    return SweepError("", key, value, what)


def _check_points(points: list[dict], parse_with) -> None:
    """Every design point through the scenario parser (a bad one names its parameter)."""
    # every point through the scenario parser
    for i, pt in enumerate(points):
        try:
            parse_with(pt)
        except ScenarioError as exc:
            for k, v in pt.items():
                try:
                    parse_with({k: v})
                except ScenarioError as e1:
                    raise _blame(f"design.parameters.{k}", v, e1, f"; design point {i}") from None
            raise SweepError("", f"design point {i}", pt, f"{exc.allowed} ({exc.key})") from None
