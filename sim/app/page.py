"""The dashboard page (Solara). Run it with ``sim dashboard [SCENARIO]``.

The page draws what a :class:`~sim.app.session.Controller` holds and calls its methods;
the model itself knows nothing of the page (as in Mesa's examples, model and
visualisation are separate). Each browser session gets its own controller.
"""

from __future__ import annotations

import html
import os
import threading
import time

import reacton.ipyvuetify as rv
import solara

from ..docs import mechanisms, schedule
from . import figures as F
from .session import (
    ENV_SCENARIO,
    FIRM_CONTROLS,
    LIVE_PARAMS,
    STRUCTURE,
    Controller,
    Run,
    Snapshot,
    customer_story,
    label_of,
    network_sample,
    slider_decimals,
    try_text,
)

__all__ = [
    "Page",
    "Dashboard",
    "kpi_html",
    "log_html",
    "iceberg_html",
    "how_it_works_html",
    "nearest_customer",
    "Download",
]

SPEEDS = {"1 month a frame": 1, "3 months a frame": 3, "6 months a frame": 6, "1 year a frame": 12}
#: seconds between frames while playing (a frame also waits for its drawing)
FRAME = 0.3

CSS = """
.sim-shell { display: flex; flex-direction: column; height: 100vh; background: #f7fafc; }
.sim-topbar { display: flex; align-items: center; justify-content: space-between; background: #2a4365; color: white;
  padding: 6px 18px; flex: 0 0 auto; }
.sim-brand b { font-size: 1.3rem; margin-right: 10px; }
.sim-brand span { color: #bee3f8; font-size: 0.95rem; }
.sim-topbar .v-btn-group, .sim-topbar .v-btn-toggle { background: transparent !important; }
.sim-topbar .v-btn { color: white !important; background: transparent !important; border: 1px solid rgba(255,255,255,0.5) !important; }
.sim-topbar .v-btn--active { background: rgba(255,255,255,0.25) !important; }
.sim-body { display: flex; flex: 1 1 auto; min-height: 0; }
.sim-side { width: 330px; flex: 0 0 330px; overflow-y: auto; padding: 10px 14px 40px 14px; background: white;
  border-right: 1px solid #e2e8f0; }
.sim-main { flex: 1 1 auto; overflow-y: auto; padding: 10px 18px 40px 18px; min-width: 0; }
.sim-ctl .v-slider.v-input--horizontal { margin-inline: 6px 6px; }
.sim-ctl .v-slider .v-input__control { min-height: 26px; }
.sim-ctl .v-selection-control { min-height: 28px; }
.sim-ctl .v-input__details { display: none; }
.sim-ctl .v-switch .v-selection-control__wrapper { transform: scale(0.85); }
.sim-ctl .v-switch .v-label, .sim-ctl .v-checkbox .v-label { font-size: 0.86rem; }
.sim-header { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; margin-bottom: 6px; }
.sim-period { font-size: 1.55rem; font-weight: 700; color: #1a202c; margin-right: 10px; min-width: 11ch; }
.sim-period small { font-size: 0.95rem; font-weight: 400; color: #4a5568; }
.sim-title { font-size: 1.35rem; font-weight: 700; color: #1a202c; margin: 2px 0 2px 0; }
.sim-desc { color: #4a5568; margin-bottom: 6px; }
.sim-box { border-radius: 6px; padding: 8px 12px; margin: 4px 0; font-size: 0.95rem; line-height: 1.35; }
.sim-notice { background: #ebf8ff; border-left: 5px solid #3182ce; }
.sim-try { background: #f0fff4; border-left: 5px solid #38a169; }
.sim-box b { display: block; font-size: 0.8rem; letter-spacing: .05em; text-transform: uppercase; color: #2d3748; }
table.sim-kpi { border-collapse: collapse; width: 100%; font-size: 0.98rem; margin: 4px 0 8px 0; }
table.sim-kpi th { text-align: right; font-weight: 600; color: #4a5568; padding: 3px 8px; border-bottom: 2px solid #cbd5e0;
  font-size: 0.82rem; }
table.sim-kpi td { text-align: right; padding: 4px 8px; border-bottom: 1px solid #edf2f7; font-variant-numeric: tabular-nums; }
table.sim-kpi th:first-child, table.sim-kpi td:first-child { text-align: left; }
table.sim-kpi.compact { font-size: 0.9rem; }
table.sim-kpi.compact th, table.sim-kpi.compact td { padding: 3px 5px; }
.sim-swatch { display: inline-block; width: 12px; height: 12px; border-radius: 3px; margin-right: 6px; vertical-align: -1px; }
table.sim-log { border-collapse: collapse; width: 100%; font-size: 0.88rem; }
table.sim-log td, table.sim-log th { padding: 2px 6px; border-bottom: 1px solid #edf2f7; text-align: left; vertical-align: top; }
table.sim-log th { color: #4a5568; font-weight: 600; }
.sim-pending { background: #fffaf0; border-left: 4px solid #dd6b20; padding: 4px 8px; margin-bottom: 6px; font-size: 0.88rem; }
.sim-muted { color: #718096; font-size: 0.85rem; }
.sim-ctl { margin: 0 0 2px 0; }
.sim-ctl-head { display: flex; justify-content: space-between; font-size: 0.86rem; color: #2d3748; margin-bottom: -6px; }
.sim-ctl-head .val { font-variant-numeric: tabular-nums; font-weight: 600; }
.sim-ctl-head .val.staged { color: #c05621; }
.sim-firm-head { font-weight: 700; font-size: 1.0rem; margin: 8px 0 2px 0; padding-left: 6px; }
.sim-section { font-weight: 700; font-size: 0.8rem; letter-spacing: .06em; text-transform: uppercase; color: #4a5568;
  margin: 14px 0 4px 0; border-bottom: 1px solid #e2e8f0; }
.sim-card { background: white; border: 1px solid #e2e8f0; border-radius: 8px; padding: 10px 14px; margin-bottom: 10px; }
.sim-card h3 { font-size: 1.05rem; margin: 0 0 4px 0; }
.sim-figure img { width: 100%; height: auto; }
.sim-exports { display: flex; gap: 8px; justify-content: flex-end; margin-top: 2px; }
.sim-firm-tabs { margin: 4px 0 2px 0; }
.sim-ice-row { margin: 6px 0 8px 0; font-size: 0.9rem; }
.sim-ice-bar { display: flex; flex-direction: column; margin-top: 3px; }
.sim-ice-tip { height: 12px; background: #2b6cb0; border-radius: 3px 3px 0 0; margin: 0 auto; }
.sim-ice-water { height: 2px; background: #63b3ed; }
.sim-ice-base { height: 22px; background: #bee3f8; border-radius: 0 0 6px 6px; margin: 0 auto; color: #2a4365;
  font-size: 0.78rem; text-align: center; line-height: 22px; }
table.sim-ice { border-collapse: collapse; width: 100%; font-size: 0.88rem; margin-top: 4px; }
table.sim-ice td, table.sim-ice th { padding: 2px 6px; border-bottom: 1px solid #edf2f7; text-align: right; }
table.sim-ice td:first-child, table.sim-ice th:first-child { text-align: left; }
.sim-how details { margin: 4px 0; }
.sim-how summary { cursor: pointer; font-weight: 600; color: #2a4365; }
.sim-how pre { background: #f7fafc; border: 1px solid #e2e8f0; padding: 6px 8px; font-size: 0.8rem;
  white-space: pre-wrap; margin: 4px 0; }
.sim-how p { margin: 4px 0; font-size: 0.9rem; }
.sim-how table { border-collapse: collapse; font-size: 0.8rem; width: 100%; }
.sim-how td, .sim-how th { border-bottom: 1px solid #edf2f7; padding: 2px 5px; text-align: left; vertical-align: top; }
.sim-story { font-size: 0.88rem; line-height: 1.35; max-height: 260px; overflow-y: auto; margin-top: 6px; }
.sim-story li { margin-bottom: 2px; }
"""


