"""Tournaments of firm strategies.

Three layers, as in the Axelrod library: strategies (:mod:`sim.strategies`), matches
(one run of a scenario in which given strategies hold the scenario's first ``size``
firms) and the tournament (every match-up across scenarios and replications, and the
result tables).

Every match-up of a scenario replication uses the same seed, so the strategies face the
same customers, network and random draws (common random numbers): differences between
match-ups are the strategies' doing, not noise. With ``seat_swap`` (the default) every
strategy plays every seat, so a seat's advantage (a firm with a better product) is
shared out fairly.

    sim tournament SCENARIO.toml [...] --strategies fixed,cost_plus,hill_climb,ucb
        [--strategy '{ name = "undercut", undercut = 0.1 }'] [--size 2]
        [--replications 3] [--seed N] [--periods N] [--customers N] [--out results]
        [--no-self-play] [--no-seat-swap] [--no-plots] [--quiet]

writes ``results/tournament/<run-id>/`` with ``matches.csv`` (one row per run and seat),
``ranking.csv`` (strategies ranked by profit, with share and satisfaction),
``by_scenario.csv``, ``payoff.csv`` (pairs: mean profit of the row strategy against the
column strategy), ``tournament.png`` and ``manifest.json``.
"""

from __future__ import annotations

import argparse
import copy
import datetime as _dt
import itertools
import json
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .memory import MemoryRefused, check_memory
from .model import MarketModel
from .scenario import (
    Scenario,
    ScenarioError,
    apply_override,
    load_scenario,
    parse_scenario,
    scenario_to_dict,
)
from .strategies import REGISTRY, make_policy

__all__ = [
    "TournamentResult",
    "TournamentError",
    "run_tournament",
    "write_tournament",
    "plot_tournament",
    "strategy_label",
    "main",
]


class TournamentError(ValueError):
    """Bad tournament input: the message names the argument, the value and what is allowed."""


@dataclass
class TournamentResult:
    """The tables of a tournament.

    Attributes:
        matches: one row per (scenario, replication, match, seat): the strategy, its
            opponents and the firm's results (profit per period and in total, mean and
            final share, mean satisfaction of its customers, churn, final price).
        ranking: one row per strategy: means over scenarios (each scenario weighted
            equally) of profit per period, share and satisfaction, their ranks (1 = best)
            and the standard error of the profit over replications; sorted by profit.
        by_scenario: the same means per scenario and strategy.
        payoff: for pairs (``size = 2``), the mean profit per period of the row strategy
            against the column strategy; otherwise empty.
    """

    matches: pd.DataFrame
    ranking: pd.DataFrame
    by_scenario: pd.DataFrame
    payoff: pd.DataFrame
    strategies: dict[str, Any]
    scenarios: list[str]
    size: int
    seeds: dict[str, list[int]]
    wall_seconds: float = 0.0
    settings: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- strategies
def strategy_label(spec: Any) -> str:
    """A short label: the name, with parameters that differ from the defaults."""
    pol = make_policy(spec)
    if isinstance(spec, str):
        return spec
    r = repr(pol)
    inside = r[r.index("(") + 1 : -1]
    return f"{pol.name}({inside})" if inside else pol.name


def _normalise_strategies(strategies) -> dict[str, Any]:
    if isinstance(strategies, dict):
        items = list(strategies.items())
    else:
        items = [(None, s) for s in strategies]
    out: dict[str, Any] = {}
    for label, spec in items:
        try:
            make_policy(spec)
        except (ValueError, TypeError) as exc:
            raise TournamentError(f"strategy {spec!r}: {exc}") from None
        label = label or strategy_label(spec)
        if label in out:
            raise TournamentError(f"strategy {label!r} appears twice")
        out[label] = spec
    if not out:
        raise TournamentError("no strategies given")
    return out


