"""The schema of every output table a run folder or a command writes, in one place.

docs/outputs.md carries the generated block (:func:`outputs_markdown`) between
``<!-- outputs:begin -->`` and ``<!-- outputs:end -->``; tests/test_outputs.py checks that
the block is current and that each table has exactly the documented columns. The
per-period tables of the model (firms, market, events, panel, customers) are documented
in docs/model.md, section 9.

Examples:
    >>> "summary.csv" in TABLES
    True
"""

from __future__ import annotations

from .economics import MEASURES
from .kpis import KPIS

__all__ = ["TABLES", "outputs_markdown", "BEGIN", "END"]

BEGIN, END = "<!-- outputs:begin -->", "<!-- outputs:end -->"

_KPI_COLS = [(k.name, k.unit, k.definition) for k in KPIS]

#: table → (where it comes from, [(column, unit, meaning)])
TABLES: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "summary.csv": (
        "run folder: one row per firm, each KPI's mean over replications (rounded as "
        "below; counts are integers for one replication, means of counts have one decimal)",
        [("firm", "–", "firm name"), *_KPI_COLS],
    ),
    "kpis.csv": (
        "run folder: one row per replication and firm, the KPIs of that replication",
        [
            ("replication", "–", "replication index (0 = the root seed)"),
            ("firm", "–", "firm name"),
            *_KPI_COLS,
        ],
    ),
    "summary_intervals.csv": (
        "run folder: one row per firm and KPI, the mean and its 95% interval (Student's t "
        "over replications, clipped to the KPI's range; empty with one replication)",
        [
            ("firm", "–", "firm name"),
            ("kpi", "–", "KPI name (see summary.csv)"),
            ("unit", "–", "the KPI's unit"),
            ("mean", "KPI unit", "mean over replications"),
            ("low", "KPI unit", "lower bound of the 95% interval"),
            ("high", "KPI unit", "upper bound of the 95% interval"),
            ("replications", "–", "replications with a value"),
        ],
    ),
    "cascades.csv": (
        "run folder: one row per referral cascade and replication",
        [
            ("replication", "–", "replication index"),
            ("firm", "–", "firm name"),
            ("root", "customer id", "the customer who started the cascade (not referred)"),
            ("size", "customers", "customers referred in the cascade"),
            ("depth", "generations", "longest chain of referrals"),
            ("start", "period", "first referral"),
            ("end", "period", "last referral"),
        ],
    ),
    "comparison.csv": (
        "sim compare: one row per run, firm and KPI",
        [
            ("run", "–", "run name"),
            ("firm", "–", "firm name"),
            ("kpi", "–", "KPI name"),
            ("unit", "–", "the KPI's unit"),
            ("mean", "KPI unit", "mean over replications"),
            ("low", "KPI unit", "lower bound of the 95% interval"),
            ("high", "KPI unit", "upper bound of the 95% interval"),
            ("replications", "–", "replications with a value"),
        ],
    ),
    "deltas.csv": (
        "sim compare: one row per run (other than the baseline), firm and KPI",
        [
            ("run", "–", "run name"),
            ("baseline_run", "–", "the baseline's name"),
            ("firm", "–", "firm name"),
            ("kpi", "–", "KPI name"),
            ("unit", "–", "the KPI's unit"),
            ("baseline", "KPI unit", "the baseline's mean"),
            ("value", "KPI unit", "the run's mean"),
            (
                "delta",
                "KPI unit",
                "mean difference run − baseline (paired by replication "
                "when the seeds are equal, else difference of means)",
            ),
            ("low", "KPI unit", "lower bound of the difference's 95% interval"),
            ("high", "KPI unit", "upper bound"),
            ("distinguishable", "bool", "the interval excludes 0 (a difference beyond noise)"),
        ],
    ),
    "differences.csv": (
        "sim compare: one row per input (scenario key path) whose value differs",
        [
            ("input", "–", "key path, e.g. firms.B.price or events.24.Premium (period.firm)"),
            ("<run name>", "–", "the input's value in each run (— where absent)"),
        ],
    ),
    "economics (sim economics --out)": (
        "one row per firm and measure, mean and 95% interval over replications",
        [
            ("firm", "–", "firm name"),
            ("measure", "–", "one of the measures below"),
            ("mean", "measure unit", "mean over replications"),
            ("low", "measure unit", "lower bound of the 95% interval"),
            ("high", "measure unit", "upper bound"),
            ("replications", "–", "replications with a value"),
        ],
    ),
    "economics measures": (
        "the measure column of the economics table; <programme> is complaint_handling "
        "(counterfactual: the firm resolves no complaint) or referral_programme (it pays no "
        "referral reward), each run with the same seeds",
        [(k, u, m) for k, (u, m) in MEASURES.items()],
    ),
    "cohort (sim explain --lost-between --out)": (
        "one row per customer of the firm at the start of month A (see sim/drivers.py)",
        [
            ("customer", "customer id", "the customer"),
            ("segment", "–", "segment name"),
            ("value_tier", "–", "high / middle / low third of the cohort by expected_spend"),
            ("expected_spend", "cu per month", "units per purchase × purchase probability × price"),
            ("tenure_months", "months", "months with the firm at the start of the window"),
            ("satisfaction_start", "−1…1", "remembered satisfaction at the start of the window"),
            ("tenure", "–", "tenure band: < 6, 6–11, 12–23, ≥ 24 months"),
            (
                "complaint_outcome",
                "–",
                "worst outcome of complaints to the firm in the window, up to leaving",
            ),
            (
                "heard_negative",
                "–",
                "heard negative word of mouth about the firm in the window (yes/no)",
            ),
            (
                "satisfaction_band",
                "–",
                "detractor (S < 0.2), passive, promoter (S ≥ 0.8) at the start of the month of leaving (or the last month)",
            ),
            ("lost", "bool", "left the firm in the window"),
            ("lost_period", "month", "month of leaving (−1: stayed)"),
            ("destination", "–", "firm joined, or out of market"),
            (
                "satisfaction_at_leaving",
                "−1…1",
                "remembered satisfaction at the start of the month of leaving",
            ),
            (
                "satisfaction_after_leaving",
                "−1…1",
                "remembered satisfaction with the firm at the end of the month of leaving (after its "
                "experiences; empty when they bought from the new firm that month)",
            ),
            ("performance_at_leaving", "0–1 level", "remembered performance of the firm then"),
            ("expectation_at_leaving", "0–1 level", "expectation of the firm then"),
            (
                "value_firm_at_leaving",
                "utility",
                "value the firm offered them that month (with inertia)",
            ),
            ("value_best_rival_at_leaving", "utility", "value of the best rival they knew"),
            ("best_rival", "–", "that rival"),
            ("how", "–", "chose a rival when buying / churned / followed a referral"),
        ],
    ),
    "churn drivers (sim explain --lost-between)": (
        "one row per factor and level",
        [
            (
                "factor",
                "–",
                "segment, value_tier, tenure, satisfaction_band, complaint_outcome, heard_negative, destination, how",
            ),
            ("level", "–", "the factor's level"),
            ("lost", "customers", "lost customers with that level at leaving"),
            ("stayed", "customers", "customers who stayed, with that level at the end"),
            ("share_of_lost", "fraction", "lost / all lost"),
            ("share_of_stayed", "fraction", "stayed / all who stayed"),
            (
                "customer_months",
                "customer-months",
                "months cohort members spent at risk with that level",
            ),
            ("monthly_loss_rate", "per month", "lost / customer_months"),
            ("lift", "ratio", "monthly_loss_rate / the cohort's monthly loss rate"),
        ],
    ),
}


def outputs_markdown() -> str:
    """The generated block of docs/outputs.md: one table per output table."""
    parts = []
    for name, (where, cols) in TABLES.items():
        parts.append(f"### `{name}`\n\n{where[0].upper()}{where[1:]}.\n")
        parts.append("| column | unit | meaning |\n|---|---|---|")
        parts += [f"| `{c}` | {u} | {m} |" for c, u, m in cols]
        parts.append("")
    return "\n".join(parts)


def _block(text: str) -> str:
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n")


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.outputs [--write docs/outputs.md]``: print or refresh the block."""
    import argparse
    import sys
    from pathlib import Path

    ap = argparse.ArgumentParser(prog="python -m sim.outputs", description=__doc__.splitlines()[0])
    ap.add_argument("--write", metavar="FILE", help="replace the marked block in FILE")
    a = ap.parse_args(argv)
    if not a.write:
        sys.stdout.write(outputs_markdown() + "\n")
        return 0
    path = Path(a.write)
    text = path.read_text()
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(f"{head}{BEGIN}\n{outputs_markdown()}\n{END}{tail}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
