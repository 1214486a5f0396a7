"""Reading a sweep store: tidy tables, confidence intervals, Sobol' indices, plots."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .design import SweepError
from .indicators import summarise_periods
from .store import Store

__all__ = ["ResultSet", "mean_ci"]


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[int, float, float, float, float]:
    """``(n, mean, sd, ci_low, ci_high)`` of the non-NaN values: Student-t interval
    ``mean ± t_{(1+level)/2, n-1} · sd / √n`` (NaN bounds when n < 2)."""
    from scipy.special import stdtrit

    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        return 0, np.nan, np.nan, np.nan, np.nan
    mean = float(x.mean())
    if n < 2:
        return 1, mean, np.nan, np.nan, np.nan
    sd = float(x.std(ddof=1))
    half = float(stdtrit(n - 1, (1 + level) / 2)) * sd / np.sqrt(n)
    return n, mean, sd, mean - half, mean + half


class ResultSet:
    """The results of a sweep, read from its store (a folder written by
    :meth:`Sweep.run` or ``sim sweep``; it may be incomplete while a sweep runs).

    Tables (pandas, tidy: one row per observation, documented columns):

    - :attr:`design`: ``point`` and one column per parameter (the key path).
    - :attr:`periods`: ``point, replication, seed, <parameters>, period, firm, <indicators>``;
      one row per run, period and firm, plus ``firm = "market"`` rows.
    - :attr:`summary`: the same per run and firm, each indicator averaged over the
      summary window (the sweep's ``window``; default every period 1…T).

    Args:
        store: the store folder.
    """

    def __init__(self, store: str | Path) -> None:
        self.store = Store(store)
        m = self.store.read_manifest()
        if m is None:
            raise SweepError(
                str(self.store.path),
                "",
                None,
                "not a sweep store (no manifest.json); sweeps are made by 'sim sweep'",
            )
        self.manifest = m
        self._periods: pd.DataFrame | None = None
        self._summary: pd.DataFrame | None = None

    # ------------------------------------------------------------------ facts
    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def name(self) -> str:
        return self.manifest["name"]

    @property
    def parameters(self) -> list[str]:
        return list(self.manifest["parameters"])

    @property
    def indicators(self) -> list[str]:
        return list(self.manifest["indicators"])

    @property
    def replications(self) -> int:
        return int(self.manifest["replications"])

    @property
    def n_runs(self) -> int:
        return len(self.manifest["points"]) * self.replications

    @property
    def firms(self) -> list[str]:
        """Firm names of the base scenario, then ``"market"``."""
        return [*self.manifest["firms"], "market"]

    @property
    def design(self) -> pd.DataFrame:
        """One row per design point: ``point`` and the parameter columns."""
        pts = self.manifest["points"]
        cols = {k: [p[i] for p in pts] for i, k in enumerate(self.parameters)}
        return pd.DataFrame({"point": np.arange(len(pts)), **cols})

    def missing(self) -> list[tuple[int, int]]:
        """``(point, replication)`` keys not stored yet."""
        done = self.store.done()
        return [
            (p, r)
            for p in range(len(self.manifest["points"]))
            for r in range(self.replications)
            if (p, r) not in done
        ]

    @property
    def complete(self) -> bool:
        return not self.missing()

    def reload(self) -> ResultSet:
        """Forget cached tables (read the store again on next access)."""
        self._periods = self._summary = None
        return self

    def __repr__(self) -> str:
        done = self.n_runs - len(self.missing())
        return f"ResultSet({self.name!r}: {done}/{self.n_runs} runs, {self.path})"

    # ------------------------------------------------------------------ tables
    @property
    def periods(self) -> pd.DataFrame:
        """Per-period rows of every stored run (see the class docstring)."""
        if self.manifest["record"] != "periods":
            raise ValueError(
                f"{self.path}: this sweep recorded summaries only (record = 'summary'); use .summary"
            )
        if self._periods is None:
            self._periods = self._sorted(self.store.read(self.manifest))
        return self._periods

    @property
    def summary(self) -> pd.DataFrame:
        """One row per run and firm: each indicator averaged over the summary window."""
        if self._summary is None:
            if self.manifest["record"] == "periods":
                self._summary = summarise_periods(
                    self.periods, self.indicators, self.manifest["window"]
                )
            else:
                self._summary = self._sorted(self.store.read(self.manifest))
        return self._summary

    @staticmethod
    def _sorted(df: pd.DataFrame) -> pd.DataFrame:
        return df.sort_values(["point", "replication"], kind="stable").reset_index(drop=True)

    def _check(
        self,
        indicator: str | None = None,
        firms: Sequence[str] | None = None,
        parameters: Sequence[str] | None = None,
    ) -> None:
        if indicator is not None and indicator not in self.indicators:
            raise ValueError(
                f"indicator {indicator!r}: not recorded by this sweep; recorded: "
                + ", ".join(self.indicators)
            )
        for f in firms or ():
            if f not in self.firms:
                raise ValueError(f"firm {f!r}: not in this sweep; firms: " + ", ".join(self.firms))
        for p in parameters or ():
            if p not in self.parameters:
                raise ValueError(
                    f"parameter {p!r}: not varied by this sweep; parameters: "
                    + ", ".join(self.parameters)
                )

    # ------------------------------------------------------------------ summaries
    def ci(
        self,
        indicator: str | Sequence[str] | None = None,
        firm: str | Sequence[str] | None = None,
        by: Sequence[str] | None = None,
        level: float = 0.95,
    ) -> pd.DataFrame:
        """Mean and confidence interval over replications, per design point and firm.

        Args:
            indicator: one name, several, or None for every indicator.
            firm: one firm (or ``"market"``), several, or None for all.
            by: group by these parameters instead of by design point (pooling the runs of
                every other parameter value): the marginal effect.
            level: confidence level of the Student-t interval.

        Returns:
            long table: the group columns (``point`` and the parameters, or ``by``),
            ``firm, indicator, n, mean, sd, ci_low, ci_high`` (NaN-valued combinations,
            such as ``share`` of the market, are left out).
        """
        inds = (
            self.indicators
            if indicator is None
            else [indicator]
            if isinstance(indicator, str)
            else list(indicator)
        )
        firms = None if firm is None else [firm] if isinstance(firm, str) else list(firm)
        for i in inds:
            self._check(i)
        self._check(firms=firms, parameters=by)
        s = self.summary
        if firms is not None:
            s = s[s["firm"].isin(firms)]
        group = ["point", *self.parameters] if by is None else list(by)
        long = s.melt(
            id_vars=[*group, "firm"], value_vars=inds, var_name="indicator", value_name="value"
        )
        long = long.dropna(subset=["value"])
        from scipy.special import stdtrit

        g = long.groupby([*group, "firm", "indicator"], sort=False)["value"]
        out = g.agg(n="count", mean="mean", sd="std").reset_index()
        n = out["n"].to_numpy(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(n > 1, stdtrit(np.maximum(n - 1, 1), (1 + level) / 2), np.nan)
            half = t * out["sd"].to_numpy(float) / np.sqrt(n)
        out["sd"] = out["sd"].where(n > 1)
        out["ci_low"] = out["mean"] - half
        out["ci_high"] = out["mean"] + half
        order = {f: i for i, f in enumerate(self.firms)}
        out["_f"] = out["firm"].map(order)
        out["_i"] = out["indicator"].map({k: i for i, k in enumerate(inds)})
        out = out.sort_values(["_i", *group, "_f"], kind="stable").drop(columns=["_f", "_i"])
        return out.reset_index(drop=True)

    def sobol(
        self,
        indicator: str,
        firm: str = "market",
        *,
        level: float = 0.95,
        num_resamples: int = 1000,
    ) -> pd.DataFrame:
        """First-order (S1) and total-order (ST) Sobol' indices of one indicator of one
        firm (or the market), from a Saltelli design (SALib's estimators; the output of a
        design point is its mean over replications).

        Returns:
            one row per parameter: ``parameter, S1, S1_conf, ST, ST_conf`` (``_conf`` =
            half-width of the bootstrap confidence interval at ``level``). With
            second-order indices, ``result.attrs["S2"]`` holds their matrix.

        Raises:
            ValueError: not a Saltelli design; runs missing; the indicator is NaN at some
                design point or does not vary at all.
        """
        Y = self._sobol_outputs(indicator, firm)
        design = self.manifest["design"]
        from SALib.analyze import sobol

        names = self.parameters
        problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
        second = bool(design.get("second_order", False))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            Si = sobol.analyze(
                problem,
                Y,
                calc_second_order=second,
                num_resamples=num_resamples,
                conf_level=level,
                seed=int(self.manifest["seed"]),
            )
        out = pd.DataFrame(
            {
                "parameter": names,
                "S1": Si["S1"],
                "S1_conf": Si["S1_conf"],
                "ST": Si["ST"],
                "ST_conf": Si["ST_conf"],
            }
        )
        out.attrs.update(indicator=indicator, firm=firm, level=level, n_points=len(Y))
        if second:
            out.attrs["S2"] = pd.DataFrame(Si["S2"], index=names, columns=names)
        return out

    def _sobol_outputs(self, indicator: str, firm: str) -> np.ndarray:
        """The output of every design point (mean over replications) for Sobol' indices.

        Raises:
            ValueError: not a Saltelli design; runs missing; NaN at some design point or
                no variation at all.
        """
        self._check(indicator, [firm])
        design = self.manifest["design"]
        if design.get("method") != "saltelli":
            raise ValueError(
                f"Sobol' indices need a Saltelli design (design.method = 'saltelli'); "
                f"this sweep's design is {design.get('method')!r}"
            )
        miss = self.missing()
        if miss:
            raise ValueError(
                f"{self.path}: {len(miss)} of {self.n_runs} runs are missing; run the sweep again to finish it"
            )
        s = self.summary
        s = s[s["firm"] == firm]
        y = s.groupby("point")[indicator].mean().reindex(range(len(self.manifest["points"])))
        if y.isna().any():
            raise ValueError(
                f"{indicator} of {firm} is undefined (NaN) at {int(y.isna().sum())} design points; "
                "choose another indicator or firm"
            )
        Y = y.to_numpy(dtype=float)
        if np.ptp(Y) == 0:
            raise ValueError(
                f"{indicator} of {firm} does not vary across the design: Sobol' indices are undefined"
            )
        return Y

    # ------------------------------------------------------------------ plots
    def _default_firms(self, indicator: str) -> list[str]:
        s = self.summary
        has = s.groupby("firm", sort=False)[indicator].apply(lambda v: v.notna().any())
        firms = [f for f in self.manifest["firms"] if has.get(f, False)]
        return firms or (["market"] if has.get("market", False) else [])

    def plot(
        self,
        indicator: str,
        parameter: str | None = None,
        firm: str | Sequence[str] | None = None,
        *,
        ax: Any = None,
        level: float = 0.95,
    ) -> Any:
        """The indicator against a parameter: mean over runs with its confidence band (grid
        and list designs; other parameters pooled), or one dot per design point (mean over
        replications) for sampled designs.

        Args:
            indicator: an indicator of the sweep.
            parameter: the x axis (default: the first parameter).
            firm: one firm, several, or None (every firm that has the indicator; the
                market if only it has).
            ax: a matplotlib Axes to draw on (default: a new figure).
            level: confidence level of the band.

        Returns:
            the matplotlib Axes.
        """
        import matplotlib.pyplot as plt

        parameter = parameter or self.parameters[0]
        self._check(indicator, None, [parameter])
        firms = (
            self._default_firms(indicator)
            if firm is None
            else [firm]
            if isinstance(firm, str)
            else list(firm)
        )
        self._check(None, firms)
        if ax is None:
            _, ax = plt.subplots(figsize=(6.4, 4.0))
        if self.manifest["design"].get("method") in ("lhs", "saltelli"):
            self._plot_points(ax, indicator, parameter, firms)
        else:
            self._plot_bands(ax, indicator, parameter, firms, level)
        ax.set_xlabel(parameter)
        ax.set_ylabel(indicator)
        ax.legend(title="firm", fontsize="small")
        return ax

    def _plot_points(self, ax: Any, indicator: str, parameter: str, firms: list[str]) -> None:
        """Sampled designs: one dot per design point (mean over replications) per firm."""
        s = self.summary
        for f in firms:
            g = (
                s[s["firm"] == f]
                .groupby("point")
                .agg(x=(parameter, "first"), y=(indicator, "mean"))
            )
            ax.scatter(g["x"], g["y"], s=12, alpha=0.6, label=f)
        ax.set_title(
            f"{indicator}: one dot per design point (mean of {self.replications} replication(s))"
        )

    def _plot_bands(
        self, ax: Any, indicator: str, parameter: str, firms: list[str], level: float
    ) -> None:
        """Grid and list designs: mean over runs with its confidence band, per firm."""
        numeric = self.manifest["types"][parameter] in ("int", "float")
        t = self.ci(indicator, firm=firms, by=[parameter], level=level)
        cats = list(dict.fromkeys(t[parameter])) if not numeric else None
        for f in firms:
            g = t[t["firm"] == f].sort_values(parameter) if numeric else t[t["firm"] == f]
            x = (
                g[parameter].to_numpy(float)
                if numeric
                else np.array([cats.index(v) for v in g[parameter]])
            )
            (line,) = ax.plot(x, g["mean"], marker="o", label=f)
            ax.fill_between(
                x, g["ci_low"], g["ci_high"], color=line.get_color(), alpha=0.2, linewidth=0
            )
        if cats is not None:
            ax.set_xticks(range(len(cats)), [str(c) for c in cats])
        ax.set_title(f"{indicator}: mean over runs and {level:.0%} confidence band")

    def plot_sobol(
        self, indicator: str, firm: str = "market", *, ax: Any = None, level: float = 0.95
    ) -> Any:
        """Bars of first- and total-order Sobol' indices with their confidence intervals."""
        import matplotlib.pyplot as plt

        t = self.sobol(indicator, firm, level=level)
        if ax is None:
            _, ax = plt.subplots(figsize=(6.4, 0.6 * len(t) + 2.0))
        y = np.arange(len(t))
        h = 0.38
        ax.barh(y - h / 2, t["S1"], h, xerr=t["S1_conf"], label="first order (S1)", capsize=3)
        ax.barh(y + h / 2, t["ST"], h, xerr=t["ST_conf"], label="total order (ST)", capsize=3)
        ax.set_yticks(y, t["parameter"])
        ax.invert_yaxis()
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel("Sobol' index (share of the output variance)")
        ax.set_title(
            f"Sensitivity of {indicator} ({firm}), {len(t)} parameters, {t.attrs['n_points']} design points"
        )
        ax.legend(fontsize="small")
        return ax
