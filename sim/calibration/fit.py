"""The two methods, on well-kept libraries, and what follows from them.

- Point estimate: an Optuna study (TPE by default, CMA-ES or random search on request)
  minimising the distance of :meth:`CalibrationPlan.distance`, stored in SQLite
  (``optuna.db``); trials run in batches on the executor (ask-and-tell).
- Posterior: pyabc's ABC-SMC with a uniform or log-uniform prior over each range, the
  same distance and pyabc's default adaptive (median) acceptance threshold, its history
  stored in SQLite (``abc.db``); simulations run on the executor through pyabc's
  ``ConcurrentFutureSampler``.

Both resume after a kill: a study's finished trials and a history's finished
generations are kept, and the same calibration continues from them.

The posterior-predictive draws (``draws`` runs, parameters drawn from the posterior, each
with its own seed) give the bands of the fit plot and the check of held-out targets.
"""

from __future__ import annotations

import logging
import math
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.sweep import _executor, replication_seed

from .core import CalibrationPlan, simulate, simulate_each

__all__ = ["CalibrationResult", "fit", "identifiability", "WIDE", "CORRELATED"]

#: a posterior 90% interval wider than this share of the prior's is "wide"
WIDE = 0.6
#: a posterior correlation beyond ± this between two parameters is "strong"
CORRELATED = 0.8


@dataclass
class CalibrationResult:
    """What a calibration found (tables are tidy DataFrames).

    Attributes:
        point: the point estimate ``{key: value}`` (Optuna's best trial; the posterior
            mean when only ABC ran).
        parameters: one row per parameter: range, point estimate, posterior mean, sd and
            90% interval (q05, q95).
        posterior: ABC's last population: one column per parameter and ``weight``.
        trials: Optuna's trials: ``trial``, the parameters and ``distance``.
        generations: ABC's generations: ``t``, ``epsilon``, ``samples``, ``acceptance``.
        fit: one row per target: observed, the point estimate's value, the predictive
            median and 90% band, whether it was fitted.
        predictive_check: the held-out targets' rows of ``fit`` with ``inside``.
        warnings: identifiability warnings (one sentence each).
        folder: the run folder (set by :meth:`Calibration.run`).
    """

    point: dict[str, float]
    parameters: pd.DataFrame
    posterior: pd.DataFrame
    trials: pd.DataFrame
    generations: pd.DataFrame
    fit: pd.DataFrame
    predictive_check: pd.DataFrame
    predictive: np.ndarray  # draws × targets
    draws: pd.DataFrame  # the parameter values of each draw
    warnings: list[str] = field(default_factory=list)
    runs: int = 0
    resumed: dict[str, int] = field(default_factory=dict)
    wall_seconds: dict[str, float] = field(default_factory=dict)
    folder: Path | None = None


def _quiet() -> None:
    import pyabc  # noqa: F401  (its import sets its logger to INFO; quieten it after)

    logging.getLogger("ABC").setLevel(logging.WARNING)
    for name in ("pyabc", "ABC.History", "ABC.Sampler", "ABC.Distance", "ABC.Epsilon"):
        logging.getLogger(name).setLevel(logging.WARNING)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def _bar(progress: bool, total: float, desc: str, unit: str, initial: int = 0):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit=unit, file=sys.stderr, smoothing=0.1)


# ---------------------------------------------------------------------- Optuna
def _sampler(plan: CalibrationPlan):
    import optuna

    kind = plan.options["sampler"]
    if kind == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=plan.seed % 2**32, warn_independent_sampling=False)
    if kind == "random":
        return optuna.samplers.RandomSampler(seed=plan.seed % 2**32)
    return optuna.samplers.TPESampler(
        seed=plan.seed % 2**32, multivariate=True, constant_liar=True, n_startup_trials=10
    )


