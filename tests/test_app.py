"""The classroom dashboard without a browser: the page is rendered with solara and driven
through its widgets; the state rules are checked on the controller and the model."""

from __future__ import annotations

import copy
import html

import numpy as np
import pytest

solara = pytest.importorskip("solara")
v = pytest.importorskip("ipyvuetify")
ipywidgets = pytest.importorskip("ipywidgets")

from sim import MarketModel  # noqa: E402
from sim.app import figures as F  # noqa: E402
from sim.app import main  # noqa: E402
from sim.app.page import (  # noqa: E402
    Dashboard,  # noqa: E402
    how_it_works_html,
    iceberg_html,
    nearest_customer,
)
from sim.app.session import (  # noqa: E402
    FIRM_CONTROLS,
    LIVE_PARAMS,
    Controller,
    list_scenarios,
    load,
    network_sample,
    plain_change,
    try_text,
)

LIBRARY = list_scenarios()


# ---------------------------------------------------------------- widget helpers
def _classes(w) -> list[str]:
    own = getattr(w, "class_", None) or ""
    attrs = (getattr(w, "attributes", None) or {}).get("class", "")
    return f"{own} {attrs}".split()


def _walk(w):
    yield w
    kids = list(getattr(w, "children", None) or [])
    for slot in getattr(w, "v_slots", None) or []:  # e.g. a tooltip's activator
        c = slot.get("children")
        kids += c if isinstance(c, list) else [c]
    for child in kids:
        if hasattr(child, "keys"):
            yield from _walk(child)


def text(root) -> str:
    """All raw HTML under a widget."""
    return " ".join(w.unsafe_innerHTML for w in _walk(root) if getattr(w, "unsafe_innerHTML", None))


def find(root, css: str, kind=None):
    """The one widget under ``root`` with CSS class ``css`` (or, with ``kind``, the one
    widget of that type inside it)."""
    hits = [w for w in _walk(root) if css in _classes(w)]
    assert len(hits) == 1, f"{len(hits)} widgets with class {css!r}"
    if kind is None:
        return hits[0]
    inner = [w for w in _walk(hits[0]) if isinstance(w, kind)]
    assert len(inner) == 1, f"{len(inner)} {kind.__name__} in {css!r}"
    return inner[0]


def period_shown(box) -> int:
    return int(find(box, "sim-period").attributes["data-period"])


@pytest.fixture
def page():
    ctrl = Controller("baseline")
    box, rc = solara.render(Dashboard(ctrl), handle_error=False)
    try:
        yield ctrl, box
    finally:
        ctrl.playing = False
        rc.close()


# ---------------------------------------------------------------- the page
def test_lever_change_is_staged_logged_and_acts_from_next_period(page):
    ctrl, box = page
    run = ctrl.run
    firm_a = run.model.firm_by_name("A")
    find(box, "lever-A-price", v.Slider).v_model = 1.6
    # staged: shown in the control and the event log; the model is untouched until the step
    assert firm_a.levers.price == 1.0
    assert run.value("price", 0) == 1.6
    assert '<span class="val staged">1.60</span>' in text(find(box, "lever-A-price"))
    assert "Takes effect from month 1" in find(box, "sim-log").unsafe_innerHTML
    find(box, "sim-step").click()
    assert firm_a.levers.price == 1.6
    ev = run.model.events()
    lever = ev[ev["event"] == "lever"]
    assert len(lever) == 1
    row = lever.iloc[0]
    assert (row["period"], row["firm"]) == (0, "A")
    assert row["detail"] == "price: 1.0 -> 1.6 (dashboard)"
    f = run.model.firm_frame()
    assert (
        f.loc[(f["firm"] == "A") & (f["period"] == 1), "price"].item() == 1.6
    )  # in force in period 1
    log = find(box, "sim-log").unsafe_innerHTML
    # in the dashboard's words: the slider's label, its decimals, who made the change
    assert "Price: 1.00 → 1.60 (your change)" in log and "Takes effect" not in log
    # the outcome moves: A's share falls below the unchanged market's
    twin = MarketModel(copy.deepcopy(load(LIBRARY["baseline"]).params))
    twin.step()
    share = lambda fr: fr.loc[(fr["firm"] == "A") & (fr["period"] == 1), "share"].item()  # noqa: E731
    assert share(f) < share(twin.firm_frame()) - 0.02
    assert (
        f'data-firm="A" data-kpi="share" data-value="{share(f)!r}"'
        in find(box, "sim-kpis").unsafe_innerHTML
    )


