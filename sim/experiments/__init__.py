"""Experiments: parameter sweeps, replications and sensitivity analysis.

Layers, each usable on its own (docs/experiments.md has the guide and the sweep file
format):

- designs: :class:`Grid`, :class:`Points`, :class:`LatinHypercube`, :class:`Saltelli`
  over scenario key paths (``firms.B.price``: any parameter is sweepable);
- :class:`Sweep`: a base scenario × a design × replications with seeds derived from one
  root seed (common random numbers by default), run sequentially in this process
  (notebook-safe), on a local process pool, on any ``concurrent.futures.Executor`` or on
  a Dask cluster; each run is written atomically to a store as it finishes, and a sweep
  started again runs only what is missing;
- :class:`ResultSet`: the store read back as tidy tables, confidence intervals, Sobol'
  indices and plots;
- :func:`main`: the ``sim sweep`` command.

Examples:
    >>> from sim.experiments import Grid, Sweep
    >>> sweep = Sweep("scenarios/baseline.toml", Grid({"firms.B.price": [0.9, 1.0, 1.1]}),
    ...               replications=5, overrides=["market.n_customers=500"])
    >>> rs = sweep.run(store="results/sweeps/price")        # doctest: +SKIP
    >>> rs.ci("share", firm="B")                            # doctest: +SKIP
    >>> rs.plot("share", "firms.B.price")                   # doctest: +SKIP
"""

from .cli import SweepFile, load_sweep, main
from .design import Design, Grid, LatinHypercube, Points, Range, Saltelli, SweepError
from .indicators import DEFAULT_INDICATORS, indicator_catalogue, summarise_periods, tidy_periods
from .results import ResultSet, mean_ci
from .store import Store
from .sweep import (
    Plan,
    RunFailed,
    RunTask,
    Sweep,
    encode_task,
    execute,
    replication_seed,
    run_task,
)

__all__ = [
    "DEFAULT_INDICATORS",
    "Design",
    "Grid",
    "LatinHypercube",
    "Plan",
    "Points",
    "Range",
    "ResultSet",
    "RunFailed",
    "RunTask",
    "Saltelli",
    "Store",
    "Sweep",
    "SweepError",
    "SweepFile",
    "encode_task",
    "execute",
    "indicator_catalogue",
    "load_sweep",
    "main",
    "mean_ci",
    "open_results",
    "replication_seed",
    "run_task",
    "summarise_periods",
    "tidy_periods",
]


def open_results(store: str) -> ResultSet:
    """The :class:`ResultSet` of an existing store folder."""
    return ResultSet(store)