def _matchups(
    labels: list[str], size: int, self_play: bool, seat_swap: bool
) -> list[tuple[str, ...]]:
    gen = (
        itertools.product(labels, repeat=size)
        if seat_swap
        else itertools.combinations_with_replacement(labels, size)
    )
    out = [m for m in gen if self_play or len(set(m)) == len(m)]
    if not out:
        raise TournamentError(
            f"no match-ups: {len(labels)} strategies cannot fill {size} seats without self-play"
        )
    return out


# ---------------------------------------------------------------- running
def _firm_results(m: MarketModel, seats: int) -> list[dict]:
    f = m.firm_frame()
    f = f[f["period"] > 0]
    last = f["period"].max()
    out = []
    for j, firm in enumerate(m.firms[:seats]):
        g = f[f["firm_index"] == j]
        out.append(
            {
                "firm": firm.name,
                "profit": float(g["profit"].mean()),
                "profit_total": float(g["profit"].sum()),
                "share": float(g["share"].mean()),
                "share_final": float(g.loc[g["period"] == last, "share"].iloc[0]),
                "satisfaction": float(np.nanmean(g["mean_satisfaction"]))
                if g["mean_satisfaction"].notna().any()
                else np.nan,
                "churn": float(g["churn_rate"].mean()),
                "price_final": float(g.loc[g["period"] == last, "price"].iloc[0]),
            }
        )
    return out


def run_tournament(
    strategies,
    scenarios,
    *,
    size: int = 2,
    replications: int = 3,
    seed: int | None = None,
    periods: int | None = None,
    customers: int | None = None,
    self_play: bool = True,
    seat_swap: bool = True,
    progress: bool = False,
) -> TournamentResult:
    """Run every match-up of ``strategies`` in every scenario, with replications.

    Args:
        strategies: policy specs (names, ``{"name": ..., **params}`` dicts) or a dict
            label → spec.
        scenarios: scenario files or :class:`~sim.scenario.Scenario` objects; each needs
            at least ``size`` firms. The strategies take its first ``size`` firms (with
            those firms' starting levers); any other firm keeps its own policy.
        size: strategies per match (2 = pairs).
        replications: replications per scenario and match-up (seeds spawned from the
            scenario's seed, or from ``seed``).
        seed: root seed for every scenario (default: each scenario's own).
        periods, customers: override the scenarios' ``market.periods`` and
            ``market.n_customers``.
        self_play: include match-ups of a strategy against itself.
        seat_swap: every ordering of a match-up (each strategy plays each seat); otherwise
            one ordering per set.
        progress: show a progress bar on stderr.

    Returns:
        A :class:`TournamentResult`. The same arguments give identical tables.

    Raises:
        TournamentError: bad strategies, sizes or counts, or a match that would not fit in
            memory. ScenarioError: a bad scenario.
    """
    t0 = time.perf_counter()
    strat = _normalise_strategies(strategies)
    _check_counts(size, replications)
    load = dict(replications=replications, seed=seed, periods=periods, customers=customers)
    scs = _load_scenarios(scenarios, size=size, **load)
    labels = list(strat)
    matchups = _matchups(labels, size, self_play, seat_swap)
    _check_memory(scs, strat, size)
    rows, seeds = _play_all(scs, matchups, strat, size, replications, progress)
    matches = pd.DataFrame(rows)
    by_scenario, ranking, payoff = _summaries(matches, labels, size)
    sources = [sc.source for sc in scs]
    settings = {**load, "self_play": self_play, "seat_swap": seat_swap, "scenario_sources": sources}
    names = [sc.name for sc in scs]
    wall = time.perf_counter() - t0
    return TournamentResult(
        matches, ranking, by_scenario, payoff, strat, names, size, seeds, wall, settings
    )


