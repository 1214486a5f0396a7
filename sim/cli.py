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
    summarise,
)
from .scenario import ScenarioError, load_scenario

__all__ = ["main"]


class UsageError(Exception):
    """Bad command-line input (exit code 2)."""


class _Parser(argparse.ArgumentParser):
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


def cmd_run(a) -> int:
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
    sc = load_scenario(a.scenario, list(a.set or []), flags)
    out_root = _check_out("--out", a.out)
    try:
        check_memory(sc.params, sc.replications, source=str(a.scenario))
    except MemoryRefused as exc:
        raise UsageError(str(exc)) from None
    print(
        f"sim run: {sc.name} — {sc.params.market.n_customers} customers, {len(sc.params.firms)} firms, "
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
        )
    except OSError as exc:
        raise UsageError(
            f"--out {a.out}: cannot write the run folder ({exc.strerror or exc})"
        ) from None
    summary = summarise(result.firms)
    print()
    print(
        f"{sc.title or sc.name}: summary over {sc.params.market.periods} periods (means over replications)"
    )
    print(_fmt_table(summary))
    if sc.notice:
        print(f"\nWhat to notice: {sc.notice}")
    print(f"\nRun folder: {folder}")
    print(
        "  tables: firms / market / events / panel (.parquet and .csv), summary.csv, cascades.csv"
    )
    if not a.no_plots:
        print(f"  plots:  {folder / 'plots'} (overview.png first)")
    print(f"  next:   sim explain {folder} --customer 42   |   sim cascades {folder}")
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
def cmd_compare(a) -> int:
    if len(a.runs) < 2:
        raise UsageError("sim compare needs at least two run folders")
    runs = {}
    labels: list[str] = []
    for path in a.runs:
        r = read_run(path)
        label = f"{r['manifest']['scenario']}"
        if label in labels:
            label = f"{label} ({Path(path).name})"
        labels.append(label)
        runs[label] = r
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%d-%H%M%S")
    out = _check_out("--out", a.out) if a.out else Path("results") / "compare" / stamp
    table = []
    for label, r in runs.items():
        s = summarise(r["firms"])
        s.insert(0, "run", label)
        table.append(s)
    table = pd.concat(table, ignore_index=True)
    from .plots import plot_compare
    from .runner import atomic_folder

    with atomic_folder(out.parent, out.name) as (tmp, out):  # both files, or neither
        table.to_csv(tmp / "comparison.csv", index=False)
        fig = plot_compare({k: v["firms"] for k, v in runs.items()})
        fig.savefig(tmp / "comparison.png", dpi=80)
    print(_fmt_table(table))
    print(f"\nwritten: {out / 'comparison.csv'}, {out / 'comparison.png'}")
    return 0