def test_dragging_a_slider_logs_one_change_with_the_final_value(page):
    ctrl, box = page
    slider = find(box, "lever-B-service", v.Slider)
    for value in (0.72, 0.75, 0.8, 0.85):
        slider.v_model = value
    slider = find(box, "lever-B-service", v.Slider)
    slider.v_model = 0.7  # back to where it was: nothing staged
    assert ctrl.run.pending() == []
    find(box, "lever-B-service", v.Slider).v_model = 0.9
    find(box, "sim-step").click()
    ev = ctrl.run.model.events()
    assert ev.loc[ev["event"] == "lever", "detail"].tolist() == ["service: 0.7 -> 0.9 (dashboard)"]


def test_step_advances_the_period_and_the_plots(page):
    ctrl, box = page
    assert period_shown(box) == 0
    before = find(box, "sim-indicators", ipywidgets.Image).value
    find(box, "sim-step").click()
    assert period_shown(box) == 1 == ctrl.run.model.period
    assert "Month 1" in find(box, "sim-period").unsafe_innerHTML
    assert 'data-period="1"' in find(box, "sim-kpis").unsafe_innerHTML
    assert find(box, "sim-indicators", ipywidgets.Image).value != before
    find(box, "sim-step").click()
    assert period_shown(box) == 2
    find(box, "sim-reset").click()
    assert period_shown(box) == 0 == ctrl.run.model.period


def test_mechanism_parameter_changes_from_next_period_and_is_logged(page):
    ctrl, box = page
    find(box, "param-wom-negative-reach", v.Slider).v_model = 9
    find(box, "param-complaints-enabled", v.Switch).v_model = False
    assert ctrl.run.model.params.wom.negative_reach == 4
    find(box, "sim-step").click()
    m = ctrl.run.model
    assert m.params.wom.negative_reach == 9 and m.params.complaints.enabled is False
    ev = m.events()
    lever = ev[ev["event"] == "lever"]
    assert set(lever["detail"]) == {
        "wom.negative_reach: 4 -> 9 (dashboard)",
        "complaints.enabled: on -> off (dashboard)",
    }
    assert (
        set(lever["firm_index"]) == {-1}
        and set(lever["firm"]) == {""}
        and set(lever["period"]) == {0}
    )
    find(box, "sim-step").click()
    assert m.firm_frame().query("period == 2")["complaints"].sum() == 0  # complaints are off
    # mechanism settings survive a reset (staged ones too) and a change of scenario
    find(box, "param-churn-base-rate", v.Slider).v_model = 0.05
    find(box, "sim-reset").click()
    assert (
        ctrl.run.model.params.wom.negative_reach == 9
        and ctrl.run.model.params.churn.base_rate == 0.05
    )
    find(box, "sim-picker-explore", v.Select).v_model = "price_war"
    assert (
        ctrl.run.model.params.wom.negative_reach == 9
        and ctrl.run.model.params.complaints.enabled is False
    )


def test_market_structure_applies_at_reset(page):
    ctrl, box = page
    find(box, "param-market-n-customers", v.Slider).v_model = 3000
    assert ctrl.run.model.pop.n == 2000
    assert "Press <b>Reset</b>" in text(box)
    find(box, "sim-reset").click()
    assert ctrl.run.model.pop.n == 3000
    assert 'data-kpi="share"' in find(box, "sim-kpis").unsafe_innerHTML