def _play_all(
    scs: list[Scenario], matchups: list, strat: dict, size: int, replications: int, progress: bool
) -> tuple[list[dict], dict[str, list[int]]]:
    """Every match of every scenario and replication, in order: (one row per seat, the
    replication seeds by scenario)."""
    bar = None
    if progress:
        from tqdm.auto import tqdm

        total = len(scs) * replications * len(matchups)
        bar = tqdm(total=total, desc="tournament", unit="run", file=sys.stderr)
    rows = []
    seeds: dict[str, list[int]] = {}
    for sc in scs:
        seeds[sc.name] = sc.replication_seeds()
        for r, s in enumerate(seeds[sc.name]):
            for mi, mu in enumerate(matchups):
                rows.extend(_play(sc, r, s, mi, mu, strat, size))
                if bar is not None:
                    bar.update(1)
    if bar is not None:
        bar.close()
    return rows, seeds


def _check_counts(size: Any, replications: Any) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise TournamentError(f"size = {size!r}: must be an integer ≥ 1")
    if (
        isinstance(replications, bool)
        or not isinstance(replications, int)
        or not 1 <= replications <= 1000
    ):
        raise TournamentError(f"replications = {replications!r}: must be an integer in [1, 1000]")


def _check_memory(scs: list[Scenario], strat: dict, size: int) -> None:
    """Refuse, before any match runs, a tournament whose largest match would not fit in
    memory (each strategy in turn takes the first seats, as in :func:`_play`).

    Raises:
        TournamentError: one line from :func:`sim.memory.check_memory`.
    """
    for sc in scs:
        for spec in strat.values():
            params = copy.deepcopy(sc.params)
            params.record_events = False
            params.panel_size = 0
            for i in range(size):
                params.firms[i].policy = copy.deepcopy(spec)
            try:
                check_memory(params, source=sc.source or sc.name)
            except MemoryRefused as exc:
                raise TournamentError(str(exc)) from None


def _play(sc: Scenario, r: int, s: int, mi: int, mu: tuple, strat: dict, size: int) -> list[dict]:
    """One match: the line-up ``mu`` takes the first seats of scenario ``sc`` (seed ``s``);
    one row per seat."""
    params = copy.deepcopy(sc.params)
    params.record_events = False
    params.panel_size = 0
    for i, label in enumerate(mu):
        params.firms[i].policy = copy.deepcopy(strat[label])
    m = MarketModel(params, seed=s).run(int(params.market.periods))
    return [
        {
            "scenario": sc.name,
            "replication": r,
            "seed": s,
            "match": mi,
            "lineup": " vs ".join(mu),
            "seat": i,
            "strategy": mu[i],
            "opponents": " + ".join(x for k, x in enumerate(mu) if k != i),
            **res,
        }
        for i, res in enumerate(_firm_results(m, size))
    ]


def _load_scenarios(scenarios, *, size, replications, seed, periods, customers) -> list[Scenario]:
    if isinstance(scenarios, (str, Path, Scenario)):
        scenarios = [scenarios]
    if not scenarios:
        raise TournamentError("no scenarios given")
    overrides = [f"scenario.replications={replications}"]
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise TournamentError(f"seed = {seed!r}: must be a non-negative integer")
        overrides.append(f"scenario.seed={seed}")
    if periods is not None:
        if isinstance(periods, bool) or not isinstance(periods, int) or periods < 1:
            raise TournamentError(f"periods = {periods!r}: must be an integer ≥ 1")
        overrides.append(f"market.periods={periods}")
    if customers is not None:
        if isinstance(customers, bool) or not isinstance(customers, int) or customers < 1:
            raise TournamentError(f"customers = {customers!r}: must be an integer ≥ 1")
        overrides.append(f"market.n_customers={customers}")
    out = []
    names = set()
    for s in scenarios:
        if isinstance(s, Scenario):
            data = scenario_to_dict(s)
            for ov in overrides:
                apply_override(data, ov)
            sc = parse_scenario(data, source=s.source or s.name)
        else:
            sc = load_scenario(s, overrides)
        if len(sc.params.firms) < size:
            raise TournamentError(
                f"{sc.source or sc.name}: has {len(sc.params.firms)} firm(s); a tournament "
                f"of size {size} needs at least {size}"
            )
        late = [f.name for f in sc.params.firms[:size] if f.enter_at > 0]
        if late:
            raise TournamentError(
                f"{sc.source or sc.name}: firm(s) {', '.join(late)} enter late; the "
                "tournament's seats must be incumbents"
            )
        if sc.name in names:
            raise TournamentError(
                f"{sc.source or sc.name}: scenario name {sc.name!r} appears twice"
            )
        names.add(sc.name)
        out.append(sc)
    return out


