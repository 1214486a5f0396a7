"""The run folder of a calibration (written atomically, like ``sim run``'s).

``<out>/<name>/<stamp>/`` holds:

- ``calibrated.toml``: the base scenario with the point estimate, ready for ``sim run``;
- ``parameters.csv``: per parameter: range, prior, point estimate, posterior mean and sd,
  90% interval (q05, q95);
- ``fit.csv``: per target: observed, the point estimate's value, the posterior-predictive
  median and 90% band (q05, q95), fitted or held out, inside the band;
- ``predictive_check.csv``: the held-out targets' rows of ``fit.csv``;
- ``posterior.csv`` (ABC's last population with weights), ``trials.csv`` (Optuna's
  trials), ``generations.csv`` (ABC's thresholds and acceptance rates);
- ``warnings.txt``: the identifiability warnings (empty when there are none);
- ``plots/``: ``fit.png`` (observed against simulated series with bands),
  ``posterior_pairs.png``, ``convergence.png``;
- ``manifest.json``: source, fingerprint, seeds, budget, runs, wall times, versions.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from sim.experiments.sweep import _set_path
from sim.runner import _versions, atomic_folder
from sim.scenario import parse_scenario

from .core import CalibrationPlan

__all__ = ["calibrated_scenario", "write_outputs", "plot_fit", "plot_pairs", "plot_convergence"]


def calibrated_scenario(plan: CalibrationPlan, values: dict[str, float]) -> str:
    """The base scenario with ``values`` set, as TOML text with a header comment."""
    import tomli_w

    sim = plan.simulator
    data = json.loads(json.dumps(sim.base_data))
    for k in sim.keys:
        _set_path(data, k, round(float(values[k]), 6), plan.source)
    meta = data.setdefault("scenario", {})
    meta["name"] = f"{plan.base.name}-calibrated"
    meta["description"] = f"{plan.base.name} with the parameters calibrated by {plan.name}."
    parse_scenario(data, source=plan.source, base_dir=sim.base_dir)  # must load as it is
    head = [
        f"# {plan.base.name}, calibrated ({plan.name}; point estimate).",
        f"# Calibration file: {plan.source}. Fitted parameters:",
        *(f"#   {k} = {float(values[k]):.6g}" for k in sim.keys),
        "# Run it with: sim run <this file>",
        "",
    ]
    return "\n".join(head) + tomli_w.dumps(data)


def _series(plan: CalibrationPlan, fit: pd.DataFrame) -> list[tuple[str, str]]:
    s = fit[fit["period"] >= 0]
    return list(dict.fromkeys(zip(s["kpi"], s["firm"], strict=True)))


def plot_fit(plan: CalibrationPlan, fit: pd.DataFrame):
    """Observed series (dots; held-out ones hollow) against the point estimate (line) and
    the posterior-predictive median and 90% band; single-number targets as standardised
    misses. Returns the figure."""
    import matplotlib.pyplot as plt

    series = _series(plan, fit)
    single = fit[fit["period"] < 0]
    n = len(series) + (1 if len(single) else 0)
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    for ax, (kpi, firm) in zip(axes.flat, series, strict=False):
        d = fit[(fit["kpi"] == kpi) & (fit["firm"] == firm) & (fit["period"] >= 0)]
        d = d.sort_values("period")
        ax.fill_between(d["period"], d["q05"], d["q95"], alpha=0.25, label="90% predictive band")
        ax.plot(d["period"], d["median"], lw=1, label="predictive median")
        ax.plot(d["period"], d["point_estimate"], lw=1, ls="--", label="point estimate")
        used = d["used"].to_numpy(bool)
        ax.plot(d["period"][used], d["observed"][used], "k.", ms=4, label="observed")
        if (~used).any():
            ax.plot(
                d["period"][~used],
                d["observed"][~used],
                "o",
                mfc="none",
                mec="k",
                ms=4,
                label="observed (held out)",
            )
        ax.set_title(f"{kpi} — {firm}", fontsize=9)
        ax.set_xlabel("month", fontsize=8)
        ax.tick_params(labelsize=7)
    if len(single):
        ax = axes.flat[len(series)]
        z = (single["observed"] - single["median"]) / single["scale"]
        lo = (single["q05"] - single["median"]) / single["scale"]
        hi = (single["q95"] - single["median"]) / single["scale"]
        y = np.arange(len(single))
        ax.hlines(y, lo, hi, lw=4, alpha=0.4)
        ax.plot(z, y, "k.", ms=6)
        ax.axvline(0, lw=0.5, color="grey")
        ax.set_yticks(
            y,
            [f"{k} {f}".strip() for k, f in zip(single["kpi"], single["firm"], strict=True)],
            fontsize=7,
        )
        ax.set_title("single targets: observed − median (in scales)", fontsize=9)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    if series:
        axes.flat[0].legend(fontsize=6)
    fig.suptitle(f"{plan.name}: observed against simulated", fontsize=10)
    fig.tight_layout()
    return fig


def plot_pairs(plan: CalibrationPlan, post: pd.DataFrame, point: dict[str, float]):
    """Posterior pairs: weighted histograms on the diagonal, particles below it, the point
    estimate marked. Returns the figure."""
    import matplotlib.pyplot as plt

    keys = [fp.key for fp in plan.parameters]
    k = len(keys)
    fig, axes = plt.subplots(k, k, figsize=(2.4 * k, 2.4 * k), squeeze=False)
    w = post["weight"].to_numpy(float)
    for i, a in enumerate(keys):
        for j, b in enumerate(keys):
            ax = axes[i, j]
            if j > i:
                ax.axis("off")
                continue
            if i == j:
                ax.hist(
                    post[a],
                    bins=20,
                    weights=w,
                    range=(plan.parameters[i].low, plan.parameters[i].high),
                )
                ax.axvline(point[a], color="k", ls="--", lw=1)
            else:
                ax.scatter(post[b], post[a], s=6 + 200 * w, alpha=0.5)
                ax.plot(point[b], point[a], "k+", ms=10)
                ax.set_xlim(plan.parameters[j].low, plan.parameters[j].high)
                ax.set_ylim(plan.parameters[i].low, plan.parameters[i].high)
            if i == k - 1:
                ax.set_xlabel(b, fontsize=7)
            if j == 0 and i > 0:
                ax.set_ylabel(a, fontsize=7)
            ax.tick_params(labelsize=6)
    fig.suptitle(
        f"{plan.name}: posterior (ABC-SMC, last generation); + = point estimate", fontsize=9
    )
    fig.tight_layout()
    return fig


def plot_convergence(trials: pd.DataFrame, gens: pd.DataFrame, name: str):
    """Optuna's best distance by trial and ABC's acceptance threshold by generation."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    if not trials.empty:
        axes[0].plot(trials["trial"], trials["distance"], ".", ms=3, alpha=0.4, label="trial")
        axes[0].plot(trials["trial"], trials["distance"].cummin(), lw=1.5, label="best so far")
        axes[0].set_yscale("log")
        axes[0].legend(fontsize=7)
    axes[0].set(title="point estimate (Optuna)", xlabel="trial", ylabel="distance")
    if not gens.empty:
        axes[1].plot(gens["t"], gens["epsilon"], "o-", label="threshold ε")
        ax2 = axes[1].twinx()
        ax2.plot(gens["t"], gens["acceptance"], "s:", color="C1", label="acceptance rate")
        ax2.set_ylabel("acceptance rate", fontsize=8)
        axes[1].legend(fontsize=7, loc="upper center")
    axes[1].set(title="posterior (ABC-SMC)", xlabel="generation", ylabel="distance threshold ε")
    fig.suptitle(f"{name}: convergence", fontsize=10)
    fig.tight_layout()
    return fig