# ---------------------------------------------------------------- HTML pieces
def _fmt(col: str, v) -> str:
    if v != v:  # NaN
        return "–"
    if col in ("share", "churn_rate"):
        return f"{100 * v:.1f}%"
    if col == "mean_satisfaction":
        return f"{v:+.2f}"
    if col in ("profit", "price"):
        return f"{v:,.2f}"
    return f"{int(v):,}"


def _n(k: int, word: str) -> str:
    return f"{k:,} {word}" + ("" if k == 1 else ("es" if word.endswith("ch") else "s"))


KPI_COLUMNS = (
    ("share", "Share"),
    ("mean_satisfaction", "Satisfaction"),
    ("churn_rate", "Churn / month"),
    ("complaints", "Complaints"),
    ("wom_pos", "WOM +"),
    ("wom_neg", "WOM −"),
    ("referrals", "Referrals"),
    ("profit", "Profit"),
    ("price", "Price"),
)


def kpi_html(snap: Snapshot, compact: bool = False) -> str:
    """This period's outcomes per firm. Each cell carries ``data-firm``, ``data-kpi`` and
    the unrounded ``data-value`` (the browser test reads them)."""
    k = snap.kpis()
    period = snap.period
    columns = [c for c in KPI_COLUMNS if not compact or c[0] not in ("referrals", "price")]
    head = "".join(f"<th>{html.escape(t)}</th>" for _, t in columns)
    rows = []
    for j, r in k.iterrows():
        name = html.escape(str(r["firm"]))
        sw = f'<span class="sim-swatch" style="background:{F.firm_color(int(j))}"></span>'
        state = "" if r["active"] else ' <span class="sim-muted">(not yet in the market)</span>'
        cells = "".join(
            f'<td data-firm="{name}" data-kpi="{c}" data-value="{float(r[c])!r}">{_fmt(c, float(r[c]))}</td>'
            for c, _ in columns
        )
        rows.append(f"<tr><td>{sw}<b>{name}</b>{state}</td>{cells}</tr>")
    first = f"Month {period}" if compact else f"Firm, month {period}"
    cls = "sim-kpi compact" if compact else "sim-kpi"
    return (
        f'<table class="{cls}" data-period="{period}"><thead><tr><th>{first}</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def log_html(snap: Snapshot, pending: list[str], limit: int = 10) -> str:
    """Staged changes and the latest lever changes (the event log's ``lever`` rows)."""
    parts = []
    if pending:
        nxt = snap.period + 1
        pend = pending
        items = "<br>".join(html.escape(p) for p in pend)
        parts.append(
            f'<div class="sim-pending"><b>Takes effect from month {nxt}:</b><br>{items}</div>'
        )
    log = snap.lever_log(limit)
    if log.empty:
        parts.append(
            '<div class="sim-muted">No lever changes yet. Move a slider, then press Step: the change '
            "takes effect from the next month and is listed here.</div>"
        )
    else:
        rows = "".join(
            f"<tr><td>{int(r.period)}</td><td>{int(r.effective)}</td><td>{html.escape(str(r.firm))}</td>"
            f"<td>{html.escape(str(r.change))}</td></tr>"
            for r in log.itertuples()
        )
        parts.append(
            '<table class="sim-log"><thead><tr><th>made</th><th>from</th><th>firm</th><th>change</th>'
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )
    m = snap.market.iloc[-1]
    if snap.period > 0:
        counts = ", ".join(
            _n(int(m[c]), word)
            for c, word in (
                ("complaints", "complaint"),
                ("referrals", "referral"),
                ("switches", "switch"),
            )
        )
        nps = f"; NPS {m.nps:+.0f}" if m.nps == m.nps else ""
        parts.append(
            f'<div class="sim-muted" style="margin-top:6px">Month {int(m.period)} in the whole market: '
            f"{counts}; {int(m.lapsed_now):,} left the market{nps}.</div>"
        )
    return "".join(parts)


def scenario_html(run: Run) -> str:
    sc = run.scenario
    out = [f'<div class="sim-title">{html.escape(run.title)}</div>']
    if sc.description:
        out.append(f'<div class="sim-desc">{html.escape(sc.description)}</div>')
    if sc.notice:
        out.append(
            f'<div class="sim-box sim-notice"><b>What to notice</b>{html.escape(sc.notice)}</div>'
        )
    what = try_text(run.name, sc.try_)
    if what:
        out.append(f'<div class="sim-box sim-try"><b>What to try</b>{html.escape(what)}</div>')
    return "".join(out)


OUTCOME_WORDS = {
    "silent": "silent (did not complain)",
    "unresolved": "complained, unresolved",
    "resolved_late": "complained, resolved late",
    "resolved_quick": "complained, resolved quickly",
}


def iceberg_html(snap: Snapshot, months: int = 12, horizon: int = 6) -> str:
    """The complaint iceberg of the last ``months`` months per firm (complaints above the
    waterline, silent problems below), and what became of each kind of problem: the share of
    customers still with the firm ``horizon`` months later. Cells carry ``data-firm``,
    ``data-ice`` and ``data-value`` (the browser test reads them)."""
    per_firm, kept = snap.iceberg(months, horizon)
    parts = [
        f'<div class="sim-muted">Problems in the last {months} months: purchases that fell short '
        "of what the customer expected. Only the tip reaches the firm as complaints.</div>"
    ]
    for r in per_firm.itertuples():
        name = html.escape(str(r.firm))
        prob, comp, silent = int(r.problems), int(r.complaints), int(r.silent)
        tip = 100.0 * comp / prob if prob else 0.0
        parts.append(
            f'<div class="sim-ice-row"><b style="color:{F.firm_color(int(r.firm_index))}">Firm {name}</b>: '
            f'<span data-firm="{name}" data-ice="problems" data-value="{prob}">{prob:,} problems</span>, '
            f'<span data-firm="{name}" data-ice="complaints" data-value="{comp}">{comp:,} complaints</span> '
            f"({tip:.0f}%), "
            f'<span data-firm="{name}" data-ice="silent" data-value="{silent}">{silent:,} silent</span>'
            f'<div class="sim-ice-bar"><div class="sim-ice-tip" style="width:{max(tip, 1.0):.1f}%"></div>'
            '<div class="sim-ice-water"></div>'
            f'<div class="sim-ice-base" style="width:{100.0 - tip:.1f}%">silent</div></div></div>'
        )
    rows = []
    for r in kept.itertuples():
        share = "–" if r.kept_share != r.kept_share else f"{100 * r.kept_share:.0f}%"
        rows.append(
            f"<tr><td>{html.escape(OUTCOME_WORDS[r.outcome])}</td>"
            f'<td data-ice="kept" data-outcome="{r.outcome}" data-value="{r.kept_share!r}">{share}</td>'
            f"<td>{int(r.followed):,}</td></tr>"
        )
    parts.append(
        f'<table class="sim-ice"><thead><tr><th>after the problem</th><th>still a customer '
        f"{horizon} months later</th><th>problems</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    return "".join(parts)


def _doc_html(text: str) -> str:
    """A docstring as HTML: indented blocks (equations) as <pre>, the rest as paragraphs."""
    import re

    text = re.sub(r":\w+:`~?([^`]+)`", r"\1", text).replace("``", "")
    out, para, code = [], [], []

    def flush():
        if para:
            out.append(f"<p>{html.escape(' '.join(para))}</p>")
            para.clear()
        if code:
            out.append(f"<pre>{html.escape(chr(10).join(code))}</pre>")
            code.clear()

    for line in text.splitlines():
        if line.startswith("    ") and line.strip():
            if para:
                flush()
            code.append(line[4:])
        elif not line.strip():
            flush()
        else:
            if code:
                flush()
            para.append(line.strip())
    flush()
    return "".join(out)


def _value_text(v) -> str:
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, float):
        return f"{v:g}"
    return html.escape(str(v))


def how_it_works_html(params, stages=None) -> str:
    """The "how it works" panel: the period's schedule, then every mechanism in plain words
    with its equation and its parameters (current value, default, unit, source, meaning),
    generated from the same sources as docs/model.md (:func:`sim.docs.mechanisms`)."""
    steps = "".join(f"<li>{html.escape(x)}</li>" for x in schedule(stages))
    parts = [
        "<p>Every month each customer who is in the market to buy compares the firms it knows by "
        "perceived value (benefits minus money, time, effort and risk), buys, experiences the "
        "product and the service, compares that with what it expected, and remembers the result. "
        "Disappointed customers may complain; everyone talks to friends; some leave. The same "
        "equations and parameters are documented in docs/model.md.</p>",
        f"<details><summary>A month, step by step</summary><ol>{steps}</ol></details>",
    ]
    for m in mechanisms(params):
        rows = "".join(
            f"<tr><td><code>{html.escape(r['name'])}</code> ({html.escape(label_of(m['section'] + '.' + r['name']))})</td>"
            f"<td>{_value_text(r['value'])}</td><td>{_value_text(r['default'])}</td>"
            f"<td>{html.escape(r['unit'] or '–')}</td><td>{html.escape(r['doc'])}</td>"
            f"<td>{html.escape(r['source'] or '–')}</td></tr>"
            for r in m["parameters"]
        )
        parts.append(
            f'<details data-section="{m["section"]}"><summary>{html.escape(m["title"])}</summary>'
            f"{_doc_html(m['text'])}"
            "<table><thead><tr><th>parameter</th><th>now</th><th>default</th><th>unit</th>"
            f"<th>meaning</th><th>source</th></tr></thead><tbody>{rows}</tbody></table></details>"
        )
    return "".join(parts)


def nearest_customer(
    nodes, fractions, x: float, y: float, aspect: float = 0.82, radius: float = 0.04
) -> int | None:
    """The drawn customer nearest to a click at (x, y) (fractions of the image's width and
    height from the top left), or None when none lies within ``radius`` of the width."""
    import numpy as np

    if len(nodes) == 0:
        return None
    d2 = (fractions[:, 0] - x) ** 2 + ((fractions[:, 1] - y) * aspect) ** 2
    i = int(np.argmin(d2))
    return int(nodes[i]) if d2[i] <= radius**2 else None


@solara.component_vue("download_button.vue")
def _DownloadButton(
    label: str,
    filename: str,
    mime_type: str,
    payload: str = "",
    button_class: str = "",
    event_request=None,
    event_done=None,
):
    """A button that downloads ``payload`` (base64) once the page has sent it."""


@solara.component
def Download(label: str, filename: str, mime_type: str, data, css: str = ""):
    """A download button; ``data()`` (bytes) is called only when the button is pressed."""
    import base64

    payload, set_payload = solara.use_state("")
    _DownloadButton(
        label=label,
        filename=filename,
        mime_type=mime_type,
        payload=payload,
        button_class=css,
        event_request=lambda _=None: set_payload(base64.b64encode(data()).decode("ascii")),
        event_done=lambda _=None: set_payload(""),
    )


@solara.component_vue("clickable_image.vue")
def ClickableImage(src: str, image_class: str = "", event_pick=None):
    """An image that reports where it was clicked (fractions of its size) to ``event_pick``."""


# ---------------------------------------------------------------- controls
def _css_id(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in str(text))


def _control_value_text(control, value, step: float) -> str:
    """A control's value as shown in its head (the none label for None)."""
    if value is None:
        return control.none_label
    if control.kind == "int" or step >= 1:
        return f"{value:,.0f}"
    return f"{value:.{slider_decimals(step)}f}"


def _slider(control, value, limits: tuple[float, float, float], set_value) -> None:
    """An integer or a decimal slider over ``limits`` (low, high, step)."""
    lo, hi, step = limits
    if control.kind == "int" or step >= 1:
        solara.SliderInt(
            "",
            value=int(value),
            min=int(lo),
            max=int(hi),
            step=int(step),
            on_value=set_value,
            thumb_label=False,
        )
    else:
        solara.SliderFloat(
            "",
            value=float(value),
            min=lo,
            max=hi,
            step=step,
            on_value=set_value,
            thumb_label=False,
        )


@solara.component
def Control(run: Run, control, on_change, firm: int | None = None, version: int = 0):
    """One slider, switch or choice, with its label, value and help; staged values are
    shown in orange until the next step commits them."""
    key = control.key
    value = run.value(key, firm)
    staged = (
        ((firm, key) in run.pending_levers)
        if firm is not None
        else (key in run.pending_params or key in run.structure_pending())
    )
    prefix = f"lever-{_css_id(run.firm_names()[firm])}" if firm is not None else "param"
    css = f"sim-ctl {prefix}-{_css_id(key)}"

    def set_value(v):
        on_change(key, v, firm)

    with solara.Div(classes=[css]):
        if control.kind == "bool":
            with solara.Tooltip(control.tooltip):
                solara.Switch(
                    label=control.label, value=bool(value), on_value=set_value, color="primary"
                )
            return
        if control.kind == "choice":
            rv.Select(
                label=control.label,
                items=list(control.choices),
                v_model=value,
                dense=True,
                on_v_model=set_value,
                hide_details=True,
            )
            return
        lo, hi, step = run.bounds(control)
        if isinstance(value, (int, float)) and not isinstance(
            value, bool
        ):  # a scenario may go beyond
            lo, hi = min(lo, value), max(hi, value)
        shown = _control_value_text(control, value, step)
        with solara.Tooltip(control.tooltip):
            solara.HTML(
                tag="div",
                classes=["sim-ctl-head"],
                unsafe_innerHTML=f"<span>{html.escape(control.label)}</span>"
                f'<span class="val{" staged" if staged else ""}">{html.escape(shown)}</span>',
            )
        if control.none_label:
            solara.Switch(
                label=control.none_label,
                value=value is None,
                color="primary",
                on_value=lambda none: set_value(None if none else _default_for(run, control, firm)),
            )
            if value is None:
                return
        _slider(control, value, (lo, hi, step), set_value)


def _default_for(run: Run, control, firm: int | None) -> float:
    """A sensible value when an optional lever is switched from None to a number."""
    if control.key == "capacity" and firm is not None:
        f = run.snapshot().firms
        last = f[(f["firm_index"] == firm) & (f["period"] == f["period"].max())]
        buyers = (
            float(last["buyers"].iloc[0])
            if len(last) and float(last["buyers"].iloc[0]) > 0
            else 0.8 * run.model.params.market.n_customers / max(run.model.n_firms, 1)
        )
        _, hi, step = run.bounds(control)
        return float(min(hi, max(step, round(buyers / step) * step)))
    if control.key == "promise" and firm is not None:
        return round(run.model.firms[firm].promise_level(), 2)
    return control.lo


@solara.component
def FirmControls(ctrl: Controller, run: Run, version: int = 0):
    """One firm's levers at a time: a row of firm buttons on top, so every firm's controls
    are one click away without scrolling."""
    names = run.firm_names()
    tabs = [f"Firm {n}" for n in names]
    shown, set_shown = solara.use_state(tabs[0])
    if shown not in tabs:
        shown = tabs[0]

    def change(key, value, firm):
        ctrl.set_lever(firm, key, value)

    if len(names) > 1:
        solara.ToggleButtonsSingle(
            value=shown, values=tabs, on_value=set_shown, classes=["sim-firm-tabs"], dense=True
        )
    for j, name in enumerate(names):
        # every firm's controls stay on the page (staged values survive a change of tab);
        # only the chosen firm's are displayed
        with solara.Div(
            classes=["sim-firm-panel", f"sim-firm-panel-{_css_id(name)}"],
            style="" if tabs[j] == shown else "display: none",
        ):
            solara.HTML(
                tag="div",
                classes=["sim-firm-head", f"firm-{_css_id(name)}"],
                style=f"border-left: 6px solid {F.firm_color(j)}",
                unsafe_innerHTML=f"Firm {html.escape(name)}",
            )
            for c in FIRM_CONTROLS:
                if c.key == "loyalty_discount" and not run.value("loyalty", j):
                    continue
                Control(run, c, change, firm=j, version=version)


@solara.component
def MarketControls(ctrl: Controller, run: Run, version: int = 0):
    def change(key, value, firm):
        ctrl.set_param(key, value)

    solara.HTML(
        tag="div", classes=["sim-section"], unsafe_innerHTML="Mechanisms (from the next month)"
    )
    for c in LIVE_PARAMS:
        Control(run, c, change, version=version)
    solara.HTML(tag="div", classes=["sim-section"], unsafe_innerHTML="Market (applies at reset)")
    for c in STRUCTURE:
        Control(run, c, change, version=version)
    if run.structure_pending():
        solara.HTML(
            tag="div",
            classes=["sim-pending"],
            unsafe_innerHTML="Press <b>Reset</b> to rebuild the market with these settings.",
        )


@solara.component
def ScenarioPicker(ctrl: Controller, side: str, label: str = "Scenario", version: int = 0):
    current = {"explore": ctrl.run, "left": ctrl.left, "right": ctrl.right}[side].name
    items = [{"title": ctrl.label(n), "value": n} for n in ctrl.scenario_names()]
    with solara.Div(classes=[f"sim-picker-{side}"]):
        rv.Select(
            label=label,
            items=items,
            v_model=current,
            on_v_model=lambda n: ctrl.pick(n, side),
            hide_details=True,
            dense=True,
        )


@solara.component
def RunControls(ctrl: Controller, version: int = 0):
    snaps = [r.snapshot() for r in ctrl.runs()]
    period = max(s.period for s in snaps)
    horizon = max(s.horizon for s in snaps)

    def toggle():
        ctrl.playing = not ctrl.playing
        ctrl.changed()

    with solara.Div(classes=["sim-header"]):
        solara.HTML(
            tag="div",
            classes=["sim-period"],
            attributes={"data-period": str(period)},
            unsafe_innerHTML=f"Month {period} <small>of {horizon}</small>",
        )
        solara.Button(
            "Pause" if ctrl.playing else "Play",
            icon_name="mdi-pause" if ctrl.playing else "mdi-play",
            color="primary",
            on_click=toggle,
            classes=["sim-play"],
        )
        solara.Button(
            "Step",
            icon_name="mdi-skip-next",
            color="primary",
            outlined=True,
            on_click=lambda: ctrl.step(1),
            disabled=ctrl.playing,
            classes=["sim-step"],
        )
        solara.Button(
            "Reset",
            icon_name="mdi-restore",
            outlined=True,
            on_click=ctrl.reset,
            classes=["sim-reset"],
        )

        def set_speed(label):
            ctrl.speed = SPEEDS[label]
            ctrl.changed()

        speed_label = next(k for k, v in SPEEDS.items() if v == ctrl.speed)
        with solara.Div(style="width: 190px"):
            rv.Select(
                label="Play speed",
                items=list(SPEEDS),
                v_model=speed_label,
                on_v_model=set_speed,
                dense=True,
                hide_details=True,
            )


# ---------------------------------------------------------------- views
def _data_url(png: bytes) -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _figure(png: bytes, css: str):
    with solara.Div(classes=["sim-figure", css]):
        solara.Image(png, width="100%")


@solara.component
def NetworkView(ctrl: Controller, run: Run, snap: Snapshot, version: int = 0):
    color_by, set_color_by = solara.use_state("firm")
    picked, set_picked = solara.use_state(None)

    def build():
        nodes, pos, edges = network_sample(run.model)
        return F.NetworkFigure(
            snap.firm_names, run.model.network, nodes, pos, edges, color_by=color_by
        )

    fig = solara.use_memo(build, [id(run), run.generation, color_by])
    png = solara.use_memo(lambda: fig.png(snap, picked), [snap.key, color_by, picked])
    nodes, frac = fig.nodes, fig.fractions
    shown = nodes.size

    def pick(where):
        cid = nearest_customer(nodes, frac, float(where.get("x", -1)), float(where.get("y", -1)))
        if cid is not None:
            set_picked(cid)

    def story():
        if picked is None:
            return ""
        with run.lock:
            return customer_story(run.model, picked)

    text = solara.use_memo(story, [snap.key, picked])
    casc = snap.cascade
    n = snap.n_customers
    with solara.Div(classes=["sim-card"]):
        with solara.Row(style="align-items: center; justify-content: space-between"):
            solara.HTML(tag="h3", unsafe_innerHTML="Friendship network")
            solara.ToggleButtonsSingle(
                value=color_by,
                values=["firm", "satisfaction"],
                on_value=set_color_by,
                classes=["sim-colour-by"],
            )
        ClickableImage(src=_data_url(png), image_class="sim-network-img", event_pick=pick)
        solara.HTML(
            tag="div", classes=["sim-muted"], unsafe_innerHTML=_network_caption(shown, n, casc)
        )
        CustomerStory(text, picked)


def _network_caption(shown: int, n: int, casc: dict | None) -> str:
    """What the network picture shows (all customers or a sample of ``shown``) and the
    latest referral cascade (HTML-escaped)."""
    what = (
        f"All {n:,} customers."
        if shown >= n
        else f"A sample of {shown} of {n:,} customers: a few neighbourhoods, with the ties among them."
    )
    if not casc:
        return what + " No referrals yet."
    return (
        what
        + f" Latest referral cascade (firm {html.escape(casc['firm'])}): {casc['size']} customer"
        f"{'s' if casc['size'] != 1 else ''} referred, {casc['depth']} generation"
        f"{'s' if casc['depth'] != 1 else ''} deep, "
        + (
            f"month {casc['end']}"
            if casc["start"] == casc["end"]
            else f"months {casc['start']}–{casc['end']}"
        )
        + "; "
        "customers outside the sample are placed next to their friends."
    )


@solara.component
def CustomerStory(text: str, picked: int | None):
    """The story of the customer picked on the network (its first line bold, the rest a
    list), or a hint to click one."""
    if text:
        lines = text.splitlines()
        items = "".join(f"<li>{html.escape(x)}</li>" for x in lines[1:])
        solara.HTML(
            tag="div",
            classes=["sim-story"],
            attributes={"data-customer": str(picked)},
            unsafe_innerHTML=f"<b>{html.escape(lines[0])}</b><ul>{items}</ul>",
        )
    else:
        solara.HTML(
            tag="div",
            classes=["sim-muted", "sim-story-hint"],
            unsafe_innerHTML="Click a customer (a dot) to read their story.",
        )


@solara.component
def ExploreView(ctrl: Controller, version: int = 0):
    run = ctrl.run
    snap = run.snapshot()
    market = run.model.params.market
    fig = solara.use_memo(
        lambda: F.IndicatorFigure(
            snap.firm_names, floors=F.floor_limits(snap.n_customers, market.reference_price)
        ),
        [id(run), run.generation],
    )
    png = solara.use_memo(
        lambda: fig.png(snap.firms, horizon=snap.horizon, lever_periods=snap.lever_periods()),
        [snap.key],
    )
    ice = solara.use_memo(lambda: iceberg_html(snap), [snap.key])
    with solara.Div(classes=["sim-card"]):
        solara.HTML(tag="div", unsafe_innerHTML=scenario_html(run))
    with solara.Div(classes=["sim-card"]):
        solara.HTML(tag="div", classes=["sim-kpis"], unsafe_innerHTML=kpi_html(snap))
        _figure(png, "sim-indicators")
        with solara.Div(classes=["sim-exports"]):
            stem = f"{run.name}_month{snap.period}"
            Download(
                "Plot data (CSV)",
                f"{stem}_firms.csv",
                "text/csv",
                lambda: snap.firms.to_csv(index=False).encode(),
                css="sim-export-csv",
            )
            Download(
                "Plots (PNG)", f"{stem}_plots.png", "image/png", lambda: png, css="sim-export-png"
            )
    with solara.Columns([3, 2]):
        NetworkView(ctrl, run, snap, version=version)
        with solara.Div():
            with solara.Div(classes=["sim-card", "sim-iceberg"]):
                solara.HTML(tag="h3", unsafe_innerHTML="Complaint iceberg")
                solara.HTML(tag="div", unsafe_innerHTML=ice)
            with solara.Div(classes=["sim-card", "sim-events"]):
                solara.HTML(tag="h3", unsafe_innerHTML="Event log: lever changes")
                solara.HTML(
                    tag="div", classes=["sim-log"], unsafe_innerHTML=log_html(snap, run.pending())
                )
    HowItWorks(run, version=version)


@solara.component
def HowItWorks(run: Run, version: int = 0):
    text = solara.use_memo(
        lambda: how_it_works_html(run.model.params, run.model.stages),
        [id(run), run.generation, version],
    )
    with solara.Div(classes=["sim-card", "sim-how"]):
        solara.HTML(tag="h3", unsafe_innerHTML="How it works")
        solara.HTML(tag="div", unsafe_innerHTML=text)


@solara.component
def CompareView(ctrl: Controller, version: int = 0):
    runs = (ctrl.left, ctrl.right)
    snaps = [r.snapshot() for r in runs]

    figs = solara.use_memo(
        lambda: [F.IndicatorFigure(s.firm_names, ncols=2, width=7.6) for s in snaps],
        [(id(r), r.generation) for r in runs],
    )

    def draw():
        lim = F.panel_limits([s.firms for s in snaps])
        return [
            f.png(s.firms, horizon=s.horizon, lever_periods=s.lever_periods(), limits=lim)
            for f, s in zip(figs, snaps, strict=True)
        ]

    pngs = solara.use_memo(draw, [s.key for s in snaps])
    solara.HTML(
        tag="div",
        classes=["sim-muted"],
        unsafe_innerHTML="Two scenarios run side by side, month by month, on the same axes; each runs as "
        "written, with its own seed. Play, Step and Reset act on both. Switch back to "
        "Explore to change levers.",
    )
    with solara.Columns([1, 1]):
        for side, r, snap, png in zip(("left", "right"), runs, snaps, pngs, strict=True):
            with solara.Div(classes=["sim-card", f"sim-compare-{side}"]):
                ScenarioPicker(
                    ctrl,
                    side,
                    label="Scenario " + ("1" if side == "left" else "2"),
                    version=version,
                )
                solara.HTML(tag="div", unsafe_innerHTML=scenario_html(r))
                solara.HTML(
                    tag="div", classes=["sim-kpis"], unsafe_innerHTML=kpi_html(snap, compact=True)
                )
                _figure(png, f"sim-indicators-{side}")


@solara.component
def Dashboard(ctrl: Controller):
    """The whole page for one controller (tests render this with their own controller)."""
    version, set_version = solara.use_state(ctrl.version)
    ctrl.on_change = lambda: set_version(ctrl.version)

    solara.use_effect(lambda: ctrl.mark_drawn(version), [version])

    def play(cancel: threading.Event):
        start = max(r.model.period for r in ctrl.runs())
        while ctrl.playing and not cancel.is_set():
            t0 = time.perf_counter()
            if not ctrl.advance(start):
                break
            ctrl.wait_drawn(cancel)  # one frame at a time: never outrun the drawing
            cancel.wait(max(0.02, FRAME - (time.perf_counter() - t0)))

    solara.use_thread(play, dependencies=[ctrl.playing, ctrl.mode], intrusive_cancel=False)

    solara.Style(CSS)
    solara.Title("sim classroom: customer markets")
    with solara.Div(classes=["sim-shell"]):
        with solara.Div(classes=["sim-topbar"]):
            solara.HTML(
                tag="div",
                classes=["sim-brand"],
                unsafe_innerHTML="<b>sim classroom</b> <span>customer markets, agent by agent</span>",
            )
            solara.ToggleButtonsSingle(
                value=ctrl.mode,
                values=list(Controller.MODES),
                on_value=ctrl.set_mode,
                classes=["sim-mode"],
            )
        with solara.Div(classes=["sim-body"]):
            if ctrl.mode == "Explore":
                with solara.Div(classes=["sim-side"]):
                    ScenarioPicker(ctrl, "explore", version=version)
                    solara.HTML(
                        tag="div",
                        classes=["sim-section"],
                        unsafe_innerHTML="Firms (from the next month)",
                    )
                    FirmControls(ctrl, ctrl.run, version=version)
                    MarketControls(ctrl, ctrl.run, version=version)
            with solara.Div(classes=["sim-main"]):
                RunControls(ctrl, version=version)
                if ctrl.mode == "Explore":
                    ExploreView(ctrl, version=version)
                else:
                    CompareView(ctrl, version=version)


@solara.component
def Page():
    ctrl = solara.use_memo(lambda: Controller(os.environ.get(ENV_SCENARIO) or None), [])
    Dashboard(ctrl)


@solara.component
def Layout(children=[]):  # noqa: B006 (solara's layout signature)
    """No app bar or drawer: the page draws its own top bar and side panel."""
    return solara.Div(children=children)