def _summaries(matches: pd.DataFrame, labels: list[str], size: int):
    cols = ["profit", "share", "satisfaction", "churn"]
    by_sc = matches.groupby(["scenario", "strategy"], sort=False)[cols].mean().reset_index()
    per_rep = matches.groupby(["strategy", "replication"])["profit"].mean().unstack("replication")
    ranking = by_sc.groupby("strategy")[cols].mean()
    ranking["profit_se"] = (
        per_rep.std(axis=1, ddof=1) / np.sqrt(per_rep.shape[1]) if per_rep.shape[1] > 1 else np.nan
    )
    # wins: matches in which the strategy made the highest profit of its line-up (ties shared)
    m = matches.copy()
    key = ["scenario", "replication", "match"]
    best = m.groupby(key)["profit"].transform("max")
    m["win"] = (m["profit"] >= best - 1e-9).astype(float)
    m["win"] /= m.groupby(key)["win"].transform("sum")
    ranking["win_share"] = m.groupby("strategy")["win"].mean()
    ranking = ranking.reindex(labels)
    for c in ("profit", "share", "satisfaction"):
        ranking[f"rank_{c}"] = ranking[c].rank(ascending=False, method="min").astype("Int64")
    ranking = ranking.sort_values(["profit", "share"], ascending=False, kind="stable")
    ranking.index.name = "strategy"
    ranking = ranking.reset_index()
    ranking = ranking[
        [
            "strategy",
            "rank_profit",
            "profit",
            "profit_se",
            "rank_share",
            "share",
            "rank_satisfaction",
            "satisfaction",
            "churn",
            "win_share",
        ]
    ]
    if size == 2:  # rows and columns in ranking order
        order = list(ranking["strategy"])
        payoff = (
            matches.groupby(["strategy", "opponents"])["profit"]
            .mean()
            .unstack("opponents")
            .reindex(index=order, columns=order)
        )
        payoff.index.name = "strategy"
    else:
        payoff = pd.DataFrame()
    return by_sc, ranking, payoff