def optimise(
    plan: CalibrationPlan, state: Path, ex, width: int, progress: bool, resumed: dict
) -> tuple[dict[str, float], pd.DataFrame, int]:
    """Run (or resume) the Optuna study; returns the best parameters, the trials table and
    the number of simulations run now."""
    import optuna
    from optuna.distributions import FloatDistribution
    from optuna.trial import TrialState

    storage = f"sqlite:///{state / 'optuna.db'}"
    study = optuna.create_study(
        study_name=plan.fingerprint[:16],
        storage=storage,
        sampler=_sampler(plan),
        direction="minimize",
        load_if_exists=True,
    )
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING)):
        study.tell(t.number, state=TrialState.FAIL)  # cut off by a kill: run again
    dists = {
        fp.key: FloatDistribution(fp.low, fp.high, log=fp.prior == "loguniform")
        for fp in plan.parameters
    }
    total = plan.options["trials"]
    done = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    resumed["trials"] = done
    bar = _bar(progress, total, f"{plan.name}: point estimate", "trial", min(done, total))
    runs = 0
    sim = plan.simulator
    try:
        while done < total:
            batch = [study.ask(dists) for _ in range(min(width, total - done))]
            if ex is None:
                results = [simulate(sim, dict(tr.params)) for tr in batch]
            else:
                futs = [ex.submit(simulate, sim, dict(tr.params)) for tr in batch]
                results = [f.result() for f in futs]
            for tr, stats in zip(batch, results, strict=True):
                d = plan.distance(stats)
                study.tell(tr, d if math.isfinite(d) else 1e12)
                runs += len(sim.seeds)
                done += 1
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(best=f"{study.best_value:.3g}")
    finally:
        if bar is not None:
            bar.close()
    rows = [
        {"trial": t.number, **t.params, "distance": t.value}
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    ]
    trials = pd.DataFrame(rows)
    return dict(study.best_params), trials, runs


# ---------------------------------------------------------------------- pyabc
def _abc_class():
    import pyabc

    class ProgressABCSMC(pyabc.ABCSMC):
        """pyabc's ABC-SMC, advancing a progress bar after each generation."""

        bar = None

        def run_generation(self, t: int) -> dict:
            ret = super().run_generation(t)
            if self.bar is not None and ret.get("successful", True):
                self.bar.update(1)
                self.bar.set_postfix(
                    eps=f"{self.eps(t):.3g}", accept=f"{ret.get('acceptance_rate', 0):.2f}"
                )
            return ret

    return ProgressABCSMC


class _AbcModel:
    """pyabc's model: parameter names p0, p1 … → the fitted statistics."""

    def __init__(self, plan: CalibrationPlan) -> None:
        self.sim = plan.simulator
        self.keys = [fp.key for fp in plan.parameters]
        self.mask = plan.fit_mask

    def __call__(self, par) -> dict:
        values = {k: float(par[f"p{i}"]) for i, k in enumerate(self.keys)}
        return {"s": simulate(self.sim, values)[self.mask]}


class _AbcDistance:
    def __init__(self, plan: CalibrationPlan) -> None:
        self.scale_w = plan._scale_w()

    def __call__(self, x: dict, x0: dict) -> float:
        from .core import distance

        return distance(x["s"], x0["s"], self.scale_w)


def _abc_smc(plan: CalibrationPlan, ex: Any, width: int) -> Any:
    """The pyabc ABC-SMC object of a plan: uniform or log-uniform priors over the free
    parameters, in this process or on ``ex`` (``width`` jobs at a time)."""
    import pyabc

    prior = pyabc.Distribution(
        **{
            f"p{i}": pyabc.RV("uniform", fp.low, fp.high - fp.low)
            if fp.prior == "uniform"
            else pyabc.RV("loguniform", fp.low, fp.high)
            for i, fp in enumerate(plan.parameters)
        }
    )
    if ex is None:
        sampler = pyabc.sampler.SingleCoreSampler()
    else:
        sampler = pyabc.sampler.ConcurrentFutureSampler(cfuture_executor=ex, client_max_jobs=width)
    return _abc_class()(
        _AbcModel(plan),
        prior,
        _AbcDistance(plan),
        population_size=plan.options["particles"],
        sampler=sampler,
    )


