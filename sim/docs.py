"""Generate the parameter tables of docs/model.md from :mod:`sim.params`.

    python -m sim.docs > /tmp/params.md

The text between ``<!-- params:begin -->`` and ``<!-- params:end -->`` in docs/model.md
is this output; ``python -m sim.docs --write docs/model.md`` replaces it in place, and a
test fails when the two differ.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import params as P

__all__ = [
    "parameter_tables",
    "scenario_tables",
    "SECTIONS",
    "MECHANISMS",
    "mechanisms",
    "schedule",
]

#: (scenario section, dataclass, title)
SECTIONS = [
    ("market", P.MarketParams, "Market"),
    ("market.segments[]", P.SegmentParams, "Segment (each entry of market.segments)"),
    ("network", P.NetworkParams, "Network"),
    ("firms[]", P.FirmParams, "Firm levers and costs (each entry of firms)"),
    ("choice", P.ChoiceParams, "Choice"),
    ("capacity", P.CapacityParams, "Capacity"),
    ("experience", P.ExperienceParams, "Experience"),
    ("satisfaction", P.SatisfactionParams, "Satisfaction"),
    ("expectations", P.ExpectationParams, "Expectations"),
    ("complaints", P.ComplaintParams, "Complaints"),
    ("wom", P.WomParams, "Word of mouth"),
    ("referrals", P.ReferralParams, "Referrals"),
    ("acquisition", P.AcquisitionParams, "Acquisition (awareness)"),
    ("churn", P.ChurnParams, "Churn and win-back"),
    ("loyalty", P.LoyaltyParams, "Loyalty programme"),
    ("game", P.GameParams, "Market game (sim game; not read by the model)"),
]

BEGIN, END = "<!-- params:begin -->", "<!-- params:end -->"

#: (section, module whose docstring states the mechanism and its equation), in the order of a
#: period (docs/model.md, section 7)
MECHANISMS = [
    ("choice", "sim.choice"),
    ("capacity", "sim.capacity"),
    ("experience", "sim.experience"),
    ("satisfaction", "sim.satisfaction"),
    ("expectations", "sim.expectations"),
    ("complaints", "sim.complaints"),
    ("wom", "sim.wom"),
    ("referrals", "sim.referrals"),
    ("acquisition", "sim.acquisition"),
    ("churn", "sim.churn"),
    ("loyalty", "sim.loyalty"),
]


def schedule(stages=None) -> list[str]:
    """The stages of a period, in order, each in one line (its docstring's first line).

    Args:
        stages: a model's :class:`~sim.stages.Schedule` (user stages included); the
            built-in schedule if None.
    """
    if stages is None:
        from .model import default_stages

        stages = default_stages()
    return [st.summary() for st in stages]


def mechanisms(params: P.ModelParams | None = None) -> list[dict]:
    """Every mechanism as the dashboard's "how it works" panel shows it, from the same
    sources as docs/model.md: the mechanism module's docstring (what it does, its equation)
    and the parameter metadata of :mod:`sim.params` (default, unit, range, source, meaning).

    Args:
        params: parameters whose current values to add (``value``); the defaults if None.

    Returns:
        One dict per mechanism, in the order of a period: ``section``, ``title``,
        ``module``, ``text`` (the module docstring) and ``parameters`` (rows of
        :func:`sim.params.describe` with ``value`` added).

    Examples:
        >>> [m["section"] for m in mechanisms()][:3]
        ['choice', 'capacity', 'experience']
    """
    import importlib
    import inspect

    params = P.ModelParams() if params is None else params
    titles = {sec: (cls, title) for sec, cls, title in SECTIONS}
    out = []
    for section, module in MECHANISMS:
        cls, title = titles[section]
        current = getattr(params, section)
        rows = [{**row, "value": getattr(current, row["name"])} for row in P.describe(cls)]
        text = inspect.cleandoc(importlib.import_module(module).__doc__ or "")
        out.append(
            {"section": section, "title": title, "module": module, "text": text, "parameters": rows}
        )
    return out


def _fmt_range(row: dict) -> str:
    if row["choices"]:
        return " / ".join(f"`{c}`" for c in row["choices"])
    lo, hi = row["range"]
    if lo is None and hi is None:
        return "—"
    return f"[{lo}, {hi}]"


def _fmt_default(v) -> str:
    if isinstance(v, list):
        return "see segments below"
    if isinstance(v, dict):
        return "`{" + ", ".join(f"{k} = {x}" for k, x in v.items()) + "}`"
    if v is None:
        return "None"
    if isinstance(v, str):
        return f"`{v!r}`" if v else "`''`"
    return f"`{v}`"


def _type_name(cls, name: str) -> str:
    import dataclasses

    for f in dataclasses.fields(cls):
        if f.name == name:
            t = str(f.type).replace(" ", "")
            return {
                "float": "number",
                "int": "integer",
                "bool": "boolean",
                "str": "string",
                "float|None": 'number or "none"',
                "list": "array of tables",
                "dict": "table",
            }.get(t, t)
    return ""


def scenario_tables() -> str:
    """Key reference of the scenario file format (docs/scenarios.md)."""
    out = [BEGIN, ""]
    for section, cls, title in SECTIONS:
        head = f"[[{section[:-2]}]]" if section.endswith("[]") else f"[{section}]"
        out.append(f"### `{head}` — {title}\n")
        out.append("| key | type | default | range | meaning |")
        out.append("|---|---|---|---|---|")
        for row in P.describe(cls):
            if section == "market" and row["name"] == "segments":
                out.append(
                    "| `segments` | array of tables | three segments (see docs/model.md) | — | "
                    "`[[market.segments]]` entries; when given, they replace the default segments. |"
                )
                continue
            doc = row["doc"].replace("|", "\\|")
            out.append(
                f"| `{row['name']}` | {_type_name(cls, row['name'])} | {_fmt_default(row['default'])} | "
                f"{_fmt_range(row)} | {doc} |"
            )
        out.append("")
    out.append(END)
    return "\n".join(out)


def parameter_tables() -> str:
    out = [BEGIN, ""]
    for section, cls, title in SECTIONS:
        out.append(f"#### {title} — `[{section}]`\n")
        out.append("| parameter | symbol | default | unit | range | source | meaning |")
        out.append("|---|---|---|---|---|---|---|")
        for row in P.describe(cls):
            doc = row["doc"].replace("|", "\\|")
            src = (row["source"] or "—").replace("|", "\\|")
            sym = row.get("symbol") or "—"
            out.append(
                f"| `{row['name']}` | {sym} | {_fmt_default(row['default'])} | "
                f"{row['unit'] or '—'} | {_fmt_range(row)} | {src} | {doc} |"
            )
        out.append("")
    out.append("#### Default segments\n")
    out.append(
        "| segment | share | beta_perf | beta_price | beta_time | beta_wom | beta_brand | w_quality | purchase_prob |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|")
    for s in P.MarketParams().segments:
        out.append(
            f"| {s.name} | {s.share} | {s.beta_perf} | {s.beta_price} | {s.beta_time} | {s.beta_wom} | "
            f"{s.beta_brand} | {s.w_quality} | {s.purchase_prob} |"
        )
    out += [
        "",
        "Source of the segments: seed 004 (some buy on price, some on comfort or power, some on "
        "reliability and other people's opinions); the weights are assumptions.",
        "",
        END,
    ]
    return "\n".join(out)


def write_into(path: Path, block: str | None = None) -> bool:
    text = path.read_text()
    block = (
        block
        if block is not None
        else (scenario_tables() if path.name == "scenarios.md" else parameter_tables())
    )
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{path}: markers {BEGIN} … {END} not found")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = head + block + tail
    changed = new != text
    path.write_text(new)
    return changed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.docs", description=__doc__.splitlines()[0])
    ap.add_argument(
        "--write",
        metavar="FILE",
        help="replace the marked block in FILE (scenarios.md gets the scenario key tables)",
    )
    ap.add_argument(
        "--scenarios", action="store_true", help="print the scenario key tables instead"
    )
    a = ap.parse_args(argv)
    if a.write:
        write_into(Path(a.write))
    else:
        sys.stdout.write((scenario_tables() if a.scenarios else parameter_tables()) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