# ---------------------------------------------------------------- explain
def explain_customer(run: dict, cid: int) -> str:
    """The story of one customer from a run folder's tables (first replication)."""
    cust = run["customers"]
    if cust.empty or cid < 0 or cid >= len(cust):
        raise UsageError(f"--customer {cid}: no such customer; ids run from 0 to {len(cust) - 1}")
    firms = run["manifest"]["firms"]

    def fname(j) -> str:
        j = int(j)
        return firms[j] if 0 <= j < len(firms) else "nobody"

    row = cust.iloc[cid]
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
        f"Customer {cid}: segment {int(row['segment'])}, buys {row['quantity']:.2f} units a purchase, "
        f"price weight {row['beta_price']:.2f}, performance weight {row['beta_perf']:.2f}."
    ]
    status = {0: "a prospect (no firm)", 1: "a customer", 2: "out of the market (lapsed)"}
    if not path.empty:
        p0 = path.iloc[0]
        lines.append(
            f"Period {int(p0['period'])}: {status[int(p0['status'])]}"
            + (f" of {fname(p0['firm'])}" if int(p0["firm"]) >= 0 else "")
            + f", satisfaction {p0['satisfaction']:+.2f}."
        )
    heard_by_period = {}
    for per, g in mine[(mine["event"] == "heard") & (mine["customer"] == cid)].groupby("period"):
        parts = []
        for (f, v), gg in g.groupby(["firm", "value"]):
            who = ", ".join(str(int(x)) for x in gg["other"].tolist()[:5])
            parts.append(f"{'good' if v > 0 else 'bad'} things about {fname(f)} from {who}")
        heard_by_period[int(per)] = "; ".join(parts)
    for _, e in mine.sort_values(["period"], kind="stable").iterrows():
        t, kind = int(e["period"]), str(e["event"])
        if kind == "heard":
            if e["customer"] == cid and t in heard_by_period:
                lines.append(f"Period {t}: heard {heard_by_period.pop(t)}.")
            continue
        f, of = fname(e["firm"]), fname(e["other_firm"])
        other = int(e["other"]) if not pd.isna(e["other"]) else -1
        if kind == "acquire":
            how = str(e["detail"])
            src = {
                "known": "a firm it already knew",
                "marketing": "after hearing of it through marketing",
                "imitation": "after seeing friends use it",
                "wom": "after what friends said",
                "referral": f"referred by customer {other}",
                "switch": f"switching from {of}",
                "winback": "won back",
            }.get(how, how)
            lines.append(f"Period {t}: became a customer of {f} ({src}).")
        elif kind == "complaint":
            out = {
                "resolved_quick": "resolved quickly",
                "resolved_late": "to be resolved late",
                "unresolved": "left unresolved",
            }.get(str(e["detail"]), str(e["detail"]))
            lines.append(
                f"Period {t}: complained to {f} about a shortfall of {e['value']:.2f} — {out}."
            )
        elif kind == "resolved_late":
            lines.append(f"Period {t}: {f} resolved the complaint, late.")
        elif kind == "referral":
            if e["customer"] == cid:
                lines.append(f"Period {t}: customer {other} recommended {f}; came on referral.")
            else:
                lines.append(f"Period {t}: referred customer {int(e['customer'])} to {f}.")
        elif kind == "switch":
            why = {
                "choice": "found better value elsewhere",
                "churn": "was dissatisfied or moved on",
                "referral": "a friend recommended a rival",
            }.get(str(e["detail"]), str(e["detail"]))
            neg = f", after bad word about {f} from customer {other}" if other >= 0 else ""
            lines.append(f"Period {t}: left {f} for {of} ({why}{neg}).")
        elif kind == "churn":
            neg = f", after bad word from customer {other}" if other >= 0 else ""
            lines.append(f"Period {t}: left {f} and the market{neg}.")
        elif kind == "winback":
            lines.append(f"Period {t}: {f} contacted them and won them back.")
        elif kind == "return":
            lines.append(f"Period {t}: came back into the market.")
    if not path.empty:
        s = path["satisfaction"].to_numpy()
        lines.append("Satisfaction path (every period, −1…1): " + " ".join(f"{v:+.2f}" for v in s))
        last = path.iloc[-1]
        lines.append(
            f"At the end (period {int(last['period'])}): {status[int(last['status'])]}"
            + (f" of {fname(last['firm'])}" if int(last["firm"]) >= 0 else "")
            + f", satisfaction {last['satisfaction']:+.2f}."
        )
    else:
        lines.append(
            "(This customer is not in the recorded panel, so the per-period satisfaction path is not available.)"
        )
    if len(lines) <= 3:
        lines.append("Nothing else happened to this customer in the event log.")
    return "\n".join(lines)


def cmd_explain(a) -> int:
    run = read_run(a.run)
    print(explain_customer(run, a.customer))
    return 0