def _abc_tables(plan: CalibrationPlan, history: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The last population (parameters + normalised weight) and the generations table
    (``t``, ``epsilon``, ``samples``, ``acceptance``) of an ABC-SMC history."""
    df, w = history.get_distribution(m=0, t=history.max_t)
    post = pd.DataFrame(
        {fp.key: df[f"p{i}"].to_numpy(float) for i, fp in enumerate(plan.parameters)}
    )
    post["weight"] = np.asarray(w, float) / np.sum(w)
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    gens = pd.DataFrame(
        {
            "t": pops["t"].astype(int).to_numpy(),
            "epsilon": pops["epsilon"].to_numpy(float),
            "samples": pops["samples"].astype(int).to_numpy(),
            "acceptance": plan.options["particles"] / pops["samples"].to_numpy(float),
        }
    )
    return post, gens


def posterior(
    plan: CalibrationPlan, state: Path, ex, width: int, progress: bool, resumed: dict
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Run (or resume) ABC-SMC; returns the last population (parameters + weight), the
    generations table and the number of simulations run now."""
    import pyabc

    abc = _abc_smc(plan, ex, width)
    db_file = state / "abc.db"
    db = f"sqlite:///{db_file}"
    obs = {"s": plan.observed[plan.fit_mask]}
    loaded = False
    if db_file.exists():
        h = pyabc.History(db)
        if len(h.all_runs()) > 0:
            abc.load(db, 1)
            loaded = True
    if not loaded:
        np.random.seed(plan.seed % 2**32)  # noqa: NPY002 (pyabc draws from the global generator)
        abc.new(db, obs)
    history = abc.history
    target = plan.options["populations"]
    start = history.max_t + 1
    resumed["generations"] = start
    before = int(history.total_nr_simulations) if start > 0 else 0
    last = history.get_all_populations()
    if start > 0 and float(last["epsilon"].iloc[-1]) <= plan.options["min_epsilon"]:
        start = target  # finished before: min_epsilon reached
    if start < target:
        abc.bar = _bar(progress, target, f"{plan.name}: posterior (ABC-SMC)", "generation", start)
        try:
            abc.run(minimum_epsilon=plan.options["min_epsilon"], max_nr_populations=target - start)
        finally:
            if abc.bar is not None:
                abc.bar.close()
    runs = (int(history.total_nr_simulations) - before) * len(plan.simulator.seeds)
    post, gens = _abc_tables(plan, history)
    return post, gens, runs


# ---------------------------------------------------------------------- summaries
def _wquantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    o = np.argsort(x)
    x, w = x[o], w[o]
    c = np.cumsum(w) - 0.5 * w
    return float(np.interp(q, c / w.sum(), x))


def identifiability(plan: CalibrationPlan, post: pd.DataFrame) -> list[str]:
    """Warnings: a parameter whose posterior 90% interval covers more than :data:`WIDE`
    of its prior's 90% interval (in the prior's scale), and a pair of parameters whose
    posterior correlation (in the prior's scale) is beyond ± :data:`CORRELATED`."""
    out: list[str] = []
    if post.empty:
        return out
    w = post["weight"].to_numpy(float)
    unit = {fp.key: fp.to_unit(post[fp.key].to_numpy(float)) for fp in plan.parameters}
    for fp in plan.parameters:
        u = unit[fp.key]
        width = (_wquantile(u, w, 0.95) - _wquantile(u, w, 0.05)) / 0.9
        if width > WIDE:
            out.append(
                f"{fp.key}: not identified by these targets — its 90% posterior interval "
                f"covers {width:.0%} of the prior's"
            )
    keys = [fp.key for fp in plan.parameters]
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            r = _wcorr(unit[a], unit[b], w)
            if abs(r) > CORRELATED:
                out.append(
                    f"{a} and {b}: strongly correlated in the posterior (r = {r:+.2f}); the "
                    "targets pin down a combination of the two, not each"
                )
    return out


def _wcorr(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> float:
    ma, mb = np.average(a, weights=w), np.average(b, weights=w)
    cov = np.average((a - ma) * (b - mb), weights=w)
    va, vb = np.average((a - ma) ** 2, weights=w), np.average((b - mb) ** 2, weights=w)
    return float(cov / math.sqrt(va * vb)) if va > 0 and vb > 0 else 0.0


def parameter_table(
    plan: CalibrationPlan, point: dict[str, float], post: pd.DataFrame
) -> pd.DataFrame:
    rows = []
    for fp in plan.parameters:
        r: dict[str, Any] = {
            "parameter": fp.key,
            "min": fp.low,
            "max": fp.high,
            "prior": fp.prior,
            "point_estimate": point.get(fp.key, math.nan),
        }
        if not post.empty:
            x, w = post[fp.key].to_numpy(float), post["weight"].to_numpy(float)
            m = float(np.average(x, weights=w))
            r.update(
                posterior_mean=m,
                posterior_sd=float(math.sqrt(np.average((x - m) ** 2, weights=w))),
                q05=_wquantile(x, w, 0.05),
                q95=_wquantile(x, w, 0.95),
            )
        else:
            r.update(posterior_mean=math.nan, posterior_sd=math.nan, q05=math.nan, q95=math.nan)
        rows.append(r)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------- fit
def _state_folder(plan: CalibrationPlan, root: Path) -> Path:
    """The folder of the libraries' state for this plan (created, with a README)."""
    state = root / f"state-{plan.fingerprint[:12]}"
    state.mkdir(parents=True, exist_ok=True)
    (state / "README.txt").write_text(
        "Optuna study (optuna.db) and pyabc history (abc.db) of one calibration; the same "
        "calibration run again resumes from them. Safe to delete.\n"
    )
    return state


def _predictive(
    plan: CalibrationPlan, ex: Any, point: dict[str, float], post: pd.DataFrame
) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
    """The posterior-predictive runs: the point estimate with the fit's seeds, then
    ``draws`` parameter sets (from the posterior, else the point) each on a fresh seed.

    Returns ``(at_point, draws, predicted)``: the point estimate's simulated targets, the
    drawn parameter sets and their simulated targets (one row per draw)."""
    sim = plan.simulator
    at_point = simulate(sim, point)
    D = plan.options["draws"]
    rng = np.random.default_rng(np.random.SeedSequence(plan.seed, spawn_key=(7,)))
    if not post.empty:
        idx = rng.choice(len(post), size=D, p=post["weight"].to_numpy(float))
        draws = post.iloc[idx][[fp.key for fp in plan.parameters]].reset_index(drop=True)
    else:
        draws = pd.DataFrame([point] * D)
    seeds = [replication_seed(plan.seed, 1, i, common=False) for i in range(D)]
    vals = [dict(r) for r in draws.to_dict("records")]
    if ex is None:
        pred = [simulate_each(sim, v, [s])[0] for v, s in zip(vals, seeds, strict=True)]
    else:
        futs = [ex.submit(simulate_each, sim, v, [s]) for v, s in zip(vals, seeds, strict=True)]
        pred = [f.result()[0] for f in futs]
    return at_point, draws, np.vstack(pred)


def _fit_table(plan: CalibrationPlan, at_point: np.ndarray, pred: np.ndarray) -> pd.DataFrame:
    """Targets against the point estimate and the predictive median and 90% band."""
    t = plan.targets
    fit_tab = t[["kpi", "firm", "period", "value", "se", "weight", "scale", "used"]].copy()
    fit_tab = fit_tab.rename(columns={"value": "observed"})
    fit_tab["point_estimate"] = at_point
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fit_tab["median"] = np.nanmedian(pred, axis=0)
        fit_tab["q05"] = np.nanquantile(pred, 0.05, axis=0)
        fit_tab["q95"] = np.nanquantile(pred, 0.95, axis=0)
    fit_tab["inside"] = (fit_tab["observed"] >= fit_tab["q05"]) & (
        fit_tab["observed"] <= fit_tab["q95"]
    )
    return fit_tab


def fit(plan: CalibrationPlan, root: Path, executor: Any = None, *, progress: bool = True):
    """Run the plan's method(s), then the predictive draws; return a
    :class:`CalibrationResult` (nothing but the libraries' state is written here)."""
    import time

    _quiet()
    state = _state_folder(plan, root)
    point: dict[str, float] = {}
    trials = pd.DataFrame()
    post = pd.DataFrame()
    gens = pd.DataFrame()
    runs = 0
    resumed: dict[str, int] = {}
    wall: dict[str, float] = {}
    with _executor(executor) as (ex, width):
        width = max(1, width // 2) if ex is not None else 1
        if plan.method in ("optimize", "both"):
            t0 = time.perf_counter()
            point, trials, n = optimise(plan, state, ex, width, progress, resumed)
            runs += n
            wall["point_estimate"] = time.perf_counter() - t0
        if plan.method in ("abc", "both"):
            t0 = time.perf_counter()
            post, gens, n = posterior(plan, state, ex, 2 * width, progress, resumed)
            runs += n
            wall["posterior"] = time.perf_counter() - t0
        if not point:
            w = post["weight"].to_numpy(float)
            point = {fp.key: float(np.average(post[fp.key], weights=w)) for fp in plan.parameters}
        t0 = time.perf_counter()
        at_point, draws, pred_arr = _predictive(plan, ex, point, post)
        runs += len(plan.simulator.seeds) + len(draws)
        wall["predictive"] = time.perf_counter() - t0
    fit_tab = _fit_table(plan, at_point, pred_arr)
    check = fit_tab[~fit_tab["used"]].reset_index(drop=True)
    return CalibrationResult(
        point=point,
        parameters=parameter_table(plan, point, post),
        posterior=post,
        trials=trials,
        generations=gens,
        fit=fit_tab,
        predictive_check=check,
        predictive=pred_arr,
        draws=draws,
        warnings=identifiability(plan, post),
        runs=runs,
        resumed=resumed,
        wall_seconds=wall,
    )