def test_optional_levers_capacity_and_loyalty(page):
    ctrl, box = page
    find(box, "lever-A-capacity", v.Switch).v_model = False  # no longer unlimited
    staged = ctrl.run.value("capacity", 0)
    assert isinstance(staged, float) and 0 < staged <= 2000
    find(box, "lever-A-capacity", v.Slider).v_model = 300.0
    find(box, "lever-B-loyalty", v.Switch).v_model = True
    find(box, "sim-step").click()
    a, b = ctrl.run.model.firms
    assert a.levers.capacity == 300.0 and b.levers.loyalty is True
    f = ctrl.run.model.firm_frame().query("period == 1").set_index("firm")
    assert f.loc["A", "capacity"] == 300.0 and f.loc["A", "load"] > 1  # A now turns customers away
    find(
        box, "lever-B-loyalty-discount", v.Slider
    )  # the member discount appears with the programme


def test_scenario_picker_loads_each_scenario(page):
    ctrl, box = page
    assert len(LIBRARY) >= 10
    for name in sorted(LIBRARY, reverse=True):
        find(box, "sim-picker-explore", v.Select).v_model = name
        sc = load(LIBRARY[name])
        assert ctrl.run.name == name and ctrl.run.model.period == 0
        assert [f.name for f in ctrl.run.model.firms] == [f.name for f in sc.params.firms]
        shown = text(box)
        for part in (sc.title, sc.notice, try_text(name)):
            assert html.escape(part) in shown, (name, part)
        for f in sc.params.firms:  # every firm gets its controls
            find(box, f"lever-{f.name}-price", v.Slider)
    find(box, "sim-step").click()
    assert ctrl.run.model.period == 1 and period_shown(box) == 1


def test_compare_mode_runs_two_scenarios_side_by_side(page):
    ctrl, box = page
    mode = [w for w in _walk(box) if "sim-mode" in _classes(w)][0]
    mode.v_model = 1  # Compare
    assert ctrl.mode == "Compare"
    find(box, "sim-picker-left", v.Select).v_model = "price_war"
    find(box, "sim-picker-right", v.Select).v_model = "complaint_handling"
    for _ in range(3):
        find(box, "sim-step").click()
    assert (ctrl.left.name, ctrl.right.name) == ("price_war", "complaint_handling")
    assert ctrl.left.model.period == ctrl.right.model.period == 3
    for side in ("left", "right"):
        card = find(box, f"sim-compare-{side}")
        inner = text(card)
        assert 'data-period="3"' in inner
        assert (
            load(LIBRARY[ctrl.left.name if side == "left" else ctrl.right.name]).notice[:40]
            in inner
        )
        find(box, f"sim-indicators-{side}", ipywidgets.Image)
    assert ctrl.run.model.period == 0  # the explore run is left alone


# ---------------------------------------------------------------- state rules
def test_play_advances_and_stops_at_the_horizon():
    ctrl = Controller("baseline")
    ctrl.run.step(ctrl.run.horizon - 2)
    ctrl.playing, ctrl.speed = True, 12
    start = ctrl.run.model.period
    assert (
        ctrl.advance(start) and ctrl.run.model.period == ctrl.run.horizon
    )  # clipped at the horizon
    assert not ctrl.advance(start) and not ctrl.playing
    ctrl.playing = True  # pressed again at the horizon: plays on, for one more scenario length
    start = ctrl.run.model.period
    while ctrl.advance(start):
        pass
    assert ctrl.run.model.period == 2 * ctrl.run.horizon and not ctrl.playing


def test_network_view_samples_large_markets_and_caches_the_layout():
    ctrl = Controller("baseline")
    ctrl.run.set_param("market.n_customers", 5000)
    ctrl.run.reset()
    m = ctrl.run.model
    nodes, pos, edges = network_sample(m)
    assert 300 <= nodes.size <= 400 and pos.shape == (nodes.size, 2) and np.isfinite(pos).all()
    assert edges.size and edges.max() < nodes.size
    assert network_sample(m)[1] is pos  # computed once
    # every drawn tie is a tie of the network
    for a, b in edges[:200]:
        assert nodes[b] in m.network.neighbors(nodes[a])
    ctrl.run.reset()  # same seed, same network: the cached layout is reused
    assert network_sample(ctrl.run.model)[1] is pos
    png = F.network_png(ctrl.run.snapshot(), m.network, nodes, pos, edges, color_by="satisfaction")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_latest_cascade_follows_the_event_log():
    ctrl = Controller("referral_programme")
    ctrl.run.step(24)
    casc = ctrl.run.latest_cascade()
    assert casc is not None and casc["size"] == len(casc["edges"]) >= 1
    ev = ctrl.run.model.events()
    ref = ev[(ev["event"] == "referral") & (ev["firm"] == casc["firm"])]
    pairs = set(zip(ref["other"].astype(int), ref["customer"].astype(int), strict=True))
    assert set(casc["edges"]) <= pairs
    assert casc["end"] == int(
        ref.loc[ref["customer"].isin([b for _, b in casc["edges"]]), "period"].max()
    )
    assert casc["edges"][0][0] == casc["root"]
    nodes, pos, edges = network_sample(ctrl.run.model)
    where = F.cascade_positions(ctrl.run.model.network, nodes, pos, casc["edges"])
    assert {casc["root"], *(b for _, b in casc["edges"])} <= set(where)