# ---------------------------------------------------------------- output
def plot_tournament(result: TournamentResult):
    """Ranking bars (profit with ±1.96 standard errors, share, satisfaction) and, for
    pairs, the payoff matrix as a heat map."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    rk = result.ranking.iloc[::-1]
    pairs = result.size == 2 and not result.payoff.empty
    fig, axes = plt.subplots(
        1, 4 if pairs else 3, figsize=(22 if pairs else 16, 0.45 * len(rk) + 2.5)
    )
    y = np.arange(len(rk))
    err = 1.96 * rk["profit_se"].fillna(0.0).to_numpy()
    axes[0].barh(y, rk["profit"], xerr=err, color="tab:blue", alpha=0.8)
    axes[0].set_title("Profit per period (mean; bars: 95% interval over replications)")
    axes[0].set_xlabel("cu per period")
    axes[1].barh(y, rk["share"], color="tab:green", alpha=0.8)
    axes[1].set_title("Market share (mean over the run)")
    axes[1].set_xlabel("share of customers")
    axes[2].barh(y, rk["satisfaction"], color="tab:orange", alpha=0.8)
    axes[2].set_title("Satisfaction of its customers")
    axes[2].set_xlabel("mean satisfaction (−1…1)")
    for ax in axes[:3]:
        ax.set_yticks(y)
        ax.set_yticklabels(rk["strategy"], fontsize=8)
        ax.grid(alpha=0.3, axis="x")
    if pairs:
        ax = axes[3]
        pm = result.payoff
        im = ax.imshow(pm.to_numpy(dtype=float), cmap="viridis", aspect="auto")
        ax.set_xticks(range(pm.shape[1]))
        ax.set_xticklabels(pm.columns, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(pm.shape[0]))
        ax.set_yticklabels(pm.index, fontsize=7)
        if pm.shape[0] <= 12:
            vals = pm.to_numpy(dtype=float)
            mid = np.nanmean(vals)
            for i in range(pm.shape[0]):
                for j in range(pm.shape[1]):
                    if np.isfinite(vals[i, j]):
                        ax.text(
                            j,
                            i,
                            f"{vals[i, j]:.0f}",
                            ha="center",
                            va="center",
                            fontsize=7,
                            color="white" if vals[i, j] < mid else "black",
                        )
        ax.set_title("Profit per period of row against column")
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.suptitle(
        f"Tournament: {len(result.strategies)} strategies, {', '.join(result.scenarios)}",
        fontsize=12,
    )
    fig.tight_layout()
    return fig


def write_tournament(
    result: TournamentResult,
    out_root: str | Path = "results",
    *,
    run_id: str | None = None,
    plots: bool = True,
    command: list[str] | None = None,
) -> Path:
    """Write ``<out_root>/tournament/<run-id>/`` atomically; return its path."""
    from .runner import _versions, atomic_folder

    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%d-%H%M%S")
    seed = result.settings.get("seed")
    run_id = run_id or (f"{stamp}-seed{seed}" if seed is not None else stamp)
    with atomic_folder(Path(out_root) / "tournament", run_id) as (tmp, final):
        files = []
        for name in ("matches", "ranking", "by_scenario"):
            getattr(result, name).to_csv(tmp / f"{name}.csv", index=False)
            files.append(f"{name}.csv")
        if not result.payoff.empty:
            result.payoff.to_csv(tmp / "payoff.csv")
            files.append("payoff.csv")
        if plots:
            import matplotlib.pyplot as plt

            fig = plot_tournament(result)
            fig.savefig(tmp / "tournament.png", dpi=90)
            plt.close(fig)
            files.append("tournament.png")
        manifest = {
            "kind": "tournament",
            "strategies": {k: v for k, v in result.strategies.items()},
            "scenarios": result.scenarios,
            "size": result.size,
            "seeds": result.seeds,
            **{k: v for k, v in result.settings.items()},
            "runs": int(result.matches.groupby(["scenario", "replication", "match"]).ngroups),
            "wall_seconds": round(result.wall_seconds, 3),
            "versions": _versions(),
            "command": command or [],
            "files": files + ["manifest.json"],
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    return final


# ---------------------------------------------------------------- command line
class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit code 2 (handled in main)
        raise TournamentError(message)


def _parse_strategy(text: str) -> Any:
    text = text.strip()
    if text.startswith("{"):
        try:
            spec = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError as exc:
            raise TournamentError(f"--strategy {text!r}: not a TOML inline table ({exc})") from None
        except RecursionError:
            raise TournamentError(f"--strategy {text[:40]!r}…: nested too deeply") from None
        return spec
    return text


def _strategy_list(a) -> list[Any]:
    specs: list[Any] = []
    for group in a.strategies or []:
        for name in (x.strip() for x in group.split(",")):
            if not name:
                continue
            if name == "all":
                specs += [
                    n
                    for n, c in sorted(REGISTRY.items())
                    if not c.classifier["full_information"] and n != "scheduled"
                ]
            else:
                specs.append(name)
    for text in a.strategy or []:
        specs.append(_parse_strategy(text))
    for s in specs:
        name = s if isinstance(s, str) else s.get("name") if isinstance(s, dict) else None
        if name not in REGISTRY:
            raise TournamentError(
                f"strategy {name!r} unknown; allowed: {', '.join(sorted(REGISTRY))} (or 'all')"
            )
    return specs


def _fmt(df: pd.DataFrame) -> str:
    return df.to_string(index=False, float_format=lambda v: f"{v:.3f}")


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(
        prog="sim tournament",
        description="Run every match-up of firm strategies across "
        "scenarios with replications and common random numbers; rank them by profit.",
    )
    ap.add_argument(
        "scenarios", nargs="+", help="scenario TOML files (each needs at least --size firms)"
    )
    ap.add_argument(
        "--strategies",
        action="append",
        metavar="NAME,NAME,...",
        help="comma-separated strategy names, or 'all' (every strategy without full "
        "information); repeatable",
    )
    ap.add_argument(
        "--strategy",
        action="append",
        metavar="SPEC",
        help="one strategy with parameters as a TOML inline table, e.g. "
        "'{ name = \"undercut\", undercut = 0.1 }'; repeatable",
    )
    ap.add_argument("--size", type=int, default=2, help="strategies per match (default 2: pairs)")
    ap.add_argument(
        "--replications", type=int, default=3, help="replications per scenario (default 3)"
    )
    ap.add_argument(
        "--seed", type=int, help="root seed for every scenario (default: each scenario's)"
    )
    ap.add_argument("--periods", type=int, help="periods per run (default: each scenario's)")
    ap.add_argument("--customers", type=int, help="customers per run (default: each scenario's)")
    ap.add_argument("--out", default="results", help="results folder (default: results)")
    ap.add_argument(
        "--no-self-play", action="store_true", help="leave out a strategy against itself"
    )
    ap.add_argument("--no-seat-swap", action="store_true", help="one seating per set of strategies")
    ap.add_argument("--no-plots", action="store_true", help="skip tournament.png")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    return ap


def main(argv: list[str] | None = None) -> int:
    """``sim tournament ...``; returns the exit code (2 for bad input, nothing written)."""
    try:
        a = build_parser().parse_args(argv)
        specs = _strategy_list(a)
        if not specs:
            raise TournamentError(
                "no strategies: give --strategies NAME,NAME,... or --strategy SPEC"
            )
        from .runner import OutFolderError, check_out_folder

        try:
            check_out_folder(a.out)
        except OutFolderError as exc:
            raise TournamentError(str(exc)) from None
        # fail fast, before anything runs
        strat = _normalise_strategies(specs)
        load = {"replications": a.replications, "seed": a.seed, "periods": a.periods}
        load["customers"] = a.customers
        scs = _load_scenarios(a.scenarios, size=a.size, **load)
        _check_memory(scs, strat, a.size)
        print(
            f"sim tournament: {len(specs)} strategies, {len(a.scenarios)} scenario(s), size {a.size}, "
            f"{a.replications} replication(s)",
            file=sys.stderr,
        )
        result = run_tournament(
            specs,
            a.scenarios,
            size=a.size,
            **load,
            self_play=not a.no_self_play,
            seat_swap=not a.no_seat_swap,
            progress=not a.quiet,
        )
    except (TournamentError, ScenarioError) as exc:
        print(f"sim tournament: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sim tournament: interrupted; nothing was written", file=sys.stderr)
        return 130
    folder = write_tournament(
        result, a.out, plots=not a.no_plots, command=["sim", "tournament", *(argv or [])]
    )
    print(
        f"Tournament: {len(result.strategies)} strategies × {len(result.scenarios)} scenario(s) × "
        f"{result.settings['replications']} replication(s); ranked by profit per period"
    )
    print(_fmt(result.ranking))
    print(
        f"\nWritten: {folder} (ranking.csv, matches.csv, by_scenario.csv"
        + (", payoff.csv" if not result.payoff.empty else "")
        + (", tournament.png" if not a.no_plots else "")
        + ", manifest.json)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