def write_outputs(plan: CalibrationPlan, result, root: Path, *, plots: bool = True) -> Path:
    """Write the run folder atomically under ``root``; return its path."""
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%d-%H%M%S")
    with atomic_folder(root, stamp) as (tmp, final):
        (tmp / "calibrated.toml").write_text(calibrated_scenario(plan, result.point))
        result.parameters.to_csv(tmp / "parameters.csv", index=False)
        result.fit.to_csv(tmp / "fit.csv", index=False)
        result.predictive_check.to_csv(tmp / "predictive_check.csv", index=False)
        result.posterior.to_csv(tmp / "posterior.csv", index=False)
        result.trials.to_csv(tmp / "trials.csv", index=False)
        result.generations.to_csv(tmp / "generations.csv", index=False)
        (tmp / "warnings.txt").write_text("".join(w + "\n" for w in result.warnings))
        files = [p.name for p in sorted(tmp.iterdir())]
        if plots:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            (tmp / "plots").mkdir()
            figs = {
                "fit.png": plot_fit(plan, result.fit),
                "convergence.png": plot_convergence(result.trials, result.generations, plan.name),
            }
            if not result.posterior.empty:
                figs["posterior_pairs.png"] = plot_pairs(plan, result.posterior, result.point)
            for name, fig in figs.items():
                fig.savefig(tmp / "plots" / name, dpi=80)
                plt.close(fig)
                files.append(f"plots/{name}")
        manifest = {
            "format": "sim-calibration/1",
            "name": plan.name,
            "source": plan.source,
            "fingerprint": plan.fingerprint,
            "scenario": plan.base.name,
            "scenario_source": plan.base.source,
            "scenario_sha256": plan.base.digest(),
            "method": plan.method,
            "seed": plan.seed,
            "replication_seeds": list(plan.simulator.seeds),
            "options": plan.options,
            "parameters": [fp.key for fp in plan.parameters],
            "point_estimate": result.point,
            "warnings": result.warnings,
            "runs": result.runs,
            "resumed_from": result.resumed,
            "wall_seconds": {k: round(v, 2) for k, v in result.wall_seconds.items()},
            "finished_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "versions": _versions(),
            "files": [*files, "manifest.json"],
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    return final