# ---------------------------------------------------------------- cascades
def cascade_report(run: dict) -> str:
    from .analysis import cascade_summary, referral_cascades

    ev = run["events"]
    if "replication" in ev:
        ev = ev[ev["replication"] == 0]
    ev = ev.copy()
    ev["event"] = ev["event"].astype(str)
    c = referral_cascades(ev)
    s = cascade_summary(ev)
    f = run["firms"]
    if "replication" in f:
        f = f[f["replication"] == 0]
    rows = []
    for name in run["manifest"]["firms"]:
        g = s[s["firm_name"] == name]
        ff = f[f["name"] == name]
        rows.append(
            {
                "firm": name,
                "cascades": len(g),
                "referred": int(g["size"].sum()) if len(g) else 0,
                "mean_size": float(g["size"].mean()) if len(g) else np.nan,
                "max_size": int(g["size"].max()) if len(g) else 0,
                "share_size_1": float((g["size"] == 1).mean()) if len(g) else np.nan,
                "max_depth": int(g["depth"].max()) if len(g) else 0,
                "mean_depth": float(c[c["firm_name"] == name]["depth"].mean())
                if len(g)
                else np.nan,
                "wom_pos": int(ff["wom_pos"].sum()),
                "wom_neg": int(ff["wom_neg"].sum()),
                "lost_after_neg_wom": int(ff["lost_after_negative_wom"].sum()),
            }
        )
    out = [
        "Referral cascades (first replication): size = customers referred in one tree; depth = generations.",
        _fmt_table(pd.DataFrame(rows), "{:.2f}"),
    ]
    if len(s):
        out += ["", "Largest cascades:", _fmt_table(s.head(10))]
        hist = s["size"].value_counts().sort_index()
        out += [
            "",
            "Size distribution: " + ", ".join(f"{int(k)}: {int(v)}" for k, v in hist.items()),
        ]
    out += [
        "",
        "Positive against negative: wom_pos / wom_neg are messages told; lost_after_neg_wom counts "
        "customers lost within the attribution window after hearing bad word about the firm.",
    ]
    return "\n".join(out)


def cmd_cascades(a) -> int:
    print(cascade_report(read_run(a.run)))
    return 0


# ---------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    ap = _Parser(prog="sim", description="Agent-based simulation of customer markets.")
    ap.add_argument("--version", action="version", version=f"sim {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

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
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(func=cmd_run)

    v = sub.add_parser("validate", help="check a scenario file without running it")
    v.add_argument("scenario")
    v.add_argument("--set", action="append", metavar="KEY.PATH=VALUE")
    v.set_defaults(func=cmd_validate)

    c = sub.add_parser("compare", help="compare run folders side by side")
    c.add_argument("runs", nargs="+", help="run folders")
    c.add_argument(
        "--out",
        help="folder for comparison.csv and comparison.png (default results/compare/<time>)",
    )
    c.set_defaults(func=cmd_compare)

    e = sub.add_parser("explain", help="the story of one customer in a run")
    e.add_argument("run", help="run folder")
    e.add_argument("--customer", type=int, required=True, help="customer id")
    e.set_defaults(func=cmd_explain)

    k = sub.add_parser("cascades", help="referral cascade statistics of a run")
    k.add_argument("run", help="run folder")
    k.set_defaults(func=cmd_cascades)

    # features that own their argument parsing: `sim NAME ARGS...` → module.main(ARGS)
    for name, module, text in DELEGATED:
        d = sub.add_parser(name, help=text, add_help=False)
        d.add_argument("args", nargs=argparse.REMAINDER)
        d.set_defaults(func=_delegate(module))
    return ap


#: (command, module with a ``main(argv) -> int``, help)
DELEGATED = (
    ("tournament", "sim.tournament", "run a tournament of firm strategies across scenarios"),
    ("sweep", "sim.experiments", "run a parameter sweep from a sweep file"),
    ("calibrate", "sim.calibration", "fit scenario parameters to observed KPIs"),
    ("dashboard", "sim.app", "start the browser dashboard"),
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
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
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