# ---------------------------------------------------------------- the command
def test_main_rejects_bad_input_with_one_line(capsys, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[market]\nn_customers = "many"\n')
    for argv in (
        ["no_such_scenario"],
        ["baseline", "--port", "70000"],
        ["baseline", "--port", "x"],
        [str(bad)],
        ["baseline", "--bogus"],
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("sim dashboard: error: ") and err.count("\n") == 1, err
    assert main(["baseline", "--check", "--port", "0"]) == 0
    assert "baseline" in capsys.readouterr().out


# ---------------------------------------------------------------- a dashboard that explains itself
def test_every_scenario_has_slider_instructions_to_try():
    labels = {c.label for c in (*FIRM_CONTROLS, *LIVE_PARAMS)} | {"honest", "unlimited"}
    import re

    for name in LIBRARY:
        what = try_text(name)
        assert what, f"sim/app/try.toml has no text for {name}"
        assert "--set" not in what and "=" not in what and "firms." not in what, (name, what)
        quoted = re.findall(r'"([^"]+)"', what)
        assert quoted, (name, "names no control")
        assert set(quoted) <= labels, (name, set(quoted) - labels)


def test_event_log_speaks_in_slider_labels():
    assert plain_change("resolve_share: 0.3 -> 0.8 (dashboard)") == (
        "Complaints resolved: 0.30 → 0.80 (your change)"
    )
    assert plain_change("capacity: 500.0 -> none (timeline)") == (
        "Capacity: 500 → unlimited (the scenario's timeline)"
    )
    assert plain_change("marketing: 0.025 -> 0.03 (dashboard)").startswith(
        "Marketing reach: 0.025 → 0.030"
    )
    assert plain_change("wom.negative_reach: 4 -> 9 (dashboard)").startswith(
        "Negative reach R⁻: 4 → 9"
    )


def test_slider_shows_every_decimal_of_its_step(page):
    ctrl, box = page
    find(box, "lever-A-marketing", v.Slider).v_model = 0.025
    assert '<span class="val staged">0.025</span>' in text(find(box, "lever-A-marketing"))


def test_firm_tabs_show_one_firm_and_keep_the_others_staged(page):
    ctrl, box = page
    panel_b = find(box, "sim-firm-panel-B")
    assert "display: none" in (panel_b.style_ or "")
    find(box, "lever-B-price", v.Slider).v_model = 0.9  # staged while hidden
    find(box, "sim-firm-tabs").v_model = 1  # show firm B
    assert "display: none" not in (find(box, "sim-firm-panel-B").style_ or "")
    assert "display: none" in (find(box, "sim-firm-panel-A").style_ or "")
    assert ctrl.run.value("price", 1) == 0.9


def test_how_it_works_comes_from_the_parameter_metadata_and_module_docstrings():
    from sim import ModelParams
    from sim.docs import MECHANISMS
    from sim.params import describe

    p = ModelParams()
    p.wom.negative_reach = 11
    page_html = how_it_works_html(p)
    for section, _module in MECHANISMS:
        assert f'data-section="{section}"' in page_html
    # every parameter's meaning and source as the metadata states them, and the current value
    for row in describe(type(p.complaints)):
        assert html.escape(row["doc"]) in page_html
    assert "<td>11</td><td>4</td>" in page_html  # negative reach: now 11, default 4
    assert "c_i = e_j · c_max" in page_html  # the complaint equation, from sim/complaints.py


def test_complaint_iceberg_counts_problems_complaints_and_silence():
    ctrl = Controller("complaint_handling")
    ctrl.step(14)
    snap = ctrl.run.snapshot()
    per_firm, kept = snap.iceberg(12, 6)
    f = snap.firms[(snap.firms["period"] > 2)]
    assert per_firm["problems"].tolist() == f.groupby("firm")["problems"].sum().tolist()
    assert (per_firm["silent"] == per_firm["problems"] - per_firm["complaints"]).all()
    # the iceberg: most problems never reach the firm, fewer still at B, which discourages them
    a, b = per_firm.set_index("firm").loc["A"], per_firm.set_index("firm").loc["B"]
    assert a["silent"] > a["complaints"] > b["complaints"]
    assert b["silent"] / b["problems"] > a["silent"] / a["problems"]
    assert kept["outcome"].tolist() == ["silent", "unresolved", "resolved_late", "resolved_quick"]
    assert kept["followed"].sum() > 0 and (kept["kept"] <= kept["followed"]).all()
    page_html = iceberg_html(snap)
    assert f'data-firm="A" data-ice="silent" data-value="{int(a["silent"])}"' in page_html


def test_price_panel_and_stable_axes():
    ctrl = Controller("price_war")
    ctrl.step(30)
    snap = ctrl.run.snapshot()
    assert any(c == "price" for c, _, _ in F.PANELS)
    fig = F.IndicatorFigure(snap.firm_names, floors=F.floor_limits(snap.n_customers))
    fig.png(snap.firms, horizon=snap.horizon)
    price = fig.axes["price"]
    assert price.get_ylim() == (0.0, 2.0)  # prices of the war (0.8–1.0) inside the floor range
    (a_line,) = [ln for (c, j), ln in fig.lines.items() if c == "price" and j == 0]
    assert a_line.get_ydata().min() < 1.0  # A's cuts are drawn
    churn_lim = fig.axes["churn_rate"].get_ylim()
    assert churn_lim[0] == 0.0 and churn_lim[1] >= 0.10
    # the ranges never shrink: a calmer stretch does not zoom in on noise
    calm = snap.firms[snap.firms["period"] >= 28]
    fig.png(calm, horizon=snap.horizon)
    assert fig.axes["churn_rate"].get_ylim() == churn_lim
    assert fig.axes["profit"].get_ylim()[1] >= 0.05 * snap.n_customers


def test_clicking_the_network_picks_a_customer_and_tells_their_story(page):
    ctrl, box = page
    for _ in range(3):
        find(box, "sim-step").click()
    nodes, pos, edges = network_sample(ctrl.run.model)
    snap = ctrl.run.snapshot()
    png, frac = F.network_png(snap, ctrl.run.model.network, nodes, pos, edges, with_positions=True)
    assert frac.shape == (nodes.size, 2) and (frac >= 0).all() and (frac <= 1).all()
    i = 7
    assert nearest_customer(nodes, frac, *frac[i]) == nodes[i]
    assert nearest_customer(nodes, frac, -5.0, -5.0) is None
    # the click arrives from the browser as fractions of the image
    img = [w for w in _walk(box) if getattr(w, "image_class", "") == "sim-network-img"]
    assert len(img) == 1
    img[0].vue_pick({"x": float(frac[i, 0]), "y": float(frac[i, 1])})
    story = find(box, "sim-story")
    assert story.attributes["data-customer"] == str(nodes[i])
    assert f"Customer {nodes[i]}" in story.unsafe_innerHTML and "Month" in story.unsafe_innerHTML


def test_firm_controls_and_lever_columns_come_from_the_parameter_metadata():
    """One source: each dashboard firm control is a lever whose ``control`` metadata it
    carries, with the field's doc as its help; the plotted lever columns are recorded
    levers (columns of the firm table)."""
    import dataclasses

    from sim.params import FirmParams, levers
    from sim.plots import LEVER_COLUMNS

    meta = {f.name: f.metadata for f in dataclasses.fields(FirmParams)}
    shown = [k for k, m in meta.items() if m.get("control")]
    assert [c.key for c in FIRM_CONTROLS] == shown and len(shown) >= 10
    for c in FIRM_CONTROLS:
        assert c.key in levers() and c.help == meta[c.key]["doc"]
        assert c.label == meta[c.key]["control"]["label"]
    assert set(LEVER_COLUMNS) <= set(levers("recorded")) and "price" in LEVER_COLUMNS


def _field(path: str):
    """The dataclass field of a dotted parameter path (a bare name: a firm lever)."""
    import dataclasses

    from sim.params import FirmParams, ModelParams

    obj: object = ModelParams() if "." in path or path == "seed" else FirmParams()
    *head, last = path.split(".")
    for part in head:
        obj = getattr(obj, part)
    return next(f for f in dataclasses.fields(obj) if f.name == last)


def test_every_control_takes_label_range_unit_and_help_from_the_metadata():
    """Firm levers, live mechanism parameters and market structure alike: the label and
    slider settings are the field's ``control`` metadata, the slider ends default to the
    allowed range and never leave it, the unit and the help are the field's."""
    from sim.app.session import STRUCTURE

    assert len(LIVE_PARAMS) >= 12 and len(STRUCTURE) == 4
    for c in (*FIRM_CONTROLS, *LIVE_PARAMS, *STRUCTURE):
        meta = _field(c.key).metadata
        ui, (lo, hi) = meta["control"], meta["range"]
        assert c.label == ui["label"] and c.help == meta["doc"] and c.unit == meta["unit"]
        assert c.help in c.tooltip and (c.reset == ("applies at reset" in c.tooltip.lower()))
        if c.kind in ("float", "int"):
            assert c.lo == ui.get("lo", lo) and c.hi == ui.get("hi", hi), c.key
            assert lo <= c.lo < c.hi <= hi, c.key
        if c.kind == "choice":
            assert set(c.choices) <= set(meta["choices"])
    assert [c.key for c in STRUCTURE] == [
        "market.n_customers",
        "network.kind",
        "network.degree",
        "seed",
    ]
    # sliders before switches
    kinds = [c.kind == "bool" for c in LIVE_PARAMS]
    assert kinds == sorted(kinds)


def test_changing_the_metadata_changes_the_control(monkeypatch):
    import types

    from sim.app.session import controls

    f = _field("choice.inertia")
    meta = dict(f.metadata)
    meta.update(doc="Changed help.", unit="new unit", range=(1.0, 4.0))
    meta["control"] = {"label": "New label", "step": 0.5}
    monkeypatch.setattr(f, "metadata", types.MappingProxyType(meta))
    c = next(c for c in controls() if c.key == "choice.inertia")
    assert (c.label, c.lo, c.hi, c.step, c.help, c.unit) == (
        "New label",
        1.0,
        4.0,
        0.5,
        "Changed help.",
        "new unit",
    )
    meta["control"] = None  # no control metadata: no control
    assert "choice.inertia" not in [c.key for c in controls()]


def test_dashboard_guide_names_every_control_with_its_key():
    """docs/dashboard.md lists each control under its dashboard label with its lever or
    parameter key, so the guide and the page cannot drift apart."""
    from pathlib import Path

    from sim.app.session import STRUCTURE

    guide = (Path(__file__).resolve().parents[1] / "docs" / "dashboard.md").read_text()
    rows = [line for line in guide.splitlines() if line.startswith("| ")]
    for c in (*FIRM_CONTROLS, *LIVE_PARAMS, *STRUCTURE):
        assert any(c.label in r and f"`{c.key}`" in r for r in rows), c.key


def test_structure_choice_outside_the_controls_choices_is_refused_in_one_line():
    from sim.checks import ParamError

    run = Controller().run
    with pytest.raises(ParamError) as err:
        run.set_param("network.kind", "complete")  # a valid kind, not offered by the dashboard
    assert str(err.value) == (
        "dashboard: network.kind = 'complete': allowed: small_world, scale_free, random"
    )
    run.set_param("network.kind", "random")
    assert run.structure_pending() == {"network.kind": "random"}
