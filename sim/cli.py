"""The ``sim`` command.

    sim run SCENARIO.toml [--seed N] [--periods N] [--out DIR] [--set key.path=value ...]
    sim validate SCENARIO.toml [--set ...]
    sim compare RUN_A RUN_B ... [--out DIR]
    sim explain RUN --customer ID
    sim cascades RUN

Bad input (a scenario file, a flag, a run folder) prints one line naming the file, the
key, the value and what is allowed, and exits with code 2; nothing is written.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as _dt
import os
import signal
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import params as P
from .memory import MemoryRefused, check_memory
from .runner import (
    OutFolderError,
    RunFolderError,
    check_out_folder,
    read_run,
    run_to_folder,
    signals_as_interrupt,
)
from .scenario import ScenarioError, load_scenario

__all__ = ["main", "OneLineParser", "UsageError"]


class UsageError(Exception):
    """Bad command-line input (exit code 2)."""


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (``UsageError``), not a usage block."""

    def error(self, message: str):  # noqa: D102 - argparse hook
        raise UsageError(f"{message} ({self.prog} --help lists the options)")


def _fmt_table(df: pd.DataFrame, floatfmt: str = "{:.3f}") -> str:
    def fmt(v):
        if isinstance(v, float):
            return "" if np.isnan(v) else floatfmt.format(v)
        return str(v)

    cols = list(df.columns)
    rows = [[fmt(v) for v in r] for r in df.itertuples(index=False)]
    widths = [
        max(len(str(c)), *(len(r[i]) for r in rows)) if rows else len(str(c))
        for i, c in enumerate(cols)
    ]
    line = "  ".join(str(c).rjust(w) for c, w in zip(cols, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


# ---------------------------------------------------------------- run / validate
def _check_out(flag: str, path: str) -> Path:
    """``path`` can become (or is) a writable folder: fail before any work otherwise."""
    try:
        return check_out_folder(path, flag)
    except OutFolderError as exc:
        raise UsageError(str(exc)) from None


def _flag_value(flag: str, value: int | None, cls: type, name: str) -> int | None:
    """An integer flag checked against the declared range of ``cls.name``."""
    if value is None:
        return None
    lo, hi = next(f for f in dataclasses.fields(cls) if f.name == name).metadata["range"]
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise UsageError(f"{flag} {value}: must be an integer in [{lo}, {hi}]")
    return value


def _num(v: float, decimals: int) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "—"
    return f"{v:,.{decimals}f}"


def kpi_text(table: pd.DataFrame, *, value: str = "mean", signed: bool = False) -> str:
    """A KPI × firm table of ``value [low, high]`` cells from a long table with
    ``firm, kpi, <value>, low, high`` columns (and ``distinguishable`` for deltas, marked
    with ``*``)."""
    from .kpis import KPIS

    dec = {k.name: k.decimals + (1 if k.count else 0) for k in KPIS}
    units = {k.name: k.unit for k in KPIS}
    firms = list(dict.fromkeys(table["firm"]))
    rows = []
    for kpi in dict.fromkeys(table["kpi"]):
        row = {"indicator": kpi, "unit": units.get(kpi, "")}
        for f in firms:
            r = table[(table["kpi"] == kpi) & (table["firm"] == f)]
            if r.empty:
                row[f] = ""
                continue
            r = r.iloc[0]
            d = dec.get(kpi, 3)
            v = _num(r[value], d)
            if signed and not v.startswith(("-", "—")):
                v = "+" + v
            cell = v
            if not np.isnan(r["low"]):
                cell += f" [{_num(r['low'], d)}, {_num(r['high'], d)}]"
            if "distinguishable" in r and bool(r["distinguishable"]):
                cell += " *"
            row[f] = cell
        rows.append(row)
    return _fmt_table(pd.DataFrame(rows))


def _run_flags(a) -> list[tuple[str, str]]:
    """``sim run``'s ``--seed``/``--periods``/``--replications`` as ``(flag, "key=value")``
    overrides of the scenario, each value checked against its parameter's range."""
    flags = []
    for flag, value, cls, name, key in (
        ("--seed", a.seed, P.ModelParams, "seed", "scenario.seed"),
        ("--periods", a.periods, P.MarketParams, "periods", "market.periods"),
        ("--replications", a.replications, None, "", "scenario.replications"),
    ):
        if value is not None:
            if cls is not None:
                _flag_value(flag, value, cls, name)
            flags.append((flag, f"{key}={value}"))
    return flags


def _print_run_summary(a, sc, name: str, folder: Path, firms) -> None:
    """What ``sim run`` prints when done: the KPI table, what to notice, where the tables
    and plots are and what to run next."""
    from .kpis import kpi_table, with_intervals

    reps = sc.replications
    print()
    print(
        f"{name}: {sc.title or sc.name}, {sc.params.market.periods} periods, "
        + (
            f"mean and 95% interval over {reps} replications"
            if reps > 1
            else "one replication (add --replications 10 for 95% intervals)"
        )
    )
    print(kpi_text(with_intervals(kpi_table(firms))))
    if sc.notice:
        if a.set:
            print(
                f"\nWhat to notice (written for the scenario as published; this run changed "
                f"{', '.join(a.set)}): {sc.notice}"
            )
        else:
            print(f"\nWhat to notice: {sc.notice}")
    print(f"\nRun folder: {folder}")
    kinds = {"parquet": ".parquet", "csv": ".csv", "both": ".parquet and .csv"}[a.format]
    print(
        f"  tables: firms / market / events / panel / customers ({kinds}), "
        "summary.csv, summary_intervals.csv, kpis.csv, cascades.csv"
    )
    if not a.no_plots:
        print(f"  plots:  {folder / 'plots'} (overview.png first)")
    print(
        f"  next:   sim report {folder}   |   sim explain {folder} --customer 42   |   "
        f"sim cascades {folder}"
    )


def cmd_run(a) -> int:
    """``sim run``: load the scenario with the flags' overrides, check memory, run it into a
    run folder and print the summary. Returns the exit code."""
    from .compare import default_run_name
    from .runner import FORMATS

    if a.format not in FORMATS:
        raise UsageError(f"--format {a.format}: allowed {', '.join(FORMATS)}")
    sc = load_scenario(a.scenario, list(a.set or []), _run_flags(a))
    out_root = _check_out("--out", a.out)
    name = a.name or default_run_name(sc.name, list(a.set or []), a.seed)
    try:
        check_memory(sc.params, sc.replications, source=str(a.scenario))
    except MemoryRefused as exc:
        raise UsageError(str(exc)) from None
    print(
        f"sim run: {name} — {sc.params.market.n_customers} customers, {len(sc.params.firms)} firms, "
        f"{sc.params.market.periods} periods, seed {sc.seed}, {sc.replications} replication(s)",
        file=sys.stderr,
    )
    try:
        folder, result = run_to_folder(
            sc,
            out_root,
            plots=not a.no_plots,
            command=["sim", *sys.argv[1:]],
            progress=not a.quiet,
            name=name,
            fmt=a.format,
        )
    except OSError as exc:
        raise UsageError(
            f"--out {a.out}: cannot write the run folder ({exc.strerror or exc})"
        ) from None
    _print_run_summary(a, sc, name, folder, result.firms)
    return 0


def cmd_validate(a) -> int:
    sc = load_scenario(a.scenario, list(a.set or []))
    p = sc.params
    try:
        est = check_memory(p, sc.replications, source=str(a.scenario))
    except MemoryRefused as exc:
        raise UsageError(str(exc)) from None
    print(
        f"ok: {a.scenario}: scenario '{sc.name}', {p.market.n_customers} customers, "
        f"{len(p.firms)} firms ({', '.join(f.name for f in p.firms)}), {p.market.periods} periods, "
        f"{len(p.events)} timeline changes, seed {sc.seed}, {sc.replications} replication(s); "
        f"needs about {est.total / 1024**2:,.0f} MB of memory"
    )
    return 0


# ---------------------------------------------------------------- compare
def _check_compare_args(a) -> None:
    """Raise UsageError for a bad option of ``sim compare`` (before any work)."""
    if len(a.runs) < 2:
        raise UsageError("sim compare needs at least two runs (run folders or scenario files)")
    if a.replications is not None and a.replications < 2:
        raise UsageError(f"--replications {a.replications}: at least 2 for intervals")
    if a.periods is not None and a.periods < 1:
        raise UsageError(f"--periods {a.periods}: must be an integer ≥ 1")
    if a.seed is not None and a.seed < 0:
        raise UsageError(f"--seed {a.seed}: must be a non-negative integer")
    for p in a.runs:
        if not Path(p).exists():
            raise UsageError(f"{p}: neither a run folder nor a scenario file (not found)")
    if a.baseline is not None and a.baseline not in a.runs:
        raise UsageError(
            f"--baseline {a.baseline}: must be one of the runs given ({', '.join(a.runs)})"
        )


def _print_comparison(res: dict, runs: list, base: str) -> None:
    """Print the comparison: runs and pairing, inputs that differ, KPIs and differences."""
    reps = sorted({len(r.seeds) for r in runs})
    print(
        f"Baseline: {base}. Runs: {', '.join(r.name for r in runs)}. "
        f"Replications: {', '.join(map(str, reps))}; "
        + (
            "paired (same seeds: common random numbers)."
            if res["paired"]
            else "NOT paired (different seeds): unpaired intervals."
        )
    )
    diff = res["differences"]
    print("\nInputs that differ:")
    print(_fmt_table(diff.astype(str)) if len(diff) else "  none (the runs have the same inputs)")
    print("\nKPIs (mean [95% interval]):")
    for r in runs:
        print(f"\n{r.name}")
        print(kpi_text(res["kpis"][res["kpis"]["run"] == r.name]))
    d = res["deltas"]
    for r in runs:
        if r.name == base:
            continue
        print(
            f"\nDifference {r.name} − {base} (mean [95% interval]; * = distinguishable from noise):"
        )
        print(kpi_text(d[d["run"] == r.name], value="delta", signed=True))


def cmd_compare(a) -> int:
    from .compare import compare, load_compared
    from .runner import atomic_folder

    _check_compare_args(a)
    out = _check_out("--out", a.out) if a.out else None
    base_i = a.runs.index(a.baseline) if a.baseline is not None else 0
    # scenario files share one root seed (that of the baseline unless --seed): paired runs
    seed = a.seed
    if seed is None and not Path(a.runs[base_i]).is_dir():
        seed = load_scenario(a.runs[base_i]).seed
    runs = []
    for path in a.runs:
        if not Path(path).is_dir():  # a scenario file is run now: say so
            print(f"sim compare: running {path}", file=sys.stderr)
        runs.append(
            load_compared(
                path,
                replications=a.replications if a.replications is not None else 10,
                periods=a.periods,
                seed=seed,
                overrides=list(a.set or []),
            )
        )
    res = compare(runs, base_i)
    base = runs[base_i].name
    if out is None:
        stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%d-%H%M%S")
        out = Path("results") / "compare" / stamp
    from .plots import plot_compare

    with atomic_folder(out.parent, out.name) as (tmp, out):  # all files, or none
        res["kpis"].to_csv(tmp / "comparison.csv", index=False)
        res["deltas"].to_csv(tmp / "deltas.csv", index=False)
        res["differences"].to_csv(tmp / "differences.csv", index=False)
        fig = plot_compare({r.name: r.firms for r in runs})
        fig.savefig(tmp / "comparison.png", dpi=80)
    _print_comparison(res, runs, base)
    print(
        f"\nwritten: {out / 'comparison.csv'}, {out / 'deltas.csv'}, "
        f"{out / 'differences.csv'}, {out / 'comparison.png'}"
    )
    return 0


# ---------------------------------------------------------------- explain
_STATUS = {0: "a prospect (no firm)", 1: "a customer", 2: "out of the market (lapsed)"}


def explain_customer(run: dict, cid: int) -> str:
    """The story of one customer from a run folder's tables (first replication)."""
    cust = run["customers"]
    if cust.empty or cid < 0 or cid >= len(cust):
        raise UsageError(f"--customer {cid}: no such customer; ids run from 0 to {len(cust) - 1}")

    def fname(name) -> str:
        return str(name) if isinstance(name, str) and name else "nobody"

    row = cust.iloc[cid]
    try:
        from .drivers import replay_params

        params, seed = replay_params(run, 0)
        seg_names = [sg.name for sg in params.market.segments]
    except Exception:  # a folder without its scenario: numbers only
        params, seed, seg_names = None, None, []
    seg = int(row["segment"])
    seg_text = seg_names[seg] if 0 <= seg < len(seg_names) else f"{seg}"
    ev = run["events"]
    if "replication" in ev:
        ev = ev[ev["replication"] == 0]
    mine = ev[
        (ev["customer"] == cid) | ((ev["other"] == cid) & ev["event"].isin(["referral", "heard"]))
    ]
    panel = run["panel"]
    if "replication" in panel and not panel.empty:
        panel = panel[panel["replication"] == 0]
    path = panel[panel["customer"] == cid] if not panel.empty else panel
    lines = [
        f"Customer {cid}: segment {seg_text}, buys {row['quantity']:.2f} units a purchase, "
        f"price weight {row['beta_price']:.2f}, performance weight {row['beta_perf']:.2f}."
    ]
    if not path.empty:
        lines.append(f"Period {int(path.iloc[0]['period'])}: {_panel_state(path.iloc[0], fname)}.")
    lines += _event_lines(mine, cid, fname)
    lines += _path_lines(path, fname)
    if len(lines) <= 3:
        lines.append("Nothing else happened to this customer in the event log.")
    if params is not None:
        lines += _replayed_lines(params, seed, cid, int(run["manifest"].get("periods", 0)) or None)
    return "\n".join(lines)


def _panel_state(p, fname) -> str:
    """A panel row as "a customer of B, satisfaction +0.31"."""
    return (
        f"{_STATUS[int(p['status'])]}"
        + (f" of {fname(p['firm'])}" if int(p["firm_index"]) >= 0 else "")
        + f", satisfaction {p['satisfaction']:+.2f}"
    )


def _event_lines(mine: pd.DataFrame, cid: int, fname) -> list[str]:
    """One line per event of the customer, in period order; what it heard in a period on
    one line."""
    heard_by_period = {}
    for per, g in mine[(mine["event"] == "heard") & (mine["customer"] == cid)].groupby("period"):
        parts = []
        for (f, v), gg in g.groupby(["firm", "value"]):
            who = ", ".join(str(int(x)) for x in gg["other"].tolist()[:5])
            parts.append(f"{'good' if v > 0 else 'bad'} things about {fname(f)} from {who}")
        heard_by_period[int(per)] = "; ".join(parts)
    lines = []
    for _, e in mine.sort_values(["period"], kind="stable").iterrows():
        t, kind = int(e["period"]), str(e["event"])
        if kind == "heard":
            if e["customer"] == cid and t in heard_by_period:
                lines.append(f"Period {t}: heard {heard_by_period.pop(t)}.")
            continue
        text = _event_text(e, kind, cid, fname)
        if text:
            lines.append(f"Period {t}: {text}.")
    return lines


_ACQUIRED = {
    "known": "a firm it already knew",
    "marketing": "after hearing of it through marketing",
    "imitation": "after seeing friends use it",
    "wom": "after what friends said",
    "winback": "won back",
}
_COMPLAINT_OUTCOME = {
    "resolved_quick": "resolved quickly",
    "resolved_late": "to be resolved late",
    "unresolved": "left unresolved",
}


def _event_text(e, kind: str, cid: int, fname) -> str | None:
    """What one event (other than hearing) says about the customer, or None."""
    from .drivers import HOW

    f, of = fname(e["firm"]), fname(e["other_firm"])
    other = int(e["other"]) if not pd.isna(e["other"]) else -1
    detail = str(e["detail"])
    if kind == "acquire":
        how = {"referral": f"referred by customer {other}", "switch": f"switching from {of}"}
        return f"became a customer of {f} ({how.get(detail, _ACQUIRED.get(detail, detail))})"
    if kind == "complaint":
        out = _COMPLAINT_OUTCOME.get(detail, detail)
        return f"complained to {f} about a shortfall of {e['value']:.2f} — {out}"
    if kind == "problem":
        return f"{f} fell short of what they expected by {e['value']:.2f}; they did not complain"
    if kind == "referral":
        if e["customer"] == cid:
            return f"customer {other} recommended {f}; came on referral"
        return f"referred customer {int(e['customer'])} to {f}"
    if kind == "switch":
        neg = f", after bad word about {f} from customer {other}" if other >= 0 else ""
        return f"left {f} for {of} ({HOW.get(detail, detail)}{neg})"
    if kind == "churn":
        neg = f", after bad word from customer {other}" if other >= 0 else ""
        return f"left {f} and the market ({HOW['churn']}{neg})"
    return {
        "resolved_late": f"{f} resolved the complaint, late",
        "winback": f"{f} contacted them and won them back",
        "return": "came back into the market",
    }.get(kind)


def _path_lines(path: pd.DataFrame, fname) -> list[str]:
    """The satisfaction path and the state at the end, from the panel."""
    if path.empty:
        return [
            "(This customer is not in the recorded panel, so the per-period satisfaction path is not available.)"
        ]
    s = path["satisfaction"].to_numpy()
    last = path.iloc[-1]
    return [
        "Satisfaction path (every period, −1…1): " + " ".join(f"{v:+.2f}" for v in s),
        f"At the end (period {int(last['period'])}): {_panel_state(last, fname)}.",
    ]


def _replayed_lines(params, seed, cid: int, periods: int | None) -> list[str]:
    """The customer's own purchases, replayed: performance against expectation."""
    from .drivers import customer_story

    story = customer_story(params, seed, cid, periods)
    bought = story[story["bought"]]
    lines = [
        "Own experiences (replayed; performance and expectation on the 0–1 scale, "
        "satisfaction −1…1):"
    ]
    if bought.empty:
        lines.append("  no purchase in the run.")
    for _, s in bought.iterrows():
        gap = s["performance"] - s["expectation"]
        lines.append(
            f"  period {int(s['period'])}: bought from {s['bought_from']}: remembered "
            f"performance {s['performance']:.2f} against an expectation of "
            f"{s['expectation']:.2f} ({gap:+.2f}); satisfaction with the purchase "
            f"{s['transaction_satisfaction']:+.2f}, remembered {s['satisfaction']:+.2f}."
        )
    return lines


def lost_report(run: dict, firm: str, a: int, b: int, replication: int = 0, stories: int = 5):
    """Whom ``firm`` lost in months ``a … b`` and why (replayed; see :mod:`sim.drivers`)."""
    from .drivers import churn_drivers, loss_stories, replay_params, trace_losses

    try:
        params, seed = replay_params(run, replication)
        f = run["firms"]
        if "replication" in f:
            f = f[f["replication"] == replication]
        tr = trace_losses(params, seed, firm, a, b, check=f)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    t = tr.table
    lost = int(t["lost"].sum())
    head = (
        f"{firm}: {len(t)} customers at the start of month {a}; {lost} lost by the end of "
        f"month {b} ({lost / max(len(t), 1):.1%}); replication {replication} (seed {seed})."
    )
    return tr, head, churn_drivers(tr), loss_stories(tr, limit=stories)


def cmd_explain(a) -> int:
    run = read_run(a.run)
    if a.lost_between is not None:
        if a.firm is None:
            raise UsageError("--lost-between needs --firm NAME")
        lo, hi = a.lost_between
        tr, head, drivers, stories = lost_report(run, a.firm, lo, hi, a.replication, a.stories)
        print(head)
        print(
            "\nLosses by factor. monthly_loss_rate = lost / customer-months spent with that "
            "level (a level reached late, such as a complaint, counts from then); lift = that "
            "rate over the cohort's; shares compare the lost (level at leaving) with those who "
            "stayed (level at the end); destination and how describe the lost."
        )
        print(_fmt_table(drivers.astype(object).where(drivers.notna(), np.nan), "{:.3f}"))
        if stories:
            print("\nSome of the lost customers:")
            for s in stories:
                print(f"- {s}")
        if a.out:
            tr.table.to_csv(a.out, index=False)
            print(f"\nwritten: {a.out} (one row per customer of the cohort)")
        return 0
    if a.customer is None:
        raise UsageError("sim explain needs --customer ID or --firm NAME --lost-between A B")
    print(explain_customer(run, a.customer))
    return 0


# ---------------------------------------------------------------- economics
def run_economics(run: dict, baseline: dict | None = None, counterfactuals: bool = True):
    """The economics table of a run folder (see :mod:`sim.economics`)."""
    from .drivers import replay_params
    from .economics import economics

    params = seeds = None
    if counterfactuals:
        params, _ = replay_params(run, 0)
        seeds = run["manifest"].get("replication_seeds") or [run["manifest"]["seed"]]
    if baseline is not None:
        sa = run["manifest"].get("replication_seeds")
        sb = baseline["manifest"].get("replication_seeds")
        if sa != sb:
            raise UsageError(
                f"--baseline {baseline['path']}: its replication seeds differ from the run's; "
                "incremental figures need paired runs (run both with the same --seed and "
                "--replications)"
            )
    return economics(
        run["firms"],
        params=params,
        seeds=seeds,
        baseline=baseline["firms"] if baseline is not None else None,
    )


def cmd_economics(a) -> int:
    run = read_run(a.run)
    base = read_run(a.baseline) if a.baseline else None
    print(
        f"sim economics: {run['manifest'].get('name', run['manifest']['scenario'])}"
        + ("" if a.no_counterfactuals else " (running the counterfactuals)"),
        file=sys.stderr,
    )
    table = run_economics(run, base, counterfactuals=not a.no_counterfactuals)
    n = int(table["replications"].max()) if len(table) else 0
    print(f"Economics per firm (mean [95% interval] over {n} replication(s); see docs/outputs.md)")
    for firm, g in table.groupby("firm", sort=False):
        print(f"\n{firm}")
        rows = [
            {
                "measure": r["measure"],
                "value": _num(r["mean"], 2)
                + ("" if np.isnan(r["low"]) else f" [{_num(r['low'], 2)}, {_num(r['high'], 2)}]"),
            }
            for _, r in g.iterrows()
        ]
        print(_fmt_table(pd.DataFrame(rows)))
    if a.out:
        table.to_csv(a.out, index=False)
        print(f"\nwritten: {a.out}")
    return 0


# ---------------------------------------------------------------- report
def cmd_report(a) -> int:
    from .report import ReportInputError, build_report, write_report

    if a.lost_between is not None and a.lost_between[0] > a.lost_between[1]:
        raise UsageError(f"--lost-between {a.lost_between[0]} {a.lost_between[1]}: need A ≤ B")
    if a.out:
        out = Path(a.out)
        if out.exists() and out.is_dir():
            raise UsageError(f"--out {a.out}: is a folder; give a file name such as report.html")
        _check_out("--out", str(out.parent) if str(out.parent) else ".")
    elif len(a.runs) == 1:
        out = Path(a.runs[0]) / "report.html"
    else:
        stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%d-%H%M%S")
        out = Path("results") / "reports" / f"report-{stamp}.html"
    print(
        "sim report: reading runs, replaying for churn drivers and counterfactuals", file=sys.stderr
    )
    try:
        html = build_report(
            a.runs,
            firms=a.firm,
            lost_between=tuple(a.lost_between) if a.lost_between else None,
            counterfactuals=not a.no_counterfactuals,
        )
    except ReportInputError as exc:
        raise UsageError(str(exc)) from None
    try:
        write_report(html, out)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write the report ({exc.strerror or exc})") from None
    print(f"written: {out} ({len(html) / 1e6:.1f} MB, self-contained; open it in a browser)")
    return 0


# ---------------------------------------------------------------- cascades
def _cascade_row(name: str, g: pd.DataFrame, c: pd.DataFrame, ff: pd.DataFrame) -> dict:
    """One firm's cascade statistics in one replication: ``g`` its cascades (size, depth),
    ``c`` the replication's referrals (depth of each), ``ff`` its rows of the firm table."""
    some = len(g) > 0
    return {
        "firm": name,
        "cascades": len(g),
        "referred": int(g["size"].sum()) if some else 0,
        "mean_size": float(g["size"].mean()) if some else np.nan,
        "max_size": int(g["size"].max()) if some else 0,
        "share_size_1": float((g["size"] == 1).mean()) if some else np.nan,
        "max_depth": int(g["depth"].max()) if some else 0,
        "mean_depth": float(c[c["firm"] == name]["depth"].mean()) if some else np.nan,
        "wom_pos": int(ff["wom_pos"].sum()),
        "wom_neg": int(ff["wom_neg"].sum()),
        "lost_after_neg_wom": int(ff["lost_after_negative_wom"].sum()),
    }


def _cascade_table(run: dict, ev: pd.DataFrame, s_all: pd.DataFrame, reps: list) -> pd.DataFrame:
    """Per firm, the mean over replications of each cascade statistic (``max_*``: the
    largest over replications)."""
    from .analysis import referral_cascades

    f = run["firms"] if "replication" in run["firms"] else run["firms"].assign(replication=0)
    per = []
    for r in reps:
        c = referral_cascades(ev[ev["replication"] == r])
        s = s_all[s_all["replication"] == r]
        for name in run["manifest"]["firms"]:
            ff = f[(f["replication"] == r) & (f["firm"] == name)]
            per.append(_cascade_row(name, s[s["firm"] == name], c, ff))
    per = pd.DataFrame(per)
    table = per.groupby("firm", sort=False).mean().reset_index()
    table["max_size"] = per.groupby("firm", sort=False)["max_size"].max().to_numpy()
    table["max_depth"] = per.groupby("firm", sort=False)["max_depth"].max().to_numpy()
    return table


def cascade_report(run: dict) -> str:
    """Referral cascade statistics of every replication: per firm, the mean over
    replications of each statistic, and the size distribution of all cascades."""
    from .runner import cascades_per_replication

    ev = run["events"].copy()
    ev["event"] = ev["event"].astype(str)
    if "replication" not in ev:
        ev["replication"] = 0
    f = run["firms"] if "replication" in run["firms"] else run["firms"].assign(replication=0)
    s_all = cascades_per_replication(ev)
    reps = sorted(f["replication"].unique())
    table = _cascade_table(run, ev, s_all, reps)
    n = len(reps)
    what = "one replication" if n == 1 else f"means over {n} replications (max_*: the largest)"
    out = [
        f"Referral cascades ({what}): size = customers referred in one tree; depth = generations.",
        _fmt_table(table, "{:.2f}"),
    ]
    if len(s_all):
        out += [
            "",
            "Largest cascades:",
            _fmt_table(s_all.sort_values("size", ascending=False).head(10)),
        ]
        hist = s_all["size"].value_counts().sort_index()
        out += [
            "",
            f"Size distribution (all {n} replication(s)): "
            + ", ".join(f"{int(k)}: {int(v)}" for k, v in hist.items()),
        ]
    out += _influence_lines(ev, reps)
    out += [
        "",
        "Positive against negative: wom_pos / wom_neg are messages told; lost_after_neg_wom counts "
        "customers lost within the attribution window after hearing bad word about the firm.",
    ]
    return "\n".join(out)


def _influence_lines(ev: pd.DataFrame, reps: list) -> list[str]:
    """The influence trees of every replication (:func:`sim.validation.cascade_sizes`:
    acquisitions through word of mouth, imitation and referrals, each linked to the customer
    who caused it), per firm, and their size distribution."""
    from .validation import cascade_sizes

    trees = pd.concat(
        [cascade_sizes(ev[ev["replication"] == r]).assign(replication=r) for r in reps],
        ignore_index=True,
    )
    if trees.empty:
        return []
    g = trees.groupby("firm", sort=False)["size"]
    table = pd.DataFrame(
        {
            "cascades": g.size() / len(reps),
            "mean_size": g.mean(),
            "median": g.median(),
            "p99": g.quantile(0.99),
            "max_size": g.max(),
            "share_size_10+": g.apply(lambda x: float((x >= 10).mean())),
        }
    ).reset_index()
    hist = trees["size"].value_counts().sort_index()
    return [
        "",
        "Influence trees (every acquisition through word of mouth, imitation or a referral, "
        "linked to the customer who caused it; cascades: per replication):",
        _fmt_table(table, "{:.2f}"),
        "Size distribution: " + ", ".join(f"{int(k)}: {int(v)}" for k, v in hist.items()),
    ]


def cmd_cascades(a) -> int:
    print(cascade_report(read_run(a.run)))
    return 0


# ---------------------------------------------------------------- main
def _add_run(sub: Any) -> None:
    """Add `sim run` and its options to the subcommands ``sub``."""
    r = sub.add_parser("run", help="run a scenario and write a run folder")
    r.add_argument("scenario", help="scenario TOML file")
    r.add_argument("--seed", type=int, help="root seed (overrides scenario.seed)")
    r.add_argument("--periods", type=int, help="number of periods (overrides market.periods)")
    r.add_argument(
        "--replications", type=int, help="replications (overrides scenario.replications)"
    )
    r.add_argument("--out", default="results", help="results folder (default: results)")
    r.add_argument(
        "--set",
        action="append",
        metavar="KEY.PATH=VALUE",
        help="override a scenario value, e.g. --set firms.B.price=0.9 (repeatable)",
    )
    r.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    r.add_argument("--name", help="the run's name, shown by compare and report")
    r.add_argument(
        "--format",
        default="parquet",
        metavar="{parquet,csv,both}",
        help="table format of the run folder (default parquet; summaries are always CSV)",
    )
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(func=cmd_run)


def _add_validate(sub: Any) -> None:
    """Add `sim validate` and its options to the subcommands ``sub``."""
    v = sub.add_parser("validate", help="check a scenario file without running it")
    v.add_argument("scenario")
    v.add_argument("--set", action="append", metavar="KEY.PATH=VALUE")
    v.set_defaults(func=cmd_validate)


def _add_compare(sub: Any) -> None:
    """Add `sim compare` and its options to the subcommands ``sub``."""
    c = sub.add_parser(
        "compare", help="paired comparison of runs: deltas with 95%% intervals, inputs that differ"
    )
    c.add_argument("runs", nargs="+", help="run folders or scenario files (run here)")
    c.add_argument("--baseline", help="the run the others are compared with (default: first)")
    c.add_argument(
        "--replications",
        type=int,
        help="replications of scenario files (default 10; run folders keep theirs)",
    )
    c.add_argument("--periods", type=int, help="periods of scenario files")
    c.add_argument("--seed", type=int, help="root seed of scenario files (default: baseline's)")
    c.add_argument(
        "--set", action="append", metavar="KEY.PATH=VALUE", help="override in every scenario file"
    )
    c.add_argument(
        "--out",
        help="folder for comparison.csv, deltas.csv, differences.csv and comparison.png "
        "(default results/compare/<time>)",
    )
    c.set_defaults(func=cmd_compare)


def _add_explain(sub: Any) -> None:
    """Add `sim explain` and its options to the subcommands ``sub``."""
    e = sub.add_parser(
        "explain", help="one customer's story, or whom a firm lost in a window and why"
    )
    e.add_argument("run", help="run folder")
    e.add_argument("--customer", type=int, help="customer id (any customer)")
    e.add_argument("--firm", help="firm name (with --lost-between)")
    e.add_argument(
        "--lost-between",
        nargs=2,
        type=int,
        metavar=("A", "B"),
        help="break down the firm's customers lost in months A…B",
    )
    e.add_argument("--replication", type=int, default=0, help="replication (default 0)")
    e.add_argument("--stories", type=int, default=5, help="stories of lost customers (default 5)")
    e.add_argument("--out", help="CSV file for the cohort table (one row per customer)")
    e.set_defaults(func=cmd_explain)


def _add_economics(sub: Any) -> None:
    """Add `sim economics` and its options to the subcommands ``sub``."""
    ec = sub.add_parser(
        "economics",
        help="acquisition cost by channel, retention and complaint costs, programme ROI, CLV",
    )
    ec.add_argument("run", help="run folder")
    ec.add_argument("--baseline", help="a run folder with the same seeds: incremental CLV")
    ec.add_argument(
        "--no-counterfactuals",
        action="store_true",
        help="skip the no-complaint-handling and no-referral-programme replays",
    )
    ec.add_argument("--out", help="CSV file for the table")
    ec.set_defaults(func=cmd_economics)


def _add_report(sub: Any) -> None:
    """Add `sim report` and its options to the subcommands ``sub``."""
    rp = sub.add_parser("report", help="one self-contained HTML report of one or more runs")
    rp.add_argument("runs", nargs="+", help="run folders (the first is the baseline)")
    rp.add_argument(
        "--out", help="HTML file (default RUN/report.html, or results/reports/ for several)"
    )
    rp.add_argument(
        "--firm", action="append", help="firm whose losses to explain (repeatable; default all)"
    )
    rp.add_argument(
        "--lost-between",
        nargs=2,
        type=int,
        metavar=("A", "B"),
        help="months of the churn-driver window (default: the last 12)",
    )
    rp.add_argument(
        "--no-counterfactuals", action="store_true", help="skip the programme counterfactuals"
    )
    rp.set_defaults(func=cmd_report)


def _add_cascades(sub: Any) -> None:
    """Add `sim cascades` and its options to the subcommands ``sub``."""
    k = sub.add_parser("cascades", help="referral cascade statistics of a run")
    k.add_argument("run", help="run folder")
    k.set_defaults(func=cmd_cascades)


def _add_delegated(sub: Any) -> None:
    """Add the commands that parse their own arguments (:data:`DELEGATED`) to ``sub``."""
    # features that own their argument parsing: `sim NAME ARGS...` → module.main(ARGS)
    for name, module, text in DELEGATED:
        d = sub.add_parser(name, help=text, add_help=False)
        d.add_argument("args", nargs=argparse.REMAINDER)
        d.set_defaults(func=_delegate(module))


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    ap = OneLineParser(prog="sim", description="Agent-based simulation of customer markets.")
    ap.add_argument("--version", action="version", version=f"sim {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)

    _add_run(sub)
    _add_validate(sub)
    _add_compare(sub)
    _add_explain(sub)
    _add_economics(sub)
    _add_report(sub)
    _add_cascades(sub)
    _add_delegated(sub)
    return ap


#: (command, module with a ``main(argv) -> int``, help)
DELEGATED = (
    ("tournament", "sim.tournament", "run a tournament of firm strategies across scenarios"),
    ("sweep", "sim.experiments", "run a parameter sweep from a sweep file"),
    ("calibrate", "sim.calibration", "fit scenario parameters to observed KPIs"),
    ("dashboard", "sim.app", "start the browser dashboard"),
    ("game", "sim.game", "run the market game for student teams in the browser"),
    ("schema", "sim.schema", "print or write (--out FILE) the JSON Schema of scenario files"),
)


def _delegate(module: str):
    def run(a) -> int:
        import importlib

        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            raise UsageError(
                f"this command needs {exc.name!r}, which is not installed "
                "(scripts/setup.sh installs everything)"
            ) from None
        return int(mod.main(list(a.args)) or 0)

    return run


def _stdout_closed() -> int:
    """The reader of stdout went away (``sim cascades RUN | head``): stop quietly."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes at exit
    return 0


def _dispatch(argv: list[str]) -> int:
    # delegated commands parse their own arguments (options may come first)
    for name, module, _ in DELEGATED:
        if argv[:1] == [name]:
            return _delegate(module)(argparse.Namespace(args=argv[1:]))
    ap = build_parser()
    if not argv:
        ap.print_help()
        return 0
    a = ap.parse_args(argv)
    if a.command is None:  # options only (e.g. `sim --quiet`)
        raise UsageError("a command is required (sim --help lists them)")
    if a.command in ("compare", "explain", "cascades", "report"):
        with _damaged_runs(a):
            return int(a.func(a) or 0)
    return int(a.func(a) or 0)


@contextlib.contextmanager
def _damaged_runs(a: argparse.Namespace):
    """Errors raised while reading run folders' tables become one line naming them."""
    try:
        yield
    except (ScenarioError, RunFolderError, UsageError):
        raise
    except (
        LookupError,
        TypeError,
        ValueError,
        AttributeError,
        ArithmeticError,
        NotImplementedError,
    ) as exc:
        runs = [str(r) for r in (getattr(a, "runs", None) or [getattr(a, "run", "")])]
        what = f"{type(exc).__name__}: {exc}"
        raise RunFolderError(
            f"{', '.join(runs)[:200]}: damaged run folder, cannot be read ({what[:120]})"
        ) from None


def main(argv: list[str] | None = None) -> int:
    """The ``sim`` command; returns the exit code (0 ok, 2 bad input, 130/143/129 when
    interrupted by Ctrl-C, SIGTERM or SIGHUP). ``sim`` alone prints the help."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        with signals_as_interrupt():
            return _dispatch(argv)
    except (ScenarioError, RunFolderError, UsageError, OutFolderError) as exc:
        print(f"sim: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return _stdout_closed()
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    except MemoryError:
        print(
            "sim: error: out of memory; use fewer customers, periods or replications "
            "(sim validate shows the estimate)",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        print(
            f"sim: interrupted ({signal.Signals(signum).name}); no run folder was written",
            file=sys.stderr,
        )
        return 128 + int(signum)


if __name__ == "__main__":
    raise SystemExit(main())
