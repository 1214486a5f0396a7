"""A calibration: a base scenario, observed targets, free parameters, a method and a budget.

:class:`Calibration` only stores its arguments. :meth:`Calibration.plan` resolves and
validates everything (the scenario, every target against it, every parameter range
against the parameter's allowed range, the set-up's identifiability) without running or
writing anything. :meth:`Calibration.run` then fits (see :mod:`sim.calibration.fit`).

Every candidate parameter vector is run ``replications`` times with the same seeds
(common random numbers: two candidates differ by their parameters, not their luck), and
the candidate's statistics are the means over its replications. Calibration runs record
no event log (unless a target moment needs it) and no panel, and build no plots: only
the firm and market tables that the targets read.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.sweep import _set_path, replication_seed
from sim.model import MarketModel
from sim.params import ModelParams
from sim.scenario import Scenario, ScenarioError, apply_override, load_scenario, parse_scenario

from .targets import CalibrationError, Extraction, check_targets, target_scale

__all__ = ["Calibration", "CalibrationPlan", "FreeParameter", "Simulator", "METHODS", "PRIORS"]

METHODS = ("optimize", "abc", "both")
PRIORS = ("uniform", "loguniform")
SAMPLERS = ("tpe", "cmaes", "random")


@dataclass(frozen=True)
class FreeParameter:
    """A scenario key the calibration varies, with its range (the prior's support).

    Args:
        key: a scenario key path, as for ``sim run --set`` (``firms.B.price``).
        low: lower end of the range.
        high: upper end (> low).
        prior: ``"uniform"`` or ``"loguniform"`` (needs low > 0).
    """

    key: str
    low: float
    high: float
    prior: str = "uniform"

    def to_unit(self, x: np.ndarray | float) -> np.ndarray:
        """Position in the range in the prior's scale (0 = low, 1 = high)."""
        x = np.asarray(x, float)
        if self.prior == "loguniform":
            return (np.log(x) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (x - self.low) / (self.high - self.low)


@dataclass
class Simulator:
    """Runs a candidate: the base scenario with the free parameters set, ``len(seeds)``
    replications, each target's statistic averaged over them (picklable: it is sent to
    worker processes and Dask workers).

    Attributes:
        base_data: the base scenario as a TOML dict (overrides applied).
        base_dir: folder for relative paths in the scenario (network files).
        source: named in errors.
        keys: the free parameters' key paths.
        seeds: one seed per replication (common random numbers).
        extraction: which statistics to read.
    """

    base_data: dict
    base_dir: Path | None
    source: str
    keys: tuple[str, ...]
    seeds: tuple[int, ...]
    extraction: Extraction

    def params(self, values: Mapping[str, float]) -> ModelParams:
        """Validated model parameters of a candidate (event log only if a moment needs it,
        no panel)."""
        data = copy.deepcopy(self.base_data)
        for k in self.keys:
            _set_path(data, k, float(values[k]), self.source)
        p = parse_scenario(data, source=self.source, base_dir=self.base_dir).params
        p.record_events = self.extraction.needs_events
        p.panel_size = 0
        return p

    def run(self, values: Mapping[str, float], seeds: Sequence[int] | None = None) -> np.ndarray:
        """Statistics of a candidate: the means over its replications (``seeds``, default
        the calibration's)."""
        return np.nanmean(self.each(values, seeds), axis=0)

    def each(self, values: Mapping[str, float], seeds: Sequence[int] | None = None) -> np.ndarray:
        """Statistics of each replication (replications × targets)."""
        p = self.params(values)
        out = []
        for s in self.seeds if seeds is None else seeds:
            m = MarketModel(p, seed=int(s))
            m.run()
            out.append(self.extraction(m))
        return np.vstack(out)


def simulate(sim: Simulator, values: dict[str, float]) -> np.ndarray:
    """Module-level entry point for executors: ``sim.run(values)``."""
    return sim.run(values)


def simulate_each(sim: Simulator, values: dict[str, float], seeds: list[int]) -> np.ndarray:
    """Module-level entry point for executors: ``sim.each(values, seeds)``."""
    return sim.each(values, seeds)


def _check_free_parameter(fp: FreeParameter, data: dict, base_dir: Any, src: str) -> None:
    """A free parameter must be real-valued, with both ends and its middle valid in the
    base scenario, and belong to a mechanism that is switched on.

    Raises:
        CalibrationError: one line naming the file, the key path, the value and what is
            allowed.
    """
    path = f"parameters.{fp.key}"
    for end, v in (("min", fp.low), ("max", fp.high), ("", 0.5 * (fp.low + fp.high))):
        d = copy.deepcopy(data)
        try:
            _set_path(d, fp.key, float(v), src)
            parse_scenario(d, source=src, base_dir=base_dir)
        except ScenarioError as exc:
            if "integer" in exc.allowed or "true or false" in exc.allowed:
                raise CalibrationError(
                    src, path, fp.key, "calibration varies real-valued parameters only"
                ) from None
            if exc.key == fp.key or exc.key.endswith(fp.key.split(".")[-1]):
                raise CalibrationError(
                    src,
                    f"{path}.{end}" if end else path,
                    v,
                    f"outside the parameter's allowed range ({exc.allowed})",
                ) from None
            raise CalibrationError(src, path, fp.key, str(exc)) from None
    section, _, leaf = fp.key.rpartition(".")
    node: Any = data.get(section.split(".")[0]) if section else None
    if (
        isinstance(node, dict)
        and "." not in section
        and node.get("enabled") is False
        and leaf != "enabled"
    ):
        raise CalibrationError(
            src,
            path,
            fp.key,
            f"not identifiable: the mechanism is switched off ({section}.enabled = false)",
        )


@dataclass
class CalibrationPlan:
    """A resolved, validated calibration (what :meth:`Calibration.plan` returns)."""

    name: str
    source: str
    base: Scenario
    parameters: list[FreeParameter]
    targets: pd.DataFrame  # check_targets columns + used, scale
    simulator: Simulator
    seed: int
    method: str
    options: dict[str, Any]
    fingerprint: str = field(default="")

    @property
    def fit_mask(self) -> np.ndarray:
        return self.targets["used"].to_numpy(bool)

    @property
    def observed(self) -> np.ndarray:
        return self.targets["value"].to_numpy(float)

    def distance(self, stats: np.ndarray) -> float:
        """Weighted root-mean-square standardised miss over the fitted targets (inf when a
        statistic is NaN)."""
        return distance(stats[self.fit_mask], self.observed[self.fit_mask], self._scale_w())

    def _scale_w(self) -> tuple[np.ndarray, np.ndarray]:
        t = self.targets[self.targets["used"]]
        return t["scale"].to_numpy(float), t["weight"].to_numpy(float)


def distance(x: np.ndarray, x0: np.ndarray, scale_w: tuple[np.ndarray, np.ndarray]) -> float:
    """``sqrt(Σ w ((x − x0)/scale)² / Σ w)``; inf when any x is NaN."""
    scale, w = scale_w
    z = (np.asarray(x, float) - x0) / scale
    if not np.isfinite(z).all():
        return math.inf
    return float(np.sqrt(np.sum(w * z * z) / np.sum(w)))


class Calibration:
    """Fit free scenario parameters to observed targets.

    Args:
        scenario: the base scenario: a file path, a :class:`~sim.scenario.Scenario` or a
            :class:`~sim.params.ModelParams`.
        targets: the observed targets (a DataFrame or a CSV path; see
            :mod:`sim.calibration.targets`).
        parameters: ``{key path: (low, high)}`` or ``{key path: (low, high, prior)}`` or
            a list of :class:`FreeParameter`.
        holdout: KPIs (or moments) of the target table kept out of the fit and used for
            the posterior-predictive check.
        method: ``"optimize"`` (Optuna point estimate), ``"abc"`` (pyabc ABC-SMC posterior)
            or ``"both"``.
        replications: runs per candidate (common random numbers).
        seed: root seed (default: the scenario's).
        trials: Optuna trials.
        sampler: Optuna sampler, ``"tpe"``, ``"cmaes"`` or ``"random"``.
        particles: ABC population size.
        populations: ABC generations (the budget; fewer when ``min_epsilon`` is reached).
        min_epsilon: stop ABC once the acceptance threshold is below this.
        draws: posterior-predictive draws (runs) for the bands and the held-out check.
        overrides: ``key.path=value`` strings applied to the base scenario first.
        name: the calibration's name (default: the scenario's name + ``-calibration``).
        source: where the calibration came from (named in errors).
        targets_source: where the target rows came from (named in errors).

    Examples:
        >>> from sim.calibration import Calibration
        >>> cal = Calibration("scenarios/baseline.toml", "calibrations/example_observed.csv",
        ...                   {"firms.B.price": (0.8, 1.2)}, method="optimize", trials=30,
        ...                   overrides=["market.n_customers=1000", "market.periods=24"])
        >>> result = cal.run("results/calibrations")            # doctest: +SKIP
        >>> result.parameters                                    # doctest: +SKIP
    """

    def __init__(
        self,
        scenario: str | Path | Scenario | ModelParams,
        targets: pd.DataFrame | str | Path,
        parameters: Mapping[str, Sequence] | Sequence[FreeParameter],
        *,
        holdout: Sequence[str] = (),
        method: str = "both",
        replications: int = 1,
        seed: int | None = None,
        trials: int = 100,
        sampler: str = "tpe",
        particles: int = 100,
        populations: int = 6,
        min_epsilon: float = 0.0,
        draws: int = 20,
        overrides: Sequence[str] = (),
        name: str | None = None,
        source: str = "",
        targets_source: str = "",
    ) -> None:
        self.scenario = scenario
        self.targets = targets
        self.parameters = parameters
        self.holdout = holdout
        self.method = method
        self.replications = replications
        self.seed = seed
        self.trials = trials
        self.sampler = sampler
        self.particles = particles
        self.populations = populations
        self.min_epsilon = min_epsilon
        self.draws = draws
        self.overrides = overrides
        self.name = name
        self.source = source
        self.targets_source = targets_source

    # ------------------------------------------------------------------ resolve
    def _base(self) -> tuple[Scenario, dict, Path | None]:
        sc = self.scenario
        src = self.source or "calibration"
        if isinstance(sc, (str, Path)):
            base = load_scenario(sc, list(self.overrides))
            return base, copy.deepcopy(base.raw), Path(sc).parent
        if isinstance(sc, ModelParams):
            sc = Scenario(name="params", params=sc)
        if not isinstance(sc, Scenario):
            raise CalibrationError(
                src, "scenario", type(sc).__name__, "a scenario file, a Scenario or ModelParams"
            )
        from sim.scenario import scenario_to_dict

        data = copy.deepcopy(sc.raw) if sc.raw else scenario_to_dict(sc)
        base_dir = Path(sc.source).parent if sc.source else None
        for ov in self.overrides:
            apply_override(data, ov, source=f"{src} (set)")
        return parse_scenario(data, source=sc.source or src, base_dir=base_dir), data, base_dir

    def _free(self, src: str) -> list[FreeParameter]:
        ps = self.parameters
        if isinstance(ps, Mapping):
            out = []
            for k, v in ps.items():
                if isinstance(v, FreeParameter):
                    out.append(v)
                    continue
                if (
                    isinstance(v, (str, bytes))
                    or not isinstance(v, Sequence)
                    or len(v) not in (2, 3)
                ):
                    raise CalibrationError(
                        src, f"parameters.{k}", v, "a range (low, high) or (low, high, prior)"
                    )
                out.append(FreeParameter(k, *v))
            ps = out
        ps = list(ps or [])
        if not ps:
            raise CalibrationError(src, "parameters", None, "name at least one free parameter")
        seen = set()
        for fp in ps:
            path = f"parameters.{fp.key}"
            if fp.key in seen:
                raise CalibrationError(src, path, fp.key, "listed twice")
            seen.add(fp.key)
            for end, v in (("min", fp.low), ("max", fp.high)):
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                    raise CalibrationError(src, f"{path}.{end}", v, "must be a finite number")
            if not fp.high > fp.low:
                raise CalibrationError(
                    src,
                    f"{path}.max",
                    fp.high,
                    f"must be > min = {fp.low} (a parameter with an empty range is not free)",
                )
            if fp.prior not in PRIORS:
                raise CalibrationError(
                    src, f"{path}.prior", fp.prior, "allowed: " + ", ".join(PRIORS)
                )
            if fp.prior == "loguniform" and fp.low <= 0:
                raise CalibrationError(
                    src, f"{path}.min", fp.low, "a loguniform prior needs min > 0"
                )
        return ps

    def plan(self) -> CalibrationPlan:
        """Resolve and validate the calibration; run and write nothing.

        Returns:
            the :class:`CalibrationPlan`.

        Raises:
            CalibrationError / ScenarioError: one line naming the file, the key path, the
                value and what is allowed.
        """
        src = self.source or "calibration"
        base, data, base_dir = self._base()
        free = self._free(src)
        for fp in free:
            _check_free_parameter(fp, data, base_dir, src)
        seed = self._check_options(src, base)
        firms = [f.name for f in base.params.firms]
        t, tsrc, hold = self._targets_table(src, firms, int(base.params.market.periods))
        n_fit = int(t["used"].sum())
        if n_fit < len(free):
            raise CalibrationError(
                tsrc,
                "targets",
                n_fit,
                f"not identifiable: {len(free)} free parameters need at least as many "
                f"fitted target values ({n_fit} after hold-out and zero weights)",
            )
        name = self.name or f"{base.name}-calibration"
        seeds = tuple(replication_seed(seed, 0, r) for r in range(self.replications))
        sim = Simulator(
            data,
            base_dir,
            base.source or src,
            tuple(fp.key for fp in free),
            seeds,
            Extraction.of(t, firms),
        )
        options = {
            "replications": self.replications,
            "trials": self.trials,
            "sampler": self.sampler,
            "particles": self.particles,
            "populations": self.populations,
            "min_epsilon": float(self.min_epsilon),
            "draws": self.draws,
            "holdout": hold,
        }
        plan = CalibrationPlan(name, src, base, free, t, sim, seed, self.method, options)
        ident = {
            "base": base.digest(),
            "targets": t.drop(columns=["scale"]).to_dict("list"),
            "parameters": [[fp.key, fp.low, fp.high, fp.prior] for fp in free],
            "seed": seed,
            **{k: options[k] for k in ("replications", "sampler", "particles", "min_epsilon")},
        }
        plan.fingerprint = hashlib.sha256(
            json.dumps(ident, sort_keys=True, default=str).encode()
        ).hexdigest()
        return plan

    def _check_options(self, src: str, base: Scenario) -> int:
        """Check the method, sampler and budgets; return the calibration's seed.

        Raises:
            CalibrationError: one line naming the key, the value and what is allowed.
        """
        for k, v, what in (
            ("method", self.method, METHODS),
            ("optimizer.sampler", self.sampler, SAMPLERS),
        ):
            if v not in what:
                raise CalibrationError(src, k, v, "allowed: " + ", ".join(what))
        for k, v, lo, hi in (
            ("calibration.replications", self.replications, 1, 1000),
            ("optimizer.trials", self.trials, 1, 10**6),
            ("abc.particles", self.particles, 5, 10**6),
            ("abc.populations", self.populations, 1, 1000),
            ("predictive.draws", self.draws, 2, 10**5),
        ):
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise CalibrationError(src, k, v, f"must be an integer in [{lo}, {hi}]")
        me = self.min_epsilon
        if isinstance(me, bool) or not isinstance(me, (int, float)) or not me >= 0:
            raise CalibrationError(src, "abc.min_epsilon", me, "must be a number ≥ 0")
        seed = base.seed if self.seed is None else self.seed
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
            raise CalibrationError(src, "calibration.seed", seed, "must be a non-negative integer")
        return seed

    def _targets_table(self, src: str, firms: list[str], T: int):
        """The checked target table with ``used`` and ``scale`` columns, the name of its
        source and the held-out KPIs.

        Raises:
            CalibrationError: a bad target table or a hold-out KPI it does not have.
        """
        tsrc = self.targets_source or src
        if isinstance(self.targets, (str, Path)):
            from .targets import read_targets

            tsrc = self.targets_source or str(self.targets)
            raw = read_targets(self.targets, tsrc)
        else:
            raw = self.targets
        t = check_targets(raw, firms, T, tsrc)
        hold = list(self.holdout)
        for h in hold:
            if h not in set(t["kpi"]):
                raise CalibrationError(
                    src,
                    "targets.holdout",
                    h,
                    "not a KPI of the target table: " + ", ".join(dict.fromkeys(t["kpi"])),
                )
        t["used"] = ~t["kpi"].isin(hold) & (t["weight"] > 0)
        t["scale"] = target_scale(t)
        return t, tsrc, hold

    def run(
        self,
        out: str | Path = "results/calibrations",
        executor: Any = None,
        *,
        progress: bool = True,
        plots: bool = True,
        plan: CalibrationPlan | None = None,
    ):
        """Fit, then write the run folder ``out/<name>/<stamp>/`` atomically.

        The libraries' state (Optuna's study, pyabc's history, in SQLite) lives in
        ``out/<name>/state-<fingerprint>/``: the same calibration run again resumes from it.

        Args:
            out: the root folder of calibration outputs.
            executor: ``None`` (in this process), a number of local worker processes, a
                ``concurrent.futures.Executor`` or a ``dask.distributed.Client``.
            progress: progress bars on stderr.
            plots: write the PNG plots.
            plan: a plan from :meth:`plan` (resolved again when omitted).

        Returns:
            the :class:`~sim.calibration.fit.CalibrationResult` (with ``.folder`` set).
        """
        from .fit import fit
        from .report import write_outputs

        plan = plan or self.plan()
        result = fit(plan, Path(out) / plan.name, executor, progress=progress)
        result.folder = write_outputs(plan, result, Path(out) / plan.name, plots=plots)
        return result
