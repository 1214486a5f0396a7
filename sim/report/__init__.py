"""``sim report``: one self-contained HTML file for a manager.

The file holds what was run and what differs between the runs, the headline KPIs with
95% intervals and the differences against the first run, the story plots (one colour per
firm, markers for entries and lever changes), churn drivers, referral cascades,
economics, profit concentration and a methods note. Images are inline (PNG as data
URIs), there is no script and no external resource, so it opens from disk or an e-mail
and makes no network request; a print style sheet lays it out on A4.

Built with jinja2 (``templates/report.html.j2``).

Examples:
    >>> from sim.report import build_report  # doctest: +SKIP
    >>> html = build_report(["results/baseline/20260101-000000-seed42"])  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
import os
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["build_report", "write_report", "ReportInputError"]


class ReportInputError(ValueError):
    """Bad input to the report (a firm, a window)."""


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _fmt(v, d: int) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "—"
    return f"{v:,.{d}f}"


def _cell(r, value: str, d: int, signed: bool = False) -> str:
    v = _fmt(r[value], d)
    if signed and v[0] not in "-—":
        v = "+" + v
    if np.isfinite(r["low"]):
        v += f" [{_fmt(r['low'], d)}, {_fmt(r['high'], d)}]"
    return v


def _kpi_rows(table: pd.DataFrame, firms: list[str], value="mean", signed=False) -> list[dict]:
    from ..kpis import KPIS

    rows = []
    for k in KPIS:
        d = k.decimals + (1 if k.count else 0)
        cells = []
        for f in firms:
            r = table[(table["kpi"] == k.name) & (table["firm"] == f)]
            if r.empty:
                cells.append({"text": "", "mark": False})
                continue
            r = r.iloc[0]
            mark = bool(r["distinguishable"]) if "distinguishable" in r else False
            cells.append({"text": _cell(r, value, d, signed), "mark": mark})
        rows.append({"kpi": k.name, "unit": k.unit, "definition": k.definition, "cells": cells})
    return rows


def _records(df: pd.DataFrame, decimals: int = 3) -> tuple[list[str], list[list[str]]]:
    cols = [str(c) for c in df.columns]
    rows = []
    for r in df.itertuples(index=False):
        out = []
        for v in r:
            if isinstance(v, float | np.floating):
                out.append(_fmt(float(v), decimals))
            elif v is pd.NA:
                out.append("—")
            else:
                out.append(str(v))
        rows.append(out)
    return cols, rows


def _cascade_table(events: pd.DataFrame, firms: list[str]) -> pd.DataFrame:
    from ..runner import cascades_per_replication

    c = cascades_per_replication(events)
    reps = sorted(events["replication"].unique()) if "replication" in events else [0]
    rows = []
    for f in firms:
        per = []
        for r in reps:
            g = c[(c["replication"] == r) & (c["firm"] == f)]
            per.append(
                (
                    len(g),
                    int(g["size"].sum()) if len(g) else 0,
                    float(g["size"].mean()) if len(g) else np.nan,
                    int(g["size"].max()) if len(g) else 0,
                    int(g["depth"].max()) if len(g) else 0,
                )
            )
        a = np.array(per, dtype=float)
        rows.append(
            {
                "firm": f,
                "cascades per replication": float(a[:, 0].mean()),
                "customers referred": float(a[:, 1].mean()),
                "mean size": float(np.nanmean(a[:, 2])) if np.isfinite(a[:, 2]).any() else np.nan,
                "largest (max over replications)": int(a[:, 3].max()),
                "deepest (generations)": int(a[:, 4].max()),
            }
        )
    return pd.DataFrame(rows)


def build_report(
    folders: list[str | Path],
    *,
    firms: list[str] | None = None,
    lost_between: tuple[int, int] | None = None,
    counterfactuals: bool = True,
    stories: int = 3,
) -> str:
    """The report's HTML for run folders (the first is the baseline).

    Args:
        folders: run folders made by ``sim run``.
        firms: firms whose losses are explained (default: every firm of the first run).
        lost_between: the window of months for the churn drivers (default: the last 12
            months of the first run).
        counterfactuals: run the no-complaint-handling and no-referral counterfactuals.
        stories: stories of lost customers per firm.

    Returns:
        The HTML text.

    Raises:
        RunFolderError: a folder is not a run folder.
        ReportInputError: an unknown firm or a window outside the run.
    """
    import jinja2

    from .. import __version__
    from ..compare import compare, load_compared
    from ..drivers import churn_drivers, loss_stories, replay_params, trace_losses
    from ..economics import economics
    from ..kpis import KPIS
    from ..plots import plot_kpi_intervals, plot_lorenz, plot_story
    from ..runner import read_run

    raw = [read_run(f) for f in folders]
    base = raw[0]
    firm_names = list(base["manifest"]["firms"])
    all_firms = list(dict.fromkeys(sum((r["manifest"]["firms"] for r in raw), [])))
    T = int(base["manifest"].get("periods") or base["firms"]["period"].max())
    want = firms or firm_names  # bad input fails before any work
    for f in want:
        if f not in firm_names:
            raise ReportInputError(f"--firm {f}: unknown; firms: {', '.join(firm_names)}")
    a, b = lost_between or (max(1, T - 11), T)
    if not 1 <= a <= b <= T:
        raise ReportInputError(f"--lost-between {a} {b}: need 1 ≤ a ≤ b ≤ {T}")
    runs = [load_compared(f) for f in folders]
    res = compare(runs, 0)
    names = [r.name for r in runs]

    what = []
    for r, run in zip(raw, runs, strict=True):
        m = r["manifest"]
        seeds = m.get("replication_seeds") or [m.get("seed")]
        what.append(
            {
                "name": run.name,
                "scenario": m["scenario"],
                "title": m.get("title") or "",
                "customers": m.get("customers"),
                "periods": m.get("periods"),
                "firms": ", ".join(m["firms"]),
                "replications": len(seeds),
                "seeds": f"{seeds[0]}"
                + (f" (+{len(seeds) - 1} spawned)" if len(seeds) > 1 else ""),
                "folder": str(r["path"]),
                "command": " ".join(m.get("command") or []),
                "started": m.get("started_utc", ""),
            }
        )
    diff = res["differences"]
    differences = _records(diff.astype(str)) if len(diff) else None

    headline = []
    for run in runs:
        t = res["kpis"][res["kpis"]["run"] == run.name]
        f_here = [f for f in all_firms if f in set(t["firm"])]
        headline.append({"name": run.name, "firms": f_here, "rows": _kpi_rows(t, f_here)})
    deltas = []
    if len(runs) > 1:
        for run in runs[1:]:
            d = res["deltas"][res["deltas"]["run"] == run.name]
            f_here = [f for f in all_firms if f in set(d["firm"])]
            deltas.append(
                {
                    "name": run.name,
                    "firms": f_here,
                    "rows": _kpi_rows(d, f_here, "delta", signed=True),
                }
            )
    kpi_plot = _png(
        plot_kpi_intervals(
            res["kpis"],
            ["final_share", "annual_churn", "satisfaction_last12", "profit_total"],
            names,
        )
    )
    story = [{"name": run.name, "img": _png(plot_story(run.firms, run.name))} for run in runs]

    # churn drivers (first run)
    params, seed = replay_params(base, 0)
    f0 = base["firms"]
    f0 = f0[f0["replication"] == 0] if "replication" in f0 else f0
    drivers = []
    for f in want:
        try:
            tr = trace_losses(params, seed, f, a, b, check=f0)
        except ValueError as exc:
            raise ReportInputError(str(exc)) from None
        t = tr.table
        d = churn_drivers(tr)
        drivers.append(
            {
                "firm": f,
                "cohort": len(t),
                "lost": int(t["lost"].sum()),
                "table": _records(d, 3),
                "stories": loss_stories(tr, limit=stories),
            }
        )

    cascades = _records(_cascade_table(base["events"], firm_names), 2)

    econ = []
    for i, (r, run) in enumerate(zip(raw, runs, strict=True)):
        p, _ = replay_params(r, 0) if counterfactuals else (None, None)
        baseline = None
        if i > 0 and run.seeds == runs[0].seeds:
            baseline = raw[0]["firms"]
        e = economics(
            r["firms"], params=p, seeds=run.seeds if counterfactuals else None, baseline=baseline
        )
        wide = []
        for measure in dict.fromkeys(e["measure"]):
            row = {"measure": measure}
            for f in r["manifest"]["firms"]:
                x = e[(e["measure"] == measure) & (e["firm"] == f)]
                row[f] = _cell(x.iloc[0], "mean", 2) if len(x) else "—"
            wide.append(row)
        econ.append({"name": run.name, "table": _records(pd.DataFrame(wide))})

    lorenz = None
    if not base["customers"].empty:
        lorenz = _png(plot_lorenz(base["customers"], firm_names))

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sim.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    reps = sorted({len(r.seeds) for r in runs})
    calibration = [
        f"{run.name}: {run.scenario.get('scenario', {}).get('description', '')}"
        for run in runs
        if "calibrated" in str(run.scenario.get("scenario", {}).get("description", ""))
    ]
    return env.get_template("report.html.j2").render(
        title="Market simulation report: " + " vs ".join(names),
        generated=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
        what=what,
        differences=differences,
        paired=res["paired"],
        headline=headline,
        deltas=deltas,
        baseline=names[0],
        kpi_plot=kpi_plot,
        story=story,
        drivers=drivers,
        window=(a, b),
        cascades=cascades,
        econ=econ,
        counterfactuals=counterfactuals,
        lorenz=lorenz,
        replications=reps,
        kpis=KPIS,
        versions=base["manifest"].get("versions", {}),
        calibration=calibration,
    )


def write_report(html: str, out: str | Path) -> Path:
    """Write the report atomically (a temporary file renamed into place)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out
