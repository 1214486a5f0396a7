"""Comparing runs: paired replications, deltas with intervals, and the inputs that differ.

A run to compare is either a run folder (read back) or a scenario file (run here with
the given replications). Scenario files are run with one common root seed, so the
replications of every run share their random numbers (common random numbers) and the
difference of a KPI is taken replication by replication (see :mod:`sim.kpis`). Run
folders are paired when their replication seeds are equal; otherwise the comparison
falls back to unpaired (Welch) intervals and says so.

Examples:
    >>> from sim.compare import flatten
    >>> flatten({"firms": [{"name": "A", "price": 1.0}], "market": {"periods": 12}})
    {'firms.A.name': 'A', 'firms.A.price': 1.0, 'market.periods': 12}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .kpis import kpi_table, paired_deltas, with_intervals

__all__ = [
    "Compared",
    "flatten",
    "input_differences",
    "default_run_name",
    "load_compared",
    "compare",
]

#: scenario keys that describe a run rather than change it (left out of "inputs that differ")
_META = {"scenario.name", "scenario.title", "scenario.description", "scenario.notice"}
_META_PREFIX = ("scenario.try",)


@dataclass
class Compared:
    """One run in a comparison: its name, resolved scenario (as a dict), tables, seeds."""

    name: str
    scenario: dict
    firms: pd.DataFrame
    seeds: list[int]
    source: str
    events: pd.DataFrame = field(default_factory=pd.DataFrame)
    market: pd.DataFrame = field(default_factory=pd.DataFrame)
    path: Path | None = None


def flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    """Flatten a resolved scenario dict to ``key.path → value``; firms are keyed by name
    and the timeline becomes one ``events`` entry per (period, firm)."""
    out: dict[str, Any] = {}
    if isinstance(d, dict):
        for k, v in d.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if key == "events" and isinstance(v, list):
                for e in v:
                    sets = e.get("set", {}) if isinstance(e, dict) else {}
                    text = ", ".join(f"{a}={b}" for a, b in sorted(sets.items()))
                    ek = f"events.{e.get('period')}.{e.get('firm')}"
                    out[ek] = f"{out[ek]}; {text}" if ek in out else text
            elif key == "firms" and isinstance(v, list):
                for i, f in enumerate(v):
                    name = f.get("name", str(i)) if isinstance(f, dict) else str(i)
                    out.update(flatten(f, f"firms.{name}"))
            else:
                out.update(flatten(v, key))
    else:
        out[prefix] = d
    return out


def input_differences(scenarios: dict[str, dict]) -> pd.DataFrame:
    """The inputs that differ between runs: one row per key path, one column per run
    (``—`` where a run lacks the key). Descriptive keys (name, title, notes) are left out."""
    flat = {n: flatten(s) for n, s in scenarios.items()}
    keys = sorted(set().union(*[set(f) for f in flat.values()]))
    rows = []
    for k in keys:
        if k in _META or k.startswith(_META_PREFIX):
            continue
        vals = [f.get(k, "—") for f in flat.values()]
        if len({repr(v) for v in vals}) > 1:
            rows.append({"input": k, **{n: v for n, v in zip(flat, vals, strict=True)}})
    return pd.DataFrame(rows, columns=["input", *flat])


def default_run_name(scenario_name: str, overrides: list[str], seed: int | None) -> str:
    """A run's name when none is given: the scenario name, plus what the command line
    changed (``--set`` values and ``--seed``)."""
    parts = [o.strip() for o in overrides if not o.startswith(("scenario.replications",))]
    parts = [p for p in parts if not p.startswith("scenario.seed")]
    if seed is not None:
        parts.append(f"seed {seed}")
    return f"{scenario_name} ({', '.join(parts)})" if parts else scenario_name


def load_compared(
    arg: str | Path,
    *,
    replications: int | None = None,
    periods: int | None = None,
    seed: int | None = None,
    overrides: list[str] | None = None,
    progress: bool = False,
) -> Compared:
    """A run folder read back, or a scenario file run now (with ``replications``,
    ``periods``, ``seed`` and ``overrides`` applied).

    Raises:
        RunFolderError: a folder that is not a run folder.
        ScenarioError: a bad scenario file or override.
    """
    from .runner import read_run, run_scenario
    from .scenario import load_scenario, read_toml, scenario_to_dict

    p = Path(arg)
    if p.is_dir():
        r = read_run(p)
        man = r["manifest"]
        scen_file = p / "scenario.toml"
        scen = read_toml(scen_file) if scen_file.exists() else {}
        firms = r["firms"]
        seeds = man.get("replication_seeds") or [man.get("seed")]
        return Compared(
            name=man.get("name") or man["scenario"],
            scenario=scen,
            firms=firms,
            seeds=[int(s) for s in seeds if s is not None],
            source=str(p),
            events=r["events"],
            market=r.get("market", pd.DataFrame()),
            path=p,
        )
    ov = list(overrides or [])
    if seed is not None:
        ov.append(f"scenario.seed={seed}")
    if replications is not None:
        ov.append(f"scenario.replications={replications}")
    if periods is not None:
        ov.append(f"market.periods={periods}")
    sc = load_scenario(p, ov)
    res = run_scenario(sc, progress=progress)
    return Compared(
        name=sc.name,
        scenario=scenario_to_dict(sc),
        firms=res.firms,
        seeds=sc.replication_seeds(),
        source=str(p),
        events=res.events,
        market=res.market,
    )


def _unique_names(runs: list[Compared]) -> None:
    seen: dict[str, int] = {}
    for r in runs:
        seen[r.name] = seen.get(r.name, 0) + 1
    dup = {n for n, c in seen.items() if c > 1}
    if not dup:
        return
    diffs = input_differences({f"{i}": r.scenario for i, r in enumerate(runs)})
    for i, r in enumerate(runs):
        if r.name not in dup:
            continue
        own = [
            f"{row['input']}={row[str(i)]}"
            for _, row in diffs.iterrows()
            if not row["input"].startswith("events.")
        ][:3]
        r.name = f"{r.name} ({', '.join(own)})" if own else f"{r.name} #{i + 1}"
    names = [r.name for r in runs]
    for i, r in enumerate(runs):  # still equal (identical inputs): number them
        if names.count(r.name) > 1:
            r.name = f"{r.name} #{i + 1}"


def compare(runs: list[Compared], baseline: int = 0) -> dict[str, pd.DataFrame | bool]:
    """Compare runs against ``runs[baseline]``.

    Returns:
        ``kpis`` (every run's KPI means and intervals, long), ``deltas`` (differences
        against the baseline with paired intervals and ``distinguishable``),
        ``differences`` (inputs that differ) and ``paired`` (True when every run has the
        baseline's replication seeds).
    """
    _unique_names(runs)
    base = runs[baseline]
    per = {r.name: kpi_table(r.firms) for r in runs}
    kpis = []
    for r in runs:
        t = with_intervals(per[r.name])
        t.insert(0, "run", r.name)
        kpis.append(t)
    paired = all(r.seeds == base.seeds for r in runs)
    deltas = []
    for r in runs:
        if r is base:
            continue
        d = paired_deltas(per[r.name], per[base.name], paired=r.seeds == base.seeds)
        d.insert(0, "run", r.name)
        d.insert(1, "baseline_run", base.name)
        deltas.append(d)
    return {
        "kpis": pd.concat(kpis, ignore_index=True),
        "deltas": pd.concat(deltas, ignore_index=True) if deltas else pd.DataFrame(),
        "differences": input_differences({r.name: r.scenario for r in runs}),
        "paired": paired,
    }
